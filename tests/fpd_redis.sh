#!/bin/sh
# fpd_redis.sh: spamsift-fpd with its store on Redis (--redis), against a
# real redis-server on 127.0.0.1 (its own folder, a free port, stopped by
# PID): two servers on one Redis: an ADD at one is found by a LOOKUP at
# the other (same, changed, by digest), counts add up across both, a DEL
# at one is gone at the other; the keys' checks (unknown key, replay, old
# timestamp) as with LMDB; a restart keeps the data; expiry; a value in
# Redis that is not an entry is skipped; federation between an LMDB server
# and a Redis one; lookups read a replica (--redis-replica), the primary
# when it is gone; bad --redis settings refused; Redis down: the server
# answers an error, and works again when Redis is back.
# Needs $SPAMSIFT, $FPD, $FPCLI, redis-server, redis-cli and python3.
# Ends with "N passed, N failed".
set -u
. "$(dirname "$0")/lib.sh"
fpd=${FPD:?set FPD to the spamsift-fpd binary}
cli=${FPCLI:?set FPCLI to the fpcli test client}
pids=""
# shellcheck disable=SC2086
trap 'for p in $pids; do kill -9 "$p" 2>/dev/null; done; rm -rf "$tmp"' EXIT

rc() { redis-cli -p "$rp" "$@"; }
# start NAME ARGS...: a server; sets $addr and $pid
start() {
	name=$1; shift
	: >"$tmp/$name.out"
	"$fpd" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
	pid=$!
	pids="$pids $pid"
	i=0
	while [ $i -lt 50 ] && ! grep -q '^tcp ' "$tmp/$name.out"; do sleep 0.1; i=$((i + 1)); done
	addr=$(sed -n 's/^udp \(127\.0\.0\.1:[0-9]*\)$/\1/p' "$tmp/$name.out")
}
stop() { kill "$1" 2>/dev/null; wait "$1" 2>/dev/null; }

"$bin" fp keygen alice >"$tmp/keys"
"$bin" fp keygen ab >>"$tmp/keys"
"$bin" fp keygen mallory >"$tmp/evil"
rp=$(free_port)
start_redis redis "$rp" || exit 1
R="redis://127.0.0.1:$rp"

expect 2 "--db and --redis together" "$fpd" --db "$tmp/x" --redis "$R" --listen 127.0.0.1:0 --keys "$tmp/keys"
expect 2 "a TLS URL to a plain server" "$fpd" --redis "rediss://127.0.0.1:$rp" --listen 127.0.0.1:0 \
	--keys "$tmp/keys"
grep -q "TLS handshake failed" "$tmp/err" && ok || bad "the TLS failure says why: $(cat "$tmp/err")"
dead=$(free_port)
expect 2 "Redis not answering" "$fpd" --redis "redis://127.0.0.1:$dead" --listen 127.0.0.1:0 --keys "$tmp/keys"
grep -q "cannot connect" "$tmp/err" && ok || bad "says it cannot connect: $(cat "$tmp/err")"
expect 2 "a missing password file" "$fpd" --redis "$R" --redis-password-file "$tmp/nope" --listen 127.0.0.1:0 --keys "$tmp/keys"

start one --redis "$R" --listen 127.0.0.1:0 --keys "$tmp/keys"
one=$pid a1=$addr
start two --redis "$R" --listen 127.0.0.1:0 --keys "$tmp/keys"
two=$pid a2=$addr
[ -n "$a1" ] && [ -n "$a2" ] && ok || bad "two servers on one Redis: $(cat "$tmp/one.err" "$tmp/two.err")"
c1() { "$cli" "$a1" "$tmp/keys" "$@"; }
c2() { "$cli" "$a2" "$tmp/keys" "$@"; }

