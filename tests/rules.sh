#!/bin/sh
# rules.sh: the rule set as users meet it: every rule of the default set
# fires on its own test message (tests/data/rules/SYMBOL.eml) and a plain
# ham fires none; `spamsift check --rules` with files and folders,
# --no-default-rules, the envelope options (--ip, --from, --rcpt, --helo)
# with lists and per-domain scores; `spamsift rules check` and broken files
# reported as FILE:LINE: reason; spamsiftd with `rules = PATH` whose
# SIGHUP reload keeps the old rules when the new file is broken and takes
# the new ones once it is fixed. Loopback only; the daemon is stopped by
# its PID. Needs $SPAMSIFT, $SPAMSIFTD, curl, python3.
# Ends with "N passed, N failed".
set -u
. "$(dirname "$0")/lib.sh"
daemon=${SPAMSIFTD:?set SPAMSIFTD to the spamsiftd binary}
data=$tests/data/rules
rules_dir=$tests/../rules
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT

gen_corpus 3 10
db=$tmp/db
train_model "$db"

# symbols FILE ARGS...: the symbol names `check --json` lists, one a line
symbols() {
	f=$1
	shift
	"$bin" check --json --db "$db" "$@" "$f" 2>"$tmp/err" |
		python3 -c 'import json,sys
for s in json.load(sys.stdin)["symbols"]: print(s["name"])'
}

# points FILE ARGS...: NAME=SCORE of every symbol
points() {
	f=$1
	shift
	"$bin" check --json --db "$db" "$@" "$f" 2>"$tmp/err" |
		python3 -c 'import json,sys
for s in json.load(sys.stdin)["symbols"]: print("%s=%g" % (s["name"], s["score"]))'
}

