#!/bin/sh
# run-fuzzy.sh [BENCH]: message fingerprints (src/fuzzy) over the public
# corpora: ham false matches at the threshold (bar: at most 1 per 10,000
# hams), spam near-duplicates, recall on varied copies of each spam, and
# fingerprints per second on one core, for the defaults (k=3) and k=4, 5.
# Unpacks the corpora into build/corpora (never committed); figures also in
# build/bench/fuzzy.txt.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
bench=${1:-$root/build/bench/fuzzy}
cpu=${CPU:-1}
corpora=$root/build/corpora
if [ ! -d "$root/../shared/corpora" ] && [ ! -d /work/shared/corpora ]; then
	echo "run-fuzzy.sh: no corpora (../shared/corpora), skipped"
	exit 0
fi
src=$root/../shared/corpora
[ -d "$src" ] || src=/work/shared/corpora
"$src/unpack" "$corpora" >/dev/null
mkdir -p "$root/build/bench"
taskset -c "$cpu" "$bench" -c k3 -c k4 -c k5 \
	"$corpora/spamassassin/index" "$corpora/csdmc2010/index" \
	"$corpora/trec06c-subset-bayesspam/index" "$corpora/enron-spam/index" |
	tee "$root/build/bench/fuzzy.txt"
