#!/bin/sh
# daemon.sh: spamsiftd as an MTA uses it, through Debian's real spamc:
# PING, CHECK, SYMBOLS, REPORT, REPORT_IFSPAM, PROCESS, HEADERS, TELL
# (learn, already learned, forget), User, a Unix socket; and through a raw
# client (python3): Compress: zlib, garbage, a body cut short, an oversize
# message, a client that hangs while others are served, SIGTERM with a
# request in flight. Messages are generated here (no corpus); the daemon
# listens on 127.0.0.1 port 0 only. Needs $SPAMSIFT, $SPAMSIFTD, spamc and
# python3. Ends with "N passed, N failed".
set -u
. "$(dirname "$0")/lib.sh"
daemon=${SPAMSIFTD:?set SPAMSIFTD to the spamsiftd binary}
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT

# Training mail and probes: spam sells, ham works; probes were never learned.
python3 - "$tmp" "$tests" <<'EOF'
import sys
sys.dont_write_bytecode = True
sys.path.insert(0, sys.argv[2])
import genmail
g = genmail.Gen(sys.argv[1], seed=11)
g.corpus()
# a ham that claims to be checked already, and one to teach by TELL
g.write("spoof.eml", "spam", "spoof", "X-Spam-Flag: NO\nX-Spam-Status: No, score=-99\n")
g.write("tell.eml", "ham", "tell")
g.big("big.eml")
EOF

# raw.py MODE ARGS: a spamd client that does what spamc will not.
cat >"$tmp/raw.py" <<'EOF'
import socket, sys, time, zlib
import rawnet
mode, port = sys.argv[1], int(sys.argv[2])
s = rawnet.connect(port)
def reply():
    return rawnet.until_close(s)
if mode == "send":          # raw.py send PORT FILE: bytes as they are, then half-close
    s.sendall(open(sys.argv[3], "rb").read()); s.shutdown(socket.SHUT_WR)
    sys.stdout.write(reply().decode("latin-1"))
