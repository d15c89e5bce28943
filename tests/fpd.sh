#!/bin/sh
# fpd.sh: spamsift-fpd as its users meet it: spamsift fp keygen; ADD then
# LOOKUP of the same and of a slightly changed signature, digests, a
# random signature not found; an unknown key, a wrong secret, a read-only
# key, a replayed datagram, an old timestamp and a rate limit refused;
# kill -9 after acknowledged ADDs and a restart: all there; expiry; two servers
# federated both ways (a loop): an ADD at one is found at the other within
# 2 s, with the peer's weight, and does not come back; a DEL at one is gone
# at the other; ADDs made while the peer is down wait in the store through
# kill -9 and reach it after the restart (--peer-queue dropping the oldest),
# and a push sent twice counts once. Then two
# organisations, each with its server and key: `spamsift report` at one is
# found by `spamsift check` at the other within 2 s, a varied copy too, an
# unrelated ham not; spamsiftd (POST /report, spamc) with --fp-server; the
# server down gives FUZZY_TEMPERROR. Real servers on 127.0.0.1 port 0,
# stopped by PID. Needs $SPAMSIFT, $FPD, $FPCLI, python3 ($SPAMSIFTD, spamc
# and curl for the daemon part).
# Ends with "N passed, N failed".
set -u
. "$(dirname "$0")/lib.sh"
fpd=${FPD:?set FPD to the spamsift-fpd binary}
cli=${FPCLI:?set FPCLI to the fpcli test client}
pids=""
trap 'for p in $pids; do kill "$p" 2>/dev/null; done; rm -rf "$tmp"' EXIT

# start NAME ARGS...: runs a server, waits for its "udp IP:PORT" line;
# sets $addr and $pid (also remembered for the exit trap)
start() {
	name=$1; shift
	: >"$tmp/$name.out" # exists before the loop below reads it
	"$fpd" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
	pid=$!
	pids="$pids $pid"
	i=0
	while [ $i -lt 50 ] && ! grep -q '^tcp ' "$tmp/$name.out"; do sleep 0.1; i=$((i + 1)); done
	addr=$(sed -n 's/^udp \(127\.0\.0\.1:[0-9]*\)$/\1/p' "$tmp/$name.out")
}
stop() { kill "$1" 2>/dev/null; wait "$1" 2>/dev/null; }

# keys: keygen lines, read-only, rate
"$bin" fp keygen alice >"$tmp/keys" && ok || bad "keygen"
"$bin" fp keygen reader --read-only >>"$tmp/keys"
"$bin" fp keygen slow --rate 5 >>"$tmp/keys"
"$bin" fp keygen ab >>"$tmp/keys"
grep -Eq '^alice rw [A-Za-z0-9+/]{43}=$' "$tmp/keys" && ok || bad "key line: $(head -1 "$tmp/keys")"
grep -Eq '^reader ro ' "$tmp/keys" && grep -Eq '^slow rw .* rate=5/s$' "$tmp/keys" && ok ||
	bad "ro and rate lines: $(cat "$tmp/keys")"
expect 2 "keygen without a name" "$bin" fp keygen
# a client-side keys file: a key the server does not know, one with a wrong secret
"$bin" fp keygen mallory >"$tmp/evil"
"$bin" fp keygen alice >>"$tmp/evil"

expect 0 "--help" "$fpd" --help
expect 2 "no --keys" "$fpd" --db "$tmp/x" --listen 127.0.0.1:0
echo "bad line" >"$tmp/badkeys"
expect 2 "bad keys file" "$fpd" --db "$tmp/x" --listen 127.0.0.1:0 --keys "$tmp/badkeys"
grep -q "badkeys:1" "$tmp/err" && ok || bad "bad keys file names the line: $(cat "$tmp/err")"

