#!/bin/sh
# redis.sh: the model on Redis, against real redis-server processes on
# 127.0.0.1 (each with its own folder, config on the command line, a free
# port; stopped by PID): spamsift's commands with --redis give the same
# model as the embedded store; migrate both ways; two spamsiftd sharing a
# model (a learn at one is seen at the other within the cache's 1 s); a
# replica to read from; users' models scanned from local copies, also
# with Redis paused; Redis killed with -9 in the middle of a load of
# learns and scans, then restarted: no failed scan, no learn lost; a full
# journal; SIGHUP reloads; a 3-master Cluster (redis-cli --cluster
# create) with a slot moved by hand and a fail-over to a replica, and the
# scan history and the fingerprint store on it; the history read from a
# replica; TLS (rediss://, a test CA, a client certificate); the web
# status without passwords; the model's format mark (older models refused);
# bad URLs, passwords and settings. Messages are generated here.
# Needs $SPAMSIFT, $SPAMSIFTD, $FPD, $FPCLI, redis-server, redis-cli, curl,
# openssl and python3.
# Ends with "N passed, N failed".
set -u
. "$(dirname "$0")/lib.sh"
daemon=${SPAMSIFTD:?set SPAMSIFTD to the spamsiftd binary}
FPD=${FPD:?set FPD to the spamsift-fpd binary}
FPCLI=${FPCLI:?set FPCLI to the fpcli test client}
pids=""
# shellcheck disable=SC2086
trap 'for p in $pids; do kill -9 "$p" 2>/dev/null; done; [ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT

# cluster_port: a free port P with P + 10000 (its cluster bus) free too
cluster_port() {
	python3 -c '
import random, socket
for _ in range(200):
    p = random.randint(20000, 45000)
    try:
        for q in (p, p + 10000):
            s = socket.socket(); s.bind(("127.0.0.1", q)); s.close()
    except OSError:
        continue
    print(p); break'
}
c() { curl -sS --max-time 10 "$@"; }
# hmget PORT, evals PORT: how many HMGET, EVAL that Redis has run
hmget() { redis-cli -p "$1" $rauth info commandstats | sed -n 's/^cmdstat_hmget:calls=\([0-9]*\),.*/\1/p'; }
evals() { redis-cli -p "$1" $rauth info commandstats | sed -n 's/^cmdstat_eval:calls=\([0-9]*\),.*/\1/p'; }
# points PORT FILE: the points of a /check at that daemon
points() {
	c --data-binary "@$2" "http://127.0.0.1:$1/check" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["points"])'
}

python3 - "$tmp" "$tests" <<'EOF'
import os, sys
sys.dont_write_bytecode = True
sys.path.insert(0, sys.argv[2])
import genmail
g = genmail.Gen(sys.argv[1], seed=7)
g.corpus()
g.write("teach.eml", "ham", "teach")
os.makedirs(os.path.join(sys.argv[1], "load"))
for i in range(120):
    g.write(os.path.join("load", "%03d.eml" % i), "spam" if i % 2 else "ham", "load%d" % i)
EOF

# One primary with a password (from a file), append-only with fsync on
# every write, so that what it acknowledged survives kill -9.
printf 'pw-%s\n' "$$" >"$tmp/pw"
rpass=$(head -1 "$tmp/pw")
rauth="-a $rpass --no-auth-warning"
p1=$(free_port)
start_redis r1 "$p1" --requirepass "$rpass" --appendonly yes --appendfsync always && ok ||
	bad "redis-server starts"
R=redis://127.0.0.1:$p1
RP="--redis $R --redis-password-file $tmp/pw"

# ---- spamsift with --redis: the same model as the embedded store ----
expect 0 "learn spam on redis" "$bin" learn --spam $RP "$tmp/spam"
grep -q "40 learned" "$tmp/err" && ok || bad "40 learned: $(cat "$tmp/err")"
expect 0 "learn ham on redis" "$bin" learn --ham --redis "redis://:$rpass@127.0.0.1:$p1" "$tmp/ham"
expect 0 "learn spam again" "$bin" learn --spam $RP "$tmp/spam"
grep -q "0 learned, 40 unchanged" "$tmp/err" && ok || bad "learning is idempotent: $(cat "$tmp/err")"
expect 0 "learn for a user" "$bin" learn --ham --user alice $RP "$tmp/spam"
expect 0 "unlearn for a user" "$bin" unlearn --user alice $RP $tmp/spam/0[0-4].eml
# The embedded model made without the compression table, which Redis has not.
for a in spam ham; do "$bin" learn --$a --no-ppm --db "$tmp/db" "$tmp/$a" 2>/dev/null; done
"$bin" learn --ham --user alice --db "$tmp/db" "$tmp/spam" 2>/dev/null
"$bin" unlearn --user alice --db "$tmp/db" $tmp/spam/0[0-4].eml 2>/dev/null
expect 0 "stats on redis" "$bin" stats $RP
grep -q "global: 40 spam, 40 ham" "$tmp/out" && grep -q "user alice: 0 spam, 35 ham" "$tmp/out" &&
	ok || bad "stats: $(cat "$tmp/out")"
# Exports equal but for the time each message was learned.
"$bin" export $RP - | sed 's/ [0-9]*$//' | sort >"$tmp/x.redis"
"$bin" export --db "$tmp/db" - | sed 's/ [0-9]*$//' | sort >"$tmp/x.db"
[ "$(wc -l <"$tmp/x.db")" -gt 3000 ] && cmp -s "$tmp/x.redis" "$tmp/x.db" && ok ||
	bad "redis and lmdb hold the same model ($(diff "$tmp/x.redis" "$tmp/x.db" | head -3))"
