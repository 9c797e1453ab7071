#!/usr/bin/env python3
"""reg_check.py REG200 REGS_JSON MIN: every REGISTER that SIPp saw answered
200 (tests/cluster/sipp/register_load.xml logs "REG USER CALL-ID") is held
by the node whose `tandemctl registrations --json` is REGS_JSON: for each
user, a binding from that REGISTER or a later one (SIPp's Call-IDs start
with its call number). Fails when fewer than MIN 200s were seen."""
import json
import sys


def num(cid):
    return int(cid.split("-", 1)[0])


def main():
    reg200, regs_json, least = sys.argv[1], sys.argv[2], int(sys.argv[3])
    last, n = {}, 0
    for line in open(reg200):
        f = line.split()
        if len(f) >= 3 and f[0] == "REG":
            n += 1
            last[f[1]] = max(last.get(f[1], -1), num(f[2]))
    have = {r["peer"]: r["call_id"] for r in json.load(open(regs_json))["registrations"]}
    bad = [u for u in last if u not in have or num(have[u]) < last[u]]
    if n < least or bad:
        print("%d REGISTERs answered 200 (at least %d wanted); missing or older on the "
              "final active: %s" % (n, least, ", ".join(
                  "%s (200 for %d, has %s)" % (u, last[u], have.get(u)) for u in sorted(bad)[:10])))
        return 1
    print("%d REGISTERs answered 200 for %d users, all on the final active" % (n, len(last)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
