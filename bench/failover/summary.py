#!/usr/bin/env python3
"""Summarise bench/failover results: RESULTS_DIR/tandem.txt and, when the
Pacemaker harness wrote it, RESULTS_DIR/pacemaker.txt ("kill MS" / "stop MS"
lines). Prints median and worst per engine and the ratio Tandem / Pacemaker."""
import statistics
import sys
from pathlib import Path


def load(p):
    d = {"kill": [], "stop": []}
    if p.exists():
        for line in p.read_text().split("\n"):
            f = line.split()
            if len(f) == 2 and f[0] in d:
                d[f[0]].append(float(f[1]))
    return d


res = Path(sys.argv[1])
eng = {"Tandem + keepalived": load(res / "tandem.txt"),
       "Tandem + keepalived + witness": load(res / "tandem-witness.txt"),
       "Pacemaker (seed-style pair)": load(res / "pacemaker.txt")}
print("| engine | event | runs | median ms | worst ms |")
print("|---|---|---|---|---|")
for name, d in eng.items():
    for ev in ("kill", "stop"):
        v = d[ev]
        if v:
            print("| %s | %s | %d | %.0f | %.0f |" % (name, "kill -9" if ev == "kill" else "SIGSTOP",
                                                  len(v), statistics.median(v), max(v)))
        else:
            print("| %s | %s | - | not measured | |" % (name, "kill -9" if ev == "kill" else "SIGSTOP"))
t, p = eng["Tandem + keepalived"], eng["Pacemaker (seed-style pair)"]
for ev in ("kill", "stop"):
    if t[ev] and p[ev]:
        print("ratio Tandem/Pacemaker, %s: median %.2fx, worst %.2fx" % (
            ev, statistics.median(t[ev]) / statistics.median(p[ev]), max(t[ev]) / max(p[ev])))
    else:
        print("ratio Tandem/Pacemaker, %s: no Pacemaker figures (results/pacemaker.txt)" % ev)