for f in probe-spam probe-ham; do
	"$bin" check --json $RP "$tmp/$f.eml" | cut -d, -f2- >"$tmp/s.redis"
	"$bin" check --json --db "$tmp/db" "$tmp/$f.eml" | cut -d, -f2- >"$tmp/s.db"
	cmp -s "$tmp/s.redis" "$tmp/s.db" && ok || bad "$f: the same verdict and score"
done
grep -q '"verdict":"ham"' "$tmp/s.redis" && ok || bad "probe-ham is ham"

# ---- the model's format mark ----
rc() { redis-cli -p "$p1" $rauth "$@"; }
[ "$(rc get 'ss{u0}:v')" = 3 ] && ok || bad "the model is marked with its format: $(rc get 'ss{u0}:v')"
# A model of an older spamsift (data and no mark; database 5), one of
# format 2 (database 6): refused, and nothing written to them.
rc -n 5 hset 'ss{u0}:t' spam 1 ham 0 >/dev/null
rc -n 6 set 'ss{u0}:v' 2 >/dev/null
expect 2 "an unmarked older model is refused" "$bin" stats --redis "$R/5" --redis-password-file "$tmp/pw"
grep -q "a model format this spamsift does not read (an older format, unmarked)" "$tmp/err" && ok ||
	bad "the refusal says why: $(cat "$tmp/err")"
expect 2 "a format 2 model is refused" "$bin" learn --spam --redis "$R/6" --redis-password-file \
	"$tmp/pw" "$tmp/spam"
grep -q "does not read (format 2)" "$tmp/err" && ok || bad "the refusal names format 2: $(cat "$tmp/err")"
[ "$(rc -n 5 exists 'ss{u0}:v')" = 0 ] && [ "$(rc -n 6 dbsize)" = 1 ] && ok ||
	bad "nothing written to a refused model"
expect 0 "an empty database takes a model" "$bin" learn --spam --redis "$R/7" --redis-password-file \
	"$tmp/pw" "$tmp/spam/00.eml"
[ "$(rc -n 7 get 'ss{u0}:v')" = 3 ] && ok || bad "a new model is marked"

# ---- bad input ----

# ---- TLS: rediss:// (OpenSSL under hiredis 0.14, which has none) ----
mkdir -p "$tmp/tls"
(cd "$tmp/tls" &&
	openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=test-ca &&
	openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj /CN=127.0.0.1 &&
	printf 'subjectAltName=IP:127.0.0.1\n' >ext &&
	openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 2 \
		-extfile ext) >/dev/null 2>&1 && ok || bad "a test CA and a certificate for 127.0.0.1"
pt=$(free_port)
mkdir -p "$tmp/rtls"
redis-server --bind 127.0.0.1 --port 0 --tls-port "$pt" --tls-cert-file "$tmp/tls/srv.pem" \
	--tls-key-file "$tmp/tls/srv.key" --tls-ca-cert-file "$tmp/tls/ca.pem" --tls-auth-clients no \
	--requirepass "$rpass" --dir "$tmp/rtls" --save "" --logfile "$tmp/rtls/log" &
pids="$pids $!"
for i in $(seq 100); do
	redis-cli --tls --cacert "$tmp/tls/ca.pem" -p "$pt" -a "$rpass" --no-auth-warning ping 2>/dev/null |
		grep -q PONG && break
	sleep 0.05
done
T="rediss://:$rpass@127.0.0.1:$pt"
expect 0 "learn over TLS" env SSL_CERT_FILE="$tmp/tls/ca.pem" "$bin" learn --spam --redis "$T" "$tmp/spam"
expect 0 "stats over TLS" env SSL_CERT_FILE="$tmp/tls/ca.pem" "$bin" stats --redis "$T"
grep -q "global: $(ls "$tmp/spam" | wc -l) spam" "$tmp/out" && ok || bad "TLS: the learns are there: $(cat "$tmp/out")"
expect 2 "TLS: a server our CAs do not trust" "$bin" stats --redis "$T"
grep -q "TLS handshake failed" "$tmp/err" && ! grep -q "$rpass" "$tmp/err" && ok ||
	bad "TLS: untrusted certificate said: $(cat "$tmp/err")"
expect 2 "TLS: a certificate for another host" env SSL_CERT_FILE="$tmp/tls/ca.pem" "$bin" stats \
	--redis "rediss://:$rpass@localhost:$pt"
expect 2 "TLS: a plain server" env SSL_CERT_FILE="$tmp/tls/ca.pem" "$bin" stats --redis "rediss://:$rpass@127.0.0.1:$p1"
export SSL_CERT_FILE="$tmp/tls/ca.pem"
start_httpd tlsd --redis "$T" --redis-cache 0
unset SSL_CERT_FILE
[ "$(c --data-binary "@$tmp/teach.eml" "http://127.0.0.1:$hport/learn/ham")" = \
	'{"result":"learned","class":"ham"}' ] && ok || bad "spamsiftd learns over TLS: $(cat "$tmp/tlsd.err")"
[ -n "$(points "$hport" "$tmp/teach.eml")" ] && ok || bad "spamsiftd scans over TLS"
kill "$started" 2>/dev/null
expect 0 "stats over TLS after the daemon" env SSL_CERT_FILE="$tmp/tls/ca.pem" "$bin" stats --redis "$T"
grep -q "global: $(ls "$tmp/spam" | wc -l) spam, 1 ham" "$tmp/out" && ok || bad "TLS: the daemon's learn: $(cat "$tmp/out")"
# a server that wants a client certificate (Redis's default,
# tls-auth-clients yes): SPAMSIFT_REDIS_TLS_CERT and _KEY name ours
(cd "$tmp/tls" &&
	openssl req -newkey rsa:2048 -nodes -keyout cli.key -out cli.csr -subj /CN=spamsift &&
	openssl x509 -req -in cli.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out cli.pem -days 2 &&
	openssl req -newkey rsa:2048 -nodes -keyout other.key -out other.csr -subj /CN=other) \
	>/dev/null 2>&1 && ok || bad "a client certificate from the test CA"
