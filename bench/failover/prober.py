#!/usr/bin/env python3
"""SIP OPTIONS prober for the failover benchmarks.

Sends an OPTIONS request over UDP to TARGET every INTERVAL seconds for at
most DURATION seconds (or until SIGTERM/SIGINT, or until --stop-file
exists) and records, for every probe, the time it was sent and which
node answered it. The node is read from the answer's `Server:` header
(falling back to `User-Agent:`, then to the source address), so any
SIP server that says who it is works: tandemd, Asterisk, the
sip_responder.py of the Pacemaker pair.

Output (--out FILE, or stdout), one line per probe, then the gaps:
    probe T_SENT NODE|- T_RECV|-   seconds since the prober started: when
                                 the probe was sent, when its answer came
    gap START END SECONDS BEFORE AFTER
A gap is a stretch of probes that got no answer, longer than --gap
(default 5 intervals): START is the send time of the last answered
probe before it, END the send time of the first answered probe after
it, BEFORE/AFTER the nodes that answered those two (the answer that
ended the gap may have arrived up to --late seconds later; probes are
matched to answers by Call-ID). A gap that has not ended when the
prober stops has END '-'.
    summary probes N answered N longest SECONDS
With --once: probe (again every 200 ms) until answered, exit 0, or
--timeout passes, exit 1 (a monitor hook).

Times are CLOCK_MONOTONIC; --mark-file FILE, when given, holds a
monotonic time written by the caller (e.g. the moment of a failure), or
with --mark-realtime a CLOCK_REALTIME one (bash's $EPOCHREALTIME, taken
without a fork just before the kill): the prober then also prints
`mark T` relative to its own start.
"""
import argparse
import os
import select
import signal
import socket
import sys
import time


def options(target, seq, local):
    host, port = target
    lhost, lport = local
    return (
        f"OPTIONS sip:probe@{host}:{port} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP {lhost}:{lport};branch=z9hG4bKprobe{seq};rport\r\n"
        f"Max-Forwards: 70\r\n"
        f"From: <sip:prober@{lhost}>;tag=p{os.getpid()}\r\n"
        f"To: <sip:probe@{host}>\r\n"
        f"Call-ID: probe-{os.getpid()}-{seq}@{lhost}\r\n"
        f"CSeq: {seq + 1} OPTIONS\r\n"
        f"Accept: application/sdp\r\n"
        f"Content-Length: 0\r\n\r\n"
    ).encode()


def answer_of(data, addr):
    """(seq, node) from a SIP answer, or None."""
    try:
        text = data.decode("utf-8", "replace")
    except Exception:
        return None
    if not text.startswith("SIP/2.0 "):
        return None
    seq, node = None, None
    agent = None
    for line in text.split("\r\n")[1:]:
        if not line:
            break
        name, _, value = line.partition(":")
        name = name.strip().lower()
        value = value.strip()
        if name in ("call-id", "i"):
            part = value.split("@")[0].split("-")
            if len(part) == 3 and part[0] == "probe" and part[2].isdigit():
                seq = int(part[2])
        elif name == "server":
            node = value
        elif name == "user-agent":
            agent = value
    if seq is None:
        return None
    return seq, (node or agent or addr[0]).replace(" ", "_")


