"""rtp_sink.py PORT OUT MAXSECS: keep every RTP packet that reaches
127.0.0.1:PORT until SIGTERM (or MAXSECS); write OUT.json (packets per
payload type, marker bits) and OUT.raw (PCMA payloads decoded to 16-bit
little-endian PCM, in arrival order). OUT.ready appears once the port is
bound: wait for it before the call, or the first packets are lost."""
import json, signal, socket, struct, sys, time


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
while not stop[0] and time.time() < end:
    try:
        d = s.recv(2048)
    except socket.timeout:
        continue
    if len(d) < 12 or d[0] >> 6 != 2:
        continue
    pt = d[1] & 0x7f
    pts[pt] = pts.get(pt, 0) + 1
    marks += d[1] >> 7
    if pt == 8:
        pcm += struct.pack('<%dh' % (len(d) - 12), *[TAB[x] for x in d[12:]])
open(out + '.raw', 'wb').write(pcm)
json.dump({'pts': pts, 'marks': marks, 'pcma': pts.get(8, 0)}, open(out + '.json', 'w'))