pm=$(free_port)
mkdir -p "$tmp/rmtls"
redis-server --bind 127.0.0.1 --port 0 --tls-port "$pm" --tls-cert-file "$tmp/tls/srv.pem" \
	--tls-key-file "$tmp/tls/srv.key" --tls-ca-cert-file "$tmp/tls/ca.pem" \
	--dir "$tmp/rmtls" --save "" --logfile "$tmp/rmtls/log" &
pids="$pids $!"
for i in $(seq 100); do
	redis-cli --tls --cacert "$tmp/tls/ca.pem" --cert "$tmp/tls/cli.pem" --key "$tmp/tls/cli.key" \
		-p "$pm" ping 2>/dev/null | grep -q PONG && break
	sleep 0.05
done
M="rediss://127.0.0.1:$pm"
export SSL_CERT_FILE="$tmp/tls/ca.pem"
expect 2 "TLS: no client certificate for a server that wants one" "$bin" stats --redis "$M"
grep -q "client certificate" "$tmp/err" && ok || bad "says a client certificate may be wanted: $(cat "$tmp/err")"
expect 0 "TLS: with a client certificate" env SPAMSIFT_REDIS_TLS_CERT="$tmp/tls/cli.pem" \
	SPAMSIFT_REDIS_TLS_KEY="$tmp/tls/cli.key" "$bin" learn --spam --redis "$M" "$tmp/spam"
expect 2 "TLS: a certificate without its key" env SPAMSIFT_REDIS_TLS_CERT="$tmp/tls/cli.pem" \
	"$bin" stats --redis "$M"
grep -q "go together" "$tmp/err" && ok || bad "says the two go together: $(cat "$tmp/err")"
expect 2 "TLS: a key that is not the certificate's" env SPAMSIFT_REDIS_TLS_CERT="$tmp/tls/cli.pem" \
	SPAMSIFT_REDIS_TLS_KEY="$tmp/tls/other.key" "$bin" stats --redis "$M"
grep -q "does not match" "$tmp/err" && ok || bad "says the key does not match: $(cat "$tmp/err")"
unset SSL_CERT_FILE

# ---- bad input ----
expect 2 "bad port" "$bin" check --redis "redis://:topsecret@127.0.0.1:99999" "$tmp/teach.eml"
grep -q "bad port" "$tmp/err" && ! grep -q topsecret "$tmp/err" && ok ||
	bad "says bad port, not the password: $(cat "$tmp/err")"
expect 2 "nobody there" "$bin" check --redis "redis://127.0.0.1:$(free_port)" "$tmp/teach.eml"
grep -q "cannot connect" "$tmp/err" && ok || bad "says cannot connect: $(cat "$tmp/err")"
expect 2 "wrong password" "$bin" check --redis "redis://:nope@127.0.0.1:$p1" "$tmp/teach.eml"
grep -q "login refused" "$tmp/err" && ok || bad "says login refused: $(cat "$tmp/err")"
expect 2 "no password" "$bin" learn --spam --redis "$R" "$tmp/teach.eml"
expect 2 "password file missing" "$bin" check --redis "$R" --redis-password-file "$tmp/none" \
	"$tmp/teach.eml"
printf 'redis = http://x\nhttp = 127.0.0.1:0\n' >"$tmp/bad.conf"
expect 2 "config: bad redis URL" "$daemon" -c "$tmp/bad.conf"
grep -q "bad.conf:1: redis: not a redis://, rediss:// or redis+sentinel:// URL" "$tmp/err" && ok || bad "FILE:LINE: $(cat "$tmp/err")"
expect 2 "config: db and redis" "$daemon" --db "$tmp/db" --redis "$R" --http 127.0.0.1:0
expect 2 "config: journal without redis" "$daemon" --redis-journal "$tmp/j" --http 127.0.0.1:0
expect 2 "config: journal size too small" "$daemon" $RP --redis-journal-size 10 --http 127.0.0.1:0
expect 2 "config: no memory for users' copies" "$daemon" $RP --redis-user-cache 0 --http 127.0.0.1:0
grep -q "redis_user_cache" "$tmp/err" && ok || bad "names the setting: $(cat "$tmp/err")"
expect 2 "config: a wait over 10 s" "$daemon" $RP --redis-user-wait 11 --http 127.0.0.1:0
grep -q "redis_user_wait" "$tmp/err" && ok || bad "names the setting: $(cat "$tmp/err")"

# ---- migrate: embedded -> Redis -> embedded gives back the same model ----
expect 0 "migrate to redis" "$bin" migrate --from "$tmp/db" --to "$R/3" \
	--redis-password-file "$tmp/pw"
grep -q "1 users" "$tmp/err" && ok || bad "migrate counts: $(cat "$tmp/err")"
expect 2 "migrate into a model" "$bin" migrate --from "$tmp/db" --to "$R/3" \
	--redis-password-file "$tmp/pw"
