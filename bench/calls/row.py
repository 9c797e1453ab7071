#!/usr/bin/env python3
"""bench/calls: turn one run's counters into a TSV row, or say a row.

    row.py calls SERVER TEST RATE N HOLD_MS PPS MEDIA_MIN HZ STAT SNAP_A SNAP_B UAC_TICKS UAS_TICKS
    row.py conc SERVER REP CALLS PPS LOSS_MAX HZ STAT SNAP_A SNAP_B UAC_TICKS UAS_TICKS IDLE MEM UP0 UP1
    row.py say TSV ROW

STAT: "FILE RC": the caller SIPp's -trace_stat file and its exit status.
SNAP: "sip=TICKS rtpe=TICKS all=TICKS sirq=TICKS sink=N rdrop=N edrop=N t=EPOCH"
(run.sh's snap). IDLE, MEM: "rss_kB pss_kB anon_kB" (bench/lib.sh mem_of).
"""
import csv
import sys


def stat(arg, hold_s=0.0):
    """ok failed retrans elapsed_s max_calls rtd_ms from a SIPp -trace_stat
    file. Elapsed runs to SIPp's last row. SIPp 3.6.1 sometimes hangs
    after its last call (with rtp_stream) until timeout(1) ends it (exit
    status 124), writing no row meanwhile: then elapsed runs to the row
    before the last, when the calls still up were in their hold, plus the
    hold time."""
    path, rc = arg.rsplit(' ', 1)
    try:
        rows = list(csv.DictReader(open(path), delimiter=';'))
    except OSError:
        rows = []
    if not rows:
        return 0, 0, 0, 0.0, 0, 0.0
    ep = lambda v: float(v.split('\t')[-1])
    last = rows[-1]
    ok, failed = int(last['SuccessfulCall(C)']), int(last['FailedCall(C)'])
    el = ep(last['CurrentTime']) - ep(last['StartTime'])
    if rc == '124' and len(rows) > 2:
        el = ep(rows[-2]['CurrentTime']) - ep(last['StartTime']) + hold_s
    h, m, sec, us = last['ResponseTime1(C)'].split(':')
    rtd = ((int(h) * 60 + int(m)) * 60 + int(sec)) * 1000 + int(us) / 1000.0
    return (ok, failed, int(last['Retransmissions(C)']), el,
            max(int(r['CurrentCall']) for r in rows), rtd)


def snap(s):
    return {k: float(v) for k, v in (w.split('=', 1) for w in s.split())}


def pct(ticks, secs, hz):
    return 100.0 * ticks / (secs * hz) if secs > 0 else 0.0


def num(v):
    try:
        return int(v)
    except ValueError:
        return None


def calls(a):
    srv, test, rate, n, hold_ms, pps, media_min, hz = a[:8]
    rate, n, hold_s, pps, media_min, hz = int(rate), int(n), int(hold_ms) / 1000.0, int(pps), float(media_min), int(hz)
    ok, failed, retrans, el, maxc, rtd = stat(a[8], hold_s)
    rtd = '%.2f' % rtd
    x, y = snap(a[9]), snap(a[10])
    uac, uas = int(a[11]), int(a[12])
    wall = y['t'] - x['t']
    d = {k: y[k] - x[k] for k in x}
    srvt = d['sip'] + d['rtpe']
    run = el - hold_s
    ach = ok / run if run > 0 else 0.0
    exp = ok * hold_s * pps
    ratio = d['sink'] / exp if exp else 0.0
    others = max(d['all'] - srvt - uac - uas - d['sirq'], 0)
    sip_ok = failed == 0 and ok >= n and ach >= 0.95 * rate
    # 2: the calls passed and the relay lost nothing, but the callee SIPp
    # dropped echoed RTP on its own socket (the load generator fell behind)
    passed = 1 if sip_ok and ratio >= media_min else \
        2 if sip_ok and exp and (d['sink'] + d['edrop']) / exp >= media_min and d['rdrop'] == 0 else 0
    return [srv, test, rate, n, ok, failed, retrans, '%.3f' % el, '%.1f' % ach,
            '%.1f' % pct(srvt, wall, hz), '%.1f' % pct(d['sip'], wall, hz), '%.1f' % pct(d['rtpe'], wall, hz),
            '%.3f' % (srvt * 1000.0 / hz / ok) if ok else 'NA',
            '%.1f' % pct(uac, wall, hz), '%.1f' % pct(uas, wall, hz), '%.1f' % pct(d['sirq'], wall, hz),
            '%.1f' % pct(others, wall, hz), maxc, rtd, int(d['sink']), int(exp), '%.4f' % ratio,
            int(d['rdrop']), int(d['edrop']), passed]


