#!/bin/sh
# rhist.sh: the scan history on Redis (issue 7/8), against a real
# redis-server on 127.0.0.1 (its own folder, a free port, stopped by PID)
# and two spamsiftd sharing it (--redis): a scan at one is listed at the
# other with its decoded subject (a Chinese and a Vietnamese RFC 2047 one);
# the other learns it as spam by its id (the bytes come from Redis); ids
# of both daemons never collide; the entry bound and the byte budget hold
# on Redis; values in Redis that are not ours are skipped; --history-dir
# keeps it embedded; Redis killed with -9: scans answered, the lost
# records counted in /metrics, the page says the history is unavailable;
# Redis back: the history again. Needs $SPAMSIFT, $SPAMSIFTD, redis-server,
# redis-cli, curl and python3. Ends with "N passed, N failed".
set -u
. "$(dirname "$0")/lib.sh"
daemon=${SPAMSIFTD:?set SPAMSIFTD to the spamsiftd binary}
pids=""
# shellcheck disable=SC2086
trap 'for p in $pids; do kill -9 "$p" 2>/dev/null; done; [ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT

rc() { redis-cli -p "$rp" "$@"; }
c() { curl -sS --max-time 10 "$@"; }
# code ARGS...: the HTTP status (body in $tmp/body)
code() { curl -sS --max-time 10 -o "$tmp/body" -w '%{http_code}' "$@"; }
# js FILE EXPR: EXPR over the JSON in FILE (as j)
js() { python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($2)" "$1"; }
# scan PORT FILE: /check at that daemon; prints the history id
scan() { c --data-binary "@$2" "http://127.0.0.1:$1/check" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("history_id"))'; }
# wait_listed PORT COUNT: waits (3 s) until that daemon lists COUNT entries
wait_listed() {
	for i in $(seq 30); do
		c "http://127.0.0.1:$1/api/history?limit=500" >"$tmp/list" 2>/dev/null &&
			[ "$(js "$tmp/list" 'len(j["entries"])' 2>/dev/null)" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

zh="项目会议纪要：下周的安排"
vi="Báo cáo dự án tuần này — Nguyễn Văn Đức"
python3 - "$tmp" "$tests" "$zh" "$vi" <<'PY'
import sys
from email.header import Header
sys.dont_write_bytecode = True
sys.path.insert(0, sys.argv[2])
import genmail
root, zh, vi = sys.argv[1], sys.argv[3], sys.argv[4]
g = genmail.Gen(root, seed=13)
g.corpus()
def with_subject(name, kind, tag, enc_text, pad=0):
    m = g.mail(kind, tag)
    out = "\n".join("Subject: " + enc_text if l.startswith("Subject: ") else l for l in m.split("\n"))
    if pad:
        out += "\n" + ("filler text line for the byte budget\n" * (pad // 38))
    open(root + "/" + name, "w").write(out)
with_subject("zh.eml", "ham", "zh", Header(zh, "utf-8", header_name="Subject").encode())
q = "=?utf-8?q?" + "".join(c if c.isascii() and c.isalnum() else "_" if c == " " else
                           "".join("=%02X" % b for b in c.encode()) for c in vi) + "?="
with_subject("vi.eml", "ham", "vi", q)
for i in range(30):
    with_subject("big%02d.eml" % i, "ham", "big%d" % i, "big message %d" % i, pad=60000)
PY
grep -q '^Subject: =?utf-8?b?' "$tmp/zh.eml" && grep -q '^Subject: =?utf-8?q?' "$tmp/vi.eml" && ok ||
	bad "the subjects are RFC 2047 encoded"

rp=$(free_port)
start_redis redis "$rp" || exit 1
RURL="redis://127.0.0.1:$rp"

# ---- two daemons share one history ----
start_httpd a --redis "$RURL" --history 20 --history-raw-mb 1
ha=$hport
start_httpd b --redis "$RURL" --history 20 --history-raw-mb 1
hb=$hport
[ -n "$ha" ] && [ -n "$hb" ] && ok || bad "both daemons start: $(cat "$tmp/a.err" "$tmp/b.err")"
grep -q "history on Redis: the last 20 scans" "$tmp/a.err" && ok || bad "a logs its history on Redis: $(cat "$tmp/a.err")"
[ ! -e "redis 127.0.0.1:$rp" ] && ! ls "$tmp" | grep -q '^redis ' && ok || bad "no folder named after the Redis address"
c "http://127.0.0.1:$hb/api/status" >"$tmp/status"
[ "$(js "$tmp/status" 'j["history"]["backend"], j["history"]["ok"]')" = "redis True" ] && ok ||
	bad "status names the backend: $(head -c 400 "$tmp/status")"

zid=$(scan "$ha" "$tmp/zh.eml")
vid=$(scan "$ha" "$tmp/vi.eml")
bid=$(scan "$hb" "$tmp/zh.eml")
[ -n "$zid" ] && [ "$zid" != None ] && [ "$zid" != "$vid" ] && [ "$bid" != "$zid" ] && [ "$bid" != "$vid" ] && ok ||
	bad "three scans, three ids: $zid $vid $bid"
wait_listed "$hb" 3 && ok || bad "b lists the three scans: $(head -c 600 "$tmp/list")"
js "$tmp/list" '"\n".join(e["subject"] for e in j["entries"])' >"$tmp/subjects"
grep -qx "$zh" "$tmp/subjects" && grep -qx "$vi" "$tmp/subjects" && ok || bad "decoded subjects at b: $(cat "$tmp/subjects")"
[ "$(js "$tmp/list" '[e["id"] for e in j["entries"]] == sorted([e["id"] for e in j["entries"]], reverse=True)')" = True ] && ok ||
	bad "newest first"
[ "$(js "$tmp/list" '[e["id"] for e in j["entries"]][-1]')" = "$zid" ] && ok || bad "a's first scan is the oldest"
[ "$(c "http://127.0.0.1:$hb/api/history?q=%E9%A1%B9%E7%9B%AE" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["entries"]))')" = 2 ] && ok ||
	bad "b searches the Chinese subject"
[ "$(c "http://127.0.0.1:$ha/api/history?limit=1" | python3 -c 'import json,sys; j=json.load(sys.stdin); print(len(j["entries"]), j["next"])')" = "1 $bid" ] && ok ||
	bad "paging: one entry and the next page's id"
[ "$(c "http://127.0.0.1:$ha/api/history?limit=5&before=$bid" | python3 -c 'import json,sys; j=json.load(sys.stdin); print([e["id"] for e in j["entries"]], j["next"])')" = "[$vid, $zid] None" ] && ok ||
	bad "the page before b's scan"
[ "$(code "http://127.0.0.1:$hb/api/history/$vid")" = 200 ] && [ "$(js "$tmp/body" 'j["subject"], j["raw_kept"], j["result"]["symbols"][0]["name"]')" = "$vi True SPAMSIFT_BAYES" ] && ok ||
	bad "b opens a's entry: $(head -c 400 "$tmp/body")"

# b learns a's scan by its id: the bytes come from Redis
[ "$(code -H 'X-Spamsift: 1' -d '' "http://127.0.0.1:$hb/api/history/$vid/learn-spam")" = 200 ] && ok ||
	bad "learn-spam by id at b: $(cat "$tmp/body")"
[ "$(c "http://127.0.0.1:$ha/api/history/$vid" | python3 -c 'import json,sys; print(json.load(sys.stdin)["feedback"])')" = spam ] && ok ||
	bad "a sees b's feedback"
[ "$(c --data-binary "@$tmp/vi.eml" "http://127.0.0.1:$ha/learn/spam")" = '{"result":"unchanged","class":"spam"}' ] && ok ||
	bad "the shared model knows the message b learned"
[ "$(code -H 'X-Spamsift: 1' -d '' "http://127.0.0.1:$hb/api/history/1234/learn-spam")" = 410 ] && ok || bad "an unknown id: 410"
[ "$(code "http://127.0.0.1:$hb/api/history/1234")" = 404 ] && ok || bad "an unknown id: 404"

# values in Redis that are not ours: skipped, never trusted
rc ZADD 'ss{h}:ids' 5 5 >/dev/null
rc HSET 'ss{h}:idx' 5 short >/dev/null
rc ZADD 'ss{h}:ids' 6 6 >/dev/null
python3 -c 'import sys; sys.stdout.buffer.write(b"\0" * 24 + b"\x00" + b"x")' | rc -x HSET 'ss{h}:idx' 6 >/dev/null
rc HSET 'ss{h}:sum' 6 'not json' >/dev/null
rc HSET 'ss{h}:raw' 6 "$(printf '\377ab')" >/dev/null
rc ZADD 'ss{h}:ids' 7 notanid >/dev/null
[ "$(code "http://127.0.0.1:$hb/api/history?limit=500")" = 200 ] && [ "$(js "$tmp/body" 'len(j["entries"])')" = 3 ] && ok ||
	bad "foreign values skipped: $(head -c 300 "$tmp/body")"
[ "$(code "http://127.0.0.1:$hb/api/history?q=x")" = 200 ] && ok || bad "a filtered list over foreign values"
[ "$(code -H 'X-Spamsift: 1' -d '' "http://127.0.0.1:$hb/api/history/6/learn-spam")" = 500 ] && ok ||
	bad "a raw value that is not ours is refused: $(cat "$tmp/body")"
[ "$(code "http://127.0.0.1:$hb/api/history/6")" = 500 ] && ok || bad "a summary that is not JSON is refused"
rc ZREM 'ss{h}:ids' 5 6 notanid >/dev/null
rc HDEL 'ss{h}:idx' 5 6 >/dev/null
rc HDEL 'ss{h}:sum' 6 >/dev/null
rc HDEL 'ss{h}:raw' 6 >/dev/null

# ---- the bounds: 20 entries, 1 MiB of messages ----
for i in $(seq -w 0 29); do
	[ $((1$i % 2)) = 0 ] && p=$ha || p=$hb
	scan "$p" "$tmp/big$i.eml" >>"$tmp/bigids"
done
sleep 0.3
wait_listed "$ha" 20 && ok || bad "20 entries kept: $(js "$tmp/list" 'len(j["entries"])')"
[ "$(rc ZCARD 'ss{h}:ids')" = 20 ] && [ "$(rc HLEN 'ss{h}:idx')" = 20 ] && [ "$(rc HLEN 'ss{h}:sum')" = 20 ] &&
	[ "$(rc HLEN 'ss{h}:det')" = 20 ] && ok || bad "the dropped entries are gone from Redis: $(rc ZCARD 'ss{h}:ids') $(rc HLEN 'ss{h}:sum')"
rb=$(rc GET 'ss{h}:rawbytes')
kept=$(rc HLEN 'ss{h}:raw')
[ "$rb" -le 1048576 ] && [ "$rb" -gt 500000 ] && [ "$kept" -lt 20 ] && [ "$kept" = "$(rc ZCARD 'ss{h}:rawids')" ] && ok ||
	bad "the byte budget: $rb bytes in $kept messages"
sum=$(rc --raw HSTRLEN 'ss{h}:raw' "$(rc --raw ZRANGE 'ss{h}:rawids' 0 0)")
[ "$sum" -gt 50000 ] && ok || bad "the raw bytes are the messages ($sum)"
oldest=$(js "$tmp/list" 'j["entries"][-1]["id"]')
newest=$(tail -1 "$tmp/bigids")
[ "$(code -H 'X-Spamsift: 1' -d '' "http://127.0.0.1:$ha/api/history/$oldest/learn-spam")" = 410 ] && ok ||
	bad "the oldest entry's bytes are over the budget: 410 ($(cat "$tmp/body"))"
[ "$(code -H 'X-Spamsift: 1' -d '' "http://127.0.0.1:$ha/api/history/$newest/learn-ham")" = 200 ] && ok ||
	bad "the newest entry's bytes are kept ($(cat "$tmp/body"))"
[ "$(code "http://127.0.0.1:$ha/api/history/$zid")" = 404 ] && ok || bad "the first scan was dropped"

# ---- --history-dir keeps the history embedded ----
start_httpd e --redis "$RURL" --history 5 --history-dir "$tmp/hist-e"
he=$hport
scan "$he" "$tmp/zh.eml" >/dev/null
[ -d "$tmp/hist-e" ] && grep -q "history $tmp/hist-e" "$tmp/e.err" && ok || bad "--history-dir: embedded ($(cat "$tmp/e.err"))"
[ "$(c "http://127.0.0.1:$he/api/status" | python3 -c 'import json,sys; print(json.load(sys.stdin)["history"]["backend"])')" = lmdb ] && ok ||
	bad "status: lmdb"
kill "$started"

# ---- Redis down: scans answered, records counted as dropped ----
kill -9 "$redis"
wait "$redis" 2>/dev/null
failed=0
for i in $(seq 10); do
	r=$(c --data-binary "@$tmp/zh.eml" "http://127.0.0.1:$ha/check" | python3 -c 'import json,sys; print("points" in json.load(sys.stdin))' 2>/dev/null)
	[ "$r" = True ] || failed=$((failed + 1))
done
[ "$failed" = 0 ] && ok || bad "$failed of 10 scans failed with Redis down"
sleep 0.3
c "http://127.0.0.1:$ha/metrics" >"$tmp/metrics"
d=$(sed -n 's/^spamsift_history_dropped_total \([0-9]*\)$/\1/p' "$tmp/metrics")
[ "${d:-0}" -ge 10 ] && grep -q '^spamsift_history_write_errors_total [1-9]' "$tmp/metrics" && ok ||
	bad "the lost records are counted: $(grep history "$tmp/metrics")"
[ "$(code "http://127.0.0.1:$hb/api/history")" = 503 ] && grep -q unavailable "$tmp/body" && ok ||
	bad "the list says the history is unavailable: $(cat "$tmp/body")"
[ "$(c "http://127.0.0.1:$hb/api/status" | python3 -c 'import json,sys; print(json.load(sys.stdin)["history"]["ok"])')" = False ] && ok ||
	bad "status: the history is not ok"

# ---- Redis back: the history again (a fresh, empty Redis here) ----
start_redis redis "$rp" || exit 1
sleep 1.1 # a failed connection is tried again after 1 s
nid=$(scan "$ha" "$tmp/vi.eml")
wait_listed "$hb" 1 && [ "$(js "$tmp/list" 'j["entries"][0]["id"], j["entries"][0]["subject"]')" = "$nid $vi" ] && ok ||
	bad "the history is back: $(head -c 400 "$tmp/list")"
kill -0 "$ha" 2>/dev/null
finish