grep -q "already holds a model" "$tmp/err" && ok || bad "refuses to merge: $(cat "$tmp/err")"
expect 0 "migrate back" "$bin" migrate --from "$R/3" --to "$tmp/db2" --redis-password-file "$tmp/pw"
"$bin" export --db "$tmp/db" - | sort >"$tmp/m1"
"$bin" export --db "$tmp/db2" - | sort >"$tmp/m2"
"$bin" export --redis "$R/3" --redis-password-file "$tmp/pw" - | sort >"$tmp/m3"
cmp -s "$tmp/m1" "$tmp/m2" && cmp -s "$tmp/m1" "$tmp/m3" && ok || bad "round trip is exact"
for u in "" alice; do
	"$bin" check --json ${u:+--user $u} --db "$tmp/db" "$tmp/probe-spam.eml" >"$tmp/c1"
	"$bin" check --json ${u:+--user $u} --db "$tmp/db2" "$tmp/probe-spam.eml" >"$tmp/c2"
	"$bin" check --json ${u:+--user $u} --redis "$R/3" --redis-password-file "$tmp/pw" \
		"$tmp/probe-spam.eml" >"$tmp/c3"
	cmp -s "$tmp/c1" "$tmp/c2" && cmp -s "$tmp/c1" "$tmp/c3" && ok ||
		bad "scores the same after migrating (user '$u')"
done
expect 2 "migrate usage" "$bin" migrate --from "$tmp/db"

# ---- a 3-master Cluster made by redis-cli --cluster create ----
cports=""
pwauth=$rauth
rauth="" # the cluster's nodes have no password
for n in 1 2 3; do
	cp=$(cluster_port)
	start_redis "node$n" "$cp" --cluster-enabled yes --cluster-config-file nodes.conf \
		--cluster-node-timeout 1000 --appendonly no || bad "cluster node $n starts"
	cports="$cports $cp"
done
rauth=$pwauth
set -- $cports
c1=$1 c2=$2 c3=$3
redis-cli --cluster create "127.0.0.1:$c1" "127.0.0.1:$c2" "127.0.0.1:$c3" --cluster-replicas 0 \
	--cluster-yes >"$tmp/cluster.log" 2>&1 && ok || bad "cluster create: $(tail -3 "$tmp/cluster.log")"
for i in $(seq 100); do
	n=0
	for cp in $cports; do
		redis-cli -p "$cp" cluster info | grep -q "cluster_state:ok" && n=$((n + 1))
	done
	[ "$n" = 3 ] && break
	sleep 0.1
done
[ "$n" = 3 ] && ok || bad "the cluster is up"
C=redis://127.0.0.1:$c2 # any node will do as the seed
expect 0 "learn spam on the cluster" "$bin" learn --spam --redis "$C" "$tmp/spam"
expect 0 "learn ham on the cluster" "$bin" learn --ham --redis "$C" "$tmp/ham"
for a in spam ham; do "$bin" learn --$a --no-ppm --db "$tmp/cdb" "$tmp/$a" 2>/dev/null; done
for u in alice bob carol dave; do
	"$bin" learn --ham --user $u --redis "$C" $tmp/spam/0[0-9].eml 2>/dev/null
	"$bin" learn --ham --user $u --db "$tmp/cdb" $tmp/spam/0[0-9].eml 2>/dev/null
done
"$bin" export --redis "$C" - | sed 's/ [0-9]*$//' | sort >"$tmp/cx.redis"
"$bin" export --db "$tmp/cdb" - | sed 's/ [0-9]*$//' | sort >"$tmp/cx.db"
cmp -s "$tmp/cx.redis" "$tmp/cx.db" && ok || bad "the cluster holds the same model as lmdb"
# the users' models are spread over the masters
nodes=0
for cp in $cports; do
	[ "$(redis-cli -p "$cp" dbsize)" -gt 0 ] && nodes=$((nodes + 1))
done
[ "$nodes" -ge 2 ] && ok || bad "keys on $nodes of 3 masters"
start_httpd ca --redis "$C" --redis-cache 0
hca=$hport
dead=$(free_port)
start_httpd cb --redis "redis://127.0.0.1:$dead" --redis "redis://127.0.0.1:$c3"
hcb=$hport
[ -n "$hcb" ] && ok || bad "a daemon starts with a dead seed first: $(cat "$tmp/cb.err")"
before=$(points "$hcb" "$tmp/teach.eml")
[ "$(c --data-binary "@$tmp/teach.eml" "http://127.0.0.1:$hca/learn/spam")" = \
	'{"result":"learned","class":"spam"}' ] && ok || bad "learn at a cluster daemon"
sleep 1.1
after=$(points "$hcb" "$tmp/teach.eml")
gt "$after" "$before" && ok || bad "the other daemon sees it within 1 s ($before -> $after)"
# the scan history on the Cluster (its {h} slot's master): cb's two scans
# (cb found the Cluster through its second seed) are listed at ca
for i in $(seq 30); do
	n=$(c "http://127.0.0.1:$hca/api/history?limit=10" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["entries"]))' 2>/dev/null)
	[ "${n:-0}" -ge 2 ] && break
	sleep 0.1
done
[ "${n:-0}" -ge 2 ] && ok || bad "the history on the Cluster: $n entries at ca ($(tail -3 "$tmp/ca.err"))"
[ "$(redis-cli -c -p "$c1" exists "ss{h}:ids")" = 1 ] && ok || bad "the history's keys are on the Cluster"
# the fingerprint store on the Cluster: two spamsift-fpd sharing it
"$bin" fp keygen alice >"$tmp/fp.keys"
for n in f1 f2; do
	: >"$tmp/$n.out"
	"$FPD" --redis "$C" --listen 127.0.0.1:0 --keys "$tmp/fp.keys" >"$tmp/$n.out" 2>"$tmp/$n.err" &
	pids="$pids $!"
	for i in $(seq 50); do grep -q '^tcp ' "$tmp/$n.out" && break; sleep 0.1; done
