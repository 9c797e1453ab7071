"""rtp_compare.py RAW WAV...: does the received audio (RAW, from rtp_sink)
start with the WAV files in order, each padded to whole 20 ms frames as
Tandem sends them? Prints "frames=N expected=E corr=C rms=R"; the
correlation is Pearson's over the expected length (A-law is lossy: a
match is close to 1, other audio or silence near 0)."""
import math, struct, sys, wave

raw = open(sys.argv[1], 'rb').read()
got = struct.unpack('<%dh' % (len(raw) // 2), raw)
want = []
for path in sys.argv[2:]:
    w = wave.open(path, 'rb')
    assert w.getframerate() == 8000 and w.getsampwidth() == 2 and w.getnchannels() == 1, path
    x = list(struct.unpack('<%dh' % w.getnframes(), w.readframes(w.getnframes())))
    x += [0] * (-len(x) % 160)
    want += x
n = min(len(got), len(want))
a, b = got[:n], want[:n]
ma, mb = sum(a) / max(n, 1), sum(b) / max(n, 1)
cov = sum((x - ma) * (y - mb) for x, y in zip(a, b))
va = math.sqrt(sum((x - ma) ** 2 for x in a))
vb = math.sqrt(sum((y - mb) ** 2 for y in b))
corr = cov / (va * vb) if va and vb else 0.0
rms = math.sqrt(sum(x * x for x in got) / max(len(got), 1))
print('frames=%d expected=%d corr=%.3f rms=%.0f' % (len(got) // 160, len(want) // 160, corr, rms))
