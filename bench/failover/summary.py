#!/usr/bin/env python3
"""Summarise bench/failover results: RESULTS_DIR/tandem.txt,
tandem-witness.txt and pacemaker.txt ("kill MS" / "stop MS" lines, as
bench/failover/run.sh writes them), and load.txt ("ENGINE EVENT LOAD1" at
each round). Prints median and worst per engine and event, the ratios
Pacemaker / Tandem (the main result), and the load during each engine's
rounds."""
import statistics
import sys
from pathlib import Path

EV = {"kill": "kill -9", "stop": "SIGSTOP"}


def load(p):
    d = {"kill": [], "stop": []}
    if p.exists():
        for line in p.read_text().split("\n"):
            f = line.split()
            if len(f) == 2 and f[0] in d:
                d[f[0]].append(float(f[1]))
    return d


def ms(v):
    return "%.0f ms" % v if v < 1000 else "%.2f s" % (v / 1000)


res = Path(sys.argv[1])
eng = {"tandem": ("Tandem + keepalived", load(res / "tandem.txt")),
       "witness": ("Tandem + keepalived + witness", load(res / "tandem-witness.txt")),
       "pacemaker": ("Pacemaker (seed-style pair)", load(res / "pacemaker.txt"))}
loads = {}
if (res / "load.txt").exists():
    for line in (res / "load.txt").read_text().split("\n"):
        f = line.split()
        if len(f) == 3:
            loads.setdefault((f[0], f[1]), []).append(float(f[2]))

print("| engine | event | runs | median | worst | load average (1 min) at the rounds |")
print("|---|---|---|---|---|---|")
for key, (name, d) in eng.items():
    for ev in ("kill", "stop"):
        v = d[ev]
        la = loads.get((key, ev))
        lt = "%.2f-%.2f (median %.2f)" % (min(la), max(la), statistics.median(la)) if la else "-"
        what = EV[ev] if key != "pacemaker" else ("node death (kill -9)" if ev == "kill" else "SIGSTOP of the service")
        if v:
            print("| %s | %s | %d | %s | %s | %s |" % (name, what, len(v), ms(statistics.median(v)),
                                                      ms(max(v)), lt))
        else:
            print("| %s | %s | - | not measured | | |" % (name, what))
print()
p = eng["pacemaker"][1]
for key in ("tandem", "witness"):
    name, t = eng[key]
    for ev in ("kill", "stop"):
        if t[ev] and p[ev]:
            print("ratio Pacemaker / %s, %s: median %.0fx (%s / %s), worst %.0fx (%s / %s)" % (
                name, EV[ev],
                statistics.median(p[ev]) / statistics.median(t[ev]),
                ms(statistics.median(p[ev])), ms(statistics.median(t[ev])),
                max(p[ev]) / max(t[ev]), ms(max(p[ev])), ms(max(t[ev]))))
        elif t[ev]:
            print("ratio Pacemaker / %s, %s: no Pacemaker figures (pacemaker.txt)" % (name, EV[ev]))
