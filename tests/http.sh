#!/bin/sh
# http.sh: spamsiftd's HTTP door as clients use it, through the real curl:
# /check of a spam and a ham, learn/unlearn round trip for a user, /health,
# /metrics (the counters that moved, the spamd door's too), chunked upload,
# keep-alive, a Unix socket, 404/405; and through a raw python3 client:
# pipelined requests, garbage, a huge Content-Length, a client that hangs
# while another is served. Messages are generated here (no corpus); the
# daemon listens on 127.0.0.1 port 0 only and is stopped by its PID.
# Needs $SPAMSIFT, $SPAMSIFTD, curl, spamc and python3. Ends with
# "N passed, N failed".
set -u
. "$(dirname "$0")/lib.sh"
daemon=${SPAMSIFTD:?set SPAMSIFTD to the spamsiftd binary}
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT

python3 - "$tmp" "$tests" <<'EOF'
import sys
sys.dont_write_bytecode = True
sys.path.insert(0, sys.argv[2])
import genmail
g = genmail.Gen(sys.argv[1], seed=7)
g.corpus()
g.write("teach.eml", "ham", "teach")
EOF

# raw.py MODE PORT: an HTTP client that does what curl will not.
cat >"$tmp/raw.py" <<'EOF'
import socket, sys, time
import rawnet
mode, port = sys.argv[1], int(sys.argv[2])
s = rawnet.connect(port)
def until_close():
    return rawnet.until_close(s)
if mode == "pipeline":      # three requests in one write; the last closes
    msg = open(sys.argv[3], "rb").read()
    s.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n"
              b"POST /check HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % len(msg) + msg +
              b"GET /nope HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    sys.stdout.write(until_close().decode("latin-1"))
elif mode == "send":        # raw.py send PORT FILE: bytes as they are, read to the close
    s.sendall(open(sys.argv[3], "rb").read())
    sys.stdout.write(until_close().decode("latin-1"))
elif mode == "huge":        # a Content-Length of 10 GB, then bytes; the reply and the close
    s.sendall(b"POST /check HTTP/1.1\r\nHost: t\r\nContent-Length: 10000000000\r\n\r\n")
    try:
        s.sendall(b"x" * 100000)
    except OSError:
        pass
    t0 = time.time()
    out = until_close()
    sys.stdout.write(out.decode("latin-1"))
    print("\nclosed after %.1f s" % (time.time() - t0))
elif mode == "hang":        # half a request, then silence: when are we dropped?
    s.sendall(b"POST /check HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nSubject: ha")
    t, got = rawnet.hang(s)
    print("dropped after %.1f s, %d bytes" % (t, len(got)))
elif mode == "loris":       # raw.py loris PORT: a byte every 0.3 s; when are we cut, with what?
    req = b"POST /check HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n" + b"x" * 1000
    t, i, got = rawnet.drip(s, req)
    print("cut after %.1f s, %d bytes sent" % (t, i))
    sys.stdout.write(got.decode("latin-1"))