start one --db "$tmp/db1" --listen 127.0.0.1:0 --keys "$tmp/keys"
[ -n "$addr" ] && grep -q "^tcp $addr$" "$tmp/one.out" && ok || bad "bound ports printed: $(cat "$tmp/one.out" "$tmp/one.err")"
one=$pid
c() { "$cli" "$addr" "$tmp/keys" "$@"; }

expect 0 "ping" c alice ping
expect 1 "empty store" c alice lookup 1
expect 0 "add" c alice add 1 --weight 2
expect 0 "lookup same" c alice lookup 1
grep -q "similarity=1.0000 class=spam weight=2.000 count=1" "$tmp/out" && ok || bad "same: $(cat "$tmp/out")"
expect 0 "lookup changed (8 of 64 values)" c alice lookup 1 8
grep -q "similarity=0.8750 class=spam" "$tmp/out" && ok || bad "changed: $(cat "$tmp/out")"
expect 0 "lookup changed (40 of 64 values)" c alice lookup 1 40
grep -q "similarity=0.3750" "$tmp/out" && ok || bad "far: $(cat "$tmp/out")"
expect 1 "random signature" c alice lookup 77
expect 0 "add again" c alice add 1
c alice lookup 1 | grep -q "count=2" && ok || bad "count after a second ADD"
expect 0 "add ham with a digest" c alice add 5 --ham --digest attachment.pdf
expect 0 "digest alone finds it" c alice lookup 9999 --digest attachment.pdf
grep -q "similarity=1.0000 class=ham" "$tmp/out" && ok || bad "digest: $(cat "$tmp/out")"
expect 0 "read-only key looks up" c reader lookup 1
expect 2 "read-only key cannot ADD" c reader add 2
grep -q "read-only" "$tmp/out" && ok || bad "read-only: $(cat "$tmp/out")"
expect 1 "the refused ADD stored nothing" c alice lookup 2
expect 2 "read-only key cannot DEL" c reader del 1
grep -q "read-only" "$tmp/out" && ok || bad "read-only DEL: $(cat "$tmp/out")"
expect 0 "the refused DEL deleted nothing" c alice lookup 1
expect 3 "unknown key: no reply" "$cli" "$addr" "$tmp/evil" mallory lookup 1
expect 3 "wrong secret: no reply" "$cli" "$addr" "$tmp/evil" alice ping
expect 0 "replay" c alice replay 1
grep -q "^first: ok$" "$tmp/out" && grep -q "^second: replayed request$" "$tmp/out" && ok ||
	bad "replay: $(cat "$tmp/out")"
expect 0 "old timestamp" c alice oldts 1
grep -q "timestamp out of window" "$tmp/out" && ok || bad "old ts: $(cat "$tmp/out")"
expect 0 "burst on a 5/s key" c slow burst 20 1
limited=$(sed -n 's/.*rate-limited=\([0-9]*\).*/\1/p' "$tmp/out")
[ "${limited:-0}" -ge 10 ] && ok || bad "rate limit: $(cat "$tmp/out")"

# kill -9 after acknowledged ADDs; a restart has them all
n=0
for s in $(seq 100 139); do c alice add "$s" >/dev/null && n=$((n + 1)); done
[ $n = 40 ] && ok || bad "40 ADDs acknowledged: $n"
kill -9 "$one"; wait "$one" 2>/dev/null
start two --db "$tmp/db1" --listen 127.0.0.1:0 --keys "$tmp/keys"
two=$pid
found=0
for s in $(seq 100 139); do c alice lookup "$s" >/dev/null && found=$((found + 1)); done
[ $found = 40 ] && ok || bad "after kill -9: $found of 40 found"
stop "$two"

# expiry: entries not seen for --expire DAYS (here 0.00002 days, 1.7 s) go
start exp --db "$tmp/dbx" --listen 127.0.0.1:0 --keys "$tmp/keys" --expire 0.00002 --expire-every 0.5
exp=$pid
expect 0 "ADD before expiry" c alice add 900
expect 0 "found before expiry" c alice lookup 900
sleep 3.5
expect 1 "expired" c alice lookup 900
grep -q "expired 1 entries" "$tmp/exp.err" && ok || bad "expiry logged: $(cat "$tmp/exp.err")"
stop "$exp"

