#!/usr/bin/env python3
"""Sum one or more SIPp -trace_stat files (parallel instances of one run).

Prints: ok failed retrans elapsed_s max_calls rtd_ms
  ok, failed, retrans: summed over the files (cumulative counters)
  elapsed_s: the longest instance (first StartTime to last CurrentTime)
  max_calls: the sum of each instance's peak of concurrent calls
  rtd_ms: mean of the instances' cumulative response time 1, weighted by ok
"""
import csv
import sys


def epoch(v):
    return float(v.split('\t')[-1])


def ms(v):
    h, m, s, us = v.split(':')
    return ((int(h) * 60 + int(m)) * 60 + int(s)) * 1000 + int(us) / 1000


ok = failed = retrans = maxc = 0
el = 0.0
rtd_w = 0.0
for path in sys.argv[1:]:
    try:
        rows = list(csv.DictReader(open(path), delimiter=';'))
    except OSError:
        rows = []
    if not rows:
        continue
    r = rows[-1]
    o = int(r['SuccessfulCall(C)'])
    ok += o
    failed += int(r['FailedCall(C)'])
    retrans += int(r['Retransmissions(C)'])
    el = max(el, epoch(r['CurrentTime']) - epoch(r['StartTime']))
    maxc += max(int(x['CurrentCall']) for x in rows)
    rtd_w += ms(r['ResponseTime1(C)']) * o
print(ok, failed, retrans, '%.3f' % el, maxc, '%.2f' % (rtd_w / ok if ok else 0))