done
f1=$(sed -n 's/^udp \(127\.0\.0\.1:[0-9]*\)$/\1/p' "$tmp/f1.out")
f2=$(sed -n 's/^udp \(127\.0\.0\.1:[0-9]*\)$/\1/p' "$tmp/f2.out")
expect 0 "a fingerprint ADD on the Cluster" "$FPCLI" "$f1" "$tmp/fp.keys" alice add 1
expect 0 "found by the other server" "$FPCLI" "$f2" "$tmp/fp.keys" alice lookup 1
[ "$(redis-cli -c -p "$c1" exists "ssf{f}:e")" = 1 ] && ok || bad "the fingerprints' keys are on the Cluster"
# Move the global model's slot to another master by hand: while it moves
# the old owner answers ASK, then MOVED; scans and learns follow.
slot=$(redis-cli -p "$c1" cluster keyslot "ss{u0}:f")
owner="" target=""
for cp in $cports; do
	id=$(redis-cli -p "$cp" cluster myid)
	if redis-cli -p "$cp" cluster countkeysinslot "$slot" | grep -qv '^0$'; then
		owner=$cp oid=$id
	elif [ -z "$target" ]; then
		target=$cp tid=$id
	fi
done
p0=$(points "$hca" "$tmp/probe-spam.eml")
redis-cli -p "$target" cluster setslot "$slot" importing "$oid" >/dev/null
redis-cli -p "$owner" cluster setslot "$slot" migrating "$tid" >/dev/null
keys=$(redis-cli -p "$owner" cluster getkeysinslot "$slot" 100 | tr '\n' ' ')
# shellcheck disable=SC2086
redis-cli -p "$owner" migrate 127.0.0.1 "$target" "" 0 5000 keys $keys >/dev/null
[ "$(redis-cli -p "$owner" cluster countkeysinslot "$slot")" = 0 ] && ok || bad "keys moved"
[ "$(points "$hca" "$tmp/probe-spam.eml")" = "$p0" ] && ok || bad "a scan follows ASK"
for cp in $cports; do redis-cli -p "$cp" cluster setslot "$slot" node "$tid" >/dev/null; done
[ "$(points "$hca" "$tmp/probe-spam.eml")" = "$p0" ] && ok || bad "a scan follows MOVED"
[ "$(c --data-binary "@$tmp/probe-spam.eml" "http://127.0.0.1:$hca/learn/spam")" = \
	'{"result":"learned","class":"spam"}' ] && ok || bad "a learn after the move"
[ "$(redis-cli -p "$target" cluster countkeysinslot "$slot")" -gt 0 ] &&
	[ "$(redis-cli -p "$owner" cluster countkeysinslot "$slot")" = 0 ] && ok ||
	bad "the learn went to the new owner"
expect 2 "several URLs for a lone server" "$bin" stats $RP --redis "redis://127.0.0.1:$p1"
grep -q "not a Cluster node" "$tmp/err" && ok || bad "says so: $(cat "$tmp/err")"
"$bin" stats --redis "redis://127.0.0.1:$dead" --redis "$C" >"$tmp/cst"
grep -q "global: 42 spam, 40 ham" "$tmp/cst" && grep -q "user dave: 0 spam, 10 ham" "$tmp/cst" &&
	ok || bad "cluster stats: $(cat "$tmp/cst")"
# A fail-over: the global model's master gets a replica, then is killed;
# once the replica has taken over, the daemons find it (a new slot map).
rp=$(cluster_port)
start_redis rep "$rp" --cluster-enabled yes --cluster-config-file nodes.conf \
	--cluster-node-timeout 1000 --appendonly no || bad "the replica node starts"
redis-cli --cluster add-node "127.0.0.1:$rp" "127.0.0.1:$target" --cluster-slave \
	--cluster-master-id "$tid" >"$tmp/addnode.log" 2>&1 || bad "add-node: $(tail -3 "$tmp/addnode.log")"
for i in $(seq 100); do
	mo=$(redis-cli -p "$target" info replication | sed -n 's/^master_repl_offset:\([0-9]*\).*/\1/p')
	so=$(redis-cli -p "$rp" info replication | sed -n 's/^slave_repl_offset:\([0-9]*\).*/\1/p')
	redis-cli -p "$rp" info replication | grep -q "master_link_status:up" && [ "$mo" = "$so" ] && break
	sleep 0.1
done
[ "$mo" = "$so" ] && ok || bad "the replica is in sync ($mo, $so)"
pa=$(points "$hca" "$tmp/probe-ham.eml")
n=0
for cp in $cports; do
	n=$((n + 1))
	[ "$cp" = "$target" ] && kill -9 "$(cat "$tmp/node$n.pid")"
done
for i in $(seq 150); do
	redis-cli -p "$rp" role 2>/dev/null | head -1 | grep -q master && break
	sleep 0.1
done
redis-cli -p "$rp" role | head -1 | grep -q master && ok || bad "the replica took over"
for i in $(seq 50); do
	c --data-binary "@$tmp/probe-ham.eml" "http://127.0.0.1:$hca/check" >"$tmp/fo.json"
	grep -q REDIS_UNAVAILABLE "$tmp/fo.json" || break
	sleep 0.2
done
[ "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["points"])' "$tmp/fo.json")" = "$pa" ] &&
	ok || bad "scans find the new master: $pa vs $(head -c 300 "$tmp/fo.json")"
[ "$(c --data-binary "@$tmp/teach.eml" -H "X-User: erin" "http://127.0.0.1:$hca/learn/ham")" = \
	'{"result":"learned","class":"ham","user":"erin"}' ] && ok || bad "learns after the fail-over"

