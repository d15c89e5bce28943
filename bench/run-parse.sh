#!/bin/sh
# run-parse.sh [PARSE_BINARY]: run the parser benchmark (bench/parse.c) on the
# SpamAssassin and trec06c corpora, pinned to one core, spamsift and GMime in
# the same run, then the peak-memory mode. Output is also written to
# build/bench/parse.txt. Environment: REPEAT (timed passes, best kept; 5: the
# shared machine's clock is noisy, see bench/README.md).
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/build/bench/parse}
case "$bin" in /*) ;; *) bin=$PWD/$bin ;; esac
cd "$root"
corpora=../shared/corpora
out=build/bench/parse.txt
repeat=${REPEAT:-5}

if [ ! -d "$corpora" ]; then
	echo "run-parse.sh: $corpora is absent: no corpora to measure, skipped"
	exit 0
fi
if [ ! -x "$bin" ]; then
	echo "run-parse.sh: $bin not built (make build/bench/parse)" >&2
	exit 1
fi
"$corpora/unpack" build/corpora

idx="build/corpora/spamassassin/index build/corpora/trec06c-subset-bayesspam/index"
for i in $idx; do
	[ -f "$i" ] || { echo "run-parse.sh: $i missing after unpack" >&2; exit 1; }
done

pin=""
if command -v taskset >/dev/null 2>&1; then
	pin="taskset -c 0"
else
	echo "run-parse.sh: taskset not found: the run is not pinned to one core" >&2
fi

mkdir -p build/bench
status=build/bench/.parse.status
rm -f "$status"
{
	echo "# bench/parse $(date -u +%Y-%m-%dT%H:%M:%SZ)" \
		"cpu:$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)" \
		"gmime $(pkg-config --modversion gmime-3.0 2>/dev/null || echo '?')"
	# shellcheck disable=SC2086
	$pin "$bin" --engine both --repeat "$repeat" $idx || echo throughput >>"$status"
	# shellcheck disable=SC2086
	$pin "$bin" --engine both --memory $idx || echo memory >>"$status"
} 2>&1 | tee "$out"

if [ -f "$status" ]; then
	echo "run-parse.sh: failed: $(tr '\n' ' ' <"$status")" >&2
	rm -f "$status"
	exit 1
fi
echo "run-parse.sh: results in $out"
