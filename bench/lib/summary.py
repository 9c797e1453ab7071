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


print('\nRamps (rate: achieved/s, failed, retransmissions, server CPU, UDP drops on the server socket,\n'
      'CPU of every other process on the machine, SIPp instances)')
for srv in SERVERS:
    g = [r for r in res if r['server'] == srv and r['test'] == 'ramp']
    if not g:
        continue
    print('  %s:' % srv)
    for r in g:
        print('    %6s: %9s/s  n %-7s failed %-5s retrans %-6s cpu %5s%%  drops %-6s others %5s%%  sipp x%s %s' % (
            r['rate'], r['achieved'], r['n'], r['failed'], r['retrans'], r['srv_cpu_pct'],
            r.get('srv_udp_drops', '-'), r.get('other_cpu_pct', '-'), r['sipp_n'],
            'PASS' if r['pass'] == '1' else 'FAIL'))

ceil, ceil_txt = {}, {}
for srv in SERVERS:
    ramp = [r for r in res if r['server'] == srv and r['test'] == 'ramp']
    g = [r for r in ramp if r['pass'] == '1']
    ceil[srv] = max((float(r['rate']) for r in g), default=None)
    ceil_txt[srv] = '%g' % ceil[srv] if ceil[srv] else '-'
    if ramp and all(r['pass'] == '1' for r in ramp):
        ceil_txt[srv] = '>= %g (top of RATES)' % ceil[srv]

rows = []


def line(name, key, test, fmt='%.3g', scale=1.0):
    vals = {}
    for srv in SERVERS:
        g = [r for r in res if r['server'] == srv and r['test'] == test]
        vals[srv] = [x * scale for x in nums(g, key)]
    rows.append((name, mmm(vals['tandem'], fmt), mmm(vals['kamailio'], fmt),
                 ratio(med(vals['tandem']), med(vals['kamailio']))))


rows.append(('highest rate with 0 failures (/s)', ceil_txt['tandem'], ceil_txt['kamailio'],
             ratio(ceil['tandem'], ceil['kamailio']) + (' (at least)' if 'top' in ceil_txt['tandem'] else '')))
conf = {}
for srv in SERVERS:
    g = [r for r in res if r['server'] == srv and r['test'] == 'confirm']
    conf[srv] = '%d of %d passed' % (sum(r['pass'] == '1' for r in g), len(g)) if g else '-'
rows.append(('  confirmation runs at that rate', conf['tandem'], conf['kamailio'], ''))
line('  confirmation runs at that rate: achieved /s', 'achieved', 'confirm', '%.0f')
line('  confirmation runs: failed', 'failed', 'confirm', '%.0f')
line('  confirmation runs: retransmissions', 'retrans', 'confirm', '%.0f')
line('CPU per registration at fixed rate (ms)', 'cpu_ms_per_reg', 'cpu', '%.4f')
line('  server CPU at fixed rate (% of a core)', 'srv_cpu_pct', 'cpu', '%.1f')
line('  SIPp CPU at fixed rate (% of a core)', 'sipp_cpu_pct', 'cpu', '%.1f')
line('  response time, REGISTER..200 (ms, SIPp rounds to 1 ms)', 'rtd_ms', 'cpu', '%.2f')

mv = {}
for srv in SERVERS:
    g = [m for m in mem if m['server'] == srv]
    mv[srv] = g
for name, key, scale, fmt in (
        ('idle memory, PSS (MB)', 'pss_idle_kB', 1 / 1024, '%.1f'),
        ('idle memory, RSS (MB)', 'rss_idle_kB', 1 / 1024, '%.1f'),
        ('memory per 10,000 registrations, 1 s after, PSS delta (MB)', 'pss_per_10k_kB', 1 / 1024, '%.2f'),
        ('  the same, RSS delta (MB)', 'rss_per_10k_kB', 1 / 1024, '%.2f'),
        ('memory per 10,000 registrations, settled, PSS delta (MB)', 'pss_settled_per_10k_kB', 1 / 1024, '%.2f'),
        ('  the same, RSS delta (MB)', 'rss_settled_per_10k_kB', 1 / 1024, '%.2f'),
        ('  bytes per registration (PSS, settled)', 'pss_settled_per_10k_kB', 1024 / 10000, '%.0f')):
    t = [x * scale for x in nums(mv['tandem'], key)]
    k = [x * scale for x in nums(mv['kamailio'], key)]
    rows.append((name, mmm(t, fmt), mmm(k, fmt), ratio(med(t), med(k))))

shm = []
for m in mv['kamailio']:
    kv = dict(x.split('=', 1) for x in m.get('extra', '').split(',') if '=' in x)
    try:
        shm.append((int(kv['settled_shm']) - int(kv['idle_shm'])) / int(m['users']))
    except (KeyError, ValueError, ZeroDivisionError):
        pass
if shm:
    rows.append(('  Kamailio shm real_used per registration (bytes)', '', mmm(shm, '%.0f'), ''))

busy = [r for r in res if nums([r], 'other_cpu_pct') and nums([r], 'other_cpu_pct')[0] > 25]
w = max(len(r[0]) for r in rows)
print('\nREGISTER with digest auth, Tandem vs Kamailio (min / median / max over runs)\n')
print('%-*s  %-24s  %-24s  %s' % (w, '', 'Tandem', 'Kamailio', 'Tandem/Kamailio (medians)'))
for r in rows:
    print('%-*s  %-24s  %-24s  %s' % (w, r[0], r[1], r[2], r[3]))
if busy:
    print('\nWARNING: %d of %d runs had more than 25%% of a core used by other processes '
          '(column other_cpu_pct): the machine was not quiet; rerun.' % (len(busy), len(res)))
