#!/bin/sh
# sentinel.sh: the model, the scan history and the fingerprint store on a
# Redis master that Redis Sentinel watches (redis+sentinel:// URLs), against
# real processes on 127.0.0.1, each with its own folder and stopped by PID:
# a master, its replica and one sentinel (quorum 1, the master down after
# 1 s). spamsift learns and reads through the sentinel; spamsiftd and
# spamsift-fpd work through it; the master killed with -9: the sentinel
# promotes the replica, and the command line, the running spamsiftd (a
# learn made during the fail-over journaled, then replayed) and
# spamsift-fpd reach the new master with nothing lost. An unknown service
# and a sentinel that does not answer are clear errors; the web status
# shows the sentinels without the password.
# Messages are generated here. Needs $SPAMSIFT, $SPAMSIFTD, $FPD, $FPCLI,
# redis-server, redis-cli, curl and python3. Ends with "N passed, N failed".
set -u
. "$(dirname "$0")/lib.sh"
daemon=${SPAMSIFTD:?set SPAMSIFTD to the spamsiftd binary}
fpd=${FPD:?set FPD to the spamsift-fpd binary}
fpcli=${FPCLI:?set FPCLI to the fpcli test client}
pids=""
# shellcheck disable=SC2086
trap 'for p in $pids; do kill -9 "$p" 2>/dev/null; done; [ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT

c() { curl -sS --max-time 10 "$@"; }
# master_port: the port the sentinel names for the service now
master_port() { redis-cli -p "$ps" sentinel get-master-addr-by-name mym 2>/dev/null | sed -n 2p; }
# spam_count: the global model's spam total, read through the sentinel
spam_count() { "$bin" stats --redis "$S" --redis-password-file "$tmp/pw" | sed -n 's/^global: \([0-9]*\) spam.*/\1/p'; }

gen_corpus 21 8
python3 - "$tmp" "$tests" <<'EOF'
import sys
sys.dont_write_bytecode = True
sys.path.insert(0, sys.argv[2])
import genmail
g = genmail.Gen(sys.argv[1], seed=22)
for i in range(3):
    g.write("x%d.eml" % i, "spam", "sentinel%d" % i)
EOF
rpass=sentinel-secret-7
printf '%s\n' "$rpass" >"$tmp/pw"
rauth="-a $rpass --no-auth-warning"
pm=$(free_port) pr=$(free_port) ps=$(free_port)
start_redis master "$pm" --requirepass "$rpass" --masterauth "$rpass" --appendonly yes \
	--appendfsync always --repl-diskless-sync-delay 0 && ok || bad "the master starts"
master=$redis
start_redis replica "$pr" --requirepass "$rpass" --masterauth "$rpass" --appendonly yes \
	--replicaof 127.0.0.1 "$pm" --repl-diskless-sync-delay 0 && ok || bad "the replica starts"
for i in $(seq 100); do
	redis-cli -p "$pr" $rauth info replication | grep -q "master_link_status:up" && break
	sleep 0.1
done
redis-cli -p "$pr" $rauth info replication | grep -q "master_link_status:up" && ok ||
	bad "the replica is in sync"
mkdir -p "$tmp/sent"
cat >"$tmp/sent/sentinel.conf" <<EOF
port $ps
bind 127.0.0.1
dir $tmp/sent
logfile $tmp/sent/log
sentinel monitor mym 127.0.0.1 $pm 1
sentinel auth-pass mym $rpass
sentinel down-after-milliseconds mym 1000
sentinel failover-timeout mym 4000
EOF
redis-server "$tmp/sent/sentinel.conf" --sentinel &
pids="$pids $!"
for i in $(seq 100); do
	[ "$(master_port)" = "$pm" ] && break
	sleep 0.1
done
[ "$(master_port)" = "$pm" ] && ok || bad "the sentinel watches the master: $(tail -3 "$tmp/sent/log")"
S="redis+sentinel://127.0.0.1:$ps/mym"

# ---- the command line through the sentinel ----
expect 0 "learn spam through the sentinel" "$bin" learn --spam --redis "$S" --redis-password-file "$tmp/pw" "$tmp/spam"
expect 0 "learn ham through the sentinel" "$bin" learn --ham --redis "$S" --redis-password-file "$tmp/pw" "$tmp/ham"
[ "$(redis-cli -p "$pm" $rauth hget 'ss{u0}:t' spam)" = 8 ] && ok || bad "the learns are on the master"
expect 0 "migrate from the sentinel's master" "$bin" migrate --from "$S" --to "$tmp/copy" \
	--redis-password-file "$tmp/pw"
"$bin" stats --db "$tmp/copy" | grep -q "^global: 8 spam, 8 ham" && ok || bad "the copy has the model"
expect 2 "a service the sentinel does not know" "$bin" stats --redis "redis+sentinel://127.0.0.1:$ps/other" \
	--redis-password-file "$tmp/pw"
