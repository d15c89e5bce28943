#!/bin/sh
# redis_journal.sh: reports made while Redis is down are not lost. Against
# a real redis-server on 127.0.0.1 (its own folder, append-only with fsync
# on every write, stopped with kill -9 and restarted on the same data) and
# spamsiftd with --redis and --redis-journal, through the HTTP API:
# a learn for a user Redis has never seen, a re-learn as the other class
# and an unlearn (for a user whose id the daemon knows, and for one whose
# id it never looked up: a provisional id), all made while Redis is down,
# are redone when it is back
# (`spamsift stats`, the per-user score, "unchanged" when asked again);
# nothing keyed by a provisional user id reaches Redis; the same journal
# replayed a second time (a copy, by another daemon) changes nothing; a
# journal of the format before intents is still replayed, and a record no
# version decodes is skipped with a log line.
# Messages are generated here. Needs $SPAMSIFT, $SPAMSIFTD, redis-server,
# redis-cli, curl and python3. Ends with "N passed, N failed".
set -u
. "$(dirname "$0")/lib.sh"
daemon=${SPAMSIFTD:?set SPAMSIFTD to the spamsiftd binary}
pids=""
# shellcheck disable=SC2086
trap 'for p in $pids; do kill -9 "$p" 2>/dev/null; done; [ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT

c() { curl -sS --max-time 10 "$@"; }
# post PATH USER FILE: the HTTP status and the "result" of a learn or unlearn
post() {
	c -o "$tmp/post.json" -w '%{http_code}' -H "X-User: $2" --data-binary "@$3" \
		"http://127.0.0.1:$hport$1" >"$tmp/post.code"
	printf '%s %s\n' "$(cat "$tmp/post.code")" \
		"$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["result"])' \
			"$tmp/post.json" 2>/dev/null)"
}
# score USER FILE: the classifier's score of a /check as USER
score() {
	c -H "X-User: $1" --data-binary "@$2" "http://127.0.0.1:$hport/check" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["score"])'
}
# metric NAME: its value at the daemon on $hport
metric() { c "http://127.0.0.1:$hport/metrics" | sed -n "s/^$1 \\([0-9]*\\)\$/\\1/p"; }
# drained: scans until the daemon's journal is empty (at most 5 s); 0 when it is
drained() {
	for i in $(seq 50); do
		score "" "$tmp/probe-ham.eml" >/dev/null 2>&1 # a transaction: the replay is tried
		[ "$(metric spamsift_redis_journal_bytes)" = 0 ] && return 0
		sleep 0.1
	done
	return 1
}
user_line() { grep "^user $1:" "$tmp/stats" | sed "s/ learned$//"; }

gen_corpus 11
python3 - "$tmp" "$tests" <<'EOF'
import sys
sys.dont_write_bytecode = True
sys.path.insert(0, sys.argv[2])
import genmail
g = genmail.Gen(sys.argv[1], seed=12)
for i in range(4):
    g.write("m%d.eml" % i, "spam" if i % 2 else "ham", "journal%d" % i)
EOF

p1=$(free_port)
start_redis r1 "$p1" --appendonly yes --appendfsync always && ok || bad "redis-server starts"
RP="--redis redis://127.0.0.1:$p1"
expect 0 "learn spam on redis" "$bin" learn --spam $RP "$tmp/spam"
expect 0 "learn ham on redis" "$bin" learn --ham $RP "$tmp/ham"
# carl's reports come from the command line: spamsiftd has never looked
# his id up, so with Redis down it cannot, and gives him a provisional one
expect 0 "carl learns m2 and m3 as spam" "$bin" learn --spam --user carl $RP "$tmp/m2.eml" \
	"$tmp/m3.eml"

start_httpd d1 $RP --redis-journal "$tmp/j1"
[ -n "$hport" ] && ok || bad "spamsiftd starts: $(cat "$tmp/d1.err")"
# Redis up: bob reports m1 and m2 as spam.
[ "$(post /learn/spam bob "$tmp/m1.eml")" = "200 learned" ] && ok || bad "bob learns m1 as spam"
[ "$(post /learn/spam bob "$tmp/m2.eml")" = "200 learned" ] && ok || bad "bob learns m2 as spam"
"$bin" stats $RP >"$tmp/stats"
[ "$(user_line bob)" = "user bob: 2 spam, 0 ham" ] && ok || bad "bob before: $(user_line bob)"
global=$(score "" "$tmp/m0.eml")

# ---- Redis down: five reports, each answered and journaled ----
kill -9 "$(cat "$tmp/r1.pid")"
sleep 0.3
[ "$(post /learn/spam nina "$tmp/m0.eml")" = "200 learned" ] && ok ||
	bad "a new user's learn with Redis down: $(cat "$tmp/post.code") $(cat "$tmp/post.json")"
[ "$(post /learn/ham bob "$tmp/m1.eml")" = "200 learned" ] && ok ||
	bad "bob's re-learn as ham with Redis down: $(cat "$tmp/post.code") $(cat "$tmp/post.json")"
[ "$(post /unlearn bob "$tmp/m2.eml")" = "200 unlearned" ] && ok ||
	bad "bob's unlearn with Redis down: $(cat "$tmp/post.code") $(cat "$tmp/post.json")"
[ "$(post /learn/ham carl "$tmp/m3.eml")" = "200 learned" ] && ok ||
	bad "carl's re-learn as ham with Redis down: $(cat "$tmp/post.code") $(cat "$tmp/post.json")"
[ "$(post /unlearn carl "$tmp/m2.eml")" = "200 unlearned" ] && ok ||
	bad "carl's unlearn with Redis down: $(cat "$tmp/post.code") $(cat "$tmp/post.json")"
