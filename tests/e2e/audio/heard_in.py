"""heard_in.py REC.wav PROMPT.wav: was PROMPT heard, whole, somewhere in
REC (what a phone recorded, e.g. baresip's sndfile dump, 8 kHz mono
16-bit)? The phone's jitter buffer puts the prompt at any sample offset,
so: the best offset of the energy envelopes (20 ms blocks), then the best
sample offset around it by Pearson correlation over the prompt's first
second, then the correlation over the prompt's whole length there.
Prints "at=S corr1=C corr=C len=L heard=H rms=R": at the offset in
seconds, corr over the whole prompt (a prompt cut short or replaced by
other audio or silence falls well below 0.9), len the prompt's length and
heard how much of it matches from there (s, in half-second windows)."""
import math, struct, sys, wave


def load(path):
    w = wave.open(path, 'rb')
    assert w.getframerate() == 8000 and w.getsampwidth() == 2 and w.getnchannels() == 1, path
    return list(struct.unpack('<%dh' % w.getnframes(), w.readframes(w.getnframes())))


def pearson(a, b, least=800):
    n = min(len(a), len(b))
    if n < least:
        return 0.0
    a, b = a[:n], b[:n]
    ma, mb = sum(a) / n, sum(b) / n
    cov = sum((x - ma) * (y - mb) for x, y in zip(a, b))
    va = math.sqrt(sum((x - ma) ** 2 for x in a))
    vb = math.sqrt(sum((y - mb) ** 2 for y in b))
    return cov / (va * vb) if va and vb else 0.0


def env(x):
    return [math.sqrt(sum(v * v for v in x[i:i + 160]) / 160) for i in range(0, len(x) - 159, 160)]


rec, ref = load(sys.argv[1]), load(sys.argv[2])
# a phone's recording may stop a few frames early: let the prompt overhang
# its end by up to 0.5 s (compared on the overlap)
rec_len = len(rec)
rec = rec + [0] * 4000
er, ef = env(rec), env(ref)
if len(er) < len(ef):
    er += [0.0] * (len(ef) - len(er))
best_k = max(range(len(er) - len(ef) + 1), key=lambda k: pearson(er[k:k + len(ef)], ef, 10))
head = ref[:8000]
lo, hi = max(0, best_k * 160 - 480), min(len(rec) - 1, best_k * 160 + 480)
coarse = max(range(lo, hi + 1, 4), key=lambda o: pearson(rec[o:o + len(head)], head))
off = max(range(max(0, coarse - 4), coarse + 5), key=lambda o: pearson(rec[o:o + len(head)], head))
corr1 = pearson(rec[off:off + len(head)], head)
corr = pearson(rec[off:min(off + len(ref), rec_len)], ref)
# how much of the prompt was heard: half-second windows from the offset
# while each matches (correlates, or both are quiet where the prompt is)
def rms_of(x):
    return math.sqrt(sum(v * v for v in x) / max(len(x), 1))


thr = rms_of(ref) / 20
heard = 0
for w in range(0, len(ref), 4000):
    want, got = ref[w:w + 4000], rec[off + w:min(off + w + 4000, rec_len)]
    if len(got) < min(len(want), 2000):
        break
    want = want[:len(got)]
    if rms_of(want) < thr:
        good = rms_of(got) < 2 * rms_of(want) + thr
    else:
        good = pearson(got, want, 400) >= 0.8
    if not good:
        break
    heard = w + len(want)
    if len(want) < 4000:
        break
rms = math.sqrt(sum(v * v for v in rec[:rec_len]) / max(rec_len, 1))
print('at=%.3f corr1=%.3f corr=%.3f len=%.2f heard=%.2f rms=%.0f'
      % (off / 8000, corr1, corr, len(ref) / 8000, heard / 8000, rms))