grep -q "do not know that service" "$tmp/err" && ok || bad "says so: $(cat "$tmp/err")"
dead=$(free_port)
expect 2 "a sentinel that does not answer" "$bin" stats --redis "redis+sentinel://127.0.0.1:$dead/mym"
grep -q "cannot connect" "$tmp/err" && ok || bad "says it cannot connect: $(cat "$tmp/err")"
expect 2 "a sentinel URL without a service" "$bin" stats --redis "redis+sentinel://127.0.0.1:$ps"
grep -q "names the service" "$tmp/err" && ok || bad "says the service is missing: $(cat "$tmp/err")"

# ---- spamsiftd and spamsift-fpd through the sentinel ----
start_httpd d --redis "redis+sentinel://:$rpass@127.0.0.1:$ps/mym" --redis-journal "$tmp/journal"
d=$started hd=$hport
[ -n "$hd" ] && ok || bad "spamsiftd starts: $(cat "$tmp/d.err")"
grep -q "redis sentinel 127.0.0.1:$ps service mym/0" "$tmp/d.err" && ! grep -q "$rpass" "$tmp/d.err" &&
	ok || bad "the log names the sentinel and the service, not the password"
c "http://127.0.0.1:$hd/api/status" >"$tmp/status.json"
[ "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["config"]["redis"])' "$tmp/status.json")" = \
	"redis+sentinel://***@127.0.0.1:$ps/mym/0" ] && ! grep -q "$rpass" "$tmp/status.json" && ok ||
	bad "the status shows the sentinel URL masked: $(head -c 400 "$tmp/status.json")"
[ "$(c --data-binary "@$tmp/spam/00.eml" -H "X-User: ann" "http://127.0.0.1:$hd/learn/ham")" = \
	'{"result":"learned","class":"ham","user":"ann"}' ] && ok || bad "spamsiftd learns through the sentinel"
"$bin" fp keygen k >"$tmp/keys"
start_daemon f 2 "$fpd" --redis "$S" --redis-password-file "$tmp/pw" --listen 127.0.0.1:0 --keys "$tmp/keys"
pids="$pids $pid"
fa=$(sed -n 's/^udp \(127\.0\.0\.1:[0-9]*\)$/\1/p' "$tmp/f.out")
expect 0 "spamsift-fpd: an ADD through the sentinel" "$fpcli" "$fa" "$tmp/keys" k add 1
before=$(spam_count)
[ "$(redis-cli -p "$pm" $rauth wait 1 3000)" = 1 ] && ok || bad "the replica has every write"

# ---- the master killed: the sentinel promotes the replica ----
kill -9 "$master"
wait "$master" 2>/dev/null
code=$(c -o "$tmp/l1.json" -w '%{http_code}' --data-binary "@$tmp/x1.eml" "http://127.0.0.1:$hd/learn/spam")
[ "$code" = 200 ] && ok || bad "a learn while the master is down is taken: $code $(cat "$tmp/l1.json")"
for i in $(seq 200); do
	[ "$(master_port)" = "$pr" ] && break
	sleep 0.1
done
[ "$(master_port)" = "$pr" ] && ok || bad "the sentinel promotes the replica: $(tail -5 "$tmp/sent/log")"
# the next transactions reach the new master and send the journal
for i in $(seq 50); do
	c --data-binary "@$tmp/ham/00.eml" "http://127.0.0.1:$hd/check" >/dev/null
	c "http://127.0.0.1:$hd/metrics" | grep -q "^spamsift_redis_journal_bytes 0$" && break
	sleep 0.2
done
c "http://127.0.0.1:$hd/metrics" | grep -q "^spamsift_redis_journal_bytes 0$" && ok ||
	bad "spamsiftd's journal is sent to the new master"
[ "$(c --data-binary "@$tmp/x2.eml" "http://127.0.0.1:$hd/learn/spam")" = \
	'{"result":"learned","class":"spam"}' ] && ok || bad "spamsiftd learns on the new master"
[ "$(spam_count)" = "$((before + 2))" ] && ok ||
	bad "nothing lost: $before + 2 spam, now $(spam_count)"
[ "$(redis-cli -p "$pr" $rauth hget 'ss{u0}:t' spam)" = "$((before + 2))" ] && ok ||
	bad "the learns are on the promoted replica"
found=0
for i in $(seq 20); do
	"$fpcli" "$fa" "$tmp/keys" k lookup 1 >/dev/null 2>&1 && found=1 && break
	sleep 0.2
done
[ $found = 1 ] && ok || bad "spamsift-fpd finds the ADD on the new master"
expect 0 "spamsift-fpd: an ADD on the new master" "$fpcli" "$fa" "$tmp/keys" k add 2
kill "$d"
wait "$d" 2>/dev/null
[ $? = 0 ] && ok || bad "spamsiftd stops cleanly"

[ -z "${KEEP:-}" ] || echo "kept $tmp (KEEP is set)"
finish
