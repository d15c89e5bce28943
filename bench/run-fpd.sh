#!/bin/sh
# run-fpd.sh [SPAMSIFT FPD FPD_LOAD]: the load benchmark of spamsift-fpd:
# one server on 127.0.0.1 pinned to one core (its event loop is a single
# thread), a temporary store preloaded with PRELOAD signatures, then COUNT
# UDP LOOKUPs (a third found exactly, a third near, a third absent) with
# WINDOW in flight from bench/fpd_load pinned to the other core. Prints
# lookups/s, p50/p99 latency and the server's CPU seconds; targets: at
# least 20,000 lookups/s, p99 under 5 ms. Output also in build/bench/fpd.txt.
# Environment: COUNT (200000), WINDOW (32), PRELOAD (1000), SERVER_CPU (0),
# CLIENT_CPU (1).
set -eu
spamsift=${1:-build/spamsift}
fpd=${2:-build/spamsift-fpd}
load=${3:-build/bench/fpd_load}
count=${COUNT:-200000}
window=${WINDOW:-32}
preload=${PRELOAD:-1000}
tmp=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
"$spamsift" fp keygen bench >"$tmp/keys"
taskset -c "${SERVER_CPU:-0}" "$fpd" --db "$tmp/db" --listen 127.0.0.1:0 --keys "$tmp/keys" \
	>"$tmp/out" 2>"$tmp/err" &
pid=$!
i=0
while [ $i -lt 50 ] && ! grep -q '^tcp ' "$tmp/out"; do sleep 0.1; i=$((i + 1)); done
addr=$(sed -n 's/^udp //p' "$tmp/out")
cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
taskset -c "${CLIENT_CPU:-1}" "$load" "$addr" "$tmp/keys" bench 2000 "$window" "$preload" >/dev/null
c0=$(cpu)
line=$(taskset -c "${CLIENT_CPU:-1}" "$load" "$addr" "$tmp/keys" bench "$count" "$window" "$preload" stored)
c1=$(cpu)
ticks=$(getconf CLK_TCK)
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
mkdir -p build/bench
{
	echo "spamsift-fpd load: $line server-cpu=$(echo "$c0 $c1 $ticks" | awk '{printf "%.2f", ($2 - $1) / $3}')s"
	echo "$line" | awk '{
		for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] + 0 }
		printf "targets: rate >= 20000/s: %s; p99 < 5 ms: %s\n",
			(v["rate"] >= 20000) ? "met" : "NOT met", (v["p99"] < 5) ? "met" : "NOT met" }'
} | tee build/bench/fpd.txt
