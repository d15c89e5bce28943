#!/bin/sh
# run-daemon.sh [SPAMSIFT SPAMSIFTD SPAMC_LOAD]: the load benchmark of
# spamsiftd (issue 4), with SpamAssassin's spamd and rspamd in the same run,
# on the same messages, with the same clients.
#  1. a model learned with `spamsift learn` from the first half of the
#     SpamAssassin corpus index; the other half's messages are the load;
#  2. one spamsiftd on 127.0.0.1, pinned to CPUS, its own temporary db:
#     spamd protocol (bench/spamc_load: CLIENTS concurrent connections,
#     CHECK, DURATION seconds each), HTTP (wrk, POST /check);
#  3. a soak: SOAK seconds of spamd load with SOAK_CLIENTS clients, the
#     daemon's VmRSS sampled every SOAK_EVERY seconds;
#  4. the anchors (PEERS), configured as ../shared/anchors configures them
#     (bench/peers.py), Bayes trained on the same first half, pinned to the
#     same CPUS: rspamd with its stock rules (spamd protocol, and HTTP POST
#     /checkv2 with wrk); rspamd-bayes, the same rspamd and training with
#     only its Bayes classifier running, the checks spamsift has (the
#     like-for-like peer of the throughput target; same clients);
#     SpamAssassin's spamd (spamd protocol; it has no HTTP).
# The load clients share the CPUS with the server: there are only two here.
# Every server is started on loopback with its own folder under
# build/bench/daemon/ and stopped by its PID. One table and the targets go
# to standard output and build/bench/daemon.txt.
# Environment: DURATION (20), WARMUP (5 s before a server's first run), CLIENTS ("4 16 64"), SOAK (300), SOAK_EVERY
# (5), SOAK_CLIENTS (16), WORKERS (2: spamsiftd threads, spamd children,
# rspamd normal workers), CPUS (0,1), PEERS ("rspamd rspamd-bayes
# spamassassin"; "" for none).
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
abs() { case "$1" in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
bin=$(abs "${1:-$root/build/spamsift}")
daemon=$(abs "${2:-$root/build/spamsiftd}")
load=$(abs "${3:-$root/build/bench/spamc_load}")
cd "$root"
corpora=../shared/corpora
out=build/bench/daemon.txt
work=build/bench/daemon
duration=${DURATION:-20}
warmup=${WARMUP:-5}
clients=${CLIENTS:-4 16 64}
soak=${SOAK:-300}
soak_every=${SOAK_EVERY:-5}
soak_clients=${SOAK_CLIENTS:-16}
workers=${WORKERS:-2}
cpus=${CPUS:-0,1}
peers=${PEERS-rspamd rspamd-bayes spamassassin}

if [ ! -d "$corpora" ]; then
	echo "run-daemon.sh: $corpora is absent: nothing to measure, skipped"
	exit 0
fi
for t in "$bin" "$daemon" "$load"; do
	[ -x "$t" ] || { echo "run-daemon.sh: $t not built" >&2; exit 1; }
done
command -v wrk >/dev/null || { echo "run-daemon.sh: wrk missing (apt-get install wrk)" >&2; exit 1; }
"$corpora/unpack" build/corpora >/dev/null
idx=build/corpora/spamassassin/index
rm -rf "$work" && mkdir -p "$work"

# The PIDs this script started; the trap stops those and nothing else.
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	for p in $pids; do wait "$p" 2>/dev/null || true; done
	pids=""
}
trap cleanup EXIT
trap 'exit 130' INT TERM
forget() { pids=$(echo " $pids " | sed "s/ $1 / /"); }
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; forget "$1"; }

# field KEY LINE: the value of KEY=VALUE in a result line.
field() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -n 1; }
# rss_kb PID...: VmRSS of these processes and all their descendants, in KB.
rss_kb() {
	ps -eo pid=,ppid=,rss= | awk -v roots="$*" '
		{ ppid[$1] = $2; rss[$1] = $3 }
		END {
			n = split(roots, r, " "); for (i = 1; i <= n; i++) keep[r[i]] = 1
			do { more = 0; for (p in ppid) if (!(p in keep) && (ppid[p] in keep)) { keep[p] = 1; more = 1 } } while (more)
			for (p in keep) s += rss[p]; print s + 0
		}'
}
status_kb() { sed -n "s/^$2:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$1/status"; }

