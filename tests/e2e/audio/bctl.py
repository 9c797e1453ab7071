"""bctl: send one command to baresip's ctrl_tcp module and print its reply.

    python3 bctl.py PORT COMMAND [PARAMS] [--timeout S]

baresip 1.0's ctrl_tcp speaks netstrings ("LEN:DATA,") carrying JSON:
we send {"command": ..., "params": ..., "token": ...} and read until the
response with our token ({"response": true, "ok": ..., "data": ...});
the events baresip sends in between are printed to stderr. Exit 0 when
the command was accepted (ok true), 1 when refused, 2 on timeout or a
broken connection.
"""
import json, socket, sys, time


def main():
    args = sys.argv[1:]
    timeout = 5.0
    if '--timeout' in args:
        i = args.index('--timeout')
        timeout = float(args[i + 1])
        del args[i:i + 2]
    port, cmd = int(args[0]), args[1]
    params = args[2] if len(args) > 2 else ''
    token = 'e2e%d' % int(time.time() * 1000)
    end = time.time() + timeout
    try:
        s = socket.create_connection(('127.0.0.1', port), timeout=timeout)
    except OSError as e:
        print('bctl: connect 127.0.0.1:%d: %s' % (port, e), file=sys.stderr)
        return 2
    body = json.dumps({'command': cmd, 'params': params, 'token': token}).encode()
    s.sendall(b'%d:%s,' % (len(body), body))
    buf = b''
    while time.time() < end:
        while True:
            colon = buf.find(b':')
            if colon < 0:
                break
            n = int(buf[:colon])
            if len(buf) < colon + 1 + n + 1:
                break
            msg, buf = buf[colon + 1:colon + 1 + n], buf[colon + 1 + n + 1:]
            try:
                d = json.loads(msg.decode('utf-8', 'replace'))
            except ValueError:
                print('bctl: not JSON: %r' % msg, file=sys.stderr)
                continue
            if d.get('response') and d.get('token') == token:
                print(d.get('data', ''))
                return 0 if d.get('ok') else 1
            print('bctl: event: %s' % json.dumps(d), file=sys.stderr)
        s.settimeout(max(end - time.time(), 0.01))
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            break
        except OSError as e:
            print('bctl: recv: %s' % e, file=sys.stderr)
            return 2
        if not chunk:
            print('bctl: connection closed', file=sys.stderr)
            return 2
        buf += chunk
    print('bctl: no response to %r within %.1fs' % (cmd, timeout), file=sys.stderr)
    return 2


sys.exit(main())
