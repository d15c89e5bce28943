#!/bin/sh
# milter.sh: spamsiftd's milter door in the mail path of a real Postfix
# (Debian's package, a private instance on 127.0.0.1 with its own queue
# and Maildir in the test's folder, smtpd_milters pointing at the daemon,
# milter_default_action = tempfail), fed by swaks: a ham is delivered with
# X-Spam-Status: No and its score, a forged X-Spam-Flag (and an
# Authentication-Results in our name) is removed, a spam
# is refused with the configured SMTP reply, and with the daemon stopped
# Postfix tempfails. A raw milter client (python3) does what Postfix will
# not: an MTA that wants every reply, two messages on one connection, a
# Unix socket, garbage, a packet cut short, a 2 GiB length field, commands
# out of order, a message over --max-size under both error policies; the
# daemon serves on after each. Messages are generated here (no corpus).
# Needs root, $SPAMSIFT, $SPAMSIFTD, postfix, swaks, python3. Every process
# is stopped by its PID. Ends with "N passed, N failed".
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/postfix.sh"
daemon=${SPAMSIFTD:?set SPAMSIFTD to the spamsiftd binary}
pid="" pid2="" pf=""
cleanup() {
	[ -n "$pf" ] && stop_postfix "$pf"
	for p in $pid $pid2; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# Training mail and probes, as in daemon.sh: spam sells, ham works.
python3 - "$tmp" "$tests" <<'PY'
import sys
sys.dont_write_bytecode = True
sys.path.insert(0, sys.argv[2])
import genmail
g = genmail.Gen(sys.argv[1], seed=7, to="box@example.net")
g.corpus()
g.write("forged.eml", "ham", "forged", "X-Spam-Flag: YES\nX-Spam-Status: Yes, score=99\n"
        "Authentication-Results: other.test; dkim=pass header.d=other.test\n"
        "Authentication-Results: MX.test; spf=pass smtp.mailfrom=forged.test\n")
g.big("big.eml")
PY

# milt.py MODE ADDR ARGS: the MTA's side of the milter protocol.
cat >"$tmp/milt.py" <<'PY'
import select, socket, struct, sys, time
mode, addr, args = sys.argv[1], sys.argv[2], sys.argv[3:]
if addr.startswith("unix:"):
    s = socket.socket(socket.AF_UNIX); s.connect(addr[5:])
else:
    h, p = addr.rsplit(":", 1); s = socket.create_connection((h, int(p)))
s.settimeout(10)
NR = {b"C": 1 << 12, b"H": 1 << 13, b"M": 1 << 14, b"R": 1 << 15, b"L": 1 << 7,
      b"N": 1 << 18, b"B": 1 << 19}
def pk(c, d=b""): return struct.pack(">I", len(d) + 1) + c + d
def exact(n):
    b = b""
    while len(b) < n:
        x = s.recv(n - len(b))
        if not x: return None
        b += x
    return b
def reply():
    h = exact(4)
    if h is None: return None
    d = exact(struct.unpack(">I", h)[0])
    return (d[:1].decode(), d[1:]) if d else None
def closed():
    try:
        return s.recv(100) == b""
    except OSError:
        return True
def negotiate(proto):
    s.sendall(pk(b"O", struct.pack(">III", 6, 0x1ff, proto)))
    c, d = reply(); assert c == "O", c
    return struct.unpack(">III", d[:12])[2]
def message(path, flags):
    def cmd(c, d=b""):
        s.sendall(pk(c, d))
        if not flags & NR[c]:
            r = reply(); assert r and r[0] == "c", r
    s.sendall(pk(b"D", b"Cj\0mx.test.example\0"))
    cmd(b"C", b"client.example\x004\x30\x39" b"192.0.2.7\0")
    cmd(b"H", b"helo.example\0")
    s.sendall(pk(b"D", b"Mi\0QID1\0"))
    cmd(b"M", b"<a@example.com>\0")
    cmd(b"R", b"<b@example.net>\0")
    head, _, body = open(path, "rb").read().partition(b"\n\n")
    for line in head.split(b"\n"):
        n, _, v = line.partition(b":")
        cmd(b"L", n + b"\0" + (v if flags & (1 << 20) else v.lstrip()) + b"\0")
    cmd(b"N")
    body = body.replace(b"\n", b"\r\n")
    for i in range(0, len(body), 65535):
        cmd(b"B", body[i:i + 65535])
    s.sendall(pk(b"E"))
    while True:
        r = reply()
        if r is None:
            print("closed"); return
        d = r[1]
        if r[0] in "mi":  # index, name, value
            d = b"%d|" % struct.unpack(">I", d[:4]) + d[4:]
        print(r[0], d.replace(b"\0", b"|").decode("latin-1"))
        if r[0] in "cartyd": return
if mode == "msg":        # msg ADDR FILE [PROTOCOL]: one message, the replies
    flags = negotiate(int(args[1], 0) if len(args) > 1 else 0x1fffff)
    print("flags 0x%x" % flags)
    message(args[0], flags)
    s.sendall(pk(b"Q"))
    print("closed after quit" if closed() else "open after quit")
elif mode == "two":      # two ADDR FILE1 FILE2: two messages, an abort between
    flags = negotiate(0x1fffff)
    message(args[0], flags); s.sendall(pk(b"A")); message(args[1], flags)
elif mode == "garbage":  # HTTP on the milter port
    s.sendall(b"GET / HTTP/1.0\r\n\r\n"); print("closed" if closed() else "open")
elif mode == "cut":      # half a packet, then vanish
    s.sendall(pk(b"O", struct.pack(">III", 6, 0x1ff, 0x1fffff))[:9]); s.close()
elif mode == "huge":     # a 2 GiB length field
    negotiate(0x1fffff)
    s.sendall(struct.pack(">I", 0x7fffffff) + b"B" + b"x" * 100)
    print("closed" if closed() else "open")
elif mode == "order":    # a header before MAIL
    negotiate(0x1fffff); s.sendall(pk(b"L", b"Subject\0x\0"))
    print("closed" if closed() else "open")
elif mode == "idle":     # idle ADDR FILE: one message, then an idle session until closed
    flags = negotiate(0x1fffff)
    message(args[0], flags); print("sent", flush=True)
    t0 = time.time()
    s.settimeout(30)
    try:
        gone = s.recv(100) == b""
    except OSError:
        gone = True
    print("closed after %.1f s" % (time.time() - t0) if gone else "data")
elif mode == "deadline": # deadline ADDR FILE: a pause between messages, then a slow one
    flags = negotiate(0x1fffff)
    message(args[0], flags); time.sleep(1.5); message(args[0], flags)
    s.sendall(pk(b"M", b"<slow@example.com>\0"))
    t0, gone = time.time(), False
    try:
        while not gone and time.time() - t0 < 20:
            s.sendall(pk(b"L", b"X-Drip\0drop\0"))
            if select.select([s], [], [], 0.3)[0]:
                gone = s.recv(100) == b""
    except OSError:
        pass
    print("cut after %.1f s" % (time.time() - t0))
PY
milt() { python3 "$tmp/milt.py" "$@"; }

# free_port: a TCP port nobody listens on now
# start_daemon OUT ARGS...: spamsiftd in the background; sets $started
start_daemon() {
	out=$1
	shift
	"$daemon" --db "$tmp/db" --threads 2 "$@" >"$out.out" 2>"$out.err" &
	started=$!
	for i in $(seq 50); do
		[ -s "$out.out" ] && break
		sleep 0.1
	done
}

expect 0 "learn spam" "$bin" learn --spam --db "$tmp/db" "$tmp/spam"
expect 0 "learn ham" "$bin" learn --ham --db "$tmp/db" "$tmp/ham"
expect 0 "spamsiftd --help" "$daemon" --help
grep -q -- "--milter ADDR" "$tmp/out" && grep -q -- "--milter-on-error" "$tmp/out" && ok ||
	bad "--help names the milter options"
expect 2 "bad --milter-reject" "$daemon" --db "$tmp/db" --milter 127.0.0.1:0 --milter-reject "550 spam"
expect 2 "bad --milter-on-error" "$daemon" --db "$tmp/db" --milter 127.0.0.1:0 --milter-on-error drop
expect 2 "bad --milter address" "$daemon" --db "$tmp/db" --milter nowhere

reject="550 5.7.1 Spam refused by spamsift (test)"
start_daemon "$tmp/d" --milter 127.0.0.1:0 --milter "unix:$tmp/msock" --timeout 5 \
	--max-size 200000 --milter-reject "$reject" --authserv-id mx.test
pid=$started
mport=$(sed -n 's/^milter 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$tmp/d.out")
[ -n "$mport" ] && [ "$mport" != 0 ] && ok || bad "first line names the milter port: $(cat "$tmp/d.out" "$tmp/d.err")"
grep -q "^milter unix:$tmp/msock\$" "$tmp/d.out" && ok || bad "second line names the unix socket"
m=127.0.0.1:$mport

# The raw client: negotiation, headers, reject, both reply modes
milt msg "$m" "$tmp/probe-ham.eml" >"$tmp/out"
grep -q "^flags 0x1ff380$" "$tmp/out" && ok || bad "negotiated flags: $(head -1 "$tmp/out")"
grep -q "^h X-Spam-Status| No, score=-" "$tmp/out" && ok || bad "ham gets X-Spam-Status: No: $(cat "$tmp/out")"
grep -q "^c $" "$tmp/out" && grep -q "closed after quit" "$tmp/out" && ok || bad "continue, then closed at quit"
milt msg "$m" "$tmp/probe-spam.eml" >"$tmp/out"
grep -q "^y $reject|$" "$tmp/out" && ok || bad "spam gets the reply code: $(cat "$tmp/out")"
milt msg "$m" "$tmp/probe-ham.eml" 0 >"$tmp/out"
grep -q "^flags 0x0$" "$tmp/out" && grep -q "^h X-Spam-Status|No" "$tmp/out" && ok ||
	bad "an MTA without protocol flags gets every reply: $(cat "$tmp/out")"
milt msg "$m" "$tmp/forged.eml" >"$tmp/out"
grep -q "^m 1|X-Spam-Flag||$" "$tmp/out" && grep -q "^m 1|X-Spam-Status||$" "$tmp/out" && ok ||
	bad "forged X-Spam fields are removed: $(cat "$tmp/out")"
grep -q "^m 2|Authentication-Results||$" "$tmp/out" && ! grep -q "^m 1|Authentication-Results" "$tmp/out" &&
	ok || bad "the Authentication-Results in our name (2nd) is removed, not another's: $(cat "$tmp/out")"
milt two "$m" "$tmp/probe-ham.eml" "$tmp/probe-spam.eml" >"$tmp/out"
[ "$(grep -c '^[cy] ' "$tmp/out")" = 2 ] && tail -1 "$tmp/out" | grep -q "^y 550" && ok ||
	bad "two messages on one connection: $(cat "$tmp/out")"
milt msg "unix:$tmp/msock" "$tmp/probe-ham.eml" >"$tmp/out"
grep -q "^h X-Spam-Status| No" "$tmp/out" && ok || bad "the unix socket serves: $(cat "$tmp/out")"

# Bad MTAs: closed connections, log lines, and service goes on
[ "$(milt garbage "$m")" = closed ] && ok || bad "garbage: connection closed"
milt cut "$m"
[ "$(milt huge "$m")" = closed ] && ok || bad "2 GiB length field: connection closed"
[ "$(milt order "$m")" = closed ] && ok || bad "header before MAIL: connection closed"
milt msg "$m" "$tmp/big.eml" >"$tmp/out"
grep -q "^t $" "$tmp/out" && ok || bad "over --max-size: tempfail by default: $(cat "$tmp/out")"
milt msg "$m" "$tmp/probe-ham.eml" >"$tmp/out"
grep -q "^h X-Spam-Status| No" "$tmp/out" && ok || bad "served after the bad MTAs"
sleep 0.2
grep -q "packet longer than the limit: closing" "$tmp/d.err" && ok || bad "garbage is logged"
grep -q "packet cut short" "$tmp/d.err" && ok || bad "the cut packet is logged"
grep -q "outside a transaction: closing" "$tmp/d.err" && ok || bad "the order error is logged"
grep -q "larger than 200000 bytes: not buffered" "$tmp/d.err" &&
	grep -q "message too big: tempfailed by policy" "$tmp/d.err" && ok || bad "oversize is logged"
grep -q "milter .* id=QID1 from=<a@example.com> rcpts=1: ham .* headers added" "$tmp/d.err" && ok ||
	bad "each message is logged"

start_daemon "$tmp/d2" --milter 127.0.0.1:0 --max-size 200000 --milter-on-error accept
pid2=$started
p2=$(sed -n 's/^milter \(127\.0\.0\.1:[0-9]*\)$/\1/p' "$tmp/d2.out")
milt msg "$p2" "$tmp/big.eml" >"$tmp/out"
grep -q "^a $" "$tmp/out" && ok || bad "over --max-size with --milter-on-error accept: $(cat "$tmp/out")"
kill "$pid2" && wait "$pid2" && ok || bad "second daemon exits 0 after SIGTERM"
pid2=""

# The request deadline is per message, MAIL to end-of-body: a session idle
# between messages longer than it goes on; a message that drips is cut off.
start_daemon "$tmp/d3" --milter 127.0.0.1:0 --timeout 30 --request-timeout 1
pid2=$started
p3=$(sed -n 's/^milter \(127\.0\.0\.1:[0-9]*\)$/\1/p' "$tmp/d3.out")
milt deadline "$p3" "$tmp/probe-ham.eml" >"$tmp/out"
[ "$(grep -c '^c $' "$tmp/out")" = 2 ] && ok || bad "two messages 1.5 s apart, deadline 1 s: $(cat "$tmp/out")"
cut=$(sed -n 's/^cut after \([0-9.]*\) s$/\1/p' "$tmp/out")
[ -n "$cut" ] && python3 -c "import sys; sys.exit(not 0.7 < $cut < 4)" && ok ||
	bad "a dripping message is cut after about 1 s: $(cat "$tmp/out")"
grep -q "milter .*: request not complete after 1.0 s: dropped" "$tmp/d3.err" && ok ||
	bad "the milter deadline is logged"
kill "$pid2" && wait "$pid2" && ok || bad "third daemon exits 0 after SIGTERM"
pid2=""

# SIGTERM closes a milter session idle between messages at once (the MTA
# holds it for a whole SMTP session), not after --timeout
start_daemon "$tmp/d4" --milter 127.0.0.1:0 --timeout 30
pid2=$started
p4=$(sed -n 's/^milter \(127\.0\.0\.1:[0-9]*\)$/\1/p' "$tmp/d4.out")
milt idle "$p4" "$tmp/probe-ham.eml" >"$tmp/idle" &
idle=$!
for i in $(seq 50); do grep -q '^sent' "$tmp/idle" && break; sleep 0.1; done
kill "$pid2" && wait "$pid2" && ok || bad "fourth daemon exits 0 after SIGTERM"
pid2=""
wait "$idle"
cut=$(sed -n 's/^closed after \([0-9.]*\) s$/\1/p' "$tmp/idle")
[ -n "$cut" ] && python3 -c "import sys; sys.exit(not $cut < 10)" && ok ||
	bad "an idle milter session is closed at SIGTERM: $(cat "$tmp/idle")"

# A real Postfix with smtpd_milters = inet:127.0.0.1:PORT
pf=$tmp/postfix
sport=$(free_port)
if ! start_postfix "$pf" "$sport" "inet:$m"; then
	bad "postfix starts: $(tail -5 "$pf/maillog" 2>/dev/null)"
	pf=""
	finish
	exit
fi
ok
box=$pf/mail/box/new
send() { swaks --server "127.0.0.1:$sport" --from sender@example.com --to box@example.net \
	--timeout 20 --data "@$1" >"$tmp/sw" 2>&1; }
# delivered PATTERN: the file in the Maildir whose Message-ID matches
delivered() {
	for i in $(seq 50); do
		f=$(grep -l "^Message-ID: <$1@" "$box"/* 2>/dev/null | head -1)
		[ -n "$f" ] && echo "$f" && return 0
		sleep 0.1
	done
	return 1
}
send "$tmp/probe-ham.eml" && ok || bad "swaks ham: $(tail -5 "$tmp/sw")"
f=$(delivered probe-ham) && ok || bad "ham delivered: $(tail -5 "$pf/maillog")"
grep -q "^X-Spam-Status: No, score=-[0-9.]* required=0.0 tests=SPAMSIFT_BAYES" "${f:-/dev/null}" && ok ||
	bad "delivered ham carries X-Spam-Status: No: $(grep X-Spam "${f:-/dev/null}")"
grep -q "^X-Spam-Score: -[0-9.]*$" "${f:-/dev/null}" && ok || bad "and X-Spam-Score"
grep -q "^X-Spam-Flag" "${f:-/dev/null}" && bad "ham is not flagged" || ok
send "$tmp/forged.eml"
f=$(delivered forged) && ok || bad "forged ham delivered"
[ "$(grep -c "^X-Spam-Status" "${f:-/dev/null}")" = 1 ] && ! grep -q "score=99" "${f:-/dev/null}" &&
	! grep -q "^X-Spam-Flag" "${f:-/dev/null}" && ok ||
	bad "the sender's X-Spam fields are gone: $(grep X-Spam "${f:-/dev/null}")"
grep -q "^Authentication-Results: other.test; dkim=pass" "${f:-/dev/null}" &&
	! grep -q "^Authentication-Results: MX.test" "${f:-/dev/null}" && ok ||
	bad "a forged Authentication-Results in our name is gone, another's kept: $(grep Auth "${f:-/dev/null}")"
send "$tmp/probe-spam.eml" && bad "swaks spam succeeds?" || ok
grep -q "<\*\* *$reject" "$tmp/sw" && ok || bad "spam refused with the configured reply: $(tail -6 "$tmp/sw")"
delivered probe-spam >/dev/null && bad "the spam was delivered" || ok

# The daemon stopped: Postfix applies milter_default_action = tempfail
kill "$pid" && wait "$pid" && ok || bad "daemon exits 0 after SIGTERM"
pid=""
send "$tmp/probe-ham.eml" && bad "swaks succeeds with the milter down?" || ok
grep -q "<\*\* *4[0-9][0-9] 4\.[0-9.]* " "$tmp/sw" && ok || bad "Postfix tempfails: $(tail -6 "$tmp/sw")"
[ "$(ls "$box" | wc -l)" = 2 ] && ok || bad "nothing more delivered: $(ls "$box")"
grep -l "Sanitizer\|runtime error" "$tmp"/d*.err && bad "sanitizer reports: $(cat "$tmp"/d*.err)" || ok
finish