# ---- two daemons share the model ----
start_httpd a $RP --redis-journal "$tmp/a.journal"
ha=$hport a=$started
start_httpd b $RP
hb=$hport b=$started
[ -n "$ha" ] && [ -n "$hb" ] && ok || bad "both daemons start: $(cat "$tmp/a.err" "$tmp/b.err")"
grep -q "model redis 127.0.0.1:$p1/0" "$tmp/a.err" && ! grep -q "$rpass" "$tmp/a.err" && ok ||
	bad "the log names the model, not the password"
# the web page's status shows the Redis settings, never the password
start_httpd pwurl --redis "redis://:$rpass@127.0.0.1:$p1" --redis-replica "redis://u:$rpass@127.0.0.1:$p1/0"
c "http://127.0.0.1:$hport/api/status" >"$tmp/status.json"
kill "$started" 2>/dev/null
[ "$(python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["config"]; print(c["redis"], c["redis_replica"], c["redis_cache"])' "$tmp/status.json")" = \
	"redis://***@127.0.0.1:$p1/0 redis://u:***@127.0.0.1:$p1/0 1" ] && ok ||
	bad "status shows the Redis URLs masked: $(head -c 600 "$tmp/status.json")"
! grep -q "$rpass" "$tmp/status.json" && ok || bad "the password is not in the status"
before=$(points "$hb" "$tmp/teach.eml")
[ "$(c --data-binary "@$tmp/teach.eml" "http://127.0.0.1:$ha/learn/spam")" = \
	'{"result":"learned","class":"spam"}' ] && ok || bad "learn at a"
sleep 1.1 # the read cache's bound (redis_cache, default 1 s)
after=$(points "$hb" "$tmp/teach.eml")
gt "$after" "$before" && ok || bad "b sees a's learn within 1 s ($before -> $after)"
[ "$(c --data-binary "@$tmp/teach.eml" "http://127.0.0.1:$hb/learn/spam")" = \
	'{"result":"unchanged","class":"spam"}' ] && ok || bad "b knows the message is learned"

# ---- users' models: spamsiftd scans them from copies it keeps (loaded
# the first time a scan asks, then followed through the notices), so a
# user's learn at a is seen at b within 1 s, and a slow Redis does not
# hold scans up ----
# upoints PORT USER FILE: the points of a /check for USER
upoints() {
	c --data-binary "@$3" -H "X-User: $2" "http://127.0.0.1:$1/check" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["points"])'
}
u0=$(upoints "$hb" uma "$tmp/teach.eml") # uma has no model yet: the global one
[ "$u0" = "$(points "$hb" "$tmp/teach.eml")" ] && ok || bad "a user without a model scores as global"
[ "$(c --data-binary "@$tmp/teach.eml" -H "X-User: uma" "http://127.0.0.1:$ha/learn/ham")" = \
	'{"result":"learned","class":"ham","user":"uma"}' ] && ok || bad "a new user's learn at a"
sleep 1.1
u1=$(upoints "$hb" uma "$tmp/teach.eml")
gt "$u0" "$u1" && ok || bad "b sees a new user's learn at a within 1 s ($u0 -> $u1)"
s0=$(upoints "$hb" uma "$tmp/probe-spam.eml")
c --data-binary "@$tmp/probe-spam.eml" -H "X-User: uma" "http://127.0.0.1:$ha/learn/ham" >/dev/null
sleep 1.1
s1=$(upoints "$hb" uma "$tmp/probe-spam.eml")
gt "$s0" "$s1" && ok || bad "b's copy of uma's model follows her next learn within 1 s ($s0 -> $s1)"
# what Redis is asked meanwhile (the sync threads read the totals each round)
uid=$(redis-cli -p "$p1" $rauth hget 'ss{g}:uid' uma)
redis-cli -p "$p1" $rauth monitor >"$tmp/monitor" 2>&1 &
mon=$!
sleep 0.3
for i in 1 2 3; do upoints "$hb" uma "$tmp/probe-ham.eml" >/dev/null; done
kill "$mon"
grep -q '"PING"\|"HMGET"' "$tmp/monitor" && ! grep -q "\"HMGET\" \"ss{u$uid}:f\"" "$tmp/monitor" && ok ||
	bad "scans of a user's model read its copy, not Redis: $(grep -c "ss{u$uid}:f" "$tmp/monitor")"
# Redis paused for 3 s (CLIENT PAUSE): a daemon that waits up to 3 s for
# Redis answers scans from its copies at once; a user it has not met is
# scored with the global model after its short wait
start_httpd slow $RP --redis-timeout 3
hs=$hport
us=$(upoints "$hs" uma "$tmp/teach.eml")
[ "$us" = "$(upoints "$hb" uma "$tmp/teach.eml")" ] && ok || bad "a third daemon loads uma's copy"
redis-cli -p "$p1" $rauth client pause 3000 all >/dev/null
sleep 1.2 # older than the 1 s bound: the copies are used, and say so
t=$(c -o "$tmp/slow.json" -w '%{time_total}' --data-binary "@$tmp/teach.eml" -H "X-User: uma" \
	"http://127.0.0.1:$hs/check")
tn=$(c -o "$tmp/slow2.json" -w '%{time_total}' --data-binary "@$tmp/teach.eml" \
	-H "X-User: vic" "http://127.0.0.1:$hs/check")
gt 1.0 "$t" && gt 1.0 "$tn" && ok || bad "scans do not wait on a paused Redis (${t} s, ${tn} s)"
[ "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["points"])' "$tmp/slow.json")" = "$us" ] &&
	grep -q REDIS_UNAVAILABLE "$tmp/slow.json" && ok ||
	bad "uma is scored from her copy, with REDIS_UNAVAILABLE: $(head -c 300 "$tmp/slow.json")"
