#!/usr/bin/env python3
"""Make the audio the SIPp callers play: G.711 A-law at 8 kHz, taken from
the capture SIPp ships (g711a.pcap: 30 ms A-law RTP packets, 7 s).

    mkmedia.py SRC.pcap OUTDIR SECONDS

Writes OUTDIR/alaw.wav (the audio as an A-law WAV, for rtp_stream, which
sends it in 20 ms packets and loops it) and OUTDIR/rtp.pcap (the audio
looped to SECONDS as 20 ms RTP packets, for play_pcap_audio: PT 8, one
SSRC, continuous sequence numbers and timestamps, in an Ethernet/IPv4/UDP
capture; SIPp replaces its addresses and ports per call).
"""
import struct
import sys

src, outdir, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
data = open(src, 'rb').read()
end = '<' if struct.unpack('<I', data[:4])[0] == 0xa1b2c3d4 else '>'
if struct.unpack(end + 'I', data[20:24])[0] != 1:
    sys.exit('%s: not an Ethernet capture' % src)
audio = bytearray()
off = 24
while off + 16 <= len(data):
    incl = struct.unpack(end + 'IIII', data[off:off + 16])[2]
    frame = data[off + 16:off + 16 + incl]
    off += 16 + incl
    if len(frame) < 14 + 20 + 8 + 12 or frame[12:14] != b'\x08\x00' or frame[14 + 9] != 17:
        continue
    rtp = frame[14 + (frame[14] & 0x0f) * 4 + 8:]
    if rtp[0] >> 6 != 2 or rtp[1] & 0x7f != 8:
        continue
    hl = 12 + 4 * (rtp[0] & 0x0f)
    if rtp[0] & 0x10:
        hl += 4 + 4 * struct.unpack('!H', rtp[hl + 2:hl + 4])[0]
    audio += rtp[hl:]
if not audio:
    sys.exit('%s: no PCMA RTP found' % src)

# A-law WAV: format tag 6, mono, 8 kHz, 8 bits
fmt = struct.pack('<HHIIHHH', 6, 1, 8000, 8000, 1, 8, 0)
wav = (b'RIFF' + struct.pack('<I', 4 + 8 + len(fmt) + 8 + len(audio)) + b'WAVE' +
       b'fmt ' + struct.pack('<I', len(fmt)) + fmt + b'data' + struct.pack('<I', len(audio)) + audio)
open(outdir + '/alaw.wav', 'wb').write(wav)

PT, SAMPLES, SSRC = 8, 160, 0x54414e44
npkts = int(secs * 1000 / 20)
out = [struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)]
pos = 0
for i in range(npkts):
    payload = bytes(audio[(pos + k) % len(audio)] for k in range(SAMPLES))
    pos = (pos + SAMPLES) % len(audio)
    rtp = struct.pack('!BBHII', 0x80, PT | (0x80 if i == 0 else 0), i & 0xffff,
                      (i * SAMPLES) & 0xffffffff, SSRC) + payload
    udp = struct.pack('!HHHH', 6000, 6000, 8 + len(rtp), 0) + rtp
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), i & 0xffff, 0, 64, 17, 0,
                     bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1]))
    frame = b'\x00' * 12 + b'\x08\x00' + ip + udp
    t_us = i * 20000
    out += [struct.pack('<IIII', t_us // 1000000, t_us % 1000000, len(frame), len(frame)), frame]
open(outdir + '/rtp.pcap', 'wb').write(b''.join(out))
print('%s: alaw.wav (%.1f s of A-law), rtp.pcap (%d packets of 20 ms, %.1f s)' % (
    outdir, len(audio) / 8000.0, npkts, npkts * 0.02))
