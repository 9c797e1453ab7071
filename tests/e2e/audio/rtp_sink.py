"""rtp_sink.py PORT OUT MAXSECS [PCAP]: keep every RTP packet that reaches
127.0.0.1:PORT until SIGTERM (or MAXSECS); write OUT.json (packets per
payload type, marker bits) and OUT.raw (PCMA payloads decoded to 16-bit
little-endian PCM, in arrival order). OUT.ready appears once the port is
bound: wait for it before the call, or the first packets are lost.
With PCAP (mkdtmf.py's or a test's capture), it also acts as the phone's
symmetric RTP: once the first packet arrives it sends the capture's RTP
payloads, timed as captured, from PORT back to that packet's source
(a peer with nat=...,comedia answers to where its phone sends from)."""
import json, signal, socket, struct, sys, threading, time


def alaw(b):
    b ^= 0x55
    t = (b & 0x0f) << 4
    seg = (b & 0x70) >> 4
    if seg == 0:
        t += 8
    elif seg == 1:
        t += 0x108
    else:
        t = (t + 0x108) << (seg - 1)
    return t if b & 0x80 else -t


TAB = [alaw(i) for i in range(256)]
port, out, maxs = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('127.0.0.1', port))
s.settimeout(0.2)
open(out + '.ready', 'w').close()
stop = [False]
signal.signal(signal.SIGTERM, lambda *a: stop.__setitem__(0, True))
pts, marks, pcm, end = {}, 0, bytearray(), time.time() + maxs


def captured(path):
    """(seconds, RTP bytes) of an Ethernet/IPv4/UDP capture."""
    b, off, t0, res = open(path, 'rb').read(), 24, None, []
    while off + 16 <= len(b):
        sec, usec, incl, _ = struct.unpack('<IIII', b[off:off + 16])
        frame = b[off + 16:off + 16 + incl]
        off += 16 + incl
        t = sec + usec / 1e6
        t0 = t if t0 is None else t0
        res.append((t - t0, frame[14 + 20 + 8:]))
    return res


def replay(pkts, dst):
    start = time.time()
    for t, rtp in pkts:
        if stop[0]:
            return
        delay = start + t - time.time()
        if delay > 0:
            time.sleep(delay)
        s.sendto(rtp, dst)


back = captured(sys.argv[4]) if len(sys.argv) > 4 else None
while not stop[0] and time.time() < end:
    try:
        d, src = s.recvfrom(2048)
    except socket.timeout:
        continue
    if len(d) < 12 or d[0] >> 6 != 2:
        continue
    if back is not None:
        threading.Thread(target=replay, args=(back, src), daemon=True).start()
        back = None
    pt = d[1] & 0x7f
    pts[pt] = pts.get(pt, 0) + 1
    marks += d[1] >> 7
    if pt == 8:
        pcm += struct.pack('<%dh' % (len(d) - 12), *[TAB[x] for x in d[12:]])
open(out + '.raw', 'wb').write(pcm)
json.dump({'pts': pts, 'marks': marks, 'pcma': pts.get(8, 0)}, open(out + '.json', 'w'))