# row FILTER PROTOCOL CLIENTS RESULT_LINE RSS_KB
row() {
	printf '%s %s %s %s %s %s %s %s\n' "$1" "$2" "$3" \
		"$(field msgs_per_s "$4")" "$(field p50_ms "$4")" "$(field p99_ms "$4")" \
		"$(field failures "$4")" "$(($5 / 1024))" >>"$work/rows"
	echo "    $1 $2 c=$3: $4" >&2
}
# spamd_runs FILTER PORT PID...: the spamd-protocol runs, one per CLIENTS,
# after an unmeasured warm-up (SpamAssassin's children, for one, take
# seconds over their first message).
spamd_runs() {
	f=$1 port=$2
	shift 2
	taskset -c "$cpus" "$load" -c "$workers" -t "$warmup" 127.0.0.1 "$port" \
		"$work/test.list" >/dev/null || true
	for c in $clients; do
		r=$(taskset -c "$cpus" "$load" -c "$c" -t "$duration" 127.0.0.1 "$port" \
			"$work/test.list") || true
		row "$f" spamd "$c" "$r" "$(rss_kb "$@")"
	done
}
# http_runs FILTER URL PID...: wrk against URL, one run per CLIENTS.
http_runs() {
	f=$1 url=$2
	shift 2
	for c in $clients; do
		r=$(taskset -c "$cpus" wrk -t 2 -c "$c" -d "${duration}s" --timeout 30s \
			-s bench/wrk-check.lua "$url" -- "$work/test.list" | tail -n 1) || true
		row "$f" http "$c" "$r" "$(rss_kb "$@")"
	done
}

# The halves of the index: train on the first, load with the second.
half=$(($(wc -l <"$idx") / 2))
head -n "$half" "$idx" | awk '$1=="spam"{print "build/corpora/spamassassin/"$2}' >"$work/train-spam.list"
head -n "$half" "$idx" | awk '$1=="ham"{print "build/corpora/spamassassin/"$2}' >"$work/train-ham.list"
tail -n +"$((half + 1))" "$idx" | awk '{print "build/corpora/spamassassin/"$2}' >"$work/test.list"
ntest=$(wc -l <"$work/test.list")
: >"$work/rows"
: >"$work/notes"

echo "run-daemon.sh: learning $half messages with spamsift learn" >&2
mkdir -p "$work/spamsift"
xargs "$bin" learn --spam --db "$work/spamsift/db" <"$work/train-spam.list" >/dev/null 2>&1
xargs "$bin" learn --ham --db "$work/spamsift/db" <"$work/train-ham.list" >/dev/null 2>&1

echo "run-daemon.sh: spamsiftd on CPUs $cpus, $workers threads" >&2
taskset -c "$cpus" "$daemon" --db "$work/spamsift/db" --threads "$workers" --quiet \
	--spamd 127.0.0.1:0 --http 127.0.0.1:0 >"$work/spamsift/ports" 2>"$work/spamsift/log" &
dpid=$!
pids="$pids $dpid"
i=0
until grep -q '^http ' "$work/spamsift/ports" 2>/dev/null; do
	i=$((i + 1))
	# shellcheck disable=SC2015
	[ "$i" -le 100 ] && kill -0 "$dpid" 2>/dev/null || {
		echo "run-daemon.sh: spamsiftd did not start:" >&2
		cat "$work/spamsift/log" >&2
		exit 1
	}
	sleep 0.1
done
sport=$(sed -n 's/^spamd 127\.0\.0\.1://p' "$work/spamsift/ports")
hport=$(sed -n 's/^http 127\.0\.0\.1://p' "$work/spamsift/ports")
rss0=$(status_kb "$dpid" VmRSS)
spamd_runs spamsiftd "$sport" "$dpid"
http_runs spamsiftd "http://127.0.0.1:$hport/check" "$dpid"

echo "run-daemon.sh: soak, $soak s with $soak_clients spamd clients" >&2
taskset -c "$cpus" "$load" -c "$soak_clients" -t "$soak" 127.0.0.1 "$sport" \
	"$work/test.list" >"$work/soak.result" &
