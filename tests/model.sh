#!/bin/sh
# model.sh: the stored model as a user drives it: learn, check, unlearn,
# idempotent learning, per-user models, kill -9 while learning, a damaged
# store, export/import, bad input. Messages are generated here (no corpus).
# Needs $SPAMSIFT (the binary) and python3. Ends with "N passed, N failed".
set -u
. "$(dirname "$0")/lib.sh"
# score DB FILE [ARGS]: the score check prints for one message
score() {
	db=$1; f=$2; shift 2
	"$bin" check --json --db "$db" "$@" "$f" | python3 -c 'import json,sys; print("%.6f" % json.loads(sys.stdin.readline())["score"])'
}
# close A B TOL: |A - B| <= TOL
close() { python3 -c "import sys; sys.exit(0 if abs($1 - $2) <= $3 else 1)"; }

# Two folders of distinct, generated messages: "spam" sells, "ham" works.
python3 - "$tmp" <<'EOF'
import os, random, sys
root = sys.argv[1]
rnd = random.Random(7)
spamw = "cheap pills offer free prize winner click money credit loan viagra casino deal".split()
hamw = "meeting project review build release notes agenda patch thanks lunch report team".split()
common = "the a and to of for you your this is on with".split()
def mail(kind, i, words):
    body = " ".join(rnd.choice(words + common) for _ in range(60))
    subj = " ".join(rnd.choice(words) for _ in range(4))
    return ("Message-ID: <%s%d@gen.example>\nFrom: %s%d@%s.example\nTo: you@here.example\n"
            "Subject: %s\n\n%s\n" % (kind, i, kind, i % 7, kind, subj, body))
for kind, words, n in (("spam", spamw, 300), ("ham", hamw, 300), ("bulk", spamw, 3000)):
    os.makedirs(os.path.join(root, kind))
    for i in range(n):
        with open(os.path.join(root, kind, "%04d.eml" % i), "w") as f:
            f.write(mail(kind, i, words))
with open(os.path.join(root, "probe.eml"), "w") as f:
    f.write("Subject: project offer\n\nthe project review has a free offer for the team\n")
with open(os.path.join(root, "extra.eml"), "w") as f:
    f.write("Message-ID: <extra@x>\nSubject: review offer\n\nfree review of the project, click\n")
EOF
db=$tmp/db

# learn, check, stats
expect 0 "learn spam" "$bin" learn --spam --db "$db" "$tmp/spam"
grep -q "300 learned" "$tmp/err" && ok || bad "learn reports 300 learned: $(cat "$tmp/err")"
grep -q "300 spam learned while the model holds 0 ham: .* learn both in one run" "$tmp/err" && ok ||
	bad "a first class alone is warned of: $(cat "$tmp/err")"
expect 0 "learn ham" "$bin" learn --ham --db "$db" "$tmp/ham"
grep -q "leans" "$tmp/err" && bad "as many ham as spam: no warning" || ok
expect 0 "check" "$bin" check --db "$db" "$tmp/spam/0001.eml" "$tmp/ham/0001.eml"
grep -q "spam/0001.eml: spam" "$tmp/out" && ok || bad "a spam is spam: $(cat "$tmp/out")"
grep -q "ham/0001.eml: ham" "$tmp/out" && ok || bad "a ham is ham"
expect 0 "check --json" "$bin" check --json --db "$db" "$tmp/spam"
python3 -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) == 300
for r in rows:
    assert {"path", "score", "verdict", "action", "symbols"} <= set(r)
    s = r["symbols"][0]
    assert {"name", "score", "description"} <= set(s) and s["features"]
assert sum(r["verdict"] == "spam" for r in rows) >= 295
' "$tmp/out" && ok || bad "check --json: one object per message with the fields"
expect 0 "stats" "$bin" stats --db "$db"
grep -q "global: 300 spam, 300 ham" "$tmp/out" && ok || bad "stats totals: $(cat "$tmp/out")"