def parse_target(s):
    host, _, port = s.rpartition(":")
    if not host:
        host, port = s, "5060"
    return host.strip("[]"), int(port)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--target", required=True, help="HOST:PORT to probe")
    ap.add_argument("--interval", type=float, default=0.015)
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--gap", type=float, default=0.0,
                    help="shortest silence reported as a gap (default 5 intervals)")
    ap.add_argument("--late", type=float, default=2.0,
                    help="answers later than this after their probe are ignored")
    ap.add_argument("--out", default="-")
    ap.add_argument("--stop-file", default="")
    ap.add_argument("--mark-file", default="")
    ap.add_argument("--mark-realtime", action="store_true",
                    help="the mark file holds CLOCK_REALTIME seconds")
    ap.add_argument("--once", action="store_true")
    ap.add_argument("--timeout", type=float, default=2.0)
    a = ap.parse_args()
    target = parse_target(a.target)
    sock = socket.socket(socket.AF_INET6 if ":" in target[0] else socket.AF_INET,
                         socket.SOCK_DGRAM)
    sock.bind(("", 0))
    # not connected: the answer may come from another address of the
    # server (a wildcard-bound server answering from its primary address)
    probe = socket.socket(sock.family, socket.SOCK_DGRAM)
    probe.connect(target)                     # only to learn our address
    local = (probe.getsockname()[0], sock.getsockname()[1])
    probe.close()

    def send(data):
        sock.sendto(data, target)

    if a.once:
        sock.setblocking(False)
        end = time.monotonic() + a.timeout
        resend = 0.0
        while time.monotonic() < end:
            if time.monotonic() >= resend:      # again every 200 ms (UDP)
                try:
                    send(options(target, 0, local))
                except OSError:
                    pass
                resend = time.monotonic() + 0.2
            r, _, _ = select.select([sock], [], [],
                                    max(0.0, min(end, resend) - time.monotonic()))
            if not r:
                continue
            try:
                data, addr = sock.recvfrom(65535)
            except OSError:
                continue
            got = answer_of(data, addr)
            if got and got[0] == 0:
                return 0
        return 1

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    sock.setblocking(False)
    t0 = time.monotonic()
    t0_real = time.time() - (time.monotonic() - t0)
    sent = []        # send time per seq
    who = {}         # seq -> node
    rcv = {}         # seq -> receive time
    seq = 0
    nxt = t0
    end = t0 + a.duration
    while not stop:
        now = time.monotonic()
        if now >= end or (a.stop_file and seq % 20 == 0 and os.path.exists(a.stop_file)):
            break
        if now >= nxt:
            try:
                send(options(target, seq, local))
            except OSError:
                pass      # no route / unreachable for now: counted as unanswered
            sent.append(now - t0)
            seq += 1
            nxt += a.interval
            if nxt < now:        # we were descheduled: do not burst
                nxt = now + a.interval
        try:
            r, _, _ = select.select([sock], [], [], max(0.0, nxt - time.monotonic()))
        except InterruptedError:
            continue
        while r:
            try:
                data, addr = sock.recvfrom(65535)
            except BlockingIOError:
                break
            except OSError:
                break
            got = answer_of(data, addr)
            if got and got[0] < len(sent) and got[0] not in who:
                t = time.monotonic() - t0
                if t - sent[got[0]] <= a.late:
                    who[got[0]] = got[1]
                    rcv[got[0]] = t
    # a short drain so the last probes' answers count
    drain = time.monotonic() + min(a.late, 0.3)
    while time.monotonic() < drain:
        r, _, _ = select.select([sock], [], [], max(0.0, drain - time.monotonic()))
        if not r:
            break
        try:
            data, addr = sock.recvfrom(65535)
        except OSError:
            continue
        got = answer_of(data, addr)
        if got and got[0] < len(sent) and got[0] not in who:
            who[got[0]] = got[1]
            rcv[got[0]] = time.monotonic() - t0

    out = sys.stdout if a.out == "-" else open(a.out, "w")
    mingap = a.gap if a.gap > 0 else 5 * a.interval
    for i, t in enumerate(sent):
        r = f"{rcv[i]:.4f}" if i in rcv else "-"
        out.write(f"probe {t:.4f} {who.get(i, '-')} {r}\n")
    last = None          # index of last answered probe
    longest = 0.0
    for i in range(len(sent)):
        if i not in who:
            continue
        if last is not None and i - last > 1:
            g = sent[i] - sent[last]
            if g >= mingap:
                out.write(f"gap {sent[last]:.4f} {sent[i]:.4f} {g:.4f} {who[last]} {who[i]}\n")
                longest = max(longest, g)
        last = i
    if last is not None and last < len(sent) - 1:
        g = sent[-1] - sent[last]
        if g >= mingap:
            out.write(f"gap {sent[last]:.4f} - {g:.4f} {who[last]} -\n")
            longest = max(longest, g)
    if a.mark_file and os.path.exists(a.mark_file):
        try:
            with open(a.mark_file) as f:
                m = float(f.read().split()[0])
                out.write(f"mark {m - (t0_real if a.mark_realtime else t0):.4f}\n")
        except (ValueError, IndexError):
            pass
    out.write(f"summary probes {len(sent)} answered {len(who)} longest {longest:.4f}\n")
    if out is not sys.stdout:
        out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
