"""mktones.py OUT.wav SECS SPEC: SECS seconds of 8 kHz 16-bit audio with
in-band DTMF (the two sines of each key, ITU-T Q.23, 100 ms each, about
-15 dBFS per tone) at the given times; silence elsewhere. SPEC is
"T:D,T:D,...": key D at T seconds."""
import math, struct, sys, wave

LOW = {'1': 697, '2': 697, '3': 697, 'A': 697, '4': 770, '5': 770, '6': 770, 'B': 770,
       '7': 852, '8': 852, '9': 852, 'C': 852, '*': 941, '0': 941, '#': 941, 'D': 941}
HIGH = {'1': 1209, '4': 1209, '7': 1209, '*': 1209, '2': 1336, '5': 1336, '8': 1336,
        '0': 1336, '3': 1477, '6': 1477, '9': 1477, '#': 1477, 'A': 1633, 'B': 1633,
        'C': 1633, 'D': 1633}
out, secs, spec = sys.argv[1], float(sys.argv[2]), sys.argv[3]
x = [0.0] * int(secs * 8000)
for item in spec.split(','):
    t, d = item.split(':')
    start = int(float(t) * 8000)
    for i in range(800):
        if start + i < len(x):
            x[start + i] = 5800 * (math.sin(2 * math.pi * LOW[d] * i / 8000) +
                                   math.sin(2 * math.pi * HIGH[d] * i / 8000))
w = wave.open(out, 'wb')
w.setnchannels(1)
w.setsampwidth(2)
w.setframerate(8000)
w.writeframes(struct.pack('<%dh' % len(x), *(int(v) for v in x)))
w.close()