# federation: A and B peer with each other (a loop), B trusts A at 0.5
bport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
start a --db "$tmp/dba" --listen 127.0.0.1:0 --keys "$tmp/keys" --peer "127.0.0.1:$bport,ab,weight=0.5"
a=$pid aaddr=$addr
start b --db "$tmp/dbb" --listen "127.0.0.1:$bport" --keys "$tmp/keys" --peer "$aaddr,ab,weight=0.5"
b=$pid baddr=$addr
[ "$baddr" = "127.0.0.1:$bport" ] && ok || bad "B on its port: $(cat "$tmp/b.err")"
expect 0 "ADD at A" "$cli" "$aaddr" "$tmp/keys" alice add 500 --weight 2
expect 0 "found at B within 2 s" "$cli" "$baddr" "$tmp/keys" alice wait 500 2000
grep -q "weight=1.000 count=1" "$tmp/out" && ok || bad "B's copy: $(cat "$tmp/out")"
echo "federation: $(cat "$tmp/out")"
sleep 1
"$cli" "$aaddr" "$tmp/keys" alice lookup 500 | grep -q "weight=2.000 count=1" && ok ||
	bad "A's entry came back: $("$cli" "$aaddr" "$tmp/keys" alice lookup 500)"
"$cli" "$baddr" "$tmp/keys" alice lookup 500 | grep -q "count=1" && ok || bad "B counted it twice"
expect 0 "ADD at B" "$cli" "$baddr" "$tmp/keys" alice add 501
expect 0 "found at A within 2 s" "$cli" "$aaddr" "$tmp/keys" alice wait 501 2000
# DEL at A is replicated: gone at B too, and does not loop
expect 0 "DEL at A" "$cli" "$aaddr" "$tmp/keys" alice del 500
gone=""
for i in $(seq 20); do
	"$cli" "$baddr" "$tmp/keys" alice lookup 500 >/dev/null
	[ $? = 1 ] && { gone=1; break; }
	sleep 0.1
done
[ -n "$gone" ] && ok || bad "A's DEL reached B within 2 s"
expect 1 "DEL at A: gone at A" "$cli" "$aaddr" "$tmp/keys" alice lookup 500
expect 1 "a second DEL finds nothing" "$cli" "$aaddr" "$tmp/keys" alice del 500
stop "$a"
stop "$b"

# ---- the pushes to a peer survive kill -9 ----
# A (outbox limit 3) peers with B while B is down: 5 ADDs at A wait in
# A's store (the 2 oldest dropped for the limit); A is killed with -9; B
# starts; A restarts on its port and pushes the 3 to B, each counted once.
aport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
bport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
start qa --db "$tmp/dbqa" --listen "127.0.0.1:$aport" --keys "$tmp/keys" \
	--peer "127.0.0.1:$bport,ab" --peer-queue 3
qa=$pid qaddr=$addr
n=0
for s in 700 701 702 703; do "$cli" "$qaddr" "$tmp/keys" alice add "$s" >/dev/null && n=$((n + 1)); done
expect 0 "ADD at A while B is down" "$cli" "$qaddr" "$tmp/keys" alice add 704 --weight 3
[ $n = 4 ] && ok || bad "ADDs acknowledged while the peer is down: $n of 4"
grep -q "outbox is full (--peer-queue 3): dropped its oldest push" "$tmp/qa.err" && ok ||
	bad "a full outbox is logged: $(cat "$tmp/qa.err")"
kill -9 "$qa"; wait "$qa" 2>/dev/null
start qb --db "$tmp/dbqb" --listen "127.0.0.1:$bport" --keys "$tmp/keys" --peer "$qaddr,ab"
qb=$pid qbaddr=$addr
expect 1 "nothing at B before A restarts" "$cli" "$qbaddr" "$tmp/keys" alice lookup 704
start qa2 --db "$tmp/dbqa" --listen "127.0.0.1:$aport" --keys "$tmp/keys" \
	--peer "127.0.0.1:$bport,ab" --peer-queue 3
