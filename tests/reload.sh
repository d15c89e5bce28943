#!/bin/sh
# reload.sh: spamsiftd configured by a file (-c) and reloaded by SIGHUP:
# a changed reject_at changes a message's action, db pointed at another
# model changes its verdict, a request in flight during a reload is
# answered, a broken file (unknown key, unopenable db) or a change of
# listeners is refused with a log line while the old settings keep
# serving, command-line options stay over the file across reloads, a storm
# of reloads under concurrent clients answers every request (and, under
# the sanitizers, frees every old generation cleanly), a bad file at start
# exits 2 with FILE:LINE, and log = syslog sends the lines to syslog
# (checked in a private mount namespace with a /dev/log of the test's own
# when the machine lets us make one). Loopback only; each daemon is
# stopped by its PID. Needs $SPAMSIFT, $SPAMSIFTD, spamc, curl, python3.
# Ends with "N passed, N failed".
set -u
. "$(dirname "$0")/lib.sh"
daemon=${SPAMSIFTD:?set SPAMSIFTD to the spamsiftd binary}
pid=""
pids=""
trap 'for p in $pid $pids; do kill "$p" 2>/dev/null; done; rm -rf "$tmp"' EXIT

# Training mail and probes, as tests/daemon.sh makes them.
gen_corpus 7

# slow.py PORT MSG SIGNALFILE: a CHECK whose body comes in two halves a
# second apart (the test reloads in between).
cat >"$tmp/slow.py" <<'EOF'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
data = open(sys.argv[2], "rb").read()
s.sendall(b"CHECK SPAMC/1.5\r\nContent-length: %d\r\n\r\n" % len(data) + data[:10])
open(sys.argv[3], "w").close()
time.sleep(1.0)
s.sendall(data[10:]); s.shutdown(socket.SHUT_WR)
out = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    out += b
sys.stdout.write(out.decode("latin-1"))
EOF

# Two models: db1 learned the mail as it is, db2 the other way round.
db1=$tmp/db1
db2=$tmp/db2
expect 0 "learn db1 spam" "$bin" learn --spam --db "$db1" "$tmp/spam"
expect 0 "learn db1 ham" "$bin" learn --ham --db "$db1" "$tmp/ham"
expect 0 "learn db2 spam" "$bin" learn --ham --db "$db2" "$tmp/spam"
expect 0 "learn db2 ham" "$bin" learn --spam --db "$db2" "$tmp/ham"

conf=$tmp/spamsiftd.conf
# write_conf [EXTRA LINES...]: the test's configuration plus extra lines
write_conf() {
	{
		echo "# reload.sh's configuration"
		echo "spamd = 127.0.0.1:0"
		echo "http = 127.0.0.1:0"
		echo "threads = 2"
		echo "timeout = 5"
		for l in "$@"; do echo "$l"; done
	} >"$conf.new"
	mv "$conf.new" "$conf"
}

