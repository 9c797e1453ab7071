#!/usr/bin/env python3
"""Response times of authenticated REGISTERs from a pcap of SIP over UDP.

pcap_rtt.py LABEL FILE: for each Call-ID, the first 'CSeq: 2 REGISTER'
request to the first 200 answering it, from the capture's timestamps
(Ethernet/Linux cooked on lo, IPv4, UDP). Prints n, p50, p90, p99, max.
"""
import re
import struct
import sys

label, path = sys.argv[1], sys.argv[2]
data = open(path, 'rb').read()
magic = struct.unpack('<I', data[:4])[0]
if magic not in (0xa1b2c3d4, 0xa1b23c4d):
    sys.exit('%s: not a little-endian pcap' % path)
nano = magic == 0xa1b23c4d
link = struct.unpack('<I', data[20:24])[0]
l2 = {1: 14, 113: 16, 276: 20}.get(link)
if l2 is None:
    sys.exit('%s: link type %d not handled' % (path, link))
req, rsp = {}, {}
off = 24
cid_re = re.compile(rb'^(?:Call-ID|i)\s*:\s*(\S+)', re.I | re.M)
cseq_re = re.compile(rb'^CSeq\s*:\s*(\d+)\s+REGISTER', re.I | re.M)
while off + 16 <= len(data):
    sec, frac, incl, _ = struct.unpack('<IIII', data[off:off + 16])
    pkt = data[off + 16:off + 16 + incl]
    off += 16 + incl
    t = sec + frac / (1e9 if nano else 1e6)
    ip = pkt[l2:]
    if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 17:
        continue
    sip = ip[(ip[0] & 15) * 4 + 8:]
    m, c = cid_re.search(sip), cseq_re.search(sip)
    if not m or not c or c.group(1) != b'2':
        continue
    if sip.startswith(b'REGISTER '):
        req.setdefault(m.group(1), t)
    elif sip.startswith(b'SIP/2.0 200'):
        rsp.setdefault(m.group(1), t)
v = sorted((rsp[k] - req[k]) * 1000 for k in rsp if k in req)
if not v:
    sys.exit('%s: no REGISTER/200 pairs in %s' % (label, path))
q = lambda x: v[min(len(v) - 1, int(x * len(v)))]
print('%-7s n=%-6d p50=%.3f ms  p90=%.3f ms  p99=%.3f ms  max=%.3f ms'
      % (label, len(v), q(.5), q(.9), q(.99), v[-1]))