qa=$pid
[ "$addr" = "$qaddr" ] && ok || bad "A back on its port: $(cat "$tmp/qa2.err")"
grep -q "peer 127.0.0.1:$bport: 3 pushes waiting" "$tmp/qa2.err" && ok ||
	bad "A's outbox survived kill -9: $(cat "$tmp/qa2.err")"
expect 0 "A's ADD from before kill -9 reaches B" "$cli" "$qbaddr" "$tmp/keys" alice wait 704 3000
grep -q "weight=3.000 count=1" "$tmp/out" && ok || bad "B's copy: $(cat "$tmp/out")"
for s in 702 703; do
	expect 0 "ADD $s reaches B after the restart" "$cli" "$qbaddr" "$tmp/keys" alice wait "$s" 3000
done
for s in 700 701; do
	expect 1 "ADD $s was dropped for --peer-queue 3" "$cli" "$qbaddr" "$tmp/keys" alice lookup "$s"
done
expect 0 "A still has the dropped ones" "$cli" "$qaddr" "$tmp/keys" alice lookup 700
# a peer re-sends a change after losing B's acknowledgement: counted once
expect 0 "a push sent twice" "$cli" "$qbaddr" "$tmp/keys" ab push 710 9 5 --weight 2
grep -q "^first: ok$" "$tmp/out" && grep -q "^second: ok$" "$tmp/out" && ok ||
	bad "the re-sent push is acknowledged: $(cat "$tmp/out")"
expect 0 "the re-sent push is stored" "$cli" "$qbaddr" "$tmp/keys" alice lookup 710
grep -q "weight=2.000 count=1" "$tmp/out" && ok || bad "a re-sent push counted twice: $(cat "$tmp/out")"
expect 0 "the same origin's next change counts" "$cli" "$qbaddr" "$tmp/keys" ab push 710 9 6
"$cli" "$qbaddr" "$tmp/keys" alice lookup 710 | grep -q "count=2" && ok || bad "change 6 not counted"
sleep 0.5
"$cli" "$qbaddr" "$tmp/keys" alice lookup 704 | grep -q "count=1" && ok || bad "B counted A's push twice"
stop "$qa"
grep -q "^ *0 pushes waiting\|pushes dropped" "$tmp/qa2.err" >/dev/null
stop "$qb"
grep -q "2 re-sent changes ignored" "$tmp/qb.err" && ok || bad "B's tally: $(cat "$tmp/qb.err")"
expect 2 "bad --peer-queue" "$fpd" --db "$tmp/dbqa" --listen 127.0.0.1:0 --keys "$tmp/keys" --peer-queue 0

# ---- TCP limits: a silent connection is closed after --idle, and past
# --max-conn a new connection is closed at once ----
start lim --db "$tmp/dblim" --listen 127.0.0.1:0 --keys "$tmp/keys" --idle 1 --max-conn 3
lim=$pid
python3 - "${addr#*:}" >"$tmp/out" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
def conn():
    s = socket.create_connection(("127.0.0.1", port)); s.settimeout(5); return s
def closed_after(s):
    t = time.time()
    try:
        got = s.recv(1)
    except OSError:
        got = b""
    return got == b"", time.time() - t
held = [conn() for _ in range(3)]
time.sleep(0.2)
extra = conn()
ok, t = closed_after(extra)
print("extra closed %s after %.2f s" % (ok, t))
ok, t = closed_after(held[0])
print("idle closed %s after %.2f s" % (ok, t))
PY
grep -q "^extra closed True after 0\.[0-4]" "$tmp/out" && ok || bad "a 4th connection over --max-conn 3 is closed at once: $(cat "$tmp/out")"
grep -q "^idle closed True after [01]\." "$tmp/out" && ok || bad "a silent connection is closed after --idle 1: $(cat "$tmp/out")"
expect 0 "the server still serves TCP after its limits" "$cli" "$addr" "$tmp/keys" alice add 600
stop "$lim"
expect 2 "bad --idle" "$fpd" --db "$tmp/dblim" --listen 127.0.0.1:0 --keys "$tmp/keys" --idle 0
expect 2 "bad --max-conn" "$fpd" --db "$tmp/dblim" --listen 127.0.0.1:0 --keys "$tmp/keys" --max-conn 0