# start NAME ARGS...: starts spamsiftd (output in $tmp/NAME.out, .err),
# waits for its two listeners, sets $pid, $port (spamd) and $hport (http)
start() {
	name=$1
	shift
	"$daemon" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
	pid=$!
	for i in $(seq 100); do
		[ "$(wc -l <"$tmp/$name.out")" -ge 2 ] && break
		sleep 0.05
	done
	port=$(sed -n 's/^spamd 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$tmp/$name.out")
	hport=$(sed -n 's/^http 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$tmp/$name.out")
	[ -n "$port" ] && [ -n "$hport" ] && ok || bad "$name: ports printed: $(cat "$tmp/$name.out" "$tmp/$name.err")"
}

# stop: SIGTERM to $pid; it must exit 0
stop() {
	kill -TERM "$pid"
	wait "$pid"
	rc=$?
	[ "$rc" = 0 ] && ok || bad "exit 0 after SIGTERM (got $rc): $(tail -5 "$tmp/$name.err")"
	pid=""
}

# hup PATTERN: SIGHUP, then waits (5 s at most) until the log holds one
# more line matching PATTERN than before
hup() {
	before=$(grep -c "$1" "$tmp/$name.err")
	kill -HUP "$pid"
	for i in $(seq 100); do
		[ "$(grep -c "$1" "$tmp/$name.err")" -gt "$before" ] && return 0
		sleep 0.05
	done
	bad "after SIGHUP, a log line matching '$1': $(tail -3 "$tmp/$name.err")"
	return 1
}

# action MSG: the action the HTTP door gives MSG
action() {
	curl -s --max-time 10 --data-binary "@$1" "http://127.0.0.1:$hport/check" |
		sed -n 's/.*"action":"\([a-z ]*\)".*/\1/p'
}
sc() { spamc -x -d 127.0.0.1 -p "$port" "$@"; }

# ---- a bad file at start: exit 2, FILE:LINE: message ----
write_conf "db = $db1" "reject_at = soon"
expect 2 "bad value at start" "$daemon" -c "$conf"
grep -q "$conf:7: reject_at: 'soon' is not a number" "$tmp/err" && ok || bad "FILE:LINE of a bad value: $(cat "$tmp/err")"
write_conf "db = $db1" "colour = blue"
expect 2 "unknown key at start" "$daemon" -c "$conf"
grep -q "$conf:7: unknown key 'colour'" "$tmp/err" && ok || bad "FILE:LINE of an unknown key: $(cat "$tmp/err")"
write_conf "db = $db1" "add_header_at = 3" "reject_at = 2"
expect 2 "thresholds the wrong way round" "$daemon" -c "$conf"
grep -q "$conf:8: reject_at (2) is below add_header_at (3)" "$tmp/err" && ok || bad "FILE:LINE of a check: $(cat "$tmp/err")"
expect 2 "missing file" "$daemon" -c "$tmp/nowhere.conf"
grep -q "nowhere.conf: No such file" "$tmp/err" && ok || bad "missing file named: $(cat "$tmp/err")"
head -c 1048577 /dev/zero | tr '\0' '#' >"$tmp/huge.conf"
expect 2 "a file over 1 MiB" "$daemon" -c "$tmp/huge.conf"
grep -q "huge.conf: larger than 1 MiB" "$tmp/err" && ok || bad "a file over 1 MiB named: $(cat "$tmp/err")"
write_conf "db = /proc/no/such/model"
expect 2 "unopenable db at start" "$daemon" -c "$conf"
grep -q "model /proc/no/such/model" "$tmp/err" && ok || bad "model error: $(cat "$tmp/err")"
expect 0 "spamsiftd --help" "$daemon" --help
grep -q -- "-c, --config FILE" "$tmp/out" && grep -q "SIGHUP" "$tmp/out" && ok || bad "--help names -c and SIGHUP"

# ---- the shipped example, every setting uncommented, starts ----
sed 's/^#\([a-z_]* = \)/\1/' "$(dirname "$0")/../dist/spamsiftd.conf" >"$tmp/example.conf"
[ "$(grep -c '^[a-z_]* = ' "$tmp/example.conf")" -ge 15 ] && ok || bad "the example sets every key"
for k in db spamd milter http threads max_size timeout request_timeout max_conn milter_reject milter_on_error \
	log log_level add_header_at reject_at rules resolver dns_timeout authserv_id; do
	grep -q "^$k = " "$tmp/example.conf" || bad "the example documents $k"
done
printf 'body EXAMPLE_RULE /example/\n' >"$tmp/example.rules"
start example -c "$tmp/example.conf" --db "$db1" --rules "$tmp/example.rules" --spamd 127.0.0.1:0 --milter 127.0.0.1:0 \
	--http 127.0.0.1:0
grep -q "configuration 1: model $db1, add_header_at 0, reject_at 6.9068, messages up to 33554432 bytes, timeout 30.0 s, request_timeout 60.0 s, max_conn 1024, milter_on_error tempfail" \
	"$tmp/example.err" && ok || bad "the example's values are the defaults: $(cat "$tmp/example.err")"
stop

# ---- start from a file; reject_at changes the action on reload ----
write_conf "db = $db1"
start d -c "$conf"
[ "$(action "$tmp/probe-spam.eml")" = "reject" ] && ok || bad "spam rejected with the default reject_at"
[ "$(action "$tmp/probe-ham.eml")" = "no action" ] && ok || bad "ham: no action"
expect 1 "spamc -c spam (db1)" sc -c <"$tmp/probe-spam.eml"
write_conf "db = $db1" "reject_at = 1000"
hup "configuration 2: model $db1, add_header_at 0, reject_at 1000"
[ "$(action "$tmp/probe-spam.eml")" = "add header" ] && ok || bad "reject_at 1000: spam only gets a header"

# ---- db pointed at the other model: the verdict turns ----
write_conf "db = $db2" "reject_at = 1000"
hup "configuration 3: model $db2"
expect 0 "spamc -c spam (db2: learned as ham)" sc -c <"$tmp/probe-spam.eml"
expect 1 "spamc -c ham (db2: learned as spam)" sc -c <"$tmp/probe-ham.eml"
grep -q "configuration 2: released" "$tmp/d.err" && ok || bad "the replaced generation is freed"

# ---- a request in flight during a reload is answered ----
write_conf "db = $db1"
rm -f "$tmp/sig"
python3 "$tmp/slow.py" "$port" "$tmp/probe-spam.eml" "$tmp/sig" >"$tmp/slow.out" 2>&1 &
slow=$!
for i in $(seq 100); do [ -e "$tmp/sig" ] && break; sleep 0.02; done
hup "configuration 4: model $db1"
wait "$slow"
grep -q "^SPAMD/1.1 0 EX_OK" "$tmp/slow.out" && grep -q "^Spam: True" "$tmp/slow.out" && ok ||
	bad "the request in flight is answered: $(cat "$tmp/slow.out")"
[ "$(action "$tmp/probe-spam.eml")" = "reject" ] && ok || bad "back on db1, default reject_at"

# ---- broken files are refused; the old settings keep serving ----
write_conf "db = $db1" "reject_at = 1000" "frobnicate = yes"
hup "reload refused"
grep -q "error: reload refused: $conf:8: unknown key 'frobnicate'; still serving with configuration 4" "$tmp/d.err" &&
	ok || bad "refusal logged with FILE:LINE: $(tail -2 "$tmp/d.err")"
[ "$(action "$tmp/probe-spam.eml")" = "reject" ] && ok || bad "after a refused reload, the old reject_at holds"
write_conf "db = /proc/no/such/model" "reject_at = 1000"
hup "reload refused"
grep -q "reload refused: model /proc/no/such/model: .*still serving with configuration 4" "$tmp/d.err" &&
	ok || bad "unopenable db refused: $(tail -2 "$tmp/d.err")"
expect 1 "still db1 after a refused db" sc -c <"$tmp/probe-spam.eml"
write_conf "db = $db1" "http = 127.0.0.1:1"
hup "reload refused"
grep -q "reload refused: listeners or threads changed: restart to change listeners" "$tmp/d.err" &&
	ok || bad "listener change refused: $(tail -2 "$tmp/d.err")"
printf 'db = %s\nspamd = 127.0.0.1:0\nhttp = 127.0.0.1:0\nthreads = 2\nreject_at = 1000\n' "$db1" >"$conf"
chmod 000 "$conf"
if [ "$(id -u)" != 0 ]; then
	hup "reload refused"
	grep -q "reload refused: $conf: Permission denied" "$tmp/d.err" && ok || bad "unreadable file refused"
fi
chmod 644 "$conf"
hup "configuration 5:"
[ "$(action "$tmp/probe-spam.eml")" = "add header" ] && ok || bad "a good file after refused ones is taken"

# ---- the request deadline is a limit of the generation: a reload sets it ----
write_conf "db = $db1" "request_timeout = 1"
hup "configuration 6: .*request_timeout 1.0 s"
python3 - "$port" >"$tmp/drip" <<'EOF'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
req, t0, got = b"CHECK SPAMC/1.5\r\nContent-length: 500\r\n\r\n" + b"x" * 500, time.time(), b""
s.settimeout(0.3)
try:
    for i in range(len(req)):
        s.send(req[i : i + 1])
        try:
            b = s.recv(4096)
        except socket.timeout:
            continue
        if not b:
            break
        got += b
except OSError:
    pass
print("%.1f %s" % (time.time() - t0, got.decode("latin-1").strip()))
EOF
python3 -c "import sys; t = float(open(sys.argv[1]).read().split()[0]); sys.exit(not 0.7 < t < 4)" "$tmp/drip" &&
	grep -q "EX_TIMEOUT" "$tmp/drip" && ok || bad "request_timeout from a reload applies: $(cat "$tmp/drip")"
write_conf "db = $db1"
hup "configuration 7:"

# ---- a storm of reloads while clients scan: every request answered ----
: >"$tmp/storm.fail"
for c in 1 2 3 4; do
	(
		for i in $(seq 25); do
			out=$(spamc -x -c -d 127.0.0.1 -p "$port" <"$tmp/probe-spam.eml")
			rc=$?
			case "$rc:$out" in
			[01]:*/0.0) ;;
			*) echo "client $c: exit $rc, '$out'" >>"$tmp/storm.fail" ;;
			esac
			curl -s --max-time 10 --data-binary "@$tmp/probe-ham.eml" \
				"http://127.0.0.1:$hport/check" | grep -q '"verdict"' ||
				echo "client $c: http failed" >>"$tmp/storm.fail"
		done
	) &
	pids="$pids $!"
