"""rec_check.py REC SRC...: how well each source wav shows up in a
recording (all 8 kHz mono 16-bit; REC a wav, or .raw signed linear).
For each source: the best normalised cross-correlation over every lag
(numpy FFT) and the lag in seconds. Prints
"secs=S rms=R" then one "corr=C lag=L" line per source. A-law is lossy
and the other party may overlap: a source that is there scores well
above 0.5, one that is not stays near 0."""
import sys, wave
import numpy as np


def load(path):
    if path.endswith('.raw') or path.endswith('.sln'):
        return np.frombuffer(open(path, 'rb').read(), dtype='<i2').astype(np.float64)
    w = wave.open(path, 'rb')
    assert w.getframerate() == 8000 and w.getsampwidth() == 2 and w.getnchannels() == 1, path
    return np.frombuffer(w.readframes(w.getnframes()), dtype='<i2').astype(np.float64)


rec = load(sys.argv[1])
print('secs=%.3f rms=%.0f' % (len(rec) / 8000.0, np.sqrt(np.mean(rec ** 2)) if len(rec) else 0))
for path in sys.argv[2:]:
    src = load(path)
    src = src[np.nonzero(np.abs(src) > 0)[0][0]:] if np.any(src) else src
    n = len(rec) + len(src)
    size = 1 << (n - 1).bit_length()
    num = np.fft.irfft(np.fft.rfft(rec, size) * np.conj(np.fft.rfft(src, size)), size)
    num = num[:len(rec)]          # lag k: src starts at rec[k]
    sq = np.concatenate(([0.0], np.cumsum(rec ** 2)))
    ends = np.minimum(np.arange(len(rec)) + len(src), len(rec))
    energy = sq[ends] - sq[np.arange(len(rec))]
    den = np.sqrt(energy * np.sum(src ** 2))
    corr = np.where(den > 0, num / np.where(den > 0, den, 1), 0)
    k = int(np.argmax(corr)) if len(corr) else 0
    print('corr=%.3f lag=%.3f' % (corr[k] if len(corr) else 0.0, k / 8000.0))