elif mode == "zlib":        # raw.py zlib PORT MSG [damage]: CHECK with Compress: zlib
    z = zlib.compress(open(sys.argv[3], "rb").read())
    if len(sys.argv) > 4:
        z = z[: len(z) // 2]
    s.sendall(b"CHECK SPAMC/1.5\r\nCompress: zlib\r\nContent-length: %d\r\n\r\n" % len(z) + z)
    s.shutdown(socket.SHUT_WR)
    sys.stdout.write(reply().decode("latin-1"))
elif mode == "cut":         # raw.py cut PORT: promise 5000 bytes, send 20, vanish
    s.sendall(b"CHECK SPAMC/1.5\r\nContent-length: 5000\r\n\r\nSubject: cut\r\n\r\nabc")
    s.close()
elif mode == "big":         # raw.py big PORT FILE: oversize message, read the reply
    data = open(sys.argv[3], "rb").read()
    s.sendall(b"CHECK SPAMC/1.5\r\nContent-length: %d\r\n\r\n" % len(data))
    try:
        s.sendall(data)
    except OSError:
        pass
    sys.stdout.write(reply().decode("latin-1"))
elif mode == "hang":        # raw.py hang PORT: send nothing; print when the daemon drops us
    t, got = rawnet.hang(s)
    print("dropped after %.1f s, %d bytes" % (t, len(got)))
elif mode == "slow":        # raw.py slow PORT MSG SIGNALFILE: header and half, wait, rest
    data = open(sys.argv[3], "rb").read()
    s.sendall(b"CHECK SPAMC/1.5\r\nContent-length: %d\r\n\r\n" % len(data) + data[:10])
    open(sys.argv[4], "w").close()
    time.sleep(1.0)
    s.sendall(data[10:]); s.shutdown(socket.SHUT_WR)
    sys.stdout.write(reply().decode("latin-1"))
elif mode == "loris":       # raw.py loris PORT: a byte every 0.3 s; when are we cut, with what?
    req = b"CHECK SPAMC/1.5\r\nContent-length: 1000\r\n\r\n" + b"x" * 1000
    t, i, got = rawnet.drip(s, req)
    print("cut after %.1f s, %d bytes sent: %s" % (t, i, got.decode("latin-1").strip()))
elif mode == "metric":      # raw.py metric PORT NAME: a line of GET /metrics (HTTP door)
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    print("\n".join(l for l in reply().decode().splitlines() if l.startswith(sys.argv[3])))
EOF
raw() { PYTHONPATH="$tests" PYTHONDONTWRITEBYTECODE=1 python3 "$tmp/raw.py" "$@"; }

# score OUT: the score of a "7.5/0.0" line spamc printed
score() { sed -n '1s|^\(-\{0,1\}[0-9.]*\)/.*|\1|p' "$1"; }

db=$tmp/db
expect 0 "learn spam" "$bin" learn --spam --db "$db" "$tmp/spam"
expect 0 "learn ham" "$bin" learn --ham --db "$db" "$tmp/ham"
expect 0 "spamsiftd --help" "$daemon" --help
grep -q -- "--spamd ADDR" "$tmp/out" && ok || bad "--help names --spamd"
expect 2 "no door" "$daemon" --db "$db"
expect 2 "bad address" "$daemon" --db "$db" --spamd nowhere
expect 2 "bad --timeout" "$daemon" --db "$db" --spamd 127.0.0.1:0 --timeout soon

start_daemon d 2 "$daemon" --db "$db" --spamd 127.0.0.1:0 --spamd "unix:$tmp/sock" --timeout 2 \
	--max-size 200000 --threads 2
port=$(bound_port d spamd)
[ -n "$port" ] && [ "$port" != 0 ] && ok || bad "first line names the bound port: $(cat "$tmp/d.out" "$tmp/d.err")"
grep -q "^spamd unix:$tmp/sock\$" "$tmp/d.out" && ok || bad "second line names the unix socket"
sc() { spamc -d 127.0.0.1 -p "$port" "$@"; }

# PING
expect 0 "spamc -K" sc -K
grep -q "^SPAMD/1.5 0" "$tmp/out" && ok || bad "PING answered: $(cat "$tmp/out" "$tmp/err")"

# CHECK: exit 1 for spam, 0 for ham, "score/threshold"
expect 1 "spamc -c spam" sc -c <"$tmp/probe-spam.eml"
s=$(score "$tmp/out")
gt "${s:-0}" 0 && ok || bad "spam scores above the threshold: $(cat "$tmp/out")"
grep -q "/0.0$" "$tmp/out" && ok || bad "threshold shown: $(cat "$tmp/out")"
expect 0 "spamc -c ham" sc -c <"$tmp/probe-ham.eml"
h=$(score "$tmp/out")
gt 0 "${h:-1}" && ok || bad "ham scores below the threshold: $(cat "$tmp/out")"

# SYMBOLS, REPORT, REPORT_IFSPAM
expect 0 "spamc -y" sc -y <"$tmp/probe-spam.eml"
[ "$(cat "$tmp/out")" = "SPAMSIFT_BAYES" ] && ok || bad "symbols: $(cat "$tmp/out")"
expect 0 "spamc -R" sc -R <"$tmp/probe-spam.eml"
[ "$(score "$tmp/out")" = "$s" ] && ok || bad "report's score line is CHECK's"
grep -q "^ *[0-9.]* SPAMSIFT_BAYES *learned classifier" "$tmp/out" && ok || bad "report explains: $(cat "$tmp/out")"
grep -q "w:" "$tmp/out" && ok || bad "report lists features"
expect 0 "spamc -r spam" sc -r <"$tmp/probe-spam.eml"
grep -q "SPAMSIFT_BAYES" "$tmp/out" && ok || bad "report if spam: spam gets it"
expect 0 "spamc -r ham" sc -r <"$tmp/probe-ham.eml"
[ -s "$tmp/out" ] && bad "report if spam: nothing for ham: $(cat "$tmp/out")" || ok

# PROCESS: headers added, body untouched, forged X-Spam-* replaced
body() { sed '1,/^$/d' "$1"; }
expect 0 "spamc (PROCESS) spam" sc <"$tmp/probe-spam.eml"
cp "$tmp/out" "$tmp/processed"
grep -q "^X-Spam-Flag: YES$" "$tmp/processed" && ok || bad "spam flagged: $(head -12 "$tmp/processed")"
grep -q "^X-Spam-Status: Yes, score=.* tests=SPAMSIFT_BAYES" "$tmp/processed" && ok || bad "X-Spam-Status"
[ "$(body "$tmp/processed")" = "$(body "$tmp/probe-spam.eml")" ] && ok || bad "PROCESS keeps the body"
grep -q "^Subject: " "$tmp/processed" && ok || bad "PROCESS keeps the headers"
expect 0 "spamc (PROCESS) ham" sc <"$tmp/probe-ham.eml"
grep -q "^X-Spam-Flag" "$tmp/out" && bad "ham is not flagged" || ok
grep -q "^X-Spam-Status: No, " "$tmp/out" && ok || bad "ham gets X-Spam-Status: No"
expect 0 "spamc spoof" sc <"$tmp/spoof.eml"
[ "$(grep -c '^X-Spam-Flag' "$tmp/out")" = 1 ] && grep -q "^X-Spam-Flag: YES" "$tmp/out" && ok ||
	bad "a forged X-Spam-Flag: NO is replaced: $(grep X-Spam "$tmp/out")"
grep -q "score=-99" "$tmp/out" && bad "forged X-Spam-Status removed" || ok

# HEADERS: spamc puts the original body back; the result equals PROCESS's
expect 0 "spamc --headers" sc --headers <"$tmp/probe-spam.eml"
cmp -s "$tmp/out" "$tmp/processed" && ok || bad "HEADERS + body = PROCESS"

# TELL: learn, already learned, the score moves; forget restores it. spamc
# names the Unix user unless told: a user of our own keeps the model of the
# user running the test (and so the scores above) untouched.
tc() { sc -u tester "$@"; }
expect 0 "score before tell" tc -c <"$tmp/tell.eml"
t0=$(score "$tmp/out")
expect 0 "spamc -L spam" tc -L spam <"$tmp/tell.eml"
grep -q "Message successfully un/learned" "$tmp/out" && ok || bad "TELL learns: $(cat "$tmp/out" "$tmp/err")"
expect 0 "spamc -L spam again" tc -L spam <"$tmp/tell.eml"
grep -q "Message was already un/learned" "$tmp/out" && ok || bad "TELL again: $(cat "$tmp/out")"
tc -c <"$tmp/tell.eml" >"$tmp/out"
t1=$(score "$tmp/out")
gt "$t1" "$t0" && ok || bad "learning as spam raises the score ($t0 -> $t1)"
expect 0 "spamc -L forget" tc -L forget <"$tmp/tell.eml"
grep -q "Message successfully un/learned" "$tmp/out" && ok || bad "TELL forgets"
tc -c <"$tmp/tell.eml" >"$tmp/out"
[ "$(score "$tmp/out")" = "$t0" ] && ok || bad "forget restores the score ($t0, now $(score "$tmp/out"))"
expect 0 "spamc -L forget again" tc -L forget <"$tmp/tell.eml"
grep -q "Message was already un/learned" "$tmp/out" && ok || bad "nothing left to forget"
expect 0 "spamc -L ham" tc -L ham <"$tmp/tell.eml"
grep -q "Message successfully un/learned" "$tmp/out" && ok || bad "TELL learns ham"
"$bin" stats --db "$db" >"$tmp/stats"
grep -q "user tester: 0 spam, 1 ham" "$tmp/stats" && ok || bad "the store counts the TELL: $(cat "$tmp/stats")"
grep -q "global: 40 spam, 40 ham" "$tmp/stats" && ok || bad "TELL for a user leaves the global model"

# User: alice's reports move alice's model only
expect 0 "-u alice -L spam" sc -u alice -L spam <"$tmp/probe-ham.eml"
sc -u alice -c <"$tmp/probe-ham.eml" >"$tmp/out"
a=$(score "$tmp/out")
sc -u bob -c <"$tmp/probe-ham.eml" >"$tmp/out"
b=$(score "$tmp/out")
gt "$a" "$b" && ok || bad "alice's model scores her report higher (alice $a, bob $b)"
[ "$b" = "$h" ] && ok || bad "bob, without a model, gets the global score ($b, global $h)"
grep -q "TELL user=alice: learned spam" "$tmp/d.err" && ok || bad "the TELL is logged with its user"

# Unix socket
expect 1 "spamc -U" spamc -U "$tmp/sock" -c <"$tmp/probe-spam.eml"
[ "$(score "$tmp/out")" = "$s" ] && ok || bad "same score over the Unix socket"

# Compress: zlib (Debian's spamc is built without zlib: a raw client)
raw zlib "$port" "$tmp/probe-spam.eml" >"$tmp/out"
grep -q "^Spam: True ; $s / 0.0" "$tmp/out" && ok || bad "zlib body scores the same: $(cat "$tmp/out")"
raw zlib "$port" "$tmp/probe-spam.eml" damage >"$tmp/out"
grep -q "^SPAMD/1.0 76 .*zlib" "$tmp/out" && ok || bad "a damaged zlib stream: $(cat "$tmp/out")"

# Garbage, a body cut short, an oversize message: an error, and service goes on
printf 'HELLO WORLD\r\n\r\n' >"$tmp/garbage"
raw send "$port" "$tmp/garbage" >"$tmp/out"
grep -q "^SPAMD/1.0 76 EX_PROTOCOL" "$tmp/out" && ok || bad "garbage gets EX_PROTOCOL: $(cat "$tmp/out")"
head -c 3000 /dev/urandom >"$tmp/noise"
raw send "$port" "$tmp/noise" >"$tmp/out"
grep -q "^SPAMD/1.0 76" "$tmp/out" && ok || bad "random bytes get EX_PROTOCOL"
printf 'CHECK SPAMC/1.5\r\nContent-length: 12\r\n\r\n\0\1\2\3binary!!' >"$tmp/bin"
raw send "$port" "$tmp/bin" >"$tmp/out"
grep -q "^SPAMD/1.0 65 EX_DATAERR" "$tmp/out" && ok || bad "binary data is refused: $(cat "$tmp/out")"
raw cut "$port"
raw big "$port" "$tmp/big.eml" >"$tmp/out"
grep -q "^SPAMD/1.0 65 EX_DATAERR message too big" "$tmp/out" && ok || bad "oversize: $(cat "$tmp/out")"
expect 1 "served after bad clients" sc -c <"$tmp/probe-spam.eml"
grep -q "request cut short" "$tmp/d.err" && ok || bad "the cut request is logged"
grep -q "message too big" "$tmp/d.err" && ok || bad "the oversize message is logged"

# A client that hangs is dropped after the timeout; others are served meanwhile
raw hang "$port" >"$tmp/hang" &
hang=$!
sleep 0.3
expect 1 "served while one hangs" sc -c <"$tmp/probe-spam.eml"
# served before the hanging client was dropped (the log says when it was),
# which does not depend on how busy the machine is
grep -q "no data for 2.0 s: dropped" "$tmp/d.err" && bad "served at once, not after the hanging client" || ok
wait "$hang"
grep -q "^dropped after [1-3]\.[0-9] s, 0 bytes" "$tmp/hang" && ok || bad "hanging client dropped: $(cat "$tmp/hang")"
grep -q "no data for 2.0 s: dropped" "$tmp/d.err" && ok || bad "the drop is logged"

# SIGTERM with a request in flight: it is answered, then the daemon exits 0
rm -f "$tmp/started"
raw slow "$port" "$tmp/probe-spam.eml" "$tmp/started" >"$tmp/slow" &
slow=$!
while [ ! -f "$tmp/started" ]; do sleep 0.05; done
sleep 0.2
kill -TERM "$pid"
wait "$slow"
grep -q "^Spam: True ; $s / 0.0" "$tmp/slow" && ok || bad "the request in flight is answered: $(cat "$tmp/slow")"
wait "$pid"
rc=$?
pid=""
[ "$rc" = 0 ] && ok || bad "exit 0 after SIGTERM (got $rc)"
[ -e "$tmp/sock" ] && bad "the unix socket is removed" || ok
spamc -d 127.0.0.1 -p "$port" -K >/dev/null 2>&1 && bad "nothing listens after the stop" || ok

# A slow loris, a byte every 0.3 s, keeps the idle timer (30 s) happy but
# not the whole-request deadline (2 s): EX_TIMEOUT, a log line, a timeout
# counted; another client is served meanwhile.
start_daemon d2 2 "$daemon" --db "$db" --spamd 127.0.0.1:0 --http 127.0.0.1:0 --timeout 30 \
	--request-timeout 2 --threads 1
port=$(bound_port d2 spamd)
hport=$(bound_port d2 http)
raw loris "$port" >"$tmp/loris" &
loris=$!
sleep 0.5
expect 1 "served while a slow loris sends" sc -c <"$tmp/probe-spam.eml"
grep -q "request not complete after" "$tmp/d2.err" && bad "served at once, beside the slow loris" || ok
wait "$loris"
cut=$(sed -n 's/^cut after \([0-9.]*\) s.*/\1/p' "$tmp/loris")
[ -n "$cut" ] && gt "$cut" 1.5 && gt 6 "$cut" && ok || bad "slow loris cut after about 2 s: $(cat "$tmp/loris")"
grep -q "SPAMD/1.0 79 EX_TIMEOUT" "$tmp/loris" && ok || bad "slow loris gets EX_TIMEOUT: $(cat "$tmp/loris")"
grep -q "spamd .*: request not complete after 2.0 s: dropped" "$tmp/d2.err" && ok || bad "the deadline is logged"
raw metric "$hport" 'spamsift_errors_total{door="spamd",kind="timeout"}' >"$tmp/out"
grep -q ' 1$' "$tmp/out" && ok || bad "the deadline is counted: $(cat "$tmp/out")"
kill -TERM "$pid"
wait "$pid"
pid=""
finish