done
for i in $(seq 20); do
	if [ $((i % 2)) = 0 ]; then write_conf "db = $db1" "reject_at = 5"; else write_conf "db = $db2"; fi
	kill -HUP "$pid"
	sleep 0.1
done
for p in $pids; do wait "$p"; done
pids=""
[ ! -s "$tmp/storm.fail" ] && ok || bad "requests during reloads: $(head -5 "$tmp/storm.fail")"
# 7 reloads came before the storm; signals sent close together may merge.
n=$(grep -c "SIGHUP: reloading" "$tmp/d.err")
[ "$n" -ge 22 ] && ok || bad "most of the 20 storm reloads logged (got $n in all, 7 before)"
expect 0 "spamc -K after the storm" sc -K
stop
grep -q "Sanitizer\|runtime error" "$tmp/d.err" && bad "sanitizer reports: $(grep -A5 Sanitizer "$tmp/d.err" | head -20)" || ok
[ "$(grep -c ': released' "$tmp/d.err")" = "$(grep -c '^.* info: configuration [0-9]*: model' "$tmp/d.err")" ] &&
	ok || bad "every generation made is released by the end"

# ---- command-line options stay over the file across reloads ----
write_conf "db = $db1"
start cli -c "$conf" --reject-at 1000
[ "$(action "$tmp/probe-spam.eml")" = "add header" ] && ok || bad "--reject-at over the file"
write_conf "db = $db1" "reject_at = 2"
hup "configuration 2:"
[ "$(action "$tmp/probe-spam.eml")" = "add header" ] && ok || bad "--reject-at still over the file after a reload"
stop