EOF
raw() { PYTHONPATH="$tests" PYTHONDONTWRITEBYTECODE=1 python3 "$tmp/raw.py" "$@"; }
# js FILE EXPR: a Python expression over the JSON object j read from FILE
js() { python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($2)" "$1"; }

db=$tmp/db
expect 0 "learn spam" "$bin" learn --spam --db "$db" "$tmp/spam"
expect 0 "learn ham" "$bin" learn --ham --db "$db" "$tmp/ham"
expect 0 "spamsiftd --help" "$daemon" --help
grep -q -- "--http ADDR" "$tmp/out" && ok || bad "--help names --http"
expect 2 "bad --http address" "$daemon" --db "$db" --http nowhere

"$daemon" --db "$db" --http 127.0.0.1:0 --http "unix:$tmp/http.sock" --spamd 127.0.0.1:0 \
	--timeout 2 --max-size 200000 --threads 2 >"$tmp/d.out" 2>"$tmp/d.err" &
pid=$!
for i in $(seq 50); do
	[ "$(wc -l <"$tmp/d.out")" -ge 3 ] && break
	sleep 0.1
done
port=$(sed -n 's/^http 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$tmp/d.out")
sport=$(sed -n 's/^spamd 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$tmp/d.out")
[ -n "$port" ] && [ "$port" != 0 ] && ok || bad "the bound port is printed: $(cat "$tmp/d.out" "$tmp/d.err")"
grep -q "^http unix:$tmp/http.sock\$" "$tmp/d.out" && ok || bad "the unix socket is printed"
url=http://127.0.0.1:$port
c() { curl -sS --max-time 10 "$@"; }
checks=0
check() { # check FILE [curl args]: POST /check, JSON in $tmp/out
	f=$1
	shift
	checks=$((checks + 1))
	c -o "$tmp/out" -w '%{http_code}' --data-binary "@$f" "$@" "$url/check" >"$tmp/code"
}

# /check: spam and ham, with an envelope
check "$tmp/probe-spam.eml" -H "X-Client-IP: 192.0.2.7" -H "X-Helo: mx.spam.example" \
	-H "X-Mail-From: a@spam.example" -H "X-Rcpt-To: you@here.example" -H "X-Rcpt-To: b@c, d@e"
[ "$(cat "$tmp/code")" = 200 ] && ok || bad "/check answers 200: $(cat "$tmp/code" "$tmp/out")"
s=$(js "$tmp/out" 'j["points"]')
gt "$s" 0 && ok || bad "spam has positive points: $(cat "$tmp/out")"
[ "$(js "$tmp/out" 'j["verdict"], j["action"]')" = "spam reject" ] && ok || bad "spam is rejected: $(cat "$tmp/out")"
[ "$(js "$tmp/out" '[x["name"] for x in j["symbols"]]')" = "['SPAMSIFT_BAYES']" ] && ok || bad "symbols: $(cat "$tmp/out")"
js "$tmp/out" 'j["symbols"][0]["description"], len(j["symbols"][0]["features"]), j["symbols"][0]["features"][0]["feature"]' >"$tmp/sym"
grep -q "^learned classifier: log-odds .* 8 [a-z]*:.*$" "$tmp/sym" && ok || bad "symbol explained: $(cat "$tmp/sym")"
check "$tmp/probe-ham.eml"
h=$(js "$tmp/out" 'j["points"]')
gt 0 "$h" && ok || bad "ham has negative points: $(cat "$tmp/out")"
[ "$(js "$tmp/out" 'j["verdict"], j["action"]')" = "ham no action" ] && ok || bad "ham passes"

# the same score through spamc and the spamd door (and counted there)
spamc -d 127.0.0.1 -p "$sport" -c <"$tmp/probe-spam.eml" >"$tmp/spamc"
python3 -c "import sys; sys.exit(0 if abs($(cut -d/ -f1 "$tmp/spamc") - $s) < 0.06 else 1)" && ok ||
	bad "spamd and HTTP agree ($(cat "$tmp/spamc") vs $s)"

# learn / unlearn round trip for a user: the score moves, then comes back
check "$tmp/teach.eml" -H "X-User: tester"
t0=$(js "$tmp/out" 'j["points"]')
fb() { c --data-binary "@$tmp/teach.eml" -H "X-User: tester" "$url/$1"; }
[ "$(fb learn/spam)" = '{"result":"learned","class":"spam","user":"tester"}' ] && ok || bad "learn/spam learns"
[ "$(fb learn/spam)" = '{"result":"unchanged","class":"spam","user":"tester"}' ] && ok || bad "learn/spam again: unchanged"
check "$tmp/teach.eml" -H "X-User: tester"
t1=$(js "$tmp/out" 'j["points"]')
gt "$t1" "$t0" && ok || bad "learning as spam raises the points ($t0 -> $t1)"
[ "$(fb learn/ham)" = '{"result":"moved","class":"ham","user":"tester"}' ] && ok || bad "learn/ham moves it"
[ "$(fb unlearn)" = '{"result":"unlearned","user":"tester"}' ] && ok || bad "unlearn"
[ "$(fb unlearn)" = '{"result":"unchanged","user":"tester"}' ] && ok || bad "unlearn again: unchanged"
check "$tmp/teach.eml" -H "X-User: tester"
[ "$(js "$tmp/out" 'j["points"]')" = "$t0" ] && ok || bad "unlearn restores the points ($t0, now $(js "$tmp/out" 'j["points"]'))"
check "$tmp/teach.eml"
[ "$(js "$tmp/out" 'j["points"]')" = "$t0" ] && ok || bad "the global model was not touched"
"$bin" stats --db "$db" >"$tmp/stats"
grep -q "global: 40 spam, 40 ham" "$tmp/stats" && ok || bad "global counts unchanged: $(cat "$tmp/stats")"

# chunked upload scores the same as Content-Length
check "$tmp/probe-spam.eml" -H "Transfer-Encoding: chunked"
[ "$(js "$tmp/out" 'j["points"]')" = "$s" ] && ok || bad "chunked upload: $(cat "$tmp/code" "$tmp/out")"
# not mail: 422, the connection stays usable
check /dev/null
checks=$((checks - 1)) # refused: an error, not a scan
[ "$(cat "$tmp/code")" = 422 ] && grep -q '"error":422' "$tmp/out" && ok || bad "empty body: $(cat "$tmp/code" "$tmp/out")"

# /health, 404, 405 with Allow, HEAD
[ "$(c -o "$tmp/out" -w '%{http_code}' "$url/health")" = 200 ] && ok || bad "/health 200"
[ "$(js "$tmp/out" 'j["status"]')" = ok ] && ok || bad "/health says ok: $(cat "$tmp/out")"
[ "$(c -o /dev/null -w '%{http_code}' "$url/nowhere")" = 404 ] && ok || bad "unknown path: 404"
c -i -X DELETE "$url/check" >"$tmp/out"
grep -q "^HTTP/1.1 405 " "$tmp/out" && grep -q "^Allow: POST" "$tmp/out" && ok || bad "wrong method: $(cat "$tmp/out")"
c -i "$url/check" >"$tmp/out"
grep -q "^HTTP/1.1 405 " "$tmp/out" && ok || bad "GET /check: 405"
c -I "$url/health" >"$tmp/out"
grep -q "^Content-Length: [1-9]" "$tmp/out" && [ "$(wc -l <"$tmp/out")" -lt 10 ] && ok || bad "HEAD /health"

# keep-alive: two URLs, one connection
c -v "$url/health" "$url/health" >"$tmp/out" 2>"$tmp/err"
[ "$(grep -c '"status":"ok"' "$tmp/out")" = 2 ] && ok || bad "two answers on keep-alive"
grep -qi "Re-using existing connection" "$tmp/err" && ok || bad "curl reused the connection: $(grep -i connect "$tmp/err")"
c -v --data-binary "@$tmp/probe-ham.eml" "$url/check" --next --data-binary "@$tmp/probe-spam.eml" \
	"$url/check" >"$tmp/out" 2>"$tmp/err"
checks=$((checks + 2))
[ "$(grep -o '"verdict":"[a-z]*"' "$tmp/out" | tr '\n' ' ')" = '"verdict":"ham" "verdict":"spam" ' ] && ok ||
	bad "two checks on one connection: $(cat "$tmp/out")"
grep -qi "Re-using existing connection" "$tmp/err" && ok || bad "curl reused the connection for POSTs"

# Unix socket
c --unix-socket "$tmp/http.sock" --data-binary "@$tmp/probe-spam.eml" http://localhost/check >"$tmp/out"
checks=$((checks + 1))
[ "$(js "$tmp/out" 'j["points"]')" = "$s" ] && ok || bad "same points over the Unix socket"

# pipelining: three requests in one write, answered in order
raw pipeline "$port" "$tmp/probe-spam.eml" >"$tmp/out"
checks=$((checks + 1))
[ "$(grep -a '^HTTP/1.1 ' "$tmp/out" | tr -d '\r' | tr '\n' '|')" = "HTTP/1.1 200 OK|HTTP/1.1 200 OK|HTTP/1.1 404 Not Found|" ] &&
	ok || bad "pipelined answers: $(cat "$tmp/out")"
grep -q '"points":'"$s" "$tmp/out" && ok || bad "the pipelined check scored"

# /metrics: the counters that moved
c "$url/metrics" >"$tmp/metrics"
m() { sed -n "s/^$1 //p" "$tmp/metrics"; }
scanned=$(awk '/^spamsift_messages_scanned_total\{door="http"/ {n += $2} END {print n}' "$tmp/metrics")
[ "$scanned" = "$checks" ] && ok || bad "http scans counted: $scanned, made $checks"
[ "$(m 'spamsift_scan_duration_seconds_count{door="http"}')" = "$checks" ] && ok || bad "latency histogram counts every scan"
[ "$(m 'spamsift_scan_duration_seconds_bucket{door="http",le="+Inf"}')" = "$checks" ] && ok || bad "+Inf bucket"
[ "$(m 'spamsift_messages_scanned_total{door="spamd",action="reject"}')" = 1 ] && ok || bad "the spamd door's scan counted"
[ "$(m 'spamsift_learn_total{door="http",class="spam",result="learned"}')" = 1 ] && ok || bad "learn counted"
[ "$(m 'spamsift_learn_total{door="http",class="spam",result="unchanged"}')" = 1 ] && ok || bad "unchanged learn counted"
[ "$(m 'spamsift_learn_total{door="http",class="ham",result="moved"}')" = 1 ] && ok || bad "move counted"
[ "$(m 'spamsift_unlearn_total{door="http",result="unlearned"}')" = 1 ] && ok || bad "unlearn counted"
[ "$(m 'spamsift_errors_total{door="http",kind="message"}')" = 1 ] && ok || bad "refused message counted"
[ "$(m 'spamsift_connections_open{door="http"}')" = 1 ] && ok || bad "one connection open: this one"
grep -q '^# TYPE spamsift_scan_duration_seconds histogram$' "$tmp/metrics" && ok || bad "histogram typed"
python3 - "$tmp/metrics" <<'EOF' && ok || bad "metrics parse as Prometheus text"
import re, sys
line = re.compile(r'^[a-z_]+(\{([a-z_]+="[^"]*",?)+\})? -?[0-9.e+]+$')
for l in open(sys.argv[1]):
    l = l.rstrip("\n")
    if not l.startswith("# ") and not line.match(l):
        sys.exit("bad line: " + l)
EOF

# bad clients: an error, the connection closed, and service goes on
printf 'HELLO WORLD\r\n\r\n' >"$tmp/garbage"
raw send "$port" "$tmp/garbage" >"$tmp/out"
grep -q "^HTTP/1.1 400 Bad Request" "$tmp/out" && grep -q "Connection: close" "$tmp/out" && ok ||
	bad "garbage: 400 and close: $(cat "$tmp/out")"
head -c 3000 /dev/urandom >"$tmp/noise"
raw send "$port" "$tmp/noise" >"$tmp/out"
grep -q "^HTTP/1.1 400 " "$tmp/out" && ok || bad "random bytes: 400"
raw huge "$port" >"$tmp/out"
grep -q "^HTTP/1.1 413 " "$tmp/out" && ok || bad "huge Content-Length: 413: $(cat "$tmp/out")"
grep -q "^closed after [0-2]\." "$tmp/out" && ok || bad "huge upload: connection closed"
head -c 300000 /dev/zero | tr '\0' 'x' | sed 's/^/Subject: big\n\n/' >"$tmp/big.eml"
check "$tmp/big.eml" -H "Transfer-Encoding: chunked"
checks=$((checks - 1))
[ "$(cat "$tmp/code")" = 413 ] && ok || bad "chunked upload over --max-size: 413 ($(cat "$tmp/code"))"
printf 'GET / HTTP/2.0\r\nHost: t\r\n\r\n' >"$tmp/h2"
raw send "$port" "$tmp/h2" >"$tmp/out"
grep -q "^HTTP/1.1 505 " "$tmp/out" && ok || bad "HTTP/2.0: 505"
grep -q "malformed request line" "$tmp/d.err" && ok || bad "the garbage is logged"
c "$url/metrics" >"$tmp/metrics"
[ "$(m 'spamsift_errors_total{door="http",kind="protocol"}')" = 5 ] && ok || bad "protocol errors counted: $(grep errors "$tmp/metrics")"

# a client that hangs mid-request is dropped after the timeout; others are served
raw hang "$port" >"$tmp/hang" &
hang=$!
sleep 0.3
check "$tmp/probe-spam.eml"
[ "$(js "$tmp/out" 'j["points"]')" = "$s" ] && ok || bad "served while one hangs"
# served before the hanging client was dropped (the log says when it was),
# which does not depend on how busy the machine is
grep -q "http .*: no data for 2.0 s: dropped" "$tmp/d.err" && bad "served at once" || ok
wait "$hang"
grep -q "^dropped after [1-3]\.[0-9] s, 0 bytes" "$tmp/hang" && ok || bad "hanging client dropped: $(cat "$tmp/hang")"
grep -q "http .*: no data for 2.0 s: dropped" "$tmp/d.err" && ok || bad "the drop is logged"
c "$url/metrics" >"$tmp/metrics"
[ "$(m 'spamsift_errors_total{door="http",kind="timeout"}')" = 1 ] && ok || bad "timeout counted"

# SIGTERM: exit 0, sockets gone
kill -TERM "$pid"
wait "$pid"
rc=$?
pid=""
[ "$rc" = 0 ] && ok || bad "exit 0 after SIGTERM (got $rc)"
[ -e "$tmp/http.sock" ] && bad "the unix socket is removed" || ok
c "$url/health" >/dev/null 2>&1 && bad "nothing listens after the stop" || ok

# A slow loris, a byte every 0.3 s, keeps the idle timer (30 s) happy but
# not the whole-request deadline (2 s): 408, a log line, a timeout counted;
# another client is served meanwhile, and keep-alive requests are not
# cut by the deadline between them.
"$daemon" --db "$db" --http 127.0.0.1:0 --timeout 30 --request-timeout 2 --threads 1 \
	>"$tmp/d2.out" 2>"$tmp/d2.err" &
pid=$!
for i in $(seq 50); do
	[ -s "$tmp/d2.out" ] && break
	sleep 0.1
done
port=$(sed -n 's/^http 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$tmp/d2.out")
url=http://127.0.0.1:$port
raw loris "$port" >"$tmp/loris" &
loris=$!
sleep 0.5
check "$tmp/probe-spam.eml"
[ "$(js "$tmp/out" 'j["points"]')" = "$s" ] && ok || bad "served while a slow loris sends"
grep -q "request not complete after" "$tmp/d2.err" && bad "served at once, beside the slow loris" || ok
wait "$loris"
cut=$(sed -n 's/^cut after \([0-9.]*\) s.*/\1/p' "$tmp/loris")
[ -n "$cut" ] && gt "$cut" 1.5 && gt 6 "$cut" && ok || bad "slow loris cut after about 2 s: $(cat "$tmp/loris")"
grep -q "^HTTP/1.1 408 " "$tmp/loris" && ok || bad "slow loris gets 408: $(cat "$tmp/loris")"
grep -qi "^connection: close" "$tmp/loris" && ok || bad "408 closes the connection"
grep -q "http .*: request not complete after 2.0 s: dropped" "$tmp/d2.err" && ok || bad "the deadline is logged"
c "$url/metrics" >"$tmp/metrics"
[ "$(m 'spamsift_errors_total{door="http",kind="timeout"}')" = 1 ] && ok || bad "the deadline is counted"
python3 - "$port" "$tmp/probe-ham.eml" >"$tmp/out" <<'EOF' && ok || bad "keep-alive: idle time between requests is not the request's: $(cat "$tmp/out")"
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
msg = open(sys.argv[2], "rb").read()
req = b"POST /check HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % len(msg) + msg
for i in range(3):          # 3 requests 1.2 s apart: 2.4 s on one connection
    s.sendall(req)
    got = b""
    while b"\r\n\r\n" not in got or len(got.split(b"\r\n\r\n", 1)[1]) < int(
        got.lower().split(b"content-length:")[1].split(b"\r\n")[0]
    ):
        b = s.recv(65536)
        if not b:
            sys.exit("closed after %d requests: %r" % (i, got))
        got += b
    print(got.split(b"\r\n")[0].decode())
    if not got.startswith(b"HTTP/1.1 200 "):
        sys.exit(1)
    time.sleep(1.2)
EOF
kill -TERM "$pid"
wait "$pid"
pid=""
finish