# idempotent: learning the same messages again changes nothing
before=$(score "$db" "$tmp/probe.eml")
expect 0 "learn again" "$bin" learn --spam --db "$db" "$tmp/spam"
grep -q "0 learned, 300 unchanged" "$tmp/err" && ok || bad "relearn is a no-op: $(cat "$tmp/err")"
[ "$(score "$db" "$tmp/probe.eml")" = "$before" ] && ok || bad "relearn moved a score"

# unlearn restores other messages' scores
expect 0 "learn extra" "$bin" learn --spam --db "$db" "$tmp/extra.eml"
moved=$(score "$db" "$tmp/probe.eml")
close "$moved" "$before" 0.0000005 && bad "learning extra should move the probe" || ok
expect 0 "unlearn extra" "$bin" unlearn --db "$db" "$tmp/extra.eml"
close "$(score "$db" "$tmp/probe.eml")" "$before" 0.0001 && ok || bad "unlearn restores the probe's score"
expect 0 "unlearn twice" "$bin" unlearn --db "$db" "$tmp/extra.eml"
grep -q "0 unlearned, 1 unchanged" "$tmp/err" && ok || bad "second unlearn is a no-op"
# relearning as the other class moves it
expect 0 "learn ham copy" "$bin" learn --ham --db "$db" "$tmp/extra.eml"
expect 0 "move to spam" "$bin" learn --spam --db "$db" "$tmp/extra.eml"
grep -q "1 learned" "$tmp/err" && ok || bad "moving counts as learned"
"$bin" stats --db "$db" >"$tmp/out"
grep -q "global: 301 spam, 300 ham" "$tmp/out" && ok || bad "moved message counted once: $(cat "$tmp/out")"
"$bin" unlearn --db "$db" "$tmp/extra.eml" 2>/dev/null

# per-user models fall back on the global one
[ "$(score "$db" "$tmp/probe.eml" --user alice)" = "$before" ] && ok || bad "a new user gets the global score"
expect 0 "alice learns" "$bin" learn --ham --user alice --db "$db" "$tmp/extra.eml" "$tmp/spam/000"*
after=$(score "$db" "$tmp/probe.eml" --user alice)
close "$after" "$before" 0.001 && bad "alice's reports move her score ($before -> $after)" || ok
[ "$(score "$db" "$tmp/probe.eml")" = "$before" ] && ok || bad "alice's reports leave the global model alone"
# unlearning for a user without a model must not touch the global one
expect 0 "unlearn for bob" "$bin" unlearn --user bob --db "$db" "$tmp/spam/0001.eml"
grep -q "nothing to unlearn" "$tmp/err" && ok || bad "bob has nothing to unlearn: $(cat "$tmp/err")"
[ "$(score "$db" "$tmp/probe.eml")" = "$before" ] && ok || bad "bob's unlearn left the global model alone"

# export / import round trip gives the same scores
expect 0 "export" "$bin" export --db "$db" "$tmp/backup.txt"
expect 0 "import" "$bin" import --db "$tmp/db2" "$tmp/backup.txt"
[ "$(score "$tmp/db2" "$tmp/probe.eml")" = "$before" ] && ok || bad "imported model scores the same"
[ "$(score "$tmp/db2" "$tmp/probe.eml" --user alice)" = "$after" ] && ok || bad "imported user model"
# the compression table travels too: its lines, and the same export after
grep -q "^ppm 17$" "$tmp/backup.txt" && [ "$(grep -c "^pl " "$tmp/backup.txt")" -gt 1000 ] && ok ||
	bad "the export holds the compression table"
"$bin" export --db "$tmp/db2" - | cmp -s - "$tmp/backup.txt" && ok || bad "export after import is the same"
# a model made without it scores without it, and an import into it says so
expect 0 "learn without the table" "$bin" learn --spam --no-ppm --db "$tmp/db4" "$tmp/spam"
"$bin" export --db "$tmp/db4" - | grep -q "^ppm " && bad "--no-ppm makes no table" || ok
expect 0 "import into a model without the table" "$bin" import --db "$tmp/db4" "$tmp/backup.txt"
grep -q "no compression table" "$tmp/err" && ok || bad "the table left out is said: $(cat "$tmp/err")"
"$bin" check --json --db "$tmp/db2" "$tmp/probe.eml" | grep -q '"description":"[^"]*compression expert' &&
	ok || bad "the verdict names the compression expert"