expect 1 "empty store" c2 alice lookup 1
expect 0 "ADD at one" c1 alice add 1 --weight 2
expect 0 "found at two" c2 alice lookup 1
grep -q "similarity=1.0000 class=spam weight=2.000 count=1" "$tmp/out" && ok || bad "same at two: $(cat "$tmp/out")"
expect 0 "a changed copy at two (8 of 64)" c2 alice lookup 1 8
grep -q "similarity=0.8750 class=spam" "$tmp/out" && ok || bad "changed: $(cat "$tmp/out")"
expect 0 "a far copy at two (40 of 64)" c2 alice lookup 1 40
grep -q "similarity=0.3750" "$tmp/out" && ok || bad "far: $(cat "$tmp/out")"
expect 1 "a random signature" c2 alice lookup 77
expect 0 "the same ADD at two" c2 alice add 1
c1 alice lookup 1 | grep -q "count=2" && ok || bad "one entry, counted twice across both"
expect 0 "ham with a digest at two" c2 alice add 5 --ham --digest attachment.pdf
expect 0 "the digest alone at one" c1 alice lookup 9999 --digest attachment.pdf
grep -q "similarity=1.0000 class=ham" "$tmp/out" && ok || bad "digest: $(cat "$tmp/out")"
expect 0 "DEL at one" c1 alice del 5 --digest attachment.pdf
expect 1 "gone at two" c2 alice lookup 9999 --digest attachment.pdf
[ "$(rc HLEN 'ssf{f}:d')" = 0 ] && ok || bad "the DEL removed its digest row"
# the keys' checks are the server's, whatever the store
expect 3 "unknown key: no reply" "$cli" "$a1" "$tmp/evil" mallory lookup 1
expect 0 "replay" c1 alice replay 1
grep -q "^second: replayed request$" "$tmp/out" && ok || bad "replay: $(cat "$tmp/out")"
expect 0 "old timestamp" c2 alice oldts 1
grep -q "timestamp out of window" "$tmp/out" && ok || bad "old ts: $(cat "$tmp/out")"

# a value that is not an entry: skipped, never trusted
rc SADD "ssf{f}:b:0000000000000000" 999 >/dev/null
rc HSET 'ssf{f}:e' 999 short >/dev/null
rc ZADD 'ssf{f}:seen' 1 999 >/dev/null
n=0
for s in $(seq 100 119); do c1 alice add "$s" >/dev/null && n=$((n + 1)); done
[ $n = 20 ] && ok || bad "20 ADDs: $n"
for id in $(rc --raw ZRANGE 'ssf{f}:seen' 5 7); do rc HSET 'ssf{f}:e' "$id" x >/dev/null; done
found=0
for s in $(seq 100 119); do c2 alice lookup "$s" >/dev/null && found=$((found + 1)); done
[ $found -ge 17 ] && ok || bad "lookups around damaged values: $found of 20"
kill -0 "$one" && kill -0 "$two" && ok || bad "both servers alive"

# a restart keeps the data (it is in Redis)
stop "$one"
stop "$two"
start three --redis "$R" --listen 127.0.0.1:0 --keys "$tmp/keys"
three=$pid a1=$addr
expect 0 "after a restart" c1 alice lookup 1
grep -q "count=2" "$tmp/out" && ok || bad "restart: $(cat "$tmp/out")"
stop "$three"

# expiry (0.00002 days, 1.7 s)
start exp --redis "$R" --listen 127.0.0.1:0 --keys "$tmp/keys" --expire 0.00002 --expire-every 0.5
exp=$pid a1=$addr
sleep 3.5
expect 0 "ADD before expiry" c1 alice add 900
expect 0 "found before expiry" c1 alice lookup 900
sleep 3.5
expect 1 "expired" c1 alice lookup 900
expect 1 "the old ones expired too" c1 alice lookup 1
grep -q "expired [1-9][0-9]* entries" "$tmp/exp.err" && ok || bad "expiry logged: $(cat "$tmp/exp.err")"
# (the bands of the 3 damaged entries cannot be known: their rows stay,
# pointing at nothing; 16 bands each)
[ "$(rc ZCARD 'ssf{f}:seen')" = 0 ] && [ "$(rc HLEN 'ssf{f}:e')" = 0 ] &&
	[ "$(rc KEYS 'ssf{f}:b:*' | grep -c .)" -le 49 ] && ok ||
	bad "expired entries leave no rows: $(rc ZCARD 'ssf{f}:seen') $(rc HLEN 'ssf{f}:e') $(rc KEYS 'ssf{f}:b:*' | grep -c .)"
stop "$exp"

