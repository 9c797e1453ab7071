"""tone_check: does a WAV recording carry a given tone?

    python3 tone_check.py FILE EXPECT_HZ [--other HZ] [--min-seconds S]

Standard library only. The file (16-bit PCM, mono, any rate) is cut in
50 ms frames; in each frame a Goertzel filter measures the share of the
frame's energy at EXPECT_HZ (1.0 for a pure tone; the tones used have a
whole number of cycles per frame). A frame "has the tone" when it is not
quiet (RMS >= 300 of 32767) and the share is >= 0.7. The check passes when
at least S seconds (default 3) of frames have the tone and no frame is
dominated (share >= 0.5) by --other HZ, the tone the recorder itself sent
(it must not come back). Prints one summary line; exit 0 pass, 1 fail.
"""
import math, struct, sys, wave


def goertzel_share(x, rate, freq):
    n = len(x)
    w = 2.0 * math.pi * freq / rate
    coeff = 2.0 * math.cos(w)
    s1 = s2 = 0.0
    for v in x:
        s0 = v + coeff * s1 - s2
        s2, s1 = s1, s0
    power = s1 * s1 + s2 * s2 - coeff * s1 * s2   # |X(f)|^2
    energy = sum(v * v for v in x)
    return 2.0 * power / (n * energy) if energy else 0.0


def main():
    args = sys.argv[1:]
    opts = {'--other': None, '--min-seconds': 3.0}
    for k in list(opts):
        if k in args:
            i = args.index(k)
            opts[k] = float(args[i + 1])
            del args[i:i + 2]
    path, want = args[0], float(args[1])
    w = wave.open(path, 'rb')
    rate, ch, width, n = w.getframerate(), w.getnchannels(), w.getsampwidth(), w.getnframes()
    if width != 2:
        print('%s: %d-byte samples, expected 16-bit' % (path, width))
        return 1
    raw = w.readframes(n)
    w.close()
    x = struct.unpack('<%dh' % (len(raw) // 2), raw)[::ch]
    flen = rate // 20
    frames = [x[i:i + flen] for i in range(0, len(x) - flen + 1, flen)]
    loud = tone = other = 0
    shares = []
    for f in frames:
        rms = math.sqrt(sum(v * v for v in f) / len(f))
        if rms < 300:
            continue
        loud += 1
        s = goertzel_share(f, rate, want)
        shares.append(s)
        if s >= 0.7:
            tone += 1
        if opts['--other'] and goertzel_share(f, rate, opts['--other']) >= 0.5:
            other += 1
    total_rms = math.sqrt(sum(v * v for v in x) / len(x)) if x else 0.0
    # strongest frequency (10 Hz steps) in the loudest frame, for the log
    peak = 0
    if frames:
        best = max(frames, key=lambda f: sum(v * v for v in f))
        if any(best):
            peak = max(range(100, rate // 2, 10), key=lambda fq: goertzel_share(best, rate, fq))
    secs = tone * flen / float(rate)
    med = sorted(shares)[len(shares) // 2] if shares else 0.0
    print('%s: %d Hz x%d, %.2f s, RMS %.0f; %.2f s not quiet, %.2f s with %g Hz '
          '(median share %.2f), peak %d Hz, %d frames of %s Hz'
          % (path.rsplit('/', 1)[-1], rate, ch, len(x) / float(rate), total_rms,
             loud * flen / float(rate), secs, want, med, peak, other,
             '%g' % opts['--other'] if opts['--other'] else '-'))
    if secs < opts['--min-seconds']:
        print('FAIL: %.2f s of %g Hz, expected at least %g s' % (secs, want, opts['--min-seconds']))
        return 1
    if other:
        print('FAIL: %d frames dominated by %g Hz (the recorder\'s own tone came back)'
              % (other, opts['--other']))
        return 1
    return 0


sys.exit(main())