head -c 2000 "$tmp/backup.txt" >"$tmp/trunc.txt"
echo "garbage line" >>"$tmp/trunc.txt"
expect 2 "import of a bad file" "$bin" import --db "$tmp/db3" "$tmp/trunc.txt"
"$bin" stats --db "$tmp/db3" >"$tmp/out" 2>&1
grep -q "global: 0 spam, 0 ham" "$tmp/out" && ok || bad "a failed import leaves nothing: $(cat "$tmp/out")"
# each kind of bad line is refused by name, and its import leaves nothing
hex64=$(printf '%0128d' 0)
i=0
while IFS='|' read -r what body; do
	i=$((i + 1))
	printf 'spamsift-model 4\nuser 0 - 5 5\n%b\n' "$body" >"$tmp/bad$i.txt"
	expect 2 "import: $what" "$bin" import --db "$tmp/dbbad$i" "$tmp/bad$i.txt"
	grep -q "bad$i.txt:[34]: bad line" "$tmp/err" && ok || bad "$what: the line is named: $(cat "$tmp/err")"
	"$bin" stats --db "$tmp/dbbad$i" >"$tmp/out" 2>&1
	grep -q "global: 0 spam, 0 ham" "$tmp/out" && ok || bad "$what: nothing imported: $(cat "$tmp/out")"
done <<EOF
a table line that is not hex|ppm 17\npl 5 $(printf 'zz%.0s' $(seq 64))
a table line before the table's size|pl 5 1$(echo "$hex64" | cut -c2-)
a table line past the table|ppm 17\npl 131072 1$(echo "$hex64" | cut -c2-)
a dense piece past its end|ppm 17\npd 999999 00ff
a second table size|ppm 17\nppm 17
a weight that is not a number|f 0 00000000000000ff 1 0 nan 19000
a step that is not a number|m 0 00112233445566778899aabbccddeeff 1 10 inf 0 1700000000
EOF

# bad input: refused messages are not learned, unreadable paths fail
head -c 4096 /dev/urandom >"$tmp/random.bin"
printf '\0\0\0\0' >>"$tmp/random.bin"
expect 1 "learn binary" "$bin" learn --spam --db "$db" "$tmp/random.bin"
grep -q "binary" "$tmp/err" && ok || bad "binary input is named"
expect 2 "learn missing path" "$bin" learn --spam --db "$db" "$tmp/nope"
expect 2 "learn without class" "$bin" learn --db "$db" "$tmp/spam"
expect 2 "check without model" "$bin" check --db "$tmp/none" "$tmp/probe.eml"
grep -q "no model" "$tmp/err" && ok || bad "missing model explained"
"$bin" stats --db "$db" >"$tmp/out"
grep -q "global: 300 spam, 300 ham" "$tmp/out" && ok || bad "bad input learned nothing"

# kill -9 while learning leaves a usable store
cp -r "$db" "$tmp/dbk"
"$bin" learn --spam --db "$tmp/dbk" "$tmp/bulk" 2>/dev/null &
pid=$!
sleep 0.3
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
expect 0 "stats after kill -9" "$bin" stats --db "$tmp/dbk"
expect 0 "check after kill -9" "$bin" check --db "$tmp/dbk" "$tmp/probe.eml"
expect 0 "learn after kill -9" "$bin" learn --spam --db "$tmp/dbk" "$tmp/bulk"
"$bin" stats --db "$tmp/dbk" >"$tmp/out"
grep -q "global: 3300 spam, 300 ham" "$tmp/out" && ok || bad "resumed learning counts each message once: $(cat "$tmp/out")"

