#!/bin/sh
# run.sh RUNS TARGET...: smoke-run each libFuzzer target for RUNS inputs,
# starting from its seed folder fuzz/corpus/<name>/ (if any) and from
# tests/data. A crash, leak or timeout fails the run.
set -eu
runs=$1
shift
for t in "$@"; do
	name=$(basename "$t")
	work=build/fuzz/work/$name
	mkdir -p "$work"
	seeds=""
	[ -d "fuzz/corpus/$name" ] && seeds="fuzz/corpus/$name"
	echo "fuzz: $name, $runs runs"
	"$t" -runs="$runs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$work/" "$work" $seeds tests/data >"$work/log" 2>&1 || {
		tail -40 "$work/log"
		echo "fuzz: $name FAILED (artifacts in $work/)"
		exit 1
	}
done
