#!/usr/bin/env python3
"""Read prober.py's log (RECV_NS SENT_NS TARGET RESPONDER STATUS CALLID).

  probe_report.py outage LOG VIP KILL_NS SURVIVOR_IP
      ms from KILL_NS to the first 200 at the VIP from SURVIVOR_IP to a
      probe sent after KILL_NS; empty if none.
  probe_report.py both LOG VIP
      "N FIRST": probe cycles answered by two different nodes.
"""
import collections
import sys


def rows(path):
    for line in open(path):
        f = line.split()
        if len(f) >= 6 and f[4] == "200":
            yield int(f[0]), int(f[1]), f[2], f[3], f[5]


def outage(path, vip, kill_ns, surv):
    best = None
    for recv, sent, tgt, src, _ in rows(path):
        if tgt == vip and src == surv and sent >= kill_ns and (best is None or recv < best):
            best = recv
    print("" if best is None else "%.0f" % ((best - kill_ns) / 1e6))


def both(path):
    cyc = collections.defaultdict(set)
    for _, _, _, src, cid in rows(path):
        cyc[int(cid[1:].split("-")[0])].add(src)
    bad = sorted(n for n, s in cyc.items() if len(s) > 1)
    print(len(bad), bad[0] if bad else "-")


if sys.argv[1] == "outage":
    outage(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
else:
    both(sys.argv[2])