# ---- two organisations: a report at one protects the other ----
# Each organisation runs its own server with its own client key; the two
# servers federate. A user at A reports a spam (spamsift report adds its
# fingerprints at A); a scan at B (spamsift check, spamsiftd) finds it, a
# varied copy too, an unrelated ham not.
"$bin" fp keygen orga >"$tmp/orga.key" && "$bin" fp keygen orgb >"$tmp/orgb.key" &&
	"$bin" fp keygen peer >"$tmp/peer.key" && ok || bad "keygen for the organisations"
cat "$tmp/orga.key" "$tmp/peer.key" >"$tmp/keysa"
cat "$tmp/orgb.key" "$tmp/peer.key" >"$tmp/keysb"
bport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
start oa --db "$tmp/dboa" --listen 127.0.0.1:0 --keys "$tmp/keysa" --peer "127.0.0.1:$bport,peer"
a=$pid aaddr=$addr
start ob --db "$tmp/dbob" --listen "127.0.0.1:$bport" --keys "$tmp/keysb" --peer "$aaddr,peer"
b=$pid baddr=$addr
python3 - "$tmp" <<'PY'
import random, sys
d = sys.argv[1]
rnd = random.Random(7)
words = ("garden river morning coffee letter window market travel summer music paper "
         "forest engine city bridge yellow quiet number table history planet").split()
body = ("Dear {name}, you have been selected to receive a cash prize of {n} dollars. "
        "To claim your prize send your bank details and a processing fee of {m} dollars "
        "to our agent before the end of the week. Reply now with your full name, address "
        "and phone number, this offer expires soon and cannot be repeated.\n")
def mail(path, text, subject="You are a winner"):
    open(path, "w").write("From: Claims <claims@prize.example>\nTo: you@org.example\n"
                          "Subject: %s\nMessage-ID: <%s@prize.example>\n\n%s"
                          % (subject, rnd.randrange(10**9), text))
mail(d + "/spam.eml", body.format(name="John Smith", n=450000, m=250))
tail = " ".join(rnd.choice(words) for _ in range(20))
mail(d + "/varied.eml", body.format(name="Maria  Garcia", n=780000, m=199) + tail + "\n")
mail(d + "/ham.eml", "Hi all, the minutes of Tuesday's meeting are attached; the budget review "
     "moves to Thursday afternoon and the new office chairs arrive next month. Please send "
     "your comments on the draft before Friday so we can close the quarter on time.\n",
     "minutes")
PY
"$bin" learn --ham --db "$tmp/mdb" "$tmp/ham.eml" >/dev/null 2>&1
"$bin" learn --ham --db "$tmp/mdb2" "$tmp/ham.eml" >/dev/null 2>&1
# exit 3: learned and stored, no abuse contact (no contacts file here)
expect 3 "report at organisation A adds the fingerprints" "$bin" report --db "$tmp/mdb" \
	--evidence "$tmp/ev" --fp-server "$aaddr" --fp-key "$tmp/orga.key" "$tmp/spam.eml"
t0=$(date +%s%N)
found=""
while [ $(($(date +%s%N) - t0)) -lt 2000000000 ]; do
	"$bin" check --db "$tmp/mdb2" --json --fp-server "$baddr" --fp-key "$tmp/orgb.key" \
		"$tmp/spam.eml" >"$tmp/out" 2>"$tmp/err"
	grep -q '"name":"FUZZY_SPAM"' "$tmp/out" && { found=1; break; }
	sleep 0.1
