#!/bin/sh
# run.sh PARSE_CORPUS: unpacks ../shared/corpora into build/corpora (when
# present) and parses every message of every corpus with PARSE_CORPUS.
# Without ../shared/corpora it prints one line and skips, except under
# CI=true, where the absence is a failure.
set -eu
tool=$1
shared=../shared/corpora
if [ ! -x "$shared/unpack" ]; then
	if [ "${CI:-}" = true ]; then
		echo "corpus: $shared is missing (required under CI)" >&2
		exit 1
	fi
	echo "corpus: skipped ($shared not found)"
	exit 0
fi
"$shared/unpack" build/corpora
indexes=""
for idx in build/corpora/*/index; do
	indexes="$indexes $idx"
done
# trec06c also ships a small test set with its own index
for idx in build/corpora/*/index-test; do
	[ -f "$idx" ] && indexes="$indexes $idx"
done
"$tool" $indexes
