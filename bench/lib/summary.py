#!/usr/bin/env python3
"""Summarise bench/register's results.tsv and memory.tsv: a table per
server (min / median / max over repetitions) and the Tandem/Kamailio ratios.

    summary.py RESULTS_TSV MEMORY_TSV
"""
import csv
import os
import statistics as st
import sys

res = list(csv.DictReader(open(sys.argv[1]), delimiter='\t')) if os.path.exists(sys.argv[1]) else []
mem = list(csv.DictReader(open(sys.argv[2]), delimiter='\t')) if os.path.exists(sys.argv[2]) else []
SERVERS = ('tandem', 'kamailio')


def nums(rows, key):
    out = []
    for r in rows:
        try:
            out.append(float(r[key]))
        except (KeyError, ValueError):
            pass
    return out


def med(v):
    return st.median(v) if v else None


def mmm(v, fmt='%.3g'):
    if not v:
        return '-'
    return (fmt + ' / ' + fmt + ' / ' + fmt) % (min(v), st.median(v), max(v))


def ratio(a, b):
    return '%.2f' % (a / b) if a is not None and b else '-'


print('\nRamps (rate: achieved/s, failed, retransmissions, server CPU, UDP drops on the server socket, SIPp instances)')
for srv in SERVERS:
    g = [r for r in res if r['server'] == srv and r['test'] == 'ramp']
    if not g:
        continue
    print('  %s:' % srv)
    for r in g:
        print('    %6s: %9s/s  n %-7s failed %-5s retrans %-6s cpu %5s%%  drops %-6s sipp x%s %s' % (
            r['rate'], r['achieved'], r['n'], r['failed'], r['retrans'], r['srv_cpu_pct'],
            r.get('srv_udp_drops', '-'), r['sipp_n'], 'PASS' if r['pass'] == '1' else 'FAIL'))

ceil = {}
for srv in SERVERS:
    g = [r for r in res if r['server'] == srv and r['test'] == 'ramp' and r['pass'] == '1']
    ceil[srv] = max((float(r['rate']) for r in g), default=None)

rows = []


def line(name, key, test, fmt='%.3g', scale=1.0):
    vals = {}
    for srv in SERVERS:
        g = [r for r in res if r['server'] == srv and r['test'] == test]
        vals[srv] = [x * scale for x in nums(g, key)]
    rows.append((name, mmm(vals['tandem'], fmt), mmm(vals['kamailio'], fmt),
                 ratio(med(vals['tandem']), med(vals['kamailio']))))


rows.append(('highest rate with 0 failures (/s)',
             '%g' % ceil['tandem'] if ceil['tandem'] else '-',
             '%g' % ceil['kamailio'] if ceil['kamailio'] else '-',
             ratio(ceil['tandem'], ceil['kamailio'])))
line('  confirmation runs at that rate: achieved /s', 'achieved', 'confirm', '%.0f')
line('  confirmation runs: failed', 'failed', 'confirm', '%.0f')
line('  confirmation runs: retransmissions', 'retrans', 'confirm', '%.0f')
line('CPU per registration at fixed rate (ms)', 'cpu_ms_per_reg', 'cpu', '%.4f')
line('  server CPU at fixed rate (% of a core)', 'srv_cpu_pct', 'cpu', '%.1f')
line('  SIPp CPU at fixed rate (% of a core)', 'sipp_cpu_pct', 'cpu', '%.1f')
line('  response time, REGISTER..200 (ms)', 'rtd_ms', 'cpu', '%.2f')

mv = {}
for srv in SERVERS:
    g = [m for m in mem if m['server'] == srv]
    mv[srv] = g
for name, key, scale, fmt in (
        ('idle memory, PSS (MB)', 'pss_idle_kB', 1 / 1024, '%.1f'),
        ('idle memory, RSS (MB)', 'rss_idle_kB', 1 / 1024, '%.1f'),
        ('memory per 10,000 registrations, PSS delta (MB)', 'pss_per_10k_kB', 1 / 1024, '%.2f'),
        ('memory per 10,000 registrations, RSS delta (MB)', 'rss_per_10k_kB', 1 / 1024, '%.2f'),
        ('  bytes per registration (PSS)', 'pss_per_10k_kB', 1024 / 10000, '%.0f')):
    t = [x * scale for x in nums(mv['tandem'], key)]
    k = [x * scale for x in nums(mv['kamailio'], key)]
    rows.append((name, mmm(t, fmt), mmm(k, fmt), ratio(med(t), med(k))))

w = max(len(r[0]) for r in rows)
print('\nREGISTER with digest auth, Tandem vs Kamailio (min / median / max over runs)\n')
print('%-*s  %-24s  %-24s  %s' % (w, '', 'Tandem', 'Kamailio', 'Tandem/Kamailio (medians)'))
for r in rows:
    print('%-*s  %-24s  %-24s  %s' % (w, r[0], r[1], r[2], r[3]))
