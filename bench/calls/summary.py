#!/usr/bin/env python3
"""Summarise bench/calls' results: per server min / median / max over the
runs and the Tandem / (Kamailio + rtpengine) ratios of the medians.

    summary.py OUTDIR      (reads results.tsv, conc.tsv, ceilings.tsv)
"""
import csv
import os
import statistics as st
import sys

out = sys.argv[1]


def load(name):
    p = os.path.join(out, name)
    if not os.path.exists(p):
        return []
    return list(csv.DictReader(open(p), delimiter='\t'))


res, conc = load('results.tsv'), load('conc.tsv')
ceil = {}
p = os.path.join(out, 'ceilings.tsv')
if os.path.exists(p):
    for line in open(p):
        s, best, fail = line.split()
        ceil[s] = (int(best), int(fail))
K, TD = 'kamailio', 'tandem'


def verdict(r):
    v = {'1': 'PASS', '2': 'GEN (callee SIPp dropped RTP)'}.get(r['pass'], 'FAIL')
    try:
        busy = sum(float(r[k]) for k in ('srv_cpu_pct', 'uac_cpu_pct', 'uas_cpu_pct', 'softirq_pct',
                                         'other_cpu_pct'))
    except (KeyError, ValueError):
        busy = 0
    if r['pass'] == '0' and busy >= 180:
        v += ' (machine saturated: %.0f%% of 200%%)' % busy
    return v


def nums(rows, key):
    v = []
    for r in rows:
        try:
            v.append(float(r[key]))
        except (KeyError, ValueError):
            pass
    return v


def med(v):
    return st.median(v) if v else None


def mmm(v, fmt):
    if not v:
        return '-'
    if len(v) == 1:
        return fmt % v[0]
    return (fmt + ' / ' + fmt + ' / ' + fmt) % (min(v), st.median(v), max(v))


def ratio(t, k, inverse=False):
    if t is None or k is None or not t or not k:
        return '-'
    return '%.2f' % ((k / t) if inverse else (t / k))


rows = []


def line(name, rowsel, key, fmt, inverse=False, note=''):
    t = nums(rowsel(TD), key)
    k = nums(rowsel(K), key)
    rows.append((name, mmm(t, fmt), mmm(k, fmt), ratio(med(t), med(k), inverse) + note))


# ---- ramps
print('\nRamp and bisection runs (rate: achieved/s, failed, server CPU %, ms per call, RTP delivered, relay drops, others %)')
for s in (TD, K):
    g = [r for r in res if r['server'] == s and r['test'] in ('ramp', 'bisect')]
    if not g:
        continue
    print('  %s:' % s)
    for r in g:
        print('    %-6s %5s: %8s/s  failed %-4s cpu %6s%%  %6s ms/call  rtp %6s  relay drops %-5s others %5s%%  %s' % (
            r['test'], r['rate'], r['achieved'], r['failed'], r['srv_cpu_pct'], r['cpu_ms_per_call'],
            r['media_ratio'], r['relay_drops'], r['other_cpu_pct'], verdict(r)))

if ceil:
    def ctxt(s):
        if s not in ceil:
            return '-'
        b, f = ceil[s]
        return '%d (fails at %d)' % (b, f) if f else '>= %d (top rate)' % b
    b_t, b_k = ceil.get(TD, (0, 0))[0], ceil.get(K, (0, 0))[0]
    rows.append(('1. highest calls/s with 0 failed calls', ctxt(TD), ctxt(K),
                 ratio(b_t or None, b_k or None) + (' (at least)' if ceil.get(TD, (0, 1))[1] == 0 else '')))
    conf = {s: [r for r in res if r['server'] == s and r['test'] == 'confirm'] for s in (TD, K)}
    npass = {s: sum(r['pass'] == '1' for r in conf[s]) for s in (TD, K)}
    rows.append(('   confirmation runs at that rate passed',
                 '%d of %d' % (npass[TD], len(conf[TD])) if conf[TD] else '-',
                 '%d of %d' % (npass[K], len(conf[K])) if conf[K] else '-', ''))
    sel = lambda s: [r for r in conf[s] if r['pass'] == '1']
    line('   passing confirmation runs: achieved calls/s', sel, 'achieved', '%.0f')
    line('   passing confirmation runs: server CPU, % of one core', sel, 'srv_cpu_pct', '%.0f')
    line('   passing confirmation runs: RTP delivered / played', sel, 'media_ratio', '%.3f')
    allc = lambda s: conf[s]
    line('   all confirmation runs: CPU of other processes, % of one core', allc, 'other_cpu_pct', '%.0f')
    rows[-1] = rows[-1][:3] + ('',)
    weak = [s for s in (TD, K) if conf[s] and 2 * npass[s] <= len(conf[s])]
    if weak:
        rows.append(('   NOT CONFIRMED (half or more of the confirmation runs failed): ' + ', '.join(weak),
                     '', '', ''))

cpu = lambda s: [r for r in res if r['server'] == s and r['test'] == 'cpu']
hold = '?'
p = os.path.join(out, 'versions.txt')
if os.path.exists(p):
    for w in open(p).read().split():
        if w.startswith('HOLD_MS='):
            hold = w.split('=', 1)[1]
if cpu(TD) or cpu(K):
    r0 = (cpu(TD) or cpu(K))[0]
    line('CPU per call at %s calls/s (ms; SIP + %s ms of RTP both ways)' % (r0['rate'], hold), cpu,
         'cpu_ms_per_call', '%.3f')
    line('   server CPU, % of one core', cpu, 'srv_cpu_pct', '%.1f')
    rows.append(('      Kamailio / rtpengine share of it', '',
                 mmm(nums(cpu(K), 'kam_cpu_pct'), '%.1f') + ' / ' + mmm(nums(cpu(K), 'rtpe_cpu_pct'), '%.1f'), ''))
    line('   failed calls', cpu, 'failed', '%.0f')
    line('   RTP delivered / played', cpu, 'media_ratio', '%.3f')

