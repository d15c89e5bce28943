#!/bin/sh
# run-classify.sh [SPAMSIFT]: the classifier's speed and memory, one core,
# with bogofilter's bulk mode in the same run as the anchor.
#  1. online eval (classify + learn each message) on the SpamAssassin index;
#  2. `check` of a trained model (the index's first 3,000 messages learned,
#     both classes in one `learn --spam ... --ham ...` run)
#     over the other 3,046, spamsift and `bogofilter -b` on the same files:
#     spamsift over a folder holding them (links), one process, as a user
#     checks a folder; bogofilter reading their names in bulk mode.
# Figures go to standard output and build/bench/classify.txt.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/build/spamsift}
case "$bin" in /*) ;; *) bin=$PWD/$bin ;; esac
cd "$root"
corpora=../shared/corpora
out=build/bench/classify.txt
work=build/bench/classify
cpu=${CPU:-0}

if [ ! -d "$corpora" ]; then
	echo "run-classify.sh: $corpora is absent: nothing to measure, skipped"
	exit 0
fi
"$corpora/unpack" build/corpora >/dev/null
idx=build/corpora/spamassassin/index
rm -rf "$work" && mkdir -p "$work"
exec >"$out.tmp"

runs=${RUNS:-5}
# timed N LABEL 'COMMAND': RUNS runs of COMMAND on N messages (bench/timed.py:
# medians, CPU time from getrusage in microseconds), printed as one line.
timed() {
	set -- "$1" "$2" "$(python3 bench/timed.py "$runs" "$1" -- "$3")"
	echo "$3" | awk -v label="$2" -v runs="$runs" '{printf "    %-36s %s msgs/s (%s per CPU second, %s-%s over %s runs), peak RSS %s KB\n", label ":", $1, $2, $3, $4, runs, $5}'
}

echo "# spamsift classifier benchmark, $(date -u +%F), CPU $cpu"
echo "## online eval (parse + classify + learn), $idx"
taskset -c "$cpu" "$bin" eval "$idx" | sed 's/^/    /'

head -n 3000 "$idx" | awk '{print $2}' | sed "s|^|build/corpora/spamassassin/|" >"$work/train.list"
head -n 3000 "$idx" | awk '$1=="spam"{print $2}' | sed "s|^|build/corpora/spamassassin/|" >"$work/train-spam.list"
head -n 3000 "$idx" | awk '$1=="ham"{print $2}' | sed "s|^|build/corpora/spamassassin/|" >"$work/train-ham.list"
tail -n +3001 "$idx" | awk '{print $2}' | sed "s|^|build/corpora/spamassassin/|" >"$work/test.list"
n=$(wc -l <"$work/test.list")

# Both classes in one run, interleaved, as README.md tells a new user to
# (learned class after class, the online experts lean to the last one).
# shellcheck disable=SC2046
"$bin" learn --db "$work/db" --spam $(cat "$work/train-spam.list") \
	--ham $(cat "$work/train-ham.list") 2>/dev/null
mkdir "$work/test"
while read -r f; do # spam_2/00001.x -> test/spam_2-00001.x
	name=$(echo "$f" | sed 's|.*/\([^/]*\)/\([^/]*\)$|\1-\2|')
	ln "$f" "$work/test/$name" 2>/dev/null || cp "$f" "$work/test/$name"
done <"$work/test.list"
cat $(cat "$work/test.list") >/dev/null # both filters read from the page cache

echo "## check of a trained model over $n messages (3,000 learned), one core, medians of $runs runs"
timed "$n" "spamsift check (with explanations)" \
	"taskset -c $cpu $bin check --db $work/db $work/test >$work/ss.out"
timed "$n" "spamsift check --json" \
	"taskset -c $cpu $bin check --json --db $work/db $work/test >$work/ssj.out"

# the verdicts' errors over the test half (files named spam*-... or *ham-...)
python3 -c '
import json, sys
fp = fn = 0
for l in open(sys.argv[1]):
    o = json.loads(l); spam = o["path"].split("/")[-1].startswith("spam")
    fn += spam and o["verdict"] != "spam"; fp += (not spam) and o["verdict"] == "spam"
print("    spamsift verdicts: %d false positives, %d spam missed" % (fp, fn))
' "$work/ssj.out"

if command -v bogofilter >/dev/null; then
	mkdir -p "$work/bogo"
	bogofilter -d "$work/bogo" -s -B $(cat "$work/train-spam.list")
	bogofilter -d "$work/bogo" -n -B $(cat "$work/train-ham.list")
	timed "$n" "bogofilter -b (anchor)" \
		"taskset -c $cpu bogofilter -d $work/bogo -b -v <$work/test.list >$work/bf.out; [ \$? -le 2 ]"
else
	echo "    bogofilter not installed (apt-get install bogofilter): no anchor"
fi
echo "## model store size"
du -sh "$work/db" | sed 's/^/    /'
mv "$out.tmp" "$out"
cat "$out" >&2
