"""rtp_gap: what the phones received of one call's RTP across a failover.

    python3 rtp_gap.py PCAP SRC_IP --from T0 --to T1 [--kill TK] [--max-gap S]

Reads a pcap (Ethernet or Linux cooked, IPv4/UDP; standard library only)
captured in the phones' namespace, keeps RTP (version 2, not RTCP) sent
by SRC_IP (the floating address) between epoch times T0 and T1, and per
flow (destination address and port: one direction of the call) prints
packets, SSRCs, the longest gap between two packets (and when it began,
relative to TK), the sequence and timestamp steps across it, and whether
the packet after it had the marker bit. Exit 1 when a flow has more than
one SSRC (the phone would see a new stream), a sequence step backward or
of more than 3000 (RFC 3550 A.1 MAX_DROPOUT: a restart), or a gap longer
than S seconds (default 5); exit 2 when there is no flow at all.
"""
import struct, sys


def packets(path):
    with open(path, 'rb') as f:
        data = f.read()
    magic = struct.unpack('<I', data[:4])[0]
    if magic in (0xa1b2c3d4, 0xa1b23c4d):
        end = '<'
    elif magic in (0xd4c3b2a1, 0x4d3cb2a1):
        end = '>'
        magic = struct.unpack('>I', data[:4])[0]
    else:
        raise SystemExit('rtp_gap: %s is not a pcap file' % path)
    nano = magic == 0xa1b23c4d
    link = struct.unpack(end + 'I', data[20:24])[0]
    pos = 24
    while pos + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack(end + 'IIII', data[pos:pos + 16])
        pkt = data[pos + 16:pos + 16 + incl]
        pos += 16 + incl
        t = sec + frac / (1e9 if nano else 1e6)
        if link == 1:          # Ethernet
            off = 14
            if len(pkt) < off or pkt[12:14] != b'\x08\x00':
                continue
        elif link == 113:      # Linux cooked
            off = 16
            if len(pkt) < off or pkt[14:16] != b'\x08\x00':
                continue
        else:
            continue
        ip = pkt[off:]
        if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 17:
            continue
        ihl = (ip[0] & 15) * 4
        src = '.'.join(str(b) for b in ip[12:16])
        dst = '.'.join(str(b) for b in ip[16:20])
        udp = ip[ihl:]
        if len(udp) < 8:
            continue
        dport = struct.unpack('>H', udp[2:4])[0]
        yield t, src, dst, dport, udp[8:]


def main():
    args = sys.argv[1:]
    opts = {'--from': 0.0, '--to': 1e12, '--kill': 0.0, '--max-gap': 5.0}
    for k in list(opts):
        if k in args:
            i = args.index(k)
            opts[k] = float(args[i + 1])
            del args[i:i + 2]
    path, want = args[0], args[1]
    flows = {}
    for t, src, dst, dport, rtp in packets(path):
        if src != want or not opts['--from'] <= t <= opts['--to'] or len(rtp) < 12:
            continue
        if rtp[0] >> 6 != 2 or 72 <= (rtp[1] & 0x7f) <= 76:
            continue           # not RTP, or RTCP
        seq, ts, ssrc = struct.unpack('>HII', rtp[2:12])
        flows.setdefault('%s:%d' % (dst, dport), []).append((t, seq, ts, ssrc, rtp[1] >> 7))
    if not flows:
        print('no RTP from %s in %s' % (want, path))
        return 2
    bad = False
    for name, p in sorted(flows.items()):
        ssrcs = sorted({x[3] for x in p})
        gi = max(range(1, len(p)), key=lambda i: p[i][0] - p[i - 1][0]) if len(p) > 1 else 0
        gap = p[gi][0] - p[gi - 1][0] if gi else 0.0
        dseq = (p[gi][1] - p[gi - 1][1]) % 65536 if gi else 0
        dts = (p[gi][2] - p[gi - 1][2]) % (1 << 32) if gi else 0
        steps = [(p[i][1] - p[i - 1][1]) % 65536 for i in range(1, len(p))]
        backward = [s for s in steps if s == 0 or s > 3000]
        print('%s: %d packets, SSRC %s, longest gap %.3f s starting %+.3f s from the kill, '
              'sequence +%d, timestamp +%d (%.3f s), marker %d, %d steps back or over 3000'
              % (name, len(p), ' '.join('%08x' % s for s in ssrcs), gap,
                 p[gi - 1][0] - opts['--kill'] if gi else 0.0, dseq, dts, dts / 8000.0,
                 p[gi][4] if gi else 0, len(backward)))
        if len(ssrcs) != 1 or backward or gap > opts['--max-gap']:
            bad = True
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