# a damaged store: a clear error and the way to recover, never a crash
cp -r "$db" "$tmp/dbc"
python3 - "$tmp/dbc/data.mdb" <<'EOF'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(0)
    f.write(b"\xff" * 8192)  # both meta pages
EOF
expect 2 "check on a damaged store" "$bin" check --db "$tmp/dbc" "$tmp/probe.eml"
grep -q "damaged" "$tmp/err" && grep -q "import" "$tmp/err" && ok || bad "damage explained: $(cat "$tmp/err")"
expect 2 "stats on a damaged store" "$bin" stats --db "$tmp/dbc"
: >"$tmp/dbc/data.mdb"
printf 'not lmdb' >"$tmp/dbc/data.mdb"
expect 2 "check on a foreign file" "$bin" check --db "$tmp/dbc" "$tmp/probe.eml"

# mbox files: messages split on "From " lines, ">From " lines unquoted; a
# message learned from an mbox is the same message (same digest: same
# Message-ID, Subject and text) as the unquoted file, in a one-message
# mbox (read in place) as in a two-message one (copied)
mb=$tmp/mbox
mkdir "$mb"
msg() { printf 'Message-ID: <%s@mbox.example>\nSubject: mbox %s\n\n%s line one\n%sFrom the start\nlast\n' "$1" "$1" "$1" "$2"; }
{ printf 'From a@b Mon Nov 23 10:00:00 2026\n'; msg m1 '>'; printf 'From a@b Mon Nov 23 10:01:00 2026\n'; msg m2 '>'; } >"$mb/two.mbox"
{ printf 'From a@b Mon Nov 23 10:02:00 2026\n'; msg m3 '>'; } >"$mb/quoted.mbox"
{ printf 'From a@b Mon Nov 23 10:03:00 2026\n'; msg m4 'Not '; } >"$mb/plain.mbox"
for i in 1 2 3; do msg "m$i" '' >"$mb/m$i.eml"; done
msg m4 'Not ' >"$mb/m4.eml"
msg m3 '>' >"$mb/m3-still-quoted.eml"
expect 0 "learn mboxes" "$bin" learn --spam --db "$tmp/dbm" "$mb/two.mbox" "$mb/quoted.mbox" "$mb/plain.mbox"
grep -q "4 learned" "$tmp/err" && ok || bad "four mbox messages learned: $(cat "$tmp/err")"
expect 0 "check an mbox" "$bin" check --json --db "$tmp/dbm" "$mb/two.mbox" "$mb/plain.mbox"
python3 -c '
import json, sys
paths = [json.loads(l)["path"] for l in open(sys.argv[1])]
d = sys.argv[2]
assert paths == [d + "/two.mbox#1", d + "/two.mbox#2", d + "/plain.mbox"], paths
' "$tmp/out" "$mb" && ok || bad "mbox messages are named FILE#N, a lone one FILE: $(cat "$tmp/out")"
expect 0 "learn the same as files" "$bin" learn --spam --db "$tmp/dbm" "$mb/m1.eml" "$mb/m2.eml" "$mb/m3.eml" "$mb/m4.eml"
grep -q "0 learned, 4 unchanged" "$tmp/err" && ok || bad "mbox messages unquoted as files: $(cat "$tmp/err")"
expect 0 "learn a still-quoted copy" "$bin" learn --spam --db "$tmp/dbm" "$mb/m3-still-quoted.eml"
grep -q "1 learned" "$tmp/err" && ok || bad "a quoted line is another text: $(cat "$tmp/err")"

# both classes in one run: each path the class of the option before it,
# the messages interleaved in proportion (10 spam, 20 ham: ham, spam, ham,
# ham, spam...), which is what learning them one by one in that order gives
mkdir "$tmp/mix-s" "$tmp/mix-h"
for i in 0 1 2 3 4 5 6 7 8 9; do cp "$tmp/spam/000$i.eml" "$tmp/mix-s/"; done
for i in 00 01 02 03 04 05 06 07 08 09 10 11 12 13 14 15 16 17 18 19; do
	cp "$tmp/ham/00$i.eml" "$tmp/mix-h/"
