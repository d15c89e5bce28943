#!/bin/sh
# cli.sh: the spamsift command as a user runs it: exit codes, messages on
# bad input, JSON that a real JSON parser (Python's) accepts, --text.
# Needs $SPAMSIFT (the binary). Ends with "N passed, N failed".
set -u
. "$(dirname "$0")/lib.sh"

expect 0 "--help" "$bin" --help
grep -q "parse \[--text\]" "$tmp/out" && ok || bad "--help names parse"
# Each command's --help: its own usage on stdout, exit 0, nothing done.
for c in parse learn unlearn check stats export import eval trec report rules fp migrate; do
	expect 0 "$c --help" "$bin" $c --help
	grep -q "^usage: spamsift $c " "$tmp/out" && ok || bad "$c --help starts with its usage"
done
expect 0 "check -h" "$bin" check -h
grep -q -- "--json" "$tmp/out" && ! grep -q "learn --spam" "$tmp/out" && ok || bad "check -h gives check's options only"
expect 0 "--help after other options" "$bin" learn --spam --db "$tmp/never" --help
[ ! -e "$tmp/never" ] && ok || bad "learn --help created no model"
expect 0 "--version" "$bin" --version
expect 2 "no command" "$bin"
expect 2 "unknown command" "$bin" frobnicate
expect 2 "parse without a file" "$bin" parse
expect 2 "unknown option" "$bin" parse --bogus tests/data/demo-vi.eml
expect 2 "missing file" "$bin" parse "$tmp/does-not-exist"
grep -q "does-not-exist" "$tmp/err" && ok || bad "missing file is named in the error"
expect 2 "bad --trusted" "$bin" parse --trusted "10.0.0.0/99" tests/data/demo-vi.eml

: >"$tmp/empty"
expect 1 "empty file" "$bin" parse "$tmp/empty"
grep -q "empty" "$tmp/err" && ok || bad "empty file message"
head -c 4096 /dev/urandom >"$tmp/random"
printf '\0\0\0' >>"$tmp/random"
expect 1 "binary file" "$bin" parse "$tmp/random"
grep -q "binary" "$tmp/err" && ok || bad "binary file message"
printf 'Just some prose.\nNothing else.\n' >"$tmp/prose"
expect 1 "prose" "$bin" parse "$tmp/prose"
grep -q "not a mail message" "$tmp/err" && ok || bad "not-mail message"
expect 2 "a directory" "$bin" parse tests

expect 0 "parse demo" "$bin" parse tests/data/demo-vi.eml
if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["parts"] and "facts" in d' "$tmp/out"; then ok; else bad "JSON output is valid and has parts"; fi
expect 0 "parse from stdin" sh -c "\"$bin\" parse - < tests/data/demo-vi.eml"
expect 0 "--text" "$bin" parse --text tests/data/demo-vi.eml
if [ -s "$tmp/out" ] && ! grep -q '<' "$tmp/out"; then ok; else bad "--text prints text without tags"; fi

# --trusted moves the first untrusted Received hop past the operator's relays
"$bin" parse tests/data/msg/headers-weird.eml >"$tmp/default.json" 2>/dev/null
"$bin" parse --trusted "127.0.0.0/8 10.0.0.0/8" tests/data/msg/headers-weird.eml >"$tmp/trusted.json" 2>/dev/null
if python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2])); assert a["first_untrusted"] == 1 and b["first_untrusted"] == 2, (a["first_untrusted"], b["first_untrusted"])' "$tmp/default.json" "$tmp/trusted.json"; then ok; else bad "--trusted changes first_untrusted"; fi

finish
