#!/usr/bin/env python3
"""A tiny SIP service for the Pacemaker pair: answers every request that
arrives over UDP with 200 OK (OPTIONS) or 501 (anything else), and says
which node it runs on in a `Server:` header, which the prober records.

    sip_responder.py [NODENAME|- [PORT [PIDFILE]]]

NODENAME '-' or none: the host name (each node of the pair has its own).

Binds 0.0.0.0:PORT (default 5060) and answers from the address the
request was sent to (IP_PKTINFO), so a request to the floating address
is answered from the floating address, as Asterisk bound to it would.
"""
import os
import socket
import struct
import sys

IP_PKTINFO = getattr(socket, "IP_PKTINFO", 8)


def reply(req, node):
    lines = req.split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or parts[2] != "SIP/2.0":
        return None
    code = "200 OK" if parts[0] == "OPTIONS" else "501 Not Implemented"
    keep = [l for l in lines[1:] if l.split(":", 1)[0].strip().lower()
            in ("via", "v", "from", "f", "to", "t", "call-id", "i", "cseq")]
    return ("SIP/2.0 " + code + "\r\n" + "\r\n".join(keep) +
            "\r\nServer: " + node + "\r\nContent-Length: 0\r\n\r\n").encode()


def main():
    node = sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] != "-" else socket.gethostname()
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 5060
    if len(sys.argv) > 3:
        with open(sys.argv[3], "w") as f:
            f.write(f"{os.getpid()}\n")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
    s.bind(("0.0.0.0", port))
    while True:
        data, anc, _, addr = s.recvmsg(65535, 256)
        out = reply(data.decode("utf-8", "replace"), node)
        if out is None:
            continue
        cmsg = []
        for level, kind, raw in anc:
            if level == socket.IPPROTO_IP and kind == IP_PKTINFO and len(raw) >= 12:
                _, _, dst = struct.unpack("I4s4s", raw[:12])
                cmsg = [(socket.IPPROTO_IP, IP_PKTINFO, struct.pack("I4s4s", 0, dst, bytes(4)))]
        try:
            s.sendmsg([out], cmsg, 0, addr)
        except OSError:
            pass


if __name__ == "__main__":
    main()