done
expect 0 "learn --spam --ham" "$bin" learn --db "$tmp/dbmix" --spam "$tmp/mix-s" --ham "$tmp/mix-h"
grep -q "30 messages, 30 learned" "$tmp/err" && ok || bad "30 learned at once: $(cat "$tmp/err")"
"$bin" stats --db "$tmp/dbmix" | grep -q "global: 10 spam, 20 ham" && ok || bad "each path learned as its class"
s=0; h=0
for c in ham spam ham ham spam ham ham spam ham ham spam ham ham spam ham ham spam ham ham spam ham ham spam ham ham spam ham ham spam ham; do
	if [ "$c" = spam ]; then f=$tmp/spam/000$s.eml; s=$((s + 1)); else f=$tmp/ham/00$(printf %02d $h).eml; h=$((h + 1)); fi
	"$bin" learn --$c --db "$tmp/dbone" "$f" 2>/dev/null
done
"$bin" export --db "$tmp/dbmix" - | sed 's/ [0-9]*$//' >"$tmp/mix.txt"
"$bin" export --db "$tmp/dbone" - | sed 's/ [0-9]*$//' >"$tmp/one.txt"
cmp -s "$tmp/mix.txt" "$tmp/one.txt" && ok || bad "learned interleaved in proportion, as one by one"
"$bin" learn --db "$tmp/dbseq" --spam "$tmp/mix-s" 2>/dev/null
"$bin" learn --db "$tmp/dbseq" --ham "$tmp/mix-h" 2>/dev/null
"$bin" export --db "$tmp/dbseq" - | sed 's/ [0-9]*$//' | cmp -s - "$tmp/mix.txt" && bad "class after class learns another model" || ok
expect 0 "both classes, one an mbox" "$bin" learn --db "$tmp/dbmixm" --ham "$mb/two.mbox" --spam "$tmp/mix-s"
"$bin" stats --db "$tmp/dbmixm" | grep -q "global: 10 spam, 2 ham" && ok || bad "an mbox's messages mixed in"
expect 0 "both classes for a user" "$bin" learn --user carol --db "$tmp/dbmixm" --spam "$tmp/mix-s" --ham "$tmp/mix-h"
"$bin" stats --db "$tmp/dbmixm" | grep -q "user carol: 10 spam, 20 ham learned" && ok ||
	bad "a user's model learns both: $("$bin" stats --db "$tmp/dbmixm")"
expect 2 "a path before both classes" "$bin" learn --db "$tmp/dbmix" "$tmp/extra.eml" --spam "$tmp/mix-s" --ham "$tmp/mix-h"
grep -q "each path follows" "$tmp/err" && ok || bad "the path without a class is named: $(cat "$tmp/err")"
expect 2 "standard input with both classes" "$bin" learn --db "$tmp/dbmix" --spam - --ham "$tmp/mix-h"
"$bin" stats --db "$tmp/dbmix" | grep -q "global: 10 spam, 20 ham" && ok || bad "refused runs learned nothing"
expect 2 "a missing path with both classes" "$bin" learn --db "$tmp/dbmix2" --spam "$tmp/mix-s" --ham "$tmp/nowhere"
grep -q "10 learned" "$tmp/err" && ok || bad "the other class is learned: $(cat "$tmp/err")"

# the TREC toolkit's commands
expect 0 "trec initialize" "$bin" trec initialize --db "$tmp/trec"
expect 0 "trec train" "$bin" trec train spam "$tmp/spam/0002.eml" --db "$tmp/trec"
expect 0 "trec classify" "$bin" trec classify "$tmp/spam/0003.eml" --db "$tmp/trec"
grep -Eq "^class=(spam|ham) score=[0-9.]+ tfile=\*$" "$tmp/out" && ok || bad "trec classify output: $(cat "$tmp/out")"
expect 0 "trec finalize" "$bin" trec finalize --db "$tmp/trec"

finish
