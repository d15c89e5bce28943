#!/bin/sh
# web.sh: spamsiftd's web page and its API, as an operator and a script use
# them. A model is trained on generated mail; spamsiftd listens on
# 127.0.0.1 (port 0) with two users (admin and read); messages go in
# through Debian's spamc, among them a Chinese and a Vietnamese subject
# (RFC 2047). Then, with curl: logins, roles (401, 403), the CSRF header,
# cookie flags, no secret in any answer, the history's filters, bounds
# (entries and the raw byte budget), the refusal to listen beyond loopback
# without users. Then Debian's chromium, driven headless by playwright-core
# (installed from npm into build/web-node with tests/web/package-lock.json):
# tests/web/drive.mjs logs in, finds the subjects, opens a message, clicks
# "Learn as spam", and is refused with the read role; screenshots of each
# view go to build/test-artifacts/web/. Ends with "N passed, N failed".
# Needs $SPAMSIFT, $SPAMSIFTD, curl, spamc, python3, node, npm, chromium.
set -u
. "$(dirname "$0")/lib.sh"
daemon=${SPAMSIFTD:?set SPAMSIFTD to the spamsiftd binary}
root=$(cd "$tests/.." && pwd)
nodedir=${WEB_NODE_DIR:-$root/build/web-node}
art=${WEB_ARTIFACTS:-$root/build/test-artifacts/web}
chromium=${CHROMIUM:-/usr/bin/chromium}
pids=""
trap 'for p in $pids; do kill "$p" 2>/dev/null; done; rm -rf "$tmp"' EXIT

admin_secret="adm-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
read_secret="rd-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
zh="项目会议纪要：下周的安排"
vi="Báo cáo dự án tuần này — Nguyễn Văn Đức"

python3 - "$tmp" "$tests" "$zh" "$vi" <<'EOF'
import sys
from email.header import Header
sys.dont_write_bytecode = True
sys.path.insert(0, sys.argv[2])
import genmail
root, zh, vi = sys.argv[1], sys.argv[3], sys.argv[4]
g = genmail.Gen(root, seed=11)
g.corpus()
def subject(name, kind, tag, text, enc):
    m = g.mail(kind, tag)
    head, body = m.split("\n\n", 1) if "\n\n" in m else (m, "")
    lines = [l for l in m.split("\n")]
    enc_text = Header(text, "utf-8", header_name="Subject").encode() if enc == "b" else \
        "=?utf-8?q?" + "".join(c if c.isascii() and c.isalnum() else
                               "".join("=%02X" % b for b in c.encode()) if c != " " else "_"
                               for c in text) + "?="
    out = "\n".join("Subject: " + enc_text if l.startswith("Subject: ") else l for l in lines)
    open(root + "/" + name, "w").write(out)
subject("zh.eml", "ham", "zh", zh, "b")
subject("vi.eml", "ham", "vi", vi, "q")
EOF
grep -q '^Subject: =?utf-8?b?' "$tmp/zh.eml" && grep -q '^Subject: =?utf-8?q?' "$tmp/vi.eml" && ok ||
	bad "the subjects are RFC 2047 encoded: $(grep -h ^Subject "$tmp/zh.eml" "$tmp/vi.eml")"

db=$tmp/db
expect 0 "learn spam" "$bin" learn --spam --db "$db" "$tmp/spam"
expect 0 "learn ham" "$bin" learn --ham --db "$db" "$tmp/ham"

