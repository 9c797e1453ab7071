#!/usr/bin/env python3
"""A TCP proxy that records what a client sends (test_cluster_replay.sh).

tcp_record_proxy.py LISTEN_PORT UPSTREAM_HOST UPSTREAM_PORT SOURCE_ADDR FILE SECS

Listens on 0.0.0.0:LISTEN_PORT; each connection is relayed both ways to
UPSTREAM_HOST:UPSTREAM_PORT from SOURCE_ADDR. The client->server bytes of
the FIRST connection are appended to FILE as they pass (flushed at once);
later connections are relayed, not recorded. Exits after SECS seconds.
"""
import os
import selectors
import socket
import sys
import time

port, up_host, up_port, src, path, secs = (int(sys.argv[1]), sys.argv[2], int(sys.argv[3]),
                                           sys.argv[4], sys.argv[5], float(sys.argv[6]))
end = time.monotonic() + secs
sel = selectors.DefaultSelector()
lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
lst.bind(("0.0.0.0", port))
lst.listen(8)
sel.register(lst, selectors.EVENT_READ, None)
rec = open(path, "ab")
first = [True]


def close_pair(a, b):
    for s in (a, b):
        try:
            sel.unregister(s)
        except (KeyError, ValueError):
            pass
        s.close()


def accept():
    cli, _ = lst.accept()
    up = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    up.bind((src, 0))
    up.settimeout(5)
    try:
        up.connect((up_host, up_port))
    except OSError as e:
        print("upstream connect: %s" % e, flush=True)
        cli.close()
        up.close()
        return
    up.setblocking(False)
    cli.setblocking(False)
    recording = first[0]
    first[0] = False
    print("connection %s recorded=%s" % (cli.getpeername(), recording), flush=True)
    sel.register(cli, selectors.EVENT_READ, (up, recording))
    sel.register(up, selectors.EVENT_READ, (cli, False))


while time.monotonic() < end:
    for key, _ in sel.select(timeout=0.5):
        if key.data is None:
            accept()
            continue
        other, recording = key.data
        try:
            data = key.fileobj.recv(65536)
        except OSError:
            data = b""
        if not data:
            close_pair(key.fileobj, other)
            continue
        if recording:
            rec.write(data)
            rec.flush()
            os.fsync(rec.fileno())
        try:
            other.setblocking(True)
            other.sendall(data)
            other.setblocking(False)
        except OSError:
            close_pair(key.fileobj, other)
