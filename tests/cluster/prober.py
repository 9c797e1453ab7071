#!/usr/bin/env python3
"""SIP OPTIONS prober for the cluster tests (runs in the client namespace).

Every INTERVAL seconds it sends one OPTIONS to each target (the VIP and the
two node addresses) from one UDP socket and logs every answer as
  RECV_NS SENT_NS TARGET RESPONDER STATUS
(CLOCK_REALTIME ns; RESPONDER names the node that served: tandemd answers
from the address a request was sent to, the VIP included, so the source
address no longer tells the nodes apart; a cluster node names itself in its
Server header, "Server: Tandem/x.y.z (node a)". With PROBE_NODES=a=IP,b=IP
in the environment RESPONDER is the IP of the node named there; otherwise,
or for an answer without the name, the answer's source address.) It stops
when STOPFILE exists or after MAX seconds.
usage: [PROBE_NODES=a=IP,b=IP] prober.py LOG STOPFILE MAX INTERVAL PORT TARGET...
"""
import os
import select
import socket
import sys
import time

log_path, stop, maxs, interval, port = sys.argv[1:6]
targets = sys.argv[6:]
maxs, interval, port = float(maxs), float(interval), int(port)
nodes = dict(kv.split("=", 1) for kv in os.environ.get("PROBE_NODES", "").split(",") if "=" in kv)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 0))
lport = s.getsockname()[1]
sent = {}
out = open(log_path, "w", buffering=1)
end = time.time() + maxs
n = 0
nxt = time.time()
while time.time() < end and not os.path.exists(stop):
    now = time.time()
    if now >= nxt:
        n += 1
        for t in targets:
            cid = "p%d-%s" % (n, t)
            sent[cid] = (time.time_ns(), t)
            msg = ("OPTIONS sip:probe@%s:%d SIP/2.0\r\n"
                   "Via: SIP/2.0/UDP 10.0.0.10:%d;branch=z9hG4bK-%s;rport\r\n"
                   "Max-Forwards: 70\r\nFrom: <sip:prober@10.0.0.10>;tag=%d\r\n"
                   "To: <sip:probe@%s>\r\nCall-ID: %s\r\nCSeq: %d OPTIONS\r\n"
                   "Content-Length: 0\r\n\r\n") % (t, port, lport, cid, n, t, cid, n)
            try:
                s.sendto(msg.encode(), (t, port))
            except OSError:
                pass
        nxt += interval
        if nxt < now:
            nxt = now + interval
        if len(sent) > 20000:
            sent = {k: v for k, v in sent.items() if int(k[1:].split("-")[0]) > n - 200}
    r, _, _ = select.select([s], [], [], max(0.0, min(nxt - time.time(), 0.02)))
    if not r:
        continue
    data, src = s.recvfrom(65535)
    recv = time.time_ns()
    text = data.decode("latin-1")
    status = text.split(" ", 2)[1] if text.startswith("SIP/2.0 ") else "?"
    cid = ""
    who = src[0]
    for line in text.split("\r\n"):
        low = line.lower()
        if low.startswith("call-id:"):
            cid = line.split(":", 1)[1].strip()
        elif low.startswith("server:") and "(node " in line:
            name = line.split("(node ", 1)[1].split(")", 1)[0].strip()
            who = nodes.get(name, who)
    if cid in sent:
        t0, tgt = sent[cid]
        out.write("%d %d %s %s %s %s\n" % (recv, t0, tgt, who, status, cid))
out.close()