[ "$(metric spamsift_redis_journaled_total)" = 5 ] && ok ||
	bad "5 reports journaled: $(metric spamsift_redis_journaled_total)"
[ "$(metric spamsift_redis_journal_bytes)" -gt 0 ] && ok || bad "the journal holds them"
cp "$tmp/j1" "$tmp/j2" # for a second replay of the same records

# ---- Redis back: the reports are redone ----
start_redis r1 "$p1" --appendonly yes --appendfsync always && ok || bad "redis-server restarts"
drained && ok || bad "the journal is replayed: $(metric spamsift_redis_journal_bytes) bytes left"
[ "$(metric spamsift_redis_replayed_total)" = 5 ] && [ "$(metric spamsift_redis_redone_total)" = 5 ] &&
	ok || bad "5 replayed, 5 redone: $(metric spamsift_redis_replayed_total)," \
	"$(metric spamsift_redis_redone_total)"
"$bin" stats $RP >"$tmp/stats"
[ "$(user_line nina)" = "user nina: 1 spam, 0 ham" ] && ok ||
	bad "nina has a model with 1 spam: $(cat "$tmp/stats")"
[ "$(user_line bob)" = "user bob: 0 spam, 1 ham" ] && ok ||
	bad "bob: m1 moved to ham, m2 unlearned: $(user_line bob)"
[ "$(user_line carl)" = "user carl: 0 spam, 1 ham" ] && ok ||
	bad "carl: m3 moved to ham, m2 unlearned: $(user_line carl)"
grep -q "^global: 40 spam, 40 ham" "$tmp/stats" && ok || bad "the global model untouched: $(head -1 "$tmp/stats")"
# provisional ids have the top bit set: 2147483648 and up
n=$(redis-cli -p "$p1" --scan --pattern 'ss{u*' | sed -n 's/^ss{u\([0-9]*\)}.*/\1/p' |
	awk '$1 >= 2147483648' | wc -l)
u=$(redis-cli -p "$p1" hvals 'ss{g}:uid' | awk '$1 >= 2147483648' | wc -l)
[ "$n" = 0 ] && [ "$u" = 0 ] && ok || bad "nothing under a provisional user id in Redis ($n, $u)"
[ "$(post /learn/ham bob "$tmp/m1.eml")" = "200 unchanged" ] && ok || bad "m1 is bob's ham now"
[ "$(post /unlearn bob "$tmp/m2.eml")" = "200 unchanged" ] && ok || bad "m2 is no longer bob's"
[ "$(post /learn/spam nina "$tmp/m0.eml")" = "200 unchanged" ] && ok || bad "m0 is nina's spam"
[ "$(post /learn/ham carl "$tmp/m3.eml")" = "200 unchanged" ] && ok || bad "m3 is carl's ham now"
[ "$(post /unlearn carl "$tmp/m2.eml")" = "200 unchanged" ] && ok || bad "m2 is no longer carl's"
sleep 1.1 # past the read cache
gt "$(score nina "$tmp/m0.eml")" "$global" && ok ||
	bad "nina's spam report moves her score: $(score nina "$tmp/m0.eml") vs $global"
[ "$(score zed "$tmp/m0.eml")" = "$global" ] && ok || bad "a user without a model scores as global"
kill "$started"
wait "$started" 2>/dev/null

# ---- the same records replayed again change nothing ----
"$bin" export $RP - | sort >"$tmp/x1"
start_httpd d2 $RP --redis-journal "$tmp/j2"
[ "$(metric spamsift_redis_journal_bytes)" -gt 0 ] || [ "$(metric spamsift_redis_replayed_total)" = 5 ] &&
	ok || bad "the copy of the journal is there to replay"
drained && ok || bad "the copy is replayed"
[ "$(metric spamsift_redis_replayed_total)" = 5 ] && ok ||
	bad "5 replayed again: $(metric spamsift_redis_replayed_total)"
"$bin" export $RP - | sort >"$tmp/x2"
[ "$(wc -l <"$tmp/x1")" -gt 1000 ] && cmp -s "$tmp/x1" "$tmp/x2" && ok ||
	bad "the model is exactly as it was: $(diff "$tmp/x1" "$tmp/x2" | head -5)"
kill "$started"
wait "$started" 2>/dev/null

# ---- a journal of the format before intents, and a record not ours ----
# Framed as rjournal.c does (SSRJ, length, CRC-32): a version 1 record (the
# global model's totals +1 spam, no check) then a payload no version decodes.
python3 - "$tmp/j3" <<'EOF2'
import struct, sys, zlib
def frame(p):
    return b"SSRJ" + struct.pack(">II", len(p), zlib.crc32(p)) + p
ops = b"T" + struct.pack("<Iii", 8, 1, 0)
v1 = struct.pack("<I", 0) + b"\0" + bytes(16) + b"\0" + bytes(21) + ops
with open(sys.argv[1], "wb") as f:
    f.write(frame(v1) + frame(b"SSIR\x09not a record"))
EOF2
start_httpd d3 $RP --redis-journal "$tmp/j3"
drained && ok || bad "the old journal is replayed"
"$bin" stats $RP >"$tmp/stats"
grep -q "^global: 41 spam, 40 ham" "$tmp/stats" && ok ||
	bad "a version 1 record is applied as its batch: $(head -1 "$tmp/stats")"
[ "$(metric spamsift_redis_replayed_total)" = 1 ] && [ "$(metric spamsift_redis_redone_total)" = 0 ] &&
	ok || bad "1 replayed, none redone: $(metric spamsift_redis_replayed_total)"
grep -q "learn journal: a damaged record skipped" "$tmp/d3.err" && ok ||
	bad "the record no version decodes is skipped with a log line"
kill "$started"
wait "$started" 2>/dev/null

[ -z "${KEEP:-}" ] || echo "kept $tmp (KEEP is set)"
finish
