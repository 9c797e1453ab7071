"""mkdtmf.py OUT.pcap SPEC: RFC 4733 events (PT 101) in an
Ethernet/IPv4/UDP capture for SIPp's play_pcap_audio. SPEC is
"T:D,T:D,...": key D pressed T seconds after the start. Each key: seven
updates 20 ms apart (marker on the first), then the end packet three
times; every key has its own RTP timestamp, one SSRC, sequence numbers
in order."""
import struct, sys

EV = {c: i for i, c in enumerate('0123456789*#ABCD')}
out, spec = sys.argv[1], sys.argv[2]
pkts = []
seq, ts0 = 4000, 80000
for n, item in enumerate(spec.split(',')):
    t, d = item.split(':')
    t, ev, ts = float(t), EV[d.upper()], ts0 + n * 16000
    for k in range(7):
        pkts.append((t + k * 0.02, k == 0, ts, struct.pack('!BBH', ev, 10, (k + 1) * 160)))
    for k in range(3):
        pkts.append((t + 0.14 + k * 0.02, False, ts, struct.pack('!BBH', ev, 0x80 | 10, 1120)))
rows = [struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)]
for i, (t, mark, ts, pl) in enumerate(sorted(pkts, key=lambda p: p[0])):
    rtp = struct.pack('!BBHII', 0x80, 101 | (0x80 if mark else 0), (seq + i) & 0xffff, ts,
                      0x44544d46) + pl
    udp = struct.pack('!HHHH', 6000, 6000, 8 + len(rtp), 0) + rtp
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), i, 0, 64, 17, 0,
                     bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1]))
    frame = b'\x00' * 12 + b'\x08\x00' + ip + udp
    us = int(t * 1e6)
    rows.append(struct.pack('<IIII', us // 1000000, us % 1000000, len(frame), len(frame)))
    rows.append(frame)
open(out, 'wb').write(b''.join(rows))