[ "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["points"])' "$tmp/slow2.json")" = "$u0" ] &&
	grep -q REDIS_UNAVAILABLE "$tmp/slow2.json" && ok ||
	bad "a user not met is scored with the global model: $(head -c 300 "$tmp/slow2.json")"
sleep 2
kill "$started"
# the copies' memory is bounded (redis_user_cache, in MB): 100 users with
# a model each, scanned at a daemon allowed 1 MB of copies
# as_many PORT PATH: POSTs probe-ham to PATH as users many0..many99
as_many() {
	python3 - "$1" "$2" "$tmp/probe-ham.eml" <<'EOF2'
import http.client, sys
port, path, body = int(sys.argv[1]), sys.argv[2], open(sys.argv[3], "rb").read()
for i in range(100):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("POST", path, body, {"X-User": "many%d" % i})
    c.getresponse().read()
EOF2
}
as_many "$ha" /learn/spam
start_httpd bound $RP --redis-user-cache 1
as_many "$hport" /check
sleep 1.5 # the sync thread evicts and counts once a second
c "http://127.0.0.1:$hport/metrics" >"$tmp/bm"
n=$(sed -n 's/^spamsift_redis_user_copies \([0-9]*\)$/\1/p' "$tmp/bm")
by=$(sed -n 's/^spamsift_redis_user_copy_bytes \([0-9]*\)$/\1/p' "$tmp/bm")
[ "${n:-0}" -gt 10 ] && [ "$n" -lt 100 ] && [ "${by:-0}" -le 1048576 ] && ok ||
	bad "the copies stay within 1 MB: ${n:-?} copies, ${by:-?} bytes"
# a model too big for one copy (over a sixteenth of the bound, at 32 bytes
# a feature) gets none: its scans read Redis, and score the same
for d in spam ham load; do "$bin" learn --ham --user big $RP "$tmp/$d" 2>/dev/null; done
bid=$(redis-cli -p "$p1" $rauth hget 'ss{g}:uid' big)
[ "$(($(redis-cli -p "$p1" $rauth hlen "ss{u$bid}:f") * 32))" -gt 65536 ] && ok ||
	bad "big's model is over 64 KB"
redis-cli -p "$p1" $rauth monitor >"$tmp/monitor2" 2>&1 &
mon=$!
sleep 0.3
bp=$(upoints "$hport" big "$tmp/teach.eml")
bp2=$(upoints "$hport" big "$tmp/teach.eml")
kill "$mon"
grep -q "\"HMGET\" \"ss{u$bid}:f\"" "$tmp/monitor2" && ! grep -q "\"HSCAN\" \"ss{u$bid}:f\"" "$tmp/monitor2" &&
	ok || bad "big's scans read Redis, no copy is loaded"
[ "$bp" = "$bp2" ] && [ "$bp" = "$(upoints "$hb" big "$tmp/teach.eml")" ] && ok ||
	bad "big scores the same with or without a copy ($bp, $bp2)"
kill "$started"

# ---- reloads: a changed Redis setting reopens the model (its mirror's
# thread stopped with the old one), an unchanged one keeps it ----
printf 'redis = %s\nredis_password_file = %s\nhttp = 127.0.0.1:0\n' "$R" "$tmp/pw" >"$tmp/r.conf"
start_httpd conf -c "$tmp/r.conf"
hc=$hport pc=$started
p0=$(points "$hc" "$tmp/probe-spam.eml")
printf 'redis_cache = 0.5\n' >>"$tmp/r.conf"
for n in 2 3; do
	kill -HUP "$pc"
	for i in $(seq 50); do
		grep -q "configuration $n: released\|configuration $((n - 1)): released" "$tmp/conf.err" &&
			break
		sleep 0.1
	done
done
sleep 0.6
[ "$(points "$hc" "$tmp/probe-spam.eml")" = "$p0" ] && ok || bad "scores the same after reloads"
[ "$(grep -c "configuration [0-9]: model redis 127.0.0.1:$p1/0" "$tmp/conf.err")" = 3 ] && ok ||
	bad "three configurations on the model: $(grep configuration "$tmp/conf.err")"
kill "$pc"
wait "$pc"
[ $? = 0 ] && ok || bad "a clean stop after reloads"

# ---- a replica to read from ----
p2=$(free_port)
start_redis r2 "$p2" --replicaof 127.0.0.1 "$p1" --masterauth "$rpass" --requirepass "$rpass" &&
	ok || bad "the replica starts"
for i in $(seq 100); do
	redis-cli -p "$p2" $rauth info replication | grep -q "master_link_status:up" && break
	sleep 0.1
done
redis-cli -p "$p2" $rauth info replication | grep -q "master_link_status:up" && ok ||
	bad "the replica is in sync"
start_httpd r $RP --redis-replica "redis://127.0.0.1:$p2" --redis-cache 0
hr=$hport
kill -STOP "$a" "$b" # their mirrors' syncs would read the primary meanwhile
h1=$(hmget "$p1") h2=$(hmget "$p2") e1=$(evals "$p1")
for i in 1 2 3; do points "$hr" "$tmp/probe-spam.eml" >/dev/null; done
[ "$(hmget "$p1")" = "$h1" ] && [ "${h2:-0}" -lt "$(hmget "$p2")" ] && ok ||
	bad "scans read the replica ($h1 -> $(hmget "$p1"), ${h2:-0} -> $(hmget "$p2"))"
