"""mkvoice.py OUT.pcap WAV SSRC [DTMF_AT_S]: an 8 kHz mono 16-bit WAV as
A-law RTP (PT 8, 20 ms packets, one SSRC) in an Ethernet/IPv4/UDP capture
for SIPp's play_pcap_audio; with DTMF_AT_S, then '#' as RFC 4733 events
(PT 101) that many seconds after the start."""
import struct, sys, wave

out, path, ssrc = sys.argv[1], sys.argv[2], int(sys.argv[3], 0)
dtmf_at = sys.argv[4] if len(sys.argv) > 4 else ""
w = wave.open(path, 'rb')
assert w.getframerate() == 8000 and w.getsampwidth() == 2 and w.getnchannels() == 1, path
pcm = struct.unpack('<%dh' % w.getnframes(), w.readframes(w.getnframes()))


def alaw(s):
    """ITU-T G.711 A-law of one 16-bit sample."""
    mask = 0xd5 if s >= 0 else 0x55
    s = s if s >= 0 else -s - 1
    s = min(s, 32767) >> 3
    if s < 32:
        v = s >> 1
    else:
        seg = s.bit_length() - 5
        v = (seg << 4) | ((s >> seg) & 0x0f)
    return v ^ mask


al = bytes(alaw(x) for x in pcm)
# (seconds, payload type, marker, sequence, timestamp, payload)
pk, seq = [], 1000
for i in range(0, len(al) - 159, 160):
    pk.append((i / 8000.0, 8, i == 0, seq, 5000 + i, al[i:i + 160]))
    seq += 1
if dtmf_at:
    t0 = float(dtmf_at)
    ets = 5000 + int(t0 * 8000)
    for k in range(7):
        pk.append((t0 + k * 0.02, 101, k == 0, seq, ets, struct.pack('!BBH', 11, 10, (k + 1) * 160)))
        seq += 1
    for k in range(3):
        pk.append((t0 + 0.14 + k * 0.02, 101, False, seq, ets, struct.pack('!BBH', 11, 0x8a, 1120)))
        seq += 1
rows = [struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)]
for n, (t, pt, mark, sq, stamp, pl) in enumerate(pk):
    rtp = struct.pack('!BBHII', 0x80, pt | (0x80 if mark else 0), sq & 0xffff,
                      stamp & 0xffffffff, ssrc) + pl
    udp = struct.pack('!HHHH', 6000, 6000, 8 + len(rtp), 0) + rtp
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), n & 0xffff, 0, 64, 17, 0,
                     bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1]))
    frame = b'\x00' * 12 + b'\x08\x00' + ip + udp
    us = int(round(t * 1e6))
    rows.append(struct.pack('<IIII', us // 1000000, us % 1000000, len(frame), len(frame)))
    rows.append(frame)
open(out, 'wb').write(b''.join(rows))
