#!/bin/sh
# run-web.sh [SPAMSIFT SPAMSIFTD WEB_LOAD]: does the web page stay usable
# under load (issue 8)? The target: history pages load in under 300 ms
# with 100,000 entries kept while 1,000 scans/s arrive.
#  1. a model learned from generated mail (tests/genmail.py, no corpus);
#  2. one spamsiftd on 127.0.0.1 (2 threads, pinned to CPUS), its history
#     bounded to ENTRIES (100000), filled with ENTRIES scans through
#     POST /check at FILL_RATE (8000) scans/s (bench/web_load fill);
#  3. RATE (1000) scans/s for DURATION (20) seconds through POST /check
#     while one client reads, one every 20 ms, the pages the web page reads:
#     the newest 50, 50 rejects, a text search that matches nothing (the
#     worst case: every entry is read), a page deep in the past, one entry,
#     the charts' statistics over the whole history; p50/p99/max of each;
#  4. the anchor (bench/web_rspamd.py): rspamd's controller /history (the
#     in-memory ring its web interface reads, history_rows raised to
#     RSPAMD_ENTRIES, 10000: its one normal worker fills 100,000 too
#     slowly for a few minutes' run) under the same scan rate through
#     /checkv2; it has no paging, each request returns every row.
# Servers listen on 127.0.0.1 with their own folders under
# build/bench/web/ and are stopped by PID. The table goes to standard
# output and build/bench/web.txt.
# Environment: ENTRIES (100000), FILL_RATE (8000), RATE (1000), DURATION (20), CPUS (0,1),
# RSPAMD (1; 0 skips the anchor), RSPAMD_ENTRIES (10000), REDIS (0; 1: the
# model and the history on a redis-server started here on a free port,
# sharing CPUS, output in build/bench/web-redis.txt).
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
abs() { case "$1" in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
bin=$(abs "${1:-$root/build/spamsift}")
daemon=$(abs "${2:-$root/build/spamsiftd}")
load=$(abs "${3:-$root/build/bench/web_load}")
cd "$root"
entries=${ENTRIES:-100000}
rate=${RATE:-1000}
duration=${DURATION:-20}
cpus=${CPUS:-0,1}
want_rspamd=${RSPAMD:-1}
rspamd_entries=${RSPAMD_ENTRIES:-10000}
work=build/bench/web
out=build/bench/web.txt
want_redis=${REDIS:-0}
[ "$want_redis" = 1 ] && out=build/bench/web-redis.txt
for t in "$bin" "$daemon" "$load"; do
	[ -x "$t" ] || { echo "run-web.sh: $t not built" >&2; exit 1; }
done
rm -rf "$work" && mkdir -p "$work"

pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	for p in $pids; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

python3 - "$work" "$root/tests" <<'EOF'
import sys
sys.dont_write_bytecode = True
sys.path.insert(0, sys.argv[2])
import genmail
g = genmail.Gen(sys.argv[1], seed=3)
g.corpus(200)
EOF
"$bin" learn --spam --db "$work/db" "$work/spam" >/dev/null
"$bin" learn --ham --db "$work/db" "$work/ham" >/dev/null
msgs="$(ls "$work"/spam/*.eml | head -n 50) $(ls "$work"/ham/*.eml | head -n 50)" # half spam

store="--db $work/db --history-dir $work/history"
if [ "$want_redis" = 1 ]; then
	rp=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	mkdir -p "$work/redis"
	taskset -c "$cpus" redis-server --bind 127.0.0.1 --port "$rp" --dir "$root/$work/redis" --save "" \
		--daemonize no --logfile "$root/$work/redis/log" &
	pids="$pids $!"
	for i in $(seq 100); do
		redis-cli -p "$rp" ping 2>/dev/null | grep -q PONG && break
		sleep 0.05
	done
	"$bin" migrate --from "$work/db" --to "redis://127.0.0.1:$rp" >/dev/null
	store="--redis redis://127.0.0.1:$rp"
fi
# shellcheck disable=SC2086
taskset -c "$cpus" "$daemon" $store --http 127.0.0.1:0 --threads 2 --history "$entries" \
	--log-level warning >"$work/d.out" 2>"$work/d.err" &
pids="$pids $!"
for i in $(seq 50); do
	[ -s "$work/d.out" ] && break
	sleep 0.1
done
port=$(sed -n 's/^http 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$work/d.out")
[ -n "$port" ] || { echo "run-web.sh: spamsiftd did not start: $(cat "$work/d.err")" >&2; exit 1; }

{
	echo "# spamsiftd's history under load ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, spamsiftd on $cpus$([ "$want_redis" = 1 ] && echo ", model and history on redis-server $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p')"))"
	# at a rate the history's writer keeps up with (over it, records are
	# dropped and counted, never waited for; the fill checks it kept them all)
	echo "fill: $(WEB_LOAD_RATE=${FILL_RATE:-8000} "$load" fill 127.0.0.1 "$port" "$entries" $msgs)"
	sleep 1
	curl -s "http://127.0.0.1:$port/api/status" >"$work/status"
	python3 -c '
import json, sys
h = json.load(open(sys.argv[1]))["history"]
print("history: %d entries kept (bound %d), file %.1f MiB, %d raw messages (%.1f MiB)" % (
    h["entries"], h["max_entries"], h["file_bytes"] / 2**20, h["raw_entries"], h["raw_bytes"] / 2**20))' "$work/status"
	newest=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["history"]["newest"])' "$work/status")
	# ids the run's own scans do not push out: half-way down, and near the top
	mid=$((newest - entries / 2 + rate * duration))
	recent=$((newest - 10))
	if [ "$want_redis" = 1 ]; then # ids are not consecutive there: by rank
		mid=$(redis-cli -p "$rp" ZREVRANGE 'ss{h}:ids' $((entries / 2 - rate * duration)) $((entries / 2 - rate * duration)))
		recent=$(redis-cli -p "$rp" ZREVRANGE 'ss{h}:ids' 10 10)
	fi
	paths="/api/history?limit=50|/api/history?limit=50&action=reject|/api/history?limit=50&q=no-such-text"
	paths="$paths|/api/history?limit=50&before=$mid|/api/history/$recent|/api/stats?span=86400"
	echo "load: $rate scans/s for $duration s, one client reading a history page every 20 ms"
	"$load" run 127.0.0.1 "$port" "$rate" "$duration" "$paths" $msgs
	curl -s "http://127.0.0.1:$port/metrics" | grep '^spamsift_history_dropped_total'
	echo "target: every history page under 300 ms (p99) at $rate scans/s with $entries entries"
} | tee "$out"

for p in $pids; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
pids=""
if [ "$want_redis" = 1 ]; then
	echo "anchor: the embedded store's run (REDIS=0, build/bench/web.txt)" | tee -a "$out"
elif [ "$want_rspamd" = 1 ] && command -v rspamd >/dev/null && [ -d ../shared/anchors ]; then
	python3 bench/web_rspamd.py "$load" "$rate" "$duration" "$work/rspamd" "$rspamd_entries" $msgs |
		tee -a "$out" || true
else
	echo "anchor: rspamd not installed (or RSPAMD=0): no /history figures" | tee -a "$out"
fi