# federation: an LMDB server and a Redis one, both ways
bport=$(free_port)
start a --db "$tmp/dba" --listen 127.0.0.1:0 --keys "$tmp/keys" --peer "127.0.0.1:$bport,ab"
a=$pid aaddr=$addr
start b --redis "$R" --listen "127.0.0.1:$bport" --keys "$tmp/keys" --peer "$aaddr,ab"
b=$pid baddr=$addr
expect 0 "ADD at the LMDB server" "$cli" "$aaddr" "$tmp/keys" alice add 500
expect 0 "found at the Redis server within 2 s" "$cli" "$baddr" "$tmp/keys" alice wait 500 2000
expect 0 "ADD at the Redis server" "$cli" "$baddr" "$tmp/keys" alice add 501
expect 0 "found at the LMDB server within 2 s" "$cli" "$aaddr" "$tmp/keys" alice wait 501 2000
sleep 0.5
[ "$(rc KEYS 'ssf{f}:o:*' | while read -r k; do rc ZCARD "$k"; done | awk '{s+=$1} END {print s+0}')" = 0 ] && ok ||
	bad "the Redis server's outbox is empty once pushed"

# a replica that lookups read (--redis-replica); writes go to the primary,
# and a replica that is gone leaves lookups to the primary
rp2=$(free_port)
primary=$redis
start_redis replica "$rp2" --replicaof 127.0.0.1 "$rp" || exit 1
replica=$redis redis=$primary
for i in $(seq 100); do
	redis-cli -p "$rp2" info replication 2>/dev/null | grep -q "master_link_status:up" && break
	sleep 0.1
done
redis-cli -p "$rp2" info replication | grep -q "master_link_status:up" && ok || bad "the replica is in sync"
expect 2 "a replica without --redis" "$fpd" --db "$tmp/x" --redis-replica "redis://127.0.0.1:$rp2" \
	--listen 127.0.0.1:0 --keys "$tmp/keys"
expect 2 "a replica URL that is not one" "$fpd" --redis "$R" --redis-replica "http://127.0.0.1:$rp2" \
	--listen 127.0.0.1:0 --keys "$tmp/keys"
grep -q "not a redis://" "$tmp/err" && ok || bad "says why: $(cat "$tmp/err")"
start rep --redis "$R" --redis-replica "redis://127.0.0.1:$rp2" --listen 127.0.0.1:0 --keys "$tmp/keys"
rep=$pid raddr=$addr
srand() { redis-cli -p "$1" info commandstats | sed -n 's/^cmdstat_srandmember:calls=\([0-9]*\),.*/\1/p'; }
expect 0 "ADD at a server with a replica" "$cli" "$raddr" "$tmp/keys" alice add 600
expect 0 "found (the replica follows)" "$cli" "$raddr" "$tmp/keys" alice wait 600 2000
s1=$(srand "$rp") s2=$(srand "$rp2")
expect 0 "a LOOKUP" "$cli" "$raddr" "$tmp/keys" alice lookup 600
[ "$(srand "$rp")" = "${s1:-0}" ] && [ "$(srand "$rp2")" -gt "${s2:-0}" ] && ok ||
	bad "lookups read the replica: primary ${s1:-0} -> $(srand "$rp"), replica ${s2:-0} -> $(srand "$rp2")"
[ "$(rc HLEN 'ssf{f}:e')" -gt 0 ] && ok || bad "the ADD was written to the primary"
kill -9 "$replica"; wait "$replica" 2>/dev/null
expect 0 "the replica gone: found on the primary" "$cli" "$raddr" "$tmp/keys" alice lookup 600
[ "$(srand "$rp")" -gt "${s1:-0}" ] && ok || bad "the primary answered"
stop "$rep"

# Redis down: an error answer, no crash; back: works again
kill -9 "$redis"; wait "$redis" 2>/dev/null
expect 2 "a LOOKUP with Redis down is an error" "$cli" "$baddr" "$tmp/keys" alice lookup 500
kill -0 "$b" && ok || bad "the server lives on"
start_redis redis "$rp" || exit 1
expect 1 "Redis back (empty): answers again" "$cli" "$baddr" "$tmp/keys" alice lookup 500
expect 0 "an ADD again" "$cli" "$baddr" "$tmp/keys" alice add 502
stop "$a"
stop "$b"
finish
