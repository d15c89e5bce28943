#!/bin/sh
# run-redis.sh [SPAMSIFT SPAMSIFTD SPAMC_LOAD]: the model on Redis against
# the embedded store (issue 7), with rspamd's Bayes on the same
# redis-server as the anchor.
#  1. rspamd-bayes (bench/peers.py: the anchors' rspamd with only its Bayes
#     classifier, on a private redis-server) trained on the first half of
#     the SpamAssassin index; spamsift uses database 1 of that same
#     redis-server (rspamd uses 0);
#  2. learn throughput: `spamsift learn` of the first half into LMDB and
#     into Redis (messages/s, one process); then LEARN messages of the
#     second half learned one at a time over HTTP, sequentially, by
#     spamsiftd on Redis (POST /learn/spam|ham) and by rspamd's controller
#     (POST /learnspam|/learnham), each on its own copy of the model;
#  3. scan throughput: bench/spamc_load, CLIENTS concurrent spamd-protocol
#     connections for DURATION s over the second half, against spamsiftd
#     on LMDB, on Redis as spamsiftd runs by default (redis_cache 1 s: the
#     global model mirrored, followed through its change feed), the same
#     two for a user with a model of their own (400 messages; on Redis
#     scanned from the user's copy), on Redis
#     without cache or mirror (every scan asks Redis), and rspamd-bayes;
#     servers and clients pinned to CPUS, WORKERS workers each; LMDB and
#     Redis twice, alternated, the better run of each kept.
# Every server is started on 127.0.0.1 with its own folder under
# build/bench/redis/ and stopped by its PID. The table and the bar
# (Redis >= 80% of embedded) go to standard output and build/bench/redis.txt.
# Environment: DURATION (15), CLIENTS (16), WORKERS (2), CPUS (0,1),
# LEARN (300).
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
abs() { case "$1" in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
bin=$(abs "${1:-$root/build/spamsift}")
daemon=$(abs "${2:-$root/build/spamsiftd}")
load=$(abs "${3:-$root/build/bench/spamc_load}")
cd "$root"
corpora=../shared/corpora
out=build/bench/redis.txt
work=build/bench/redis
duration=${DURATION:-15}
clients=${CLIENTS:-16}
workers=${WORKERS:-2}
cpus=${CPUS:-0,1}
nlearn=${LEARN:-300}

if [ ! -d "$corpora" ]; then
	echo "run-redis.sh: $corpora is absent: nothing to measure, skipped"
	exit 0
fi
for t in "$bin" "$daemon" "$load"; do
	[ -x "$t" ] || { echo "run-redis.sh: $t not built" >&2; exit 1; }
done
"$corpora/unpack" build/corpora >/dev/null
idx=build/corpora/spamassassin/index
rm -rf "$work" && mkdir -p "$work"

pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	for p in $pids; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM
stop() {
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
	pids=$(echo " $pids " | sed "s/ $1 / /")
}
field() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -n 1; }
now() { date +%s.%N; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.0f", n / (b - a) }'; }

half=$(($(wc -l <"$idx") / 2))
head -n "$half" "$idx" | awk '$1=="spam"{print "build/corpora/spamassassin/"$2}' >"$work/train-spam.list"
head -n "$half" "$idx" | awk '$1=="ham"{print "build/corpora/spamassassin/"$2}' >"$work/train-ham.list"
tail -n +"$((half + 1))" "$idx" | awk '{print "build/corpora/spamassassin/"$2}' >"$work/test.list"
tail -n +"$((half + 1))" "$idx" | head -n "$nlearn" |
	awk '{print $1, "build/corpora/spamassassin/"$2}' >"$work/learn.list"
: >"$work/rows"

# 1. rspamd-bayes and its redis-server.
echo "run-redis.sh: rspamd-bayes (peers.py), training" >&2
d=$work/rspamd-bayes
mkdir -p "$d"
taskset -c "$cpus" python3 bench/peers.py rspamd-bayes "$d/data" "$work/train-spam.list" \
	"$work/train-ham.list" "$workers" >"$d/ports" 2>"$d/log" &
ppid=$!
pids="$pids $ppid"
while ! grep -q '^ready' "$d/ports" && kill -0 "$ppid" 2>/dev/null; do sleep 1; done
if ! grep -q '^ready' "$d/ports"; then
	echo "run-redis.sh: rspamd-bayes did not start: $(tail -n 3 "$d/log")" >&2
	exit 1
fi
rport=$(sed -n 's/^servers = "127\.0\.0\.1:\([0-9]*\)";$/\1/p' \
	"$d/data/etc/local.d/classifier-bayes.conf")
cport=$(sed -n 's/^bind_socket = "127\.0\.0\.1:\([0-9]*\)";$/\1/p' \
	"$d/data/etc/override.d/worker-controller.inc")
R=redis://127.0.0.1:$rport/1
redis-cli -p "$rport" -n 1 flushdb >/dev/null

# 2. learn throughput, spamsift learn.
ntrain=$(cat "$work/train-spam.list" "$work/train-ham.list" | wc -l)
for where in lmdb redis; do
	if [ $where = lmdb ]; then m="--db $work/db"; else m="--redis $R"; fi
	t0=$(now)
	# shellcheck disable=SC2086
	xargs taskset -c "$cpus" "$bin" learn --spam $m <"$work/train-spam.list" >/dev/null 2>&1
	# shellcheck disable=SC2086
	xargs taskset -c "$cpus" "$bin" learn --ham $m <"$work/train-ham.list" >/dev/null 2>&1
	t1=$(now)
	echo "learn-cli $where $(rate "$ntrain" "$t0" "$t1")" >>"$work/learn"
done

# start_daemon NAME ARGS...: spamsiftd pinned to CPUS; sets $dpid, $sport, $hport
start_daemon() {
	name=$1
	shift
	taskset -c "$cpus" "$daemon" --threads "$workers" --quiet --spamd 127.0.0.1:0 \
		--http 127.0.0.1:0 "$@" >"$work/$name.ports" 2>"$work/$name.log" &
	dpid=$!
	pids="$pids $dpid"
	i=0
	until grep -q '^http ' "$work/$name.ports" 2>/dev/null; do
		i=$((i + 1))
		[ "$i" -le 100 ] || { cat "$work/$name.log" >&2; exit 1; }
		sleep 0.1
	done
	sport=$(sed -n 's/^spamd 127\.0\.0\.1://p' "$work/$name.ports")
	hport=$(sed -n 's/^http 127\.0\.0\.1://p' "$work/$name.ports")
}
# scan NAME PORT [USER]: one warm-up, one measured spamc_load run
scan() {
	taskset -c "$cpus" "$load" -c "$workers" -t 3 ${3:+-u "$3"} 127.0.0.1 "$2" "$work/test.list" \
		>/dev/null || true
	r=$(taskset -c "$cpus" "$load" -c "$clients" -t "$duration" ${3:+-u "$3"} 127.0.0.1 "$2" \
		"$work/test.list") || true
	echo "$1 $(field msgs_per_s "$r") $(field p50_ms "$r") $(field p99_ms "$r") $(field failures "$r")" \
		>>"$work/rows"
	echo "    $1: $r" >&2
}

# 3. scans.
echo "run-redis.sh: scans, $clients clients, $duration s each" >&2
# The two the bar compares, alternated twice (the machine is shared: the
# best of each is kept).
for round in 1 2; do
	start_daemon lmdb --db "$work/db"
	scan "spamsiftd-lmdb" "$sport"
	stop "$dpid"
	start_daemon redis --redis "$R"
	scan "spamsiftd-redis" "$sport"
	stop "$dpid"
done
# Scans for a user with a model of their own (the first 400 training
# messages learned for "bench" in both stores, as the other class: a
# user who disagrees with the global model), read from copies on Redis.
head -n 400 "$work/train-spam.list" >"$work/user.list"
for m in "--db $work/db" "--redis $R"; do
	# shellcheck disable=SC2086
	xargs "$bin" learn --ham --user bench $m <"$work/user.list" >/dev/null 2>&1
done
for round in 1 2; do
	start_daemon lmdb-user --db "$work/db"
	scan "spamsiftd-lmdb-user" "$sport" bench
	stop "$dpid"
	start_daemon redis-user --redis "$R"
	scan "spamsiftd-redis-user" "$sport" bench
	stop "$dpid"
done
start_daemon redis-nocache --redis "$R" --redis-cache 0
scan "spamsiftd-redis-nocache" "$sport"
stop "$dpid"
scan "rspamd-bayes" "$(sed -n 's/^spamd //p' "$d/ports")"

# 2b. learn throughput over HTTP, one message at a time (after the scans,
# which it would change). spamsiftd on a copy of the Redis model (db 2).
redis-cli -p "$rport" -n 2 flushdb >/dev/null
"$bin" migrate --from "$work/db" --to "redis://127.0.0.1:$rport/2" >/dev/null 2>&1
start_daemon learn --redis "redis://127.0.0.1:$rport/2"
python3 - "$hport" "$cport" "$work/learn.list" >>"$work/learn" <<'EOF'
import http.client, sys, time
sport, cport, lst = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
items = [l.split() for l in open(lst) if l.strip()]
def run(port, path_of):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    fails = 0
    t0 = time.time()
    for label, path in items:
        c.request("POST", path_of(label), open(path, "rb").read())
        r = c.getresponse()
        r.read()
        fails += r.status != 200
    return len(items) / (time.time() - t0), fails
r, f = run(sport, lambda l: "/learn/" + l)
print("learn-http spamsiftd-redis %.0f %d" % (r, f))
r, f = run(cport, lambda l: "/learnspam" if l == "spam" else "/learnham")
print("learn-http rspamd-bayes %.0f %d" % (r, f))
EOF
stop "$dpid"
stop "$ppid"

# The report.
exec 3>&1 >"$out.tmp"
echo "# Redis model benchmark, $(date -u +%FT%TZ), $(nproc) CPUs" \
	"($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))"
echo "# scans: bench/spamc_load, $clients clients, $duration s, second half of $idx;" \
	"servers and clients pinned to CPUs $cpus, $workers workers each."
echo "# One redis-server $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/') for both:" \
	"rspamd's Bayes in db 0, spamsift's model in db 1."
echo
printf '%-24s %9s %8s %8s %9s\n' scan msgs/s "p50 ms" "p99 ms" failures
# the best run of each (by msgs/s), in the order first run
awk '!($1 in best) { order[++n] = $1 } !($1 in best) || $2 > best[$1] { best[$1] = $2; line[$1] = $0 }
	END { for (i = 1; i <= n; i++) { split(line[order[i]], f, " ");
		printf "%-24s %9.0f %8.2f %8.2f %9s\n", f[1], f[2], f[3], f[4], f[5] } }' "$work/rows"
echo "(spamsiftd-lmdb, -redis and their -user rows, scans for a user with a model of"
echo "their own: the better of two runs, alternated)"
echo
echo "learn, spamsift learn, $ntrain messages, one process (msgs/s):"
awk '$1 == "learn-cli" { printf "  %-22s %6s\n", $2, $3 }' "$work/learn"
echo "learn, one message a request over HTTP, $nlearn messages, sequential (msgs/s, non-200"
echo "answers: rspamd's controller refuses what its learn_condition skips or it learned already):"
awk '$1 == "learn-http" { printf "  %-22s %6s  %s\n", $2, $3, $4 }' "$work/learn"
echo
lm=$(awk '$1 == "spamsiftd-lmdb" && $2 > b { b = $2 } END { print b + 0 }' "$work/rows")
rd=$(awk '$1 == "spamsiftd-redis" && $2 > b { b = $2 } END { print b + 0 }' "$work/rows")
pct=$(awk -v a="$rd" -v b="$lm" 'BEGIN { printf "%.0f", (b > 0 ? 100 * a / b : 0) }')
lmu=$(awk '$1 == "spamsiftd-lmdb-user" && $2 > b { b = $2 } END { print b + 0 }' "$work/rows")
rdu=$(awk '$1 == "spamsiftd-redis-user" && $2 > b { b = $2 } END { print b + 0 }' "$work/rows")
pctu=$(awk -v a="$rdu" -v b="$lmu" 'BEGIN { printf "%.0f", (b > 0 ? 100 * a / b : 0) }')
echo "## bar (issue 7)"
echo "- scans on Redis >= 80% of the embedded store's: $rd vs $lm msgs/s = $pct%:" \
	"$(if [ "$pct" -ge 80 ]; then echo holds; else echo "does NOT hold"; fi)"
echo "- the same for a user's scans: $rdu vs $lmu msgs/s = $pctu%:" \
	"$(if [ "$pctu" -ge 80 ]; then echo holds; else echo "does NOT hold"; fi)"
exec 1>&3
mv "$out.tmp" "$out"
cat "$out"