lpid=$!
pids="$pids $lpid"
: >"$work/soak.rss"
t=0
while kill -0 "$lpid" 2>/dev/null; do
	echo "$t $(status_kb "$dpid" VmRSS) $(status_kb "$dpid" RssAnon)" >>"$work/soak.rss"
	sleep "$soak_every"
	t=$((t + soak_every))
done
wait "$lpid" || true
forget "$lpid"
soak_line=$(cat "$work/soak.result")
curl -s "http://127.0.0.1:$hport/metrics" >"$work/spamsift/metrics" 2>/dev/null || true
stop "$dpid"

for p in $peers; do
	echo "run-daemon.sh: $p (anchors configuration, $workers workers), training" >&2
	d=$work/$p
	mkdir -p "$d"
	taskset -c "$cpus" python3 bench/peers.py "$p" "$d/data" "$work/train-spam.list" \
		"$work/train-ham.list" "$workers" >"$d/ports" 2>"$d/log" &
	ppid=$!
	pids="$pids $ppid"
	while ! grep -q '^ready' "$d/ports" && kill -0 "$ppid" 2>/dev/null; do sleep 1; done
	if ! grep -q '^ready' "$d/ports"; then
		why=$(grep -v '^peers: sa-learn\|^peers: rspamd learned' "$d/log" | tail -n 3 | tr '\n' ' ')
		echo "$p could not run here: $why" | tee -a "$work/notes" >&2
		stop "$ppid"
		continue
	fi
	grep '^peers:' "$d/log" | sed "s/^peers: \($p: \)*/$p: /" >>"$work/notes"
	port=$(sed -n 's/^spamd //p' "$d/ports")
	spids=$(sed -n 's/^pid //p' "$d/ports" | tr '\n' ' ')
	# shellcheck disable=SC2086
	spamd_runs "$p" "$port" $spids
	if [ "$p" != spamassassin ]; then
		# shellcheck disable=SC2086
		http_runs "$p" "http://127.0.0.1:$(sed -n 's/^http //p' "$d/ports")/checkv2" $spids
	fi
	stop "$ppid"
done

# The report.
num() { awk -v x="$1" 'BEGIN { exit !(x + 0 == x && x != "") }'; }
yesno() { if [ "$1" = 1 ]; then echo holds; else echo "does NOT hold"; fi; }
exec 3>&1 >"$out.tmp"
echo "# spamsiftd load benchmark, $(date -u +%FT%TZ), $(nproc) CPUs" \
	"($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))"
echo "# $ntest messages (second half of $idx) round-robin; model: first $half learned."
echo "# Servers and load clients pinned to CPUs $cpus; $workers workers each;" \
	"$duration s a run; RSS: the server's processes after the run."
echo "# spamd: bench/spamc_load (CHECK, a connection a request); http: wrk -t2," \
	"keep-alive, POST /check (spamsiftd), /checkv2 (rspamd, rspamd-bayes)."
echo "# rspamd: stock rules + Bayes; rspamd-bayes: Bayes only (C modules, Lua plugins" \
	"and stock Lua rules off), the checks spamsiftd runs."
echo
printf '%-13s %-6s %8s %9s %8s %8s %9s %8s\n' filter proto clients msgs/s "p50 ms" "p99 ms" \
	failures "RSS MB"
awk '{ printf "%-13s %-6s %8s %9.0f %8.2f %8.2f %9s %8s\n", $1, $2, $3, $4, $5, $6, $7, $8 }' \
	"$work/rows"