# ---- log = syslog: lines go to syslog (facility mail), not stderr ----
write_conf "db = $db1" "log = syslog"
fake=$tmp/dev
mkdir -p "$fake"
: >"$fake/null"
cat >"$tmp/syslogd.py" <<'EOF'
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
open(sys.argv[2] + ".ready", "w").close()
with open(sys.argv[2], "ab", buffering=0) as f:
    while True:
        f.write(s.recv(65536) + b"\n")
EOF
python3 "$tmp/syslogd.py" "$fake/log" "$tmp/syslog" &
pids=$!
for i in $(seq 100); do [ -e "$tmp/syslog.ready" ] && break; sleep 0.02; done
# A mount namespace where /dev is the test's folder (with the real null).
if unshare -m sh -c "mount --make-rprivate / && mount --bind /dev/null '$fake/null' &&
	mount --rbind '$fake' /dev && [ -S /dev/log ]" 2>/dev/null; then
	name=sys
	unshare -m sh -c "mount --make-rprivate / && mount --bind /dev/null '$fake/null' &&
		mount --rbind '$fake' /dev && exec '$daemon' -c '$conf'" >"$tmp/sys.out" 2>"$tmp/sys.err" &
	pid=$!
	for i in $(seq 100); do
		[ "$(wc -l <"$tmp/sys.out")" -ge 2 ] && break
		sleep 0.05
	done
	port=$(sed -n 's/^spamd 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$tmp/sys.out")
	expect 1 "spamc -c with log = syslog" sc -c <"$tmp/probe-spam.eml"
	sleep 0.2
	grep -q "^<22>.*spamsiftd\[$pid\]: info: spamd 127.0.0.1:.* CHECK" "$tmp/syslog" && ok ||
		bad "request line in syslog, mail.info: $(head -3 "$tmp/syslog")"
	grep -q "spamsiftd\[$pid\]: info: configuration 1: model" "$tmp/syslog" && ok || bad "settings in syslog"
	grep -q "CHECK" "$tmp/sys.err" && bad "request lines stay off stderr: $(cat "$tmp/sys.err")" || ok
	stop
else
	echo "reload.sh: no private mount namespace here: syslog delivery not checked"
fi
kill "$pids" 2>/dev/null
pids=""

finish
