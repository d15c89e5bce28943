#!/usr/bin/env python3
"""web_rspamd.py: the anchor of bench/run-web.sh: rspamd's controller
/history (the web interface's history page) under the same scan load.

    python3 bench/web_rspamd.py WEB_LOAD RATE SECONDS DIR ENTRIES MSG...

rspamd is started as the anchors harness configures it
(../shared/anchors/adapters.py: one normal worker, the controller on
127.0.0.1 with secure_ip, network modules off), with one change: its
in-memory history (the roll history the web interface reads) keeps ENTRIES
rows (`history_rows`, default 200) through override.d/options.inc. It is
filled with ENTRIES scans through POST /checkv2, then RATE scans/s go to
/checkv2 for SECONDS while GET /history is timed back to back (bench/web_load
with WEB_LOAD_SCAN_PATH and WEB_LOAD_READ_PORT). rspamd's /history has no
paging or filter: each request returns every row it keeps. Stopped by PID.
"""
import http.client
import json
import os
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, '..', '..', 'shared', 'anchors'))
import adapters  # noqa: E402


def main():
    if len(sys.argv) < 7:
        sys.stderr.write(__doc__)
        return 2
    load, rate, secs, d, entries = sys.argv[1:6]
    msgs = sys.argv[6:]
    d = os.path.abspath(d)
    a = adapters.ADAPTERS['rspamd'](d)
    od = os.path.join(d, 'etc', 'override.d')
    os.makedirs(od, exist_ok=True)
    with open(os.path.join(od, 'options.inc'), 'w') as f:
        f.write('history_rows = %d;\n' % int(entries))
    try:
        a.start()
        env = dict(os.environ, WEB_LOAD_SCAN_PATH='/checkv2', WEB_LOAD_READ_PORT=str(a.cport))
        fill = subprocess.run([load, 'fill', '127.0.0.1', str(a.port), entries] + msgs,
                              env=env, stdout=subprocess.PIPE, text=True)
        print('anchor rspamd %s, history_rows = %s, fill: %s' % (
            subprocess.run(['rspamd', '--version'], stdout=subprocess.PIPE,
                           text=True).stdout.split('\n')[0].strip(), entries,
            fill.stdout.strip()))
        run = subprocess.run([load, 'run', '127.0.0.1', str(a.port), rate, secs,
                              '/history'] + msgs, env=env, stdout=subprocess.PIPE, text=True)
        for line in run.stdout.splitlines():
            print('anchor rspamd ' + line)
        c = http.client.HTTPConnection('127.0.0.1', a.cport, timeout=60)
        c.request('GET', '/history')
        body = c.getresponse().read()
        rows = json.loads(body)
        rows = rows.get('rows', []) if isinstance(rows, dict) else rows
        print('anchor rspamd /history returned %d rows, %.1f MiB, in one reply (no paging)' % (
            len(rows), len(body) / 2**20))
    finally:
        a.stop()
    return 0


if __name__ == '__main__':
    sys.exit(main())