echo
echo "soak: spamsiftd, $soak s, $soak_clients spamd clients: $soak_line"
awk -v e="$soak_every" 'NR == 1 { first = $2; mn = $2; mx = $2; amn = $3; amx = $3 }
	{ last = $2; if ($2 < mn) mn = $2; if ($2 > mx) mx = $2; if ($3 < amn) amn = $3; if ($3 > amx) amx = $3;
	  v[NR] = $2 }
	END {
		h = int(NR / 2); m1 = 0; m2 = 0
		for (i = 1; i <= NR; i++) if (i <= h) { if (v[i] > m1) m1 = v[i] } else if (v[i] > m2) m2 = v[i]
		printf "soak VmRSS (KB), %d samples every %d s: first %d, last %d, min %d, max %d; RssAnon min %d, max %d\n",
			NR, e, first, last, mn, mx, amn, amx
		g = m1 ? (m2 - m1) * 100 / m1 : 0
		printf "soak: max of the second half vs the first half: %+.1f%% (flat: %s)\n", g, (g < 5 ? "yes" : "NO")
	}' "$work/soak.rss"
echo "spamsiftd VmRSS at start (model opened, idle): $rss0 KB. Its VmRSS is mostly the"
echo "LMDB model's file pages, mapped read-only (shared page cache); RssAnon is its heap."
echo "rspamd's (and rspamd-bayes') RSS counts its main process, $workers normal workers, the"
echo "controller and redis-server; SpamAssassin's the spamd parent and its $workers children."
if [ -s "$work/notes" ]; then
	echo
	sed 's/^/note: /' "$work/notes"
fi

echo
echo "## targets (issue 4)"
best=$(awk '$1 == "spamsiftd" && $2 == "spamd" && $6 < 20 && $4 > b { b = $4 } END { printf "%.0f", b }' "$work/rows")
each=$(awk '$1 == "spamsiftd" && $2 == "spamd" {
		printf "%s %s clients (%.0f msgs/s, p99 %s ms); ", ($4 >= 3000 && $6 < 20 ? "met at" : "NOT met at"), $3, $4, $6 }' \
	"$work/rows")
echo "- >= 3,000 msgs/s over the spamd protocol on 2 cores with p99 < 20 ms:" \
	"best rate with p99 < 20 ms: $best msgs/s:" \
	"$(yesno "$(awk -v b="$best" 'BEGIN { print (b >= 3000) }')"); $each"
fails=$(awk '$1 == "spamsiftd" { f += $7 } END { print f + 0 }' "$work/rows")
soakf=$(field failures "$soak_line")
num "${soakf:-x}" || soakf=unknown
echo "- zero failed requests (spamsiftd, every run and the soak): $fails + $soakf:" \
	"$(yesno "$([ "$fails" = 0 ] && [ "$soakf" = 0 ] && echo 1)")"
# The target is against rspamd "configured with the same kinds of checks":
# rspamd-bayes. The ratio to the stock rspamd is printed for reference.
for peer in rspamd-bayes rspamd; do
	case $peer in
	rspamd-bayes) what="rspamd-bayes (Bayes only: the same kinds of checks; the target)" ;;
	*) what="stock rspamd (its rules + Bayes; for reference, not the target)" ;;
	esac
	for proto in spamd http; do
		ratio=$(awk -v p="$proto" -v peer="$peer" '$2 == p && $1 == "spamsiftd" { s[$3] = $4 } $2 == p && $1 == peer { r[$3] = $4 }
			END { m = ""; for (c in s) if ((c in r) && r[c] > 0) { x = s[c] / r[c]; if (m == "" || x < m) m = x }
			      printf "%s", (m == "" ? "none" : sprintf("%.1f", m)) }' "$work/rows")
		each=$(awk -v p="$proto" -v peer="$peer" '$2 == p && $1 == "spamsiftd" { s[$3] = $4 } $2 == p && $1 == peer { r[$3] = $4 }
			END { for (c in s) if ((c in r) && r[c] > 0) printf "%s%s clients %.1fx", (n++ ? ", " : ""), c, s[c] / r[c] }' "$work/rows")
		if [ "$ratio" = none ]; then
			echo "- >= 5x $what ($proto): $peer did not run: unknown"
		else
			echo "- >= 5x $what ($proto), lowest ratio over the client counts: ${ratio}x" \
				"($each): $(yesno "$(awk -v x="$ratio" 'BEGIN { print (x >= 5) }')")"
		fi
	done
done
flat=$(grep -c 'flat: yes' "$out.tmp" || true)
echo "- RSS flat over the soak ($soak s): $(yesno "$flat")"
exec >&3 3>&-
mv "$out.tmp" "$out"
cat "$out"