def conc(a):
    srv, rep, c, pps, loss_max, hz = a[:6]
    c, pps, loss_max, hz = int(c), int(pps), float(loss_max), int(hz)
    ok, failed = stat(a[6])[:2]
    x, y = snap(a[7]), snap(a[8])
    uac, uas = int(a[9]), int(a[10])
    rss0, pss0, anon0 = (int(v) for v in a[11].split())
    rss1, pss1, anon1 = (int(v) for v in a[12].split())
    up0, up1 = a[13], a[14]
    w = y['t'] - x['t']
    d = {k: y[k] - x[k] for k in x}
    srvt = d['sip'] + d['rtpe']
    sp = pct(srvt, w, hz)
    others = max(d['all'] - srvt - uac - uas - d['sirq'], 0)
    dpps = d['sink'] / w if w > 0 else 0.0
    epps = c * pps
    deliv = dpps / epps if epps else 0.0
    exp = epps * w
    gen_loss = d['edrop'] / exp if exp else 0.0       # dropped on the callee SIPp's socket
    relay_loss = (exp - d['sink'] - d['edrop']) / exp if exp else 0.0
    ups = [num(up0), num(up1)]
    up_ok = all(u is None or u == c for u in ups)
    ok_relay = failed == 0 and ok == c and up_ok and d['rdrop'] == 0 and relay_loss <= loss_max
    # 2: every call up and the relay lost nothing, but the load generator
    # (the callee SIPp's echo) dropped RTP: the level says nothing more
    passed = 0 if not ok_relay else 1 if gen_loss <= loss_max else 2
    return [srv, rep, c, '%s/%s' % (up0, up1), ok, failed, '%.2f' % w, '%.1f' % sp,
            '%.1f' % pct(d['sip'], w, hz), '%.1f' % pct(d['rtpe'], w, hz),
            '%.0f' % (c * 100.0 / sp) if sp > 0 else 'NA',
            '%.1f' % pct(uac, w, hz), '%.1f' % pct(uas, w, hz), '%.1f' % pct(d['sirq'], w, hz),
            '%.1f' % pct(others, w, hz), '%.0f' % dpps, epps, '%.4f' % deliv, '%.4f' % relay_loss,
            '%.4f' % gen_loss, int(d['rdrop']), int(d['edrop']), rss0, pss0, anon0, rss1, pss1, anon1,
            '%.0f' % ((anon1 - anon0) * 1024.0 / c), '%.0f' % ((pss1 - pss0) * 1024.0 / c),
            '%.0f' % ((rss1 - rss0) * 1024.0 / c), passed]


def say(path, row):
    head = open(path).readline().rstrip('\n').split('\t')
    r = dict(zip(head, row.split('\t')))
    verdict = {'1': 'PASS', '2': 'GENERATOR-LIMITED (callee SIPp dropped RTP)'}.get(r['pass'], 'FAIL')
    busy = sum(float(r.get(k, 0) or 0) for k in ('srv_cpu_pct', 'uac_cpu_pct', 'uas_cpu_pct', 'softirq_pct',
                                                   'other_cpu_pct'))
    if r['pass'] == '0' and busy >= 180:
        verdict += ' (machine saturated: %.0f%% of the 2 cores busy)' % busy
    if 'calls' in r:
        return ('%s conc %s calls (rep %s): up %s, ok %s failed %s; relay %s%% of a core (sip %s%%, rtpengine %s%%) '
                '-> %s calls/core; RTP %s/%s pps delivered (%s; lost by relay %s, by generator %s), relay drops %s, echo drops %s; '
                'sipp uac %s%% uas %s%%, softirq %s%%, others %s%%; anon %s -> %s kB (%s B/call) %s' % (
                    r['server'], r['calls'], r['rep'], r['up'], r['ok'], r['failed'], r['srv_cpu_pct'],
                    r['kam_cpu_pct'], r['rtpe_cpu_pct'], r['calls_per_core'], r['delivered_pps'],
                    r['expected_pps'], r['delivery'], r['relay_loss'], r['gen_loss'], r['relay_drops'], r['echo_drops'], r['uac_cpu_pct'],
                    r['uas_cpu_pct'], r['softirq_pct'], r['other_cpu_pct'], r['anon_idle_kB'], r['anon_kB'],
                    r['anon_per_call_B'], verdict))
    return ('%s %s r=%s n=%s: ok %s failed %s retrans %s t=%ss -> %s/s; server %s%% (sip %s%%, rtpengine %s%%) '
            '%s ms/call; sipp uac %s%% uas %s%%, softirq %s%%, others %s%%; RTP %s/%s (%s), relay drops %s, '
            'echo drops %s, rtd %s ms %s' % (
                r['server'], r['test'], r['rate'], r['n'], r['ok'], r['failed'], r['retrans'], r['elapsed_s'],
                r['achieved'], r['srv_cpu_pct'], r['kam_cpu_pct'], r['rtpe_cpu_pct'], r['cpu_ms_per_call'],
                r['uac_cpu_pct'], r['uas_cpu_pct'], r['softirq_pct'], r['other_cpu_pct'], r['rtp_delivered'],
                r['rtp_expected'], r['media_ratio'], r['relay_drops'], r['echo_drops'], r['rtd_ms'], verdict))


if __name__ == '__main__':
    mode = sys.argv[1]
    if mode == 'say':
        print(say(sys.argv[2], sys.argv[3]))
    else:
        print('\t'.join(str(v) for v in (calls if mode == 'calls' else conc)(sys.argv[2:])))