# ---- the default set: a message per rule, each fires ----
names=$(sed -n 's/^\(header\|body\|rawbody\|uri\|full\|fact\|meta\)[ \t]\+\([A-Z0-9_]\+\)[ \t].*/\2/p' \
	"$rules_dir"/*.rules | grep -v '^__')
count=0
for n in $names; do
	count=$((count + 1))
	if [ ! -f "$data/$n.eml" ]; then
		bad "no test message $data/$n.eml"
		continue
	fi
	symbols "$data/$n.eml" >"$tmp/syms"
	grep -qx "$n" "$tmp/syms" && ok || bad "$n does not fire on $n.eml: $(tr '\n' ' ' <"$tmp/syms")"
done
[ "$count" -ge 30 ] && ok || bad "the default set has only $count rules"
symbols "$data/ham.eml" >"$tmp/syms"
[ "$(cat "$tmp/syms")" = "SPAMSIFT_BAYES" ] && ok || bad "ham fires rules: $(tr '\n' ' ' <"$tmp/syms")"
# Scored and described: the text report shows points and the description.
expect 0 "check text" "$bin" check --db "$db" "$data/BODY_PHARMA.eml"
grep -q "+1.50  BODY_PHARMA .*Names drugs sold by pharmacy spam" "$tmp/out" && ok ||
	bad "text report of a rule: $(cat "$tmp/out")"
# A ham prints what check always printed: no points block.
expect 0 "check ham text" "$bin" check --db "$db" "$data/ham.eml"
grep -q "points" "$tmp/out" && bad "ham shows points: $(cat "$tmp/out")" || ok
symbols "$data/BODY_PHARMA.eml" --no-default-rules >"$tmp/syms"
[ "$(cat "$tmp/syms")" = "SPAMSIFT_BAYES" ] && ok || bad "--no-default-rules still runs the defaults"

# ---- --rules: files and folders, on top of the defaults ----
mkdir "$tmp/rules.d"
cat >"$tmp/rules.d/10-mine.rules" <<'EOF'
body     MY_LUNCH  /\blunch\b/i
score    MY_LUNCH  2.5
describe MY_LUNCH  Talks about lunch
meta     MY_META   MY_LUNCH && !BODY_PHARMA
score    BODY_PHARMA 4
EOF
printf 'header MY_SUBJ Subject =~ /review/i\nscore MY_SUBJ 0.25\n' >"$tmp/one.rules"
echo "junk that is not read" >"$tmp/rules.d/README"
points "$data/ham.eml" --rules "$tmp/rules.d" --rules "$tmp/one.rules" >"$tmp/p"
grep -qx "MY_LUNCH=2.5" "$tmp/p" && grep -qx "MY_META=0" "$tmp/p" && grep -qx "MY_SUBJ=0.25" "$tmp/p" && ok ||
	bad "--rules folder and file: $(tr '\n' ' ' <"$tmp/p")"
points "$data/BODY_PHARMA.eml" --rules "$tmp/rules.d" >"$tmp/p"
grep -qx "BODY_PHARMA=4" "$tmp/p" && ok || bad "a later score line rescores a default: $(tr '\n' ' ' <"$tmp/p")"
# The score is the sum of the symbols.
"$bin" check --json --db "$db" --rules "$tmp/rules.d" "$data/ham.eml" |
	python3 -c 'import json,sys
r=json.load(sys.stdin)
print(r["verdict"])' >"$tmp/v"
[ -s "$tmp/v" ] && ok || bad "check --json with rules"

# ---- the envelope: lists and per-domain settings ----
cat >"$tmp/lists.rules" <<'EOF'
deny_ip     203.0.113.0/24
allow_from  *@friends.example
domain example.net
  score MY_HELLO 5
end
body  MY_HELLO /hello/i
EOF
points "$data/ham.eml" --rules "$tmp/lists.rules" --ip 203.0.113.9 --helo mx.example \
	--from "<x@friends.example>" >"$tmp/p"
grep -qx "DENY_IP=20" "$tmp/p" && grep -qx "ALLOW_FROM=-20" "$tmp/p" && ok ||
	bad "--ip and --from reach the lists: $(tr '\n' ' ' <"$tmp/p")"
points "$data/MISSING_DATE.eml" --rules "$tmp/lists.rules" --rcpt a@example.org --rcpt b@example.net >"$tmp/p"
grep -qx "MY_HELLO=5" "$tmp/p" && ok || bad "--rcpt selects the domain block: $(tr '\n' ' ' <"$tmp/p")"
points "$data/MISSING_DATE.eml" --rules "$tmp/lists.rules" --rcpt a@example.org >"$tmp/p"
grep -qx "MY_HELLO=0" "$tmp/p" && ok || bad "another domain keeps the global score: $(tr '\n' ' ' <"$tmp/p")"
points "$data/MISSING_DATE.eml" --rules "$tmp/lists.rules" --user carol@example.net >"$tmp/p"
grep -qx "MY_HELLO=5" "$tmp/p" && ok || bad "--user's domain selects the block: $(tr '\n' ' ' <"$tmp/p")"

# ---- errors: FILE:LINE: reason, exit 2 ----
printf '# mine\nbody OK /ok/\nbody BAD /a(b/\n' >"$tmp/bad.rules"
expect 2 "check --rules with a broken file" "$bin" check --db "$db" --rules "$tmp/bad.rules" "$data/ham.eml"
grep -q "$tmp/bad.rules:3: bad regex /a(b/" "$tmp/err" && ok || bad "FILE:LINE from check: $(cat "$tmp/err")"
expect 2 "rules check of a broken file" "$bin" rules check "$tmp/bad.rules"
grep -q "$tmp/bad.rules:3: bad regex" "$tmp/err" && ok || bad "rules check FILE:LINE: $(cat "$tmp/err")"
printf 'meta M1 NOPE\n' >"$tmp/bad2.rules"
expect 2 "unknown symbol" "$bin" rules check "$tmp/bad2.rules"
grep -q "$tmp/bad2.rules:1: meta M1: unknown symbol NOPE" "$tmp/err" && ok || bad "unknown symbol: $(cat "$tmp/err")"
printf 'body BODY_PHARMA /x/\n' >"$tmp/bad3.rules"
expect 2 "a default's name again" "$bin" rules check "$tmp/bad3.rules"
grep -q "bad3.rules:1: rule BODY_PHARMA defined twice (first at rules/20-body.rules:" "$tmp/err" && ok ||
	bad "duplicate of a default: $(cat "$tmp/err")"
expect 2 "missing path" "$bin" rules check "$tmp/nowhere.rules"
grep -q "nowhere.rules: No such file" "$tmp/err" && ok || bad "missing path: $(cat "$tmp/err")"
expect 0 "rules check of good files" "$bin" rules check "$tmp/rules.d" "$tmp/one.rules"
grep -q "rules (0 on PCRE2), .* files: OK" "$tmp/out" && ok || bad "rules check OK line: $(cat "$tmp/out")"
expect 0 "rules check of the defaults alone" "$bin" rules check
expect 0 "the installed copy checks alone" "$bin" rules check --no-default-rules "$rules_dir"
expect 2 "rules without check" "$bin" rules
expect 0 "spamsift --help" "$bin" --help
grep -q -- "--rules PATH" "$tmp/out" && grep -q "rules check" "$tmp/out" && ok || bad "--help documents rules"

# ---- spamsiftd: rules = PATH, reload keeps the old rules on an error ----
conf=$tmp/spamsiftd.conf
printf 'db = %s\nhttp = 127.0.0.1:0\nthreads = 1\nrules = %s\n' "$db" "$tmp/live.rules" >"$conf"
printf 'body LIVE_ONE /lunch/\nscore LIVE_ONE 1\n' >"$tmp/live.rules"
"$daemon" -c "$conf" >"$tmp/d.out" 2>"$tmp/d.err" &
pid=$!
for i in $(seq 100); do
	[ -s "$tmp/d.out" ] && break
	sleep 0.05
done
hport=$(sed -n 's/^http 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$tmp/d.out")
[ -n "$hport" ] && ok || bad "spamsiftd with rules started: $(cat "$tmp/d.err")"
hsyms() {
	curl -s --max-time 10 -H "X-Client-IP: 203.0.113.9" --data-binary "@$1" \
		"http://127.0.0.1:$hport/check" |
		python3 -c 'import json,sys
for s in json.load(sys.stdin)["symbols"]: print(s["name"])'
}
hsyms "$data/ham.eml" >"$tmp/s"
grep -qx LIVE_ONE "$tmp/s" && ok || bad "the daemon runs rules = PATH: $(tr '\n' ' ' <"$tmp/s")"
hsyms "$data/BODY_PHARMA.eml" | grep -qx BODY_PHARMA && ok || bad "the daemon runs the defaults"
# hup PATTERN: SIGHUP, then wait for one more log line matching PATTERN
hup() {
	before=$(grep -c "$1" "$tmp/d.err")
	kill -HUP "$pid"
	for i in $(seq 100); do
		[ "$(grep -c "$1" "$tmp/d.err")" -gt "$before" ] && return 0
		sleep 0.05
	done
	bad "after SIGHUP, a log line matching '$1': $(tail -3 "$tmp/d.err")"
}
printf 'body LIVE_TWO /lunch/\nmeta LIVE_M LIVE_TWO && NOPE\n' >"$tmp/live.rules"
hup "reload refused"
grep -q "reload refused: rules: $tmp/live.rules:2: meta LIVE_M: unknown symbol NOPE" "$tmp/d.err" && ok ||
	bad "the reload logs FILE:LINE: $(tail -3 "$tmp/d.err")"
hsyms "$data/ham.eml" >"$tmp/s"
grep -qx LIVE_ONE "$tmp/s" && ! grep -qx LIVE_TWO "$tmp/s" && ok ||
	bad "the old rules keep serving: $(tr '\n' ' ' <"$tmp/s")"
printf 'body LIVE_TWO /lunch/\ndeny_ip 203.0.113.0/24\n' >"$tmp/live.rules"
hup "configuration 2:"
hsyms "$data/ham.eml" >"$tmp/s"
grep -qx LIVE_TWO "$tmp/s" && ! grep -qx LIVE_ONE "$tmp/s" && grep -qx DENY_IP "$tmp/s" && ok ||
	bad "the fixed rules and the envelope's IP after the reload: $(tr '\n' ' ' <"$tmp/s")"
kill -TERM "$pid"
wait "$pid" && ok || bad "spamsiftd exit 0"
pid=""
"$daemon" --db "$db" --http 127.0.0.1:0 --rules "$tmp/bad.rules" >"$tmp/d.out" 2>"$tmp/d.err"
[ $? = 2 ] && grep -q "$tmp/bad.rules:3: bad regex" "$tmp/d.err" && ok ||
	bad "a broken rule file at start: exit 2 and FILE:LINE: $(cat "$tmp/d.err")"

finish