c --data-binary "@$tmp/probe-ham.eml" "http://127.0.0.1:$hr/learn/ham" >/dev/null
[ "$(evals "$p1")" -gt "$e1" ] && ok || bad "learns write to the primary"
# the web page's history: written to the primary, read from the replica
zr() { redis-cli -p "$1" $rauth info commandstats | sed -n 's/^cmdstat_zrevrangebyscore:calls=\([0-9]*\),.*/\1/p'; }
z1=$(zr "$p1") z2=$(zr "$p2")
for i in $(seq 30); do
	n=$(c "http://127.0.0.1:$hr/api/history?limit=10" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["entries"]))' 2>/dev/null)
	[ "${n:-0}" -ge 3 ] && break
	sleep 0.1
done
[ "${n:-0}" -ge 3 ] && [ "$(zr "$p1")" = "$z1" ] && [ "$(zr "$p2")" -gt "${z2:-0}" ] && ok ||
	bad "the history is read from the replica: $n entries, primary ${z1:-0} -> $(zr "$p1"), replica ${z2:-0} -> $(zr "$p2")"
kill -CONT "$a" "$b"

# ---- kill -9 Redis in the middle of learns and scans, then restart it ----
"$bin" stats $RP >"$tmp/st0"
t0=$(sed -n 's/^global: \([0-9]*\) spam, \([0-9]*\) ham.*/\1 \2/p' "$tmp/st0")
python3 - "$ha" "$tmp" >"$tmp/load.out" 2>&1 <<'EOF' &
import http.client, json, os, sys, time
port, root = int(sys.argv[1]), sys.argv[2]
learned = failed = scans = scan_fail = unavailable = 0
for i in range(120):
    f = os.path.join(root, "load", "%03d.eml" % i)
    body = open(f, "rb").read()
    for path in ("/learn/spam" if i % 2 else "/learn/ham", "/check"):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        c.request("POST", path, body)
        r = c.getresponse()
        out = r.read()
        if path == "/check":
            scans += 1
            if r.status != 200:
                scan_fail += 1
            elif b"REDIS_UNAVAILABLE" in out:
                unavailable += 1
        elif r.status == 200 and json.loads(out)["result"] == "learned":
            learned += 1
        else:
            failed += 1
            print("learn failed:", r.status, out)
    time.sleep(0.02)
print("learned %d failed %d scans %d scan_fail %d unavailable %d"
      % (learned, failed, scans, scan_fail, unavailable))
EOF
load=$!
sleep 0.8
kill -9 "$(cat "$tmp/r1.pid")"
sleep 1.5
start_redis r1 "$p1" --requirepass "$rpass" --appendonly yes --appendfsync always && ok ||
	bad "redis-server restarts"
wait "$load"
grep -q "^learned 120 failed 0 scans 120 scan_fail 0 unavailable [1-9]" "$tmp/load.out" && ok ||
	bad "every learn taken, every scan answered, some from the cache: $(cat "$tmp/load.out")"
points "$ha" "$tmp/probe-ham.eml" >/dev/null # the journal goes out before the next read
for i in $(seq 50); do
	c "http://127.0.0.1:$ha/metrics" >"$tmp/metrics"
	grep -q "^spamsift_redis_journal_bytes 0$" "$tmp/metrics" && break
	sleep 0.1
	points "$ha" "$tmp/probe-ham.eml" >/dev/null
done
j=$(sed -n 's/^spamsift_redis_journaled_total \([0-9]*\)$/\1/p' "$tmp/metrics")
rp=$(sed -n 's/^spamsift_redis_replayed_total \([0-9]*\)$/\1/p' "$tmp/metrics")
[ "${j:-0}" -gt 0 ] && [ "$j" = "$rp" ] && grep -q "^spamsift_redis_journal_bytes 0$" "$tmp/metrics" &&
	ok || bad "learns journalled while Redis was down, all replayed ($j, $rp)"
"$bin" stats $RP >"$tmp/st1"
set -- $t0
grep -q "^global: $(($1 + 60)) spam, $(($2 + 60)) ham" "$tmp/st1" && ok ||
	bad "no learn lost: $t0 + 60/60, now $(head -1 "$tmp/st1")"
# a's mirror of the global model caught up after the restart: it scores as
# a daemon that reads Redis for every scan
start_httpd fresh $RP --redis-cache 0
sleep 1.1
for f in probe-spam probe-ham teach; do
	[ "$(points "$ha" "$tmp/$f.eml")" = "$(points "$hport" "$tmp/$f.eml")" ] && ok ||
		bad "$f: the mirror scores as Redis does"
done
kill "$started"
expect 0 "learn the load again" "$bin" learn --spam $RP $tmp/load/*[13579].eml
grep -q " 0 learned, 60 unchanged" "$tmp/err" && ok ||
	bad "each load message is remembered: $(cat "$tmp/err")"

# ---- a full journal: an error in the log, a metric, a failed learn ----
start_httpd f $RP --redis-journal "$tmp/f.journal" --redis-journal-size 16384
hf=$hport
kill -9 "$(cat "$tmp/r1.pid")"
codes=""
for i in 0 1 2 3 4 5 6 7; do
	codes="$codes $(c -o /dev/null -w '%{http_code}' --data-binary "@$tmp/ham/0$i.eml" \
		"http://127.0.0.1:$hf/learn/spam")"
done
case "$codes" in *200*500*) ok ;; *) bad "learns fail once the journal is full: $codes" ;; esac
grep -q "journal is full" "$tmp/f.err" && ok || bad "the log says the journal is full"
c "http://127.0.0.1:$hf/metrics" | grep -q "^spamsift_redis_journal_full_total [1-9]" && ok ||
	bad "the metric counts it"
[ "$(c -o /dev/null -w '%{http_code}' --data-binary "@$tmp/probe-spam.eml" \
	"http://127.0.0.1:$hf/check")" = 200 ] && ok || bad "scans go on with Redis down"

[ -z "${KEEP:-}" ] || echo "kept $tmp (KEEP is set)"
finish
