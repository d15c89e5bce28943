#!/usr/bin/env python3
"""peers.py: start one anchor filter for bench/run-daemon.sh, train it, and
keep it up until SIGTERM, then stop it by PID.

    python3 bench/peers.py spamassassin|rspamd|rspamd-bayes DIR SPAM_LIST HAM_LIST WORKERS

The configurations are the anchors harness's (../shared/anchors/adapters.py:
SpamAssassin's spamd with network tests off and Bayes on; rspamd with Bayes
on a private redis-server and every network module off), reused as they
are, with one change for a load test: WORKERS scanning processes instead
of one (spamd children; rspamd normal workers). Training: SpamAssassin's
Bayes with sa-learn on the same site config (spamd's TELL, one message at
a time, would take minutes); rspamd's through its controller, as the
harness does.

rspamd-bayes is the same rspamd (same adapter, same Bayes on redis, same
training) with only the checks spamsift has: the Bayes classifier and the
message parsing it needs. Every other check is off, with rspamd 3.4's own
switches, written into the adapter's local config before it starts:
`filters = ""` in override.d/options.inc (no C module: chartable, dkim,
regexp, fuzzy_check), `enabled = false` in local.d/<module>.conf for every
Lua plugin in the plugins folder, and the top-level `lua` script (stock:
rules/rspamd.lua, which registers the stock Lua rules: html, headers,
subject, misc, forwarding, mid, bitcoin, bounce, content) replaced through
rspamd.conf.local.override by one that loads only what the controller
needs. Prints `spamd PORT`, `http PORT` (rspamd), `pid PID` for each
server process it started, then `ready`; failures go to standard error
and exit 1.
"""
import os
import signal
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, '..', '..', 'shared', 'anchors'))
import adapters  # noqa: E402

WORKERS = 1
_popen = subprocess.Popen


def scaled(cmd):
    """The harness's spamd/rspamd command with WORKERS scanning processes."""
    if not isinstance(cmd, list) or not cmd:
        return cmd
    w = str(WORKERS)
    if cmd[0] == 'spamd':
        out = []
        for a in cmd:
            if a.startswith(('--min-children=', '--min-spare=', '--max-spare=')):
                a = a.split('=')[0] + '=' + w
            out.append(a)
        i = out.index('-m')
        out[i + 1] = w
        return out
    if cmd[0] == 'rspamd':
        conf = [a for a in cmd if a.startswith('--var=LOCAL_CONFDIR=')][0].split('=', 2)[2]
        path = os.path.join(conf, 'override.d', 'worker-normal.inc')
        with open(path) as f:
            text = f.read().replace('count = 1;', 'count = %s;' % w)
        with open(path, 'w') as f:
            f.write(text)
    return cmd


def popen(cmd, *args, **kw):
    return _popen(scaled(cmd), *args, **kw)


PLUGINS = '/usr/share/rspamd/plugins'
RULES = '/usr/share/rspamd/rules'


def bayes_only(d):
    """Config files that leave rspamd with its Bayes classifier alone."""
    etc = os.path.join(d, 'etc')
    for sub in ('local.d', 'override.d'):
        os.makedirs(os.path.join(etc, sub), exist_ok=True)
    with open(os.path.join(etc, 'override.d', 'options.inc'), 'w') as f:
        f.write('filters = "";\n')
    mods = sorted(m[:-4] for m in os.listdir(PLUGINS) if m.endswith('.lua'))
    for m in mods:
        with open(os.path.join(etc, 'local.d', m + '.conf'), 'w') as f:
            f.write('enabled = false;\n')
    lua = os.path.join(etc, 'bayes-only.lua')
    with open(lua, 'w') as f:
        f.write('-- rules/rspamd.lua without its rules: globals and the controller only\n'
                'require "global_functions" ()\n'
                "config['regexp'] = {}\n"
                'rspamd_maps = {}\n'
                "dofile(rspamd_paths['RULESDIR'] .. '/controller/init.lua')\n")
    with open(os.path.join(etc, 'rspamd.conf.local.override'), 'w') as f:
        f.write('lua = "%s";\n' % lua)
    sys.stderr.write('peers: rspamd-bayes: C modules off (filters = ""), %d Lua plugins '
                     'off, stock Lua rules not loaded\n' % len(mods))


def read_list(path):
    with open(path) as f:
        return [os.path.abspath(p.strip()) for p in f if p.strip()]


def train_spamassassin(a, spam, ham):
    site = os.path.join(a.dbdir, 'site')
    for label, lst in (('--spam', spam), ('--ham', ham)):
        p = subprocess.run(['sa-learn', '--siteconfigpath=' + site,
                            '--configpath=/usr/share/spamassassin', label, '-f', lst],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if p.returncode != 0:
            raise RuntimeError('sa-learn %s: %s' % (label, p.stderr[-500:]))
        sys.stderr.write('peers: sa-learn %s: %s' % (label, p.stdout.decode()))
    os.system('chmod -R a+rwX ' + os.path.join(a.dbdir, 'bayes'))


def train_rspamd(a, spam, ham):
    items = [(p, 'spam') for p in read_list(spam)] + [(p, 'ham') for p in read_list(ham)]
    with ThreadPoolExecutor(4) as ex:
        res = list(ex.map(lambda it: a.train(it[0], it[1]), items))
    learned = sum(1 for r in res if r == 'learned')
    sys.stderr.write('peers: rspamd learned %d of %d (the others skipped by its '
                     'learn_condition or as duplicates)\n' % (learned, len(items)))


def main():
    global WORKERS
    if len(sys.argv) != 6 or sys.argv[1] not in ('spamassassin', 'rspamd', 'rspamd-bayes'):
        sys.stderr.write(__doc__)
        return 2
    name, d, spam, ham = sys.argv[1:5]
    WORKERS = int(sys.argv[5])
    subprocess.Popen = popen
    a = adapters.ADAPTERS['rspamd' if name == 'rspamd-bayes' else name](os.path.abspath(d))
    if name == 'rspamd-bayes':
        bayes_only(a.dbdir)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    try:
        a.start()
        if name == 'spamassassin':
            train_spamassassin(a, spam, ham)
            print('spamd %d' % a.port)
        else:
            train_rspamd(a, spam, ham)
            print('spamd %d' % a.port)
            print('http %d' % a.port)
        for pid, _ in a.servers:
            print('pid %d' % pid)
        print('ready', flush=True)
        while not done.wait(1):
            pass
    except Exception as e:  # noqa: BLE001 - report and stop what was started
        sys.stderr.write('peers: %s: %s\n' % (name, e))
        return 1
    finally:
        a.stop()
    return 0


if __name__ == '__main__':
    sys.exit(main())
