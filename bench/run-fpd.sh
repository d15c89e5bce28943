#!/bin/sh
# run-fpd.sh [SPAMSIFT FPD FPD_LOAD RSPAMD_LOAD]: the load benchmark of
# spamsift-fpd with rspamd's fuzzy_storage beside it as the anchor. Each
# server runs alone on 127.0.0.1 pinned to the same core (SERVER_CPU; our
# event loop is one thread, rspamd gets one fuzzy worker), its store
# preloaded with PRELOAD hashes; then COUNT UDP lookups (a third found
# exactly, a third near, a third absent) with WINDOW in flight from the
# load client pinned to the other core (bench/fpd_load.c for ours,
# bench/rspamd_fuzzy_load.c for rspamd's protocol). Prints one line each:
# lookups/s, p50/p99 latency and the server's CPU seconds (rspamd's: its
# fuzzy worker's, plus redis-server's when that is the backend, pinned to
# the same core); targets for
# ours: at least 20,000 lookups/s, p99 under 5 ms. Output also in
# build/bench/fpd.txt.
# rspamd (3.4 here) runs with a private config, database and log under a
# temporary folder: only a fuzzy worker, the sqlite backend (RSPAMD_BACKEND
# =redis: a private redis-server instead), plain (unencrypted) UDP, writes
# applied every second (sync = 1s); its start takes about 15 s (it compiles
# its TLD list). Without rspamd installed its line says so.
# Environment: COUNT (200000), WINDOW (32), PRELOAD (1000), SERVER_CPU (0),
# CLIENT_CPU (1), RSPAMD_BACKEND (sqlite).
set -eu
spamsift=${1:-build/spamsift}
fpd=${2:-build/spamsift-fpd}
load=${3:-build/bench/fpd_load}
rload=${4:-build/bench/rspamd_fuzzy_load}
count=${COUNT:-200000}
window=${WINDOW:-32}
preload=${PRELOAD:-1000}
scpu=${SERVER_CPU:-0}
ccpu=${CLIENT_CPU:-1}
backend=${RSPAMD_BACKEND:-sqlite}
tmp=$(mktemp -d)
pid="" rpid="" redis=""
trap 'for p in $pid $rpid $redis; do kill "$p" 2>/dev/null; done; rm -rf "$tmp"' EXIT
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
ticks=$(getconf CLK_TCK)
secs() { echo "$1 $2 $ticks" | awk '{printf "%.2f", ($2 - $1) / $3}'; }
# free_port udp|tcp: a port free on 127.0.0.1 for that protocol
free_port() {
	python3 -c 'import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if sys.argv[1] == "udp" else socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' "$1"
}

# ---- ours ----
"$spamsift" fp keygen bench >"$tmp/keys"
taskset -c "$scpu" "$fpd" --db "$tmp/db" --listen 127.0.0.1:0 --keys "$tmp/keys" \
	>"$tmp/out" 2>"$tmp/err" &
pid=$!
i=0
while [ $i -lt 50 ] && ! grep -q '^tcp ' "$tmp/out"; do sleep 0.1; i=$((i + 1)); done
addr=$(sed -n 's/^udp //p' "$tmp/out")
taskset -c "$ccpu" "$load" "$addr" "$tmp/keys" bench 2000 "$window" "$preload" >/dev/null
c0=$(cpu "$pid")
line=$(taskset -c "$ccpu" "$load" "$addr" "$tmp/keys" bench "$count" "$window" "$preload" stored)
c1=$(cpu "$pid")
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
ours="spamsift-fpd load: $line server-cpu=$(secs "$c0" "$c1")s"

# ---- rspamd's fuzzy_storage ----
rspamd_line() {
	command -v rspamd >/dev/null || { echo "not run: rspamd is not installed"; return; }
	r=$tmp/rspamd
	mkdir -p "$r"
	port=$(free_port udp)
	store="backend = \"sqlite\"; hashfile = \"$r/fuzzy.db\";"
	if [ "$backend" = redis ]; then
		rport=$(free_port tcp)
		taskset -c "$scpu" redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no \
			--dir "$r" --daemonize no >"$r/redis.log" 2>&1 &
		redis=$!
		store="backend = \"redis\"; servers = \"127.0.0.1:$rport\";"
	fi
	cat >"$r/rspamd.conf" <<CONF
options { pidfile = "$r/rspamd.pid"; dns { nameserver = ["127.0.0.1:1"]; } }
logging { type = "file"; filename = "$r/rspamd.log"; level = "info"; }
worker "fuzzy" {
	bind_socket = "127.0.0.1:$port";
	count = 1;
	$store
	expire = 90d;
	sync = 1s;
	allow_update = ["127.0.0.1"];
}
CONF
	user=""
	[ "$(id -u)" = 0 ] && user="-u root -g root"
	# shellcheck disable=SC2086
	taskset -c "$scpu" rspamd -f $user -c "$r/rspamd.conf" >"$r/stdout" 2>&1 &
	rpid=$!
	i=0
	while [ $i -lt 1200 ] && ! grep -q "start listening on 127.0.0.1:$port" "$r/rspamd.log" 2>/dev/null; do
		kill -0 "$rpid" 2>/dev/null || break
		sleep 0.1; i=$((i + 1))
	done
	worker=$(pgrep -P "$rpid" -f "fuzzy process" || true)
	if [ -z "$worker" ]; then
		echo "not run: rspamd's fuzzy worker did not start: $(tail -3 "$r/rspamd.log" "$r/stdout" 2>/dev/null | tr '\n' ' ')"
		return
	fi
	taskset -c "$ccpu" "$rload" "127.0.0.1:$port" 2000 "$window" "$preload" >/dev/null || {
		echo "not run: the preload failed: $(tail -3 "$r/rspamd.log" | tr '\n' ' ')"
		return
	}
	# server CPU: the fuzzy worker's, plus redis-server's with that backend
	both() {
		if [ -n "$redis" ]; then echo $(($(cpu "$worker") + $(cpu "$redis"))); else cpu "$worker"; fi
	}
	c0=$(both)
	l=$(taskset -c "$ccpu" "$rload" "127.0.0.1:$port" "$count" "$window" "$preload" stored)
	c1=$(both)
	echo "$l server-cpu=$(secs "$c0" "$c1")s"
}
rspamd_line >"$tmp/rline" # not in $(...): rpid and redis must reach the trap
theirs="rspamd $(rspamd --version 2>/dev/null | sed -n 's/.*version //p') fuzzy_storage ($backend) load: $(cat "$tmp/rline")"
for p in $rpid $redis; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
rpid="" redis=

mkdir -p build/bench
{
	echo "$ours"
	echo "$theirs"
	echo "$line" | awk '{
		for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] + 0 }
		printf "targets (ours): rate >= 20000/s: %s; p99 < 5 ms: %s\n",
			(v["rate"] >= 20000) ? "met" : "NOT met", (v["p99"] < 5) ? "met" : "NOT met" }'
} | tee build/bench/fpd.txt
