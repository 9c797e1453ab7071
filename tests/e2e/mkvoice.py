#!/usr/bin/env python3
"""mkvoice.py OUT.pcap VOICE.al [DTMF_AT_S]: raw A-law 8 kHz audio as RTP
packets (PT 8, 20 ms) in a pcap SIPp's play_pcap_audio plays, then
optionally '#' as RFC 4733 events DTMF_AT_S seconds after the start."""
import struct, sys
out, al, dt = sys.argv[1], open(sys.argv[2], 'rb').read(), sys.argv[3]
pk, seq, ts = [], 1000, 5000
for i in range(0, len(al) - 159, 160):
    pk.append((i / 8000.0, 8, i == 0, seq, ts + i, al[i:i + 160]))
    seq += 1
if dt:
    t0, ets = float(dt), ts + int(float(dt) * 8000)
    for k in range(7):
        pk.append((t0 + k * 0.02, 101, k == 0, seq, ets, struct.pack('!BBH', 11, 10, (k + 1) * 160)))
        seq += 1
    for k in range(3):
        pk.append((t0 + 0.14 + k * 0.02, 101, False, seq, ets, struct.pack('!BBH', 11, 0x8a, 1120)))
        seq += 1
rows = [struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)]
for n, (t, pt, mark, sq, stamp, pl) in enumerate(pk):
    rtp = struct.pack('!BBHII', 0x80, pt | (0x80 if mark else 0), sq & 0xffff,
                      stamp & 0xffffffff, 0x564d5643) + pl
    udp = struct.pack('!HHHH', 6000, 6000, 8 + len(rtp), 0) + rtp
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), n & 0xffff, 0, 64, 17, 0,
                     bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1]))
    frame = b'\x00' * 12 + b'\x08\x00' + ip + udp
    us = int(t * 1e6)
    rows.append(struct.pack('<IIII', us // 1000000, us % 1000000, len(frame), len(frame)))
    rows.append(frame)
open(out, 'wb').write(b''.join(rows))