done
ms=$((($(date +%s%N) - t0) / 1000000))
[ -n "$found" ] && ok || bad "organisation B's scan finds A's report within 2 s: $(cat "$tmp/out" "$tmp/err")"
echo "organisations: B's scan found A's report after ${ms} ms"
expect 0 "varied copy at B" "$bin" check --db "$tmp/mdb2" --json --fp-server "$baddr" \
	--fp-key "$tmp/orgb.key" "$tmp/varied.eml"
grep -q '"name":"FUZZY_SPAM","score":[0-9.]*,"description":"[^"]*similarity 0\.[5-9]' "$tmp/out" ||
	grep -q '"name":"FUZZY_SPAM","score":[0-9.]*,"description":"[^"]*similarity 1' "$tmp/out" && ok ||
	bad "a copy with another name, numbers and a random tail matches: $(cat "$tmp/out")"
expect 0 "ham at B" "$bin" check --db "$tmp/mdb2" --json --fp-server "$baddr" \
	--fp-key "$tmp/orgb.key" "$tmp/ham.eml"
grep -q 'FUZZY_' "$tmp/out" && bad "an unrelated ham matches: $(cat "$tmp/out")" || ok
expect 2 "a key file without a key" "$bin" check --db "$tmp/mdb2" --fp-server "$baddr" \
	--fp-key "$tmp/ham.eml" "$tmp/ham.eml"
grep -q "fingerprint server" "$tmp/err" && ok || bad "the bad key file is named: $(cat "$tmp/err")"

# spamsiftd at organisation B: a user's POST /report adds the varied copy's
# fingerprints at B, and a scan of the original through spamc finds a match.
if [ -n "${SPAMSIFTD:-}" ] && command -v spamc >/dev/null && command -v curl >/dev/null; then
	: >"$tmp/d.out" # exists before the loop below reads it
	"$SPAMSIFTD" --db "$tmp/mdb2" --spamd 127.0.0.1:0 --http 127.0.0.1:0 --evidence "$tmp/evb" \
		--fp-server "$baddr" --fp-key "$tmp/orgb.key" >"$tmp/d.out" 2>"$tmp/d.err" &
	dpid=$!
	pids="$pids $dpid"
	i=0
	while [ $i -lt 200 ] && [ "$(wc -l <"$tmp/d.out")" -lt 2 ]; do sleep 0.1; i=$((i + 1)); done
	sport=$(sed -n 's/^spamd 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$tmp/d.out")
	hport=$(sed -n 's/^http 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$tmp/d.out")
	code=$(curl -sS --max-time 10 -o "$tmp/out" -w '%{http_code}' --data-binary "@$tmp/ham.eml" \
		"http://127.0.0.1:$hport/report")
	[ "$code" = 200 ] && ok || bad "spamsiftd POST /report with a fingerprint server: $code $(cat "$tmp/out")"
	spamc -d 127.0.0.1 -p "$sport" -y <"$tmp/ham.eml" >"$tmp/out" 2>&1
	grep -q "FUZZY_SPAM" "$tmp/out" && ok || bad "spamsiftd's scan finds the report: $(cat "$tmp/out")"
	spamc -d 127.0.0.1 -p "$sport" -y <"$tmp/varied.eml" >"$tmp/out" 2>&1
	grep -q "FUZZY_SPAM" "$tmp/out" && ok || bad "spamsiftd's scan finds A's report: $(cat "$tmp/out")"
	stop "$dpid"
fi
stop "$b"
expect 0 "server down: the scan goes on" "$bin" check --db "$tmp/mdb2" --json \
	--fp-server "$baddr" --fp-key "$tmp/orgb.key" "$tmp/spam.eml"
grep -q '"name":"FUZZY_TEMPERROR"' "$tmp/out" && ok || bad "FUZZY_TEMPERROR: $(cat "$tmp/out")"
stop "$a"
finish