# ---- concurrency
if conc:
    print('\nConcurrency ladder (calls: relay CPU %, calls per core, RTP delivered, relay drops, PSS anon+shm per call, others %)')
    for s in (TD, K):
        g = [r for r in conc if r['server'] == s]
        if g:
            print('  %s:' % s)
        for r in g:
            print('    rep %s %5s calls: up %-11s relay %5s%% (sip %s + rtpe %s)  %6s calls/core  rtp %s  '
                  'relay drops %-4s  %6s B/call  uac %s%% uas %s%% softirq %s%% others %s%%  %s' % (
                      r['rep'], r['calls'], r['up'], r['srv_cpu_pct'], r['kam_cpu_pct'], r['rtpe_cpu_pct'],
                      r['calls_per_core'], r['delivery'], r['relay_drops'], r['anon_per_call_B'],
                      r['uac_cpu_pct'], r['uas_cpu_pct'], r['softirq_pct'], r['other_cpu_pct'],
                      verdict(r)))
    # per level: median relay CPU of the passing runs, passes / runs
    levels = sorted({int(r['calls']) for r in conc})
    at = lambda s, c: [r for r in conc if r['server'] == s and int(r['calls']) == c]
    okr = lambda s, c: [r for r in at(s, c) if r['pass'] == '1']
    print('\nRelay CPU per level, % of one core: median of the passing runs [passed/ran]; '
          'Kamailio = kamailio + rtpengine')
    print('  %6s  %-22s %-22s %s' % ('calls', 'Tandem', 'Kamailio + rtpengine', 'K/T'))
    for c in levels:
        t, k = med(nums(okr(TD, c), 'srv_cpu_pct')), med(nums(okr(K, c), 'srv_cpu_pct'))
        cell = lambda v, s: '%-22s' % (('%.1f' % v if v is not None else '-') +
                                       ' [%d/%d]' % (len(okr(s, c)), len(at(s, c))))
        print('  %6d  %s %s %s' % (c, cell(t, TD), cell(k, K), ratio(t, k, inverse=True)))

    # a level counts as passed when most runs that reached it passed
    def top_level(s):
        good = [c for c in levels if at(s, c) and 2 * len(okr(s, c)) > len(at(s, c))]
        return max(good) if good else None
    top = {s: top_level(s) for s in (TD, K)}
    rows.append(('2. most concurrent calls passed (in most runs that reached it)',
                 '%s' % (top[TD] or '-'), '%s' % (top[K] or '-'), ratio(top[TD], top[K])))
    # compare where both passed in every run that reached the level, at the highest such level
    # levels both passed in every run that reached them, with 2 runs or more
    # each (the first figure), and the highest level both passed at all
    both = [c for c in levels if len(okr(TD, c)) >= 2 and len(okr(K, c)) >= 2
            and len(okr(TD, c)) == len(at(TD, c)) and len(okr(K, c)) == len(at(K, c))]
    anyb = [c for c in levels if okr(TD, c) and okr(K, c)]
    for c in sorted(set(both[-1:] + anyb[-1:])):
        sel = lambda s, c=c: okr(s, c)
        line('   relay CPU at %d calls, %% of one core' % c, sel, 'srv_cpu_pct', '%.1f',
             inverse=True, note=' (K/T)')
        line('   relayed calls one core sustains (from %d calls)' % c, sel, 'calls_per_core', '%.0f')
        line('   RTP delivered / sent at %d calls' % c, sel, 'delivery', '%.4f')
    if both:
        c = both[-1]
        sel = lambda s: okr(s, c)
        line('3. memory per call at %d calls, PSS anon+shm (bytes)' % c, sel, 'anon_per_call_B', '%.0f',
             inverse=True, note=' (K/T)')
        line('   the same, PSS (bytes)', sel, 'pss_per_call_B', '%.0f', inverse=True, note=' (K/T)')
        line('   the same, RSS (bytes)', sel, 'rss_per_call_B', '%.0f', inverse=True, note=' (K/T)')
        line('   idle server, PSS anon+shm (kB)', sel, 'anon_idle_kB', '%.0f', inverse=True, note=' (K/T)')
    mall = lambda s: [r for r in conc if r['server'] == s and r['pass'] == '1']
    line('   memory per call, all passing levels (bytes)', mall, 'anon_per_call_B', '%.0f', inverse=True,
         note=' (K/T)')

if rows:
    w = max(len(r[0]) for r in rows)
    print('\nCalls with RTP both ways: Tandem vs Kamailio + rtpengine (min / median / max over runs)\n')
    print('%-*s  %-26s  %-26s  %s' % (w, '', 'Tandem', 'Kamailio + rtpengine', 'Tandem/Kamailio (medians)'))
    for r in rows:
        print('%-*s  %-26s  %-26s  %s' % (w, r[0], r[1], r[2], r[3]))
cr = os.path.join(out, 'crashes.tsv')
if os.path.exists(cr):
    lines = [l.split('\t') for l in open(cr).read().splitlines() if l]
    print('\nSERVER PROCESSES THAT DIED DURING A RUN: %d' % len(lines))
    for l in lines:
        print('  %s pid %s exit status %s, run %s' % tuple((l + ['', '', '', ''])[:4]))
busy = [r for r in res + conc if nums([r], 'other_cpu_pct') and nums([r], 'other_cpu_pct')[0] > 25]
if busy:
    print('\nWARNING: %d of %d runs had more than 25%% of a core used by other processes '
          '(column other_cpu_pct): the machine was not quiet.' % (len(busy), len(res) + len(conc)))