# start DIR ARGS...: spamsiftd in the background; sets $port, $sport, $url
start() {
	out=$1
	shift
	: >"$out.out"
	"$daemon" "$@" >"$out.out" 2>"$out.err" &
	pids="$pids $!"
	last=$!
	for i in $(seq 50); do
		grep -q '^http ' "$out.out" && break
		sleep 0.1
	done
	port=$(sed -n 's/^http 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$out.out")
	sport=$(sed -n 's/^spamd 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$out.out")
	url=http://127.0.0.1:$port
}
stop() { kill "$last" && wait "$last"; }
c() { curl -sS --max-time 10 "$@"; }
code() { curl -sS --max-time 10 -o "$tmp/body" -w '%{http_code}' "$@"; }
# js FILE EXPR [ARG]: a Python expression over the JSON object j in FILE
# (sys.argv[2] is ARG)
js() { f=$1 e=$2; shift 2; python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($e)" "$f" "$@"; }

# Beyond loopback, users are required; a short secret is refused.
expect 2 "http on 0.0.0.0 without users" "$daemon" --db "$db" --http 0.0.0.0:0
grep -q "beyond loopback" "$tmp/err" && ok || bad "it says why: $(cat "$tmp/err")"
expect 2 "a short secret" "$daemon" --db "$db" --http 127.0.0.1:0 --http-user admin:admin:short
expect 2 "a bad role" "$daemon" --db "$db" --http 127.0.0.1:0 --http-user "admin:root:$admin_secret"

start "$tmp/d" --db "$db" --http 127.0.0.1:0 --spamd 127.0.0.1:0 --threads 2 \
	--http-user "admin:admin:$admin_secret" --http-user "viewer:read:$read_secret"
[ -n "$port" ] && [ -n "$sport" ] && ok || bad "spamsiftd started: $(cat "$tmp/d.out" "$tmp/d.err")"
for f in probe-spam.eml probe-ham.eml zh.eml vi.eml; do
	spamc -d 127.0.0.1 -p "$sport" -c <"$tmp/$f" >/dev/null
done
sleep 0.3 # the history commits every 50 ms

# Logins and roles.
[ "$(code "$url/api/history")" = 401 ] && ok || bad "no login: 401 ($(cat "$tmp/body"))"
[ "$(code --data-binary "@$tmp/zh.eml" "$url/check")" = 401 ] && ok || bad "/check needs a login with users"
[ "$(code "$url/health")" = 200 ] && ok || bad "/health stays open"
[ "$(code "$url/")" = 200 ] && grep -q 'src="/app.js"' "$tmp/body" && ok || bad "the page is served at /"
[ "$(code "$url/i18n/en.json")" = 200 ] && grep -q '"message.learn_spam": "Learn as spam"' "$tmp/body" && ok ||
	bad "the strings are served"
# every translation has exactly English's keys (src/web/assets/i18n/)
python3 - "$tests/../src/web/assets/i18n" <<'EOF' && ok || bad "translations and en.json have the same keys"
import glob, json, os, sys
en = set(json.load(open(os.path.join(sys.argv[1], "en.json"))))
bad = [(f, sorted(en ^ set(json.load(open(f))))) for f in glob.glob(sys.argv[1] + "/*.json")]
bad = [b for b in bad if b[1]]
print(bad) if bad else None
sys.exit(1 if bad else 0)
EOF
[ "$(code "$url/i18n/vi.json")" = 200 ] && grep -q '"message.learn_spam": "Học là thư rác"' "$tmp/body" && ok ||
	bad "the Vietnamese strings are served"
A="Authorization: Bearer admin:$admin_secret"
R="Authorization: Bearer viewer:$read_secret"
[ "$(code -H "Authorization: Bearer admin:wrong-secret-123" "$url/api/history")" = 401 ] && ok || bad "a wrong token: 401"
[ "$(code -H "$R" "$url/api/history?limit=10")" = 200 ] && ok || bad "read role lists: $(cat "$tmp/body")"
cp "$tmp/body" "$tmp/list"
[ "$(js "$tmp/list" 'len(j["entries"])')" = 4 ] && ok || bad "4 scans listed: $(head -c 300 "$tmp/list")"
js "$tmp/list" '"\n".join(e["subject"] for e in j["entries"])' >"$tmp/subjects"
grep -qx "$zh" "$tmp/subjects" && grep -qx "$vi" "$tmp/subjects" && ok || bad "decoded subjects: $(cat "$tmp/subjects")"
[ "$(js "$tmp/list" 'j["entries"][0]["door"], j["entries"][0]["id"] > j["entries"][1]["id"]')" = "spamd True" ] && ok ||
	bad "newest first, from the spamd door"
[ "$(js "$tmp/list" '[e["header_from"] for e in j["entries"]].count("ham@ham.example")')" = 3 ] && ok ||
	bad "the From field, decoded, is kept beside the envelope"
vid=$(js "$tmp/list" '[e["id"] for e in j["entries"] if e["subject"].startswith("Báo")][0]')
sid=$(js "$tmp/list" '[e["id"] for e in j["entries"] if e["action"] == "reject"][0]')
# filters: action, score range, text (subject, symbol), paging
[ "$(c -H "$R" "$url/api/history?action=reject" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["entries"]))')" = 1 ] && ok ||
	bad "action filter"
[ "$(c -H "$R" "$url/api/history?max=0" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["entries"]))')" = 3 ] && ok ||
	bad "score filter"
[ "$(c -H "$R" "$url/api/history?q=%E9%A1%B9%E7%9B%AE" | python3 -c 'import json,sys; print([e["subject"][:2] for e in json.load(sys.stdin)["entries"]])')" = "['项目']" ] && ok ||
	bad "text search in a Chinese subject"
[ "$(c -H "$R" "$url/api/history?q=spamsift_bayes&limit=2" | python3 -c 'import json,sys; j=json.load(sys.stdin); print(len(j["entries"]), j["next"] is not None)')" = "2 True" ] && ok ||
	bad "symbol search, a page of 2 with a next"
[ "$(code -H "$R" "$url/api/history?limit=100000")" = 400 ] && ok || bad "limit over 500: 400"
[ "$(code -H "$R" "$url/api/history?action=maybe")" = 400 ] && ok || bad "bad action: 400"
[ "$(code -H "$R" "$url/api/history/999999")" = 404 ] && ok || bad "no such entry: 404"
[ "$(code -H "$R" "$url/api/history/$sid")" = 200 ] && ok || bad "one entry"
[ "$(js "$tmp/body" 'j["result"]["symbols"][0]["name"], len(j["result"]["symbols"][0]["features"]) > 0, j["raw_kept"]')" = "SPAMSIFT_BAYES True True" ] && ok ||
	bad "the entry has symbols, features and its bytes: $(head -c 300 "$tmp/body")"

# Actions: the read role gets 403, admin learns; browsers need X-Spamsift.
[ "$(code -H "$R" -d '' "$url/api/history/$vid/learn-spam")" = 403 ] && ok || bad "read role: 403"
[ "$(code -H "$R" --data-binary "@$tmp/zh.eml" "$url/learn/spam")" = 403 ] && ok || bad "read role on /learn/spam: 403"
[ "$(code -H "$R" --data-binary "@$tmp/zh.eml" "$url/check")" = 200 ] && ok || bad "read role may /check"
[ "$(code -H "$A" -d '' "$url/api/history/$sid/nothing")" = 404 ] && ok || bad "unknown action: 404"
[ "$(code -H "$A" -d '' "$url/api/history/$sid/learn-ham")" = 200 ] && ok || bad "admin learns: $(cat "$tmp/body")"
[ "$(js "$tmp/body" 'j["result"], j["feedback"]')" = "learned ham" ] && ok || bad "learned as ham: $(cat "$tmp/body")"
[ "$(c -H "$A" "$url/api/history/$sid" | python3 -c 'import json,sys; print(json.load(sys.stdin)["feedback"])')" = ham ] && ok ||
	bad "the feedback is kept"
[ "$(code -H "$A" -d '' "$url/api/history/$sid/report")" = 501 ] && ok || bad "report without evidence store: 501"
# a session cookie: flags, then a POST without the header is refused
code -D "$tmp/hdr" -H 'X-Spamsift: 1' --data-urlencode "user=admin" --data-urlencode "password=$admin_secret" "$url/login" >"$tmp/code"
[ "$(cat "$tmp/code")" = 200 ] && ok || bad "login: $(cat "$tmp/body")"
grep -i '^Set-Cookie: spamsift_session=[0-9a-f]\{64\}; Path=/; HttpOnly; SameSite=Strict' "$tmp/hdr" >/dev/null && ok ||
	bad "cookie flags: $(grep -i set-cookie "$tmp/hdr")"
cookie=$(sed -n 's/^[Ss]et-[Cc]ookie: \(spamsift_session=[0-9a-f]*\);.*/\1/p' "$tmp/hdr")
[ "$(code -H "Cookie: $cookie" "$url/api/whoami")" = 200 ] && [ "$(js "$tmp/body" 'j["user"], j["role"]')" = "admin admin" ] && ok ||
	bad "the session works: $(cat "$tmp/body")"
[ "$(code -H "Cookie: $cookie" -d '' "$url/api/history/$sid/unlearn")" = 403 ] && ok || bad "no X-Spamsift: 403"
[ "$(code -H "Cookie: $cookie" -H 'X-Spamsift: 1' -d '' "$url/api/history/$sid/unlearn")" = 200 ] && ok ||
	bad "with the header: 200 $(cat "$tmp/body")"
[ "$(code -H 'X-Spamsift: 1' -d "user=admin&password=nope-nope-nope" "$url/login")" = 401 ] && ok || bad "a wrong password: 401"
grep -q "nope-nope-nope" "$tmp/d.err" && bad "a tried password in the log" || ok
[ "$(code -H "Cookie: $cookie" -H 'X-Spamsift: 1' -d '' "$url/logout")" = 200 ] && ok || bad "logout"
[ "$(code -H "Cookie: $cookie" "$url/api/whoami")" = 401 ] && ok || bad "the session ended"
[ "$(code -H "Cookie: spamsift_session=$(printf '%064d' 0)" "$url/api/history")" = 401 ] && ok || bad "a made-up session: 401"

# No secret leaks: status (config in force), stats, whoami, history, page.
for p in /api/status /api/stats /api/whoami "/api/history?limit=500" / /app.js; do
	c -H "$A" "$url$p" >>"$tmp/all"
done
grep -q "admin:admin" "$tmp/all" && ok || bad "status names the users"
grep -q -e "$admin_secret" -e "$read_secret" "$tmp/all" && bad "a secret leaked" || ok
grep -q -e "$admin_secret" -e "$read_secret" "$tmp/d.err" && bad "a secret in the log" || ok
c -H "$A" "$url/api/status" >"$tmp/status"
[ "$(js "$tmp/status" 'j["history"]["entries"], j["history"]["dropped"], j["model"]["ok"], j["fp_server"]')" = "5 0 True None" ] && ok ||
	bad "status: history, model, fp server: $(head -c 600 "$tmp/status")"
c "$url/metrics" >"$tmp/metrics"
grep -qx 'spamsift_history_written_total 5' "$tmp/metrics" && grep -qx 'spamsift_history_dropped_total 0' "$tmp/metrics" &&
	ok || bad "/metrics counts the history: $(grep history "$tmp/metrics")"
c -H "$A" "$url/api/stats?span=3600" >"$tmp/stats"
[ "$(js "$tmp/stats" 'j["total"], j["top_symbols"][0]["name"], sum(h["spam"] for h in j["spam_share_by_hour"])')" = "5 SPAMSIFT_BAYES 1" ] && ok ||
	bad "stats: $(head -c 400 "$tmp/stats")"

# The browser.
mkdir -p "$art"
rm -f "$art"/*.png
if [ ! -e "$nodedir/node_modules/playwright-core/package.json" ] ||
	! cmp -s "$tests/web/package-lock.json" "$nodedir/package-lock.json"; then
	mkdir -p "$nodedir"
	cp "$tests/web/package.json" "$tests/web/package-lock.json" "$nodedir/"
	npm ci --prefix "$nodedir" --ignore-scripts --no-audit --no-fund >"$tmp/npm" 2>&1 ||
		bad "npm ci playwright-core: $(tail -5 "$tmp/npm")"
fi
PW_MODULES=$nodedir/node_modules timeout 120 node "$tests/web/drive.mjs" "$url" "$art" "$chromium" \
	"$admin_secret" "$read_secret" "$zh" "$vi" >"$tmp/drive" 2>&1
grep '^screenshot ' "$tmp/drive"
pass=$((pass + $(grep -c '^PASS ' "$tmp/drive")))
grep '^FAIL ' "$tmp/drive" >"$tmp/fails" && while read -r line; do bad "browser: $line"; done <"$tmp/fails"
[ "$(grep -c '^PASS ' "$tmp/drive")" -ge 15 ] && ok || bad "the browser run went through: $(tail -5 "$tmp/drive")"
for v in history message charts status read-role history-vi; do
	[ -s "$art/$v.png" ] && ok || bad "screenshot $v"
done
lid=$(sed -n 's/^learned-id //p' "$tmp/drive")
[ "$lid" = "$vid" ] && ok || bad "the page learned the Vietnamese message ($lid, $vid)"
[ "$(c -H "$A" "$url/api/history/$vid" | python3 -c 'import json,sys; print(json.load(sys.stdin)["feedback"])')" = spam ] && ok ||
	bad "the API shows the page's click"
# the score of that message moved towards spam for its user (spamc's)
spamc -d 127.0.0.1 -p "$sport" -c <"$tmp/vi.eml" >"$tmp/after"
before=$(js "$tmp/list" '[e["score"] for e in j["entries"] if e["id"] == '"$vid"'][0]')
gt "$(cut -d/ -f1 "$tmp/after")" "$before" && ok || bad "the score went up after learning ($before -> $(cat "$tmp/after"))"
stop

# Bounds: 3 entries kept, and no raw bytes with a 0 MiB budget (410).
start "$tmp/b" --db "$tmp/db" --http 127.0.0.1:0 --spamd 127.0.0.1:0 --history 3 \
	--history-dir "$tmp/h2" --history-raw-mb 0
for f in "$tmp"/ham/0[0-5].eml; do
	spamc -d 127.0.0.1 -p "$sport" -c <"$f" >/dev/null
done
sleep 0.3
c "$url/api/status" >"$tmp/status"
[ "$(js "$tmp/status" 'j["history"]["entries"], j["history"]["oldest"], j["history"]["newest"], j["history"]["raw_entries"]')" = "3 4 6 0" ] && ok ||
	bad "the oldest are dropped: $(head -c 600 "$tmp/status")"
[ "$(code -H 'X-Spamsift: 1' -d '' "$url/api/history/6/learn-spam")" = 410 ] && ok || bad "no bytes kept: 410 ($(cat "$tmp/body"))"
[ "$(code -H 'X-Spamsift: 1' -d '' "$url/api/history/1/learn-spam")" = 410 ] && ok || bad "a dropped entry: 410"
[ "$(code "$url/api/history/1")" = 404 ] && ok || bad "a dropped entry is gone"
stop
# A history that cannot be opened: logged, and the daemon scans without it.
start "$tmp/n" --db "$tmp/db" --http 127.0.0.1:0 --spamd 127.0.0.1:0 --history-dir "$tmp/zh.eml/history"
[ -n "$sport" ] && [ "$(spamc -d 127.0.0.1 -p "$sport" -c <"$tmp/zh.eml" | cut -d/ -f2)" = 0.0 ] && ok ||
	bad "scans without a history: $(cat "$tmp/n.err")"
grep -q "history $tmp/zh.eml/history: .*running without a history" "$tmp/n.err" && ok || bad "it says why"
[ "$(code "$url/api/history")" = 501 ] && [ "$(c "$url/api/status" | python3 -c 'import json,sys; print(json.load(sys.stdin)["history"])')" = None ] &&
	ok || bad "the API says no history is kept"
stop
# the store survives a restart (now with reports on)
start "$tmp/b" --db "$tmp/db" --http 127.0.0.1:0 --spamd 127.0.0.1:0 --history 3 --history-dir "$tmp/h2" \
	--evidence "$tmp/ev"
[ "$(c "$url/api/history" | python3 -c 'import json,sys; print([e["id"] for e in json.load(sys.stdin)["entries"]])')" = "[6, 5, 4]" ] && ok ||
	bad "kept across a restart"
spamc -d 127.0.0.1 -p "$sport" -c <"$tmp/zh.eml" >/dev/null
sleep 0.3
[ "$(c "$url/api/history?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["entries"][0]["id"])')" = 7 ] && ok ||
	bad "ids go on after a restart"
# Report from the page: learned, kept as evidence, counted in the charts.
[ "$(code -H 'X-Spamsift: 1' -d '' "$url/api/history/7/report")" = 200 ] && [ "$(js "$tmp/body" 'j["feedback"]')" = reported ] &&
	ok || bad "report an entry: $(cat "$tmp/body")"
[ -s "$tmp/ev/evidence.log" ] && ok || bad "the evidence store has it"
[ "$(c "$url/api/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["reports"]["total"])')" = 1 ] && ok ||
	bad "the charts count the report"
stop

# A reload that removes a user takes their session's rights away.
cat >"$tmp/r.conf" <<EOF
db = $tmp/db
http = 127.0.0.1:0
history_dir = $tmp/h3
http_user = admin:admin:$admin_secret
http_user = viewer:read:$read_secret
EOF
start "$tmp/r" -c "$tmp/r.conf"
code -D "$tmp/hdr" -H 'X-Spamsift: 1' --data-urlencode "user=viewer" --data-urlencode "password=$read_secret" \
	"$url/login" >/dev/null
cookie=$(sed -n 's/^[Ss]et-[Cc]ookie: \(spamsift_session=[0-9a-f]*\);.*/\1/p' "$tmp/hdr")
[ "$(code -H "Cookie: $cookie" "$url/api/whoami")" = 200 ] && ok || bad "viewer logged in"
grep -v '^http_user = viewer' "$tmp/r.conf" >"$tmp/r2.conf" && mv "$tmp/r2.conf" "$tmp/r.conf"
kill -HUP "$last"
for i in $(seq 50); do
	grep -q "configuration 2" "$tmp/r.err" && break
	sleep 0.1
done
[ "$(code -H "Cookie: $cookie" "$url/api/whoami")" = 401 ] && ok || bad "the removed user's session: 401"
[ "$(code -H "$A" "$url/api/whoami")" = 200 ] && ok || bad "admin stays"
# Failed logins: 5 a minute per address, then 429, even with the right password.
for i in 1 2 3 4 5; do
	code -H 'X-Spamsift: 1' -d "user=admin&password=wrong-$i-wrong" "$url/login" >"$tmp/code"
done
[ "$(cat "$tmp/code")" = 401 ] && ok || bad "the fifth wrong password: 401"
[ "$(code -H 'X-Spamsift: 1' --data-urlencode user=admin --data-urlencode "password=$admin_secret" "$url/login")" = 429 ] &&
	ok || bad "the sixth try: 429 ($(cat "$tmp/body"))"
[ "$(code -H "$A" "$url/api/whoami")" = 200 ] && ok || bad "tokens are not throttled"
stop

# The status page asks the fingerprint server (PING): reachable, then not;
# the key file's path is shown, never the key.
fpd=${FPD:-$(dirname "$daemon")/spamsift-fpd}
if [ -x "$fpd" ]; then
	"$bin" fp keygen web >"$tmp/fp.key"
	: >"$tmp/fpd.out"
	"$fpd" --db "$tmp/fpdb" --listen 127.0.0.1:0 --keys "$tmp/fp.key" >"$tmp/fpd.out" 2>"$tmp/fpd.err" &
	fpid=$!
	pids="$pids $fpid"
	for i in $(seq 50); do
		grep -q '^tcp ' "$tmp/fpd.out" && break
		sleep 0.1
	done
	faddr=$(sed -n 's/^tcp \(127\.0\.0\.1:[0-9]*\)$/\1/p' "$tmp/fpd.out")
	start "$tmp/f" --db "$tmp/db" --http 127.0.0.1:0 --history-dir "$tmp/h4" --fp-server "$faddr" \
		--fp-key "$tmp/fp.key"
	c "$url/api/status" >"$tmp/status"
	[ "$(js "$tmp/status" 'j["fp_server"]["reachable"], j["config"]["fp_key"] == sys.argv[2]' "$tmp/fp.key")" = "True True" ] &&
		ok || bad "fp server reachable: $(head -c 300 "$tmp/status")"
	grep -q "$(awk '{print $3}' "$tmp/fp.key")" "$tmp/status" && bad "the fp key leaked" || ok
	kill "$fpid" && wait "$fpid"
	c "$url/api/status" >"$tmp/status"
	[ "$(js "$tmp/status" 'j["fp_server"]["reachable"]')" = False ] && ok || bad "fp server gone: unreachable"
	stop
else
	bad "no spamsift-fpd at $fpd (make all)"
fi
finish
