# lib.sh: what the shell test scripts share (sourced, not run): a scratch
# folder removed on exit, pass/fail counting, and `expect`.
# Needs $SPAMSIFT (the binary); sets $bin, $tests and $tmp.
bin=${SPAMSIFT:?set SPAMSIFT to the spamsift binary}
tests=$(cd "$(dirname "$0")" && pwd) # this folder: genmail.py, rawnet.py
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# expect CODE DESCRIPTION CMD...: runs CMD (output in $tmp/out, $tmp/err),
# checks its exit code
expect() {
	want=$1; what=$2; shift 2
	"$@" >"$tmp/out" 2>"$tmp/err"
	got=$?
	if [ "$got" = "$want" ]; then ok; else bad "$what: exit $got, wanted $want ($(head -c 300 "$tmp/err"))"; fi
}

# gt A B: A > B, for numbers (decimals too)
gt() { python3 -c "import sys; sys.exit(0 if $1 > $2 else 1)"; }

# finish: prints the tally, fails when anything failed
finish() {
	echo "$pass passed, $fail failed"
	[ "$fail" = 0 ]
}
