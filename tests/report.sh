#!/bin/sh
# report.sh: user reports of spam: `spamsift report` learns the message,
# keeps it in the evidence store and prints an abuse report (ARF) that
# Python's email package checks (tests/arfcheck.py): structure, required
# fields, the original's bytes unchanged, To: the contact of the longest
# matching network; a message without a source; --send through a stand-in
# MTA; a torn evidence tail; --stats as CSV and JSON; a bad contacts file;
# then spamsiftd's HTTP POST /report and spamc -C (TELL, Set: remote).
# Messages are written here. Needs $SPAMSIFT, $SPAMSIFTD, python3, curl,
# spamc. Ends with "N passed, N failed".
set -u
. "$(dirname "$0")/lib.sh"
daemon=${SPAMSIFTD:?set SPAMSIFTD to the spamsiftd binary}
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
arfcheck() { python3 "$tests/arfcheck.py" "$@"; }
js() { python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($2)" "$1"; }

cat >"$tmp/contacts" <<'X'
# networks and their abuse contacts
198.51.0.0/16    abuse@wide.example    AS64500  US
198.51.100.0/24  abuse@narrow.example  AS64501  VN
2001:db8::/32    abuse@v6.example
X

# mail IP SUBJECT [EOL]: a spam that came from IP through our relay on 127.0.0.1
mail() {
	python3 - "$1" "$2" "${3:-lf}" <<'X'
import sys
ip, subj, eol = sys.argv[1], sys.argv[2], sys.argv[3]
lines = ["Return-Path: <win@bad.example>",
         "Received: from mx.local (localhost [127.0.0.1]) by mx.local with LMTP; Mon, 2 Nov 2026 10:00:05 +0000",
         "Received: from bad.example (bad.example [%s]) by mx.local with ESMTP id 7; Mon, 2 Nov 2026 10:00:00 +0000" % ip,
         "From: Prize <win@bad.example>", "To: you@local.example", "Subject: " + subj,
         "Message-ID: <%s@bad.example>" % abs(hash(subj)), "Date: Mon, 2 Nov 2026 09:59:00 +0000", "",
         "Claim the prize of %s at http://bad.example/claim today, winner!" % subj,
         "Cheap pills, free money, act now: http://pills.example/buy", ""]
sys.stdout.buffer.write(("\r\n" if eol == "crlf" else "\n").join(lines).encode())
X
}
mail 198.51.100.7 "narrow one" >"$tmp/narrow.eml"
mail 198.51.7.7 "wide one" crlf >"$tmp/wide.eml"
mail 2001:db8::5 "v6 one" >"$tmp/v6.eml"
mail 203.0.113.9 "no contact" >"$tmp/nocontact.eml"
mail 127.0.0.2 "local only" >"$tmp/unknown.eml"
printf 'From: a@b.example\nSubject: local\n\nNo Received at all, ' >"$tmp/nohop.eml"

db=$tmp/db
ev=$tmp/ev

expect 0 "report --help" "$bin" report --help
grep -q -- "--stats" "$tmp/out" && ok || bad "report --help names --stats"
"$bin" --help | grep -q "report \[--user U\]" && ok || bad "spamsift --help names report"

# the longest prefix wins; the ARF passes Python's parser
expect 0 "report narrow" "$bin" report --db "$db" --evidence "$ev" --contacts "$tmp/contacts" \
	--from reports@local.example --user alice "$tmp/narrow.eml"
cp "$tmp/out" "$tmp/narrow.arf"
arfcheck "$tmp/narrow.arf" "$tmp/narrow.eml" abuse@narrow.example >"$tmp/chk" && ok || bad "narrow ARF: $(cat "$tmp/chk")"
grep -q "^Source-IP: 198.51.100.7$" "$tmp/chk" && ok || bad "Source-IP field: $(cat "$tmp/chk")"
grep -q "^Reported-Domain: bad.example$" "$tmp/chk" && ok || bad "Reported-Domain"
grep -q "^Reported-Uri: http://bad.example/claim$" "$tmp/chk" && ok || bad "Reported-Uri"
grep -q "^Original-Mail-From: <win@bad.example>$" "$tmp/chk" && ok || bad "Original-Mail-From"
grep -q "^Arrival-Date: " "$tmp/chk" && ok || bad "Arrival-Date"
grep -q "^From: reports@local.example$" "$tmp/narrow.arf" && ok || bad "From: is --from"
grep -q "network 198.51.100.0/24), country VN" "$tmp/narrow.arf" && ok || bad "the human part names network and country"

expect 0 "report wide (CRLF)" "$bin" report --db "$db" --evidence "$ev" --contacts "$tmp/contacts" "$tmp/wide.eml"
cp "$tmp/out" "$tmp/wide.arf"
arfcheck "$tmp/wide.arf" "$tmp/wide.eml" abuse@wide.example >"$tmp/chk" && ok || bad "wide ARF: $(cat "$tmp/chk")"
[ "$(tr -cd '\n' <"$tmp/wide.arf" | wc -c)" = "$(grep -c "$(printf '\r')\$" "$tmp/wide.arf")" ] && ok || bad "a CRLF original gives CRLF throughout"
expect 0 "report v6" "$bin" report --db "$db" --evidence "$ev" --contacts "$tmp/contacts" "$tmp/v6.eml"
arfcheck "$tmp/out" "$tmp/v6.eml" abuse@v6.example >"$tmp/chk" && ok || bad "v6 ARF: $(cat "$tmp/chk")"

# a large original: only its header block, as text/rfc822-headers
expect 0 "--max-original" "$bin" report --db "$db" --evidence "$ev" --contacts "$tmp/contacts" \
	--max-original 100 "$tmp/narrow.eml"
arfcheck "$tmp/out" "$tmp/narrow.eml" >"$tmp/chk" && ok || bad "headers-only ARF: $(cat "$tmp/chk")"
grep -q "^Content-3: text/rfc822-headers$" "$tmp/chk" && ok || bad "text/rfc822-headers above --max-original"

# no contact, no source: learned and stored, exit 3, the report says so
expect 3 "no contact for the source" "$bin" report --db "$db" --evidence "$ev" --contacts "$tmp/contacts" "$tmp/nocontact.eml"
arfcheck "$tmp/out" "$tmp/nocontact.eml" "undisclosed-recipients:;" >"$tmp/chk" && ok || bad "no-contact ARF: $(cat "$tmp/chk")"
grep -q "no abuse contact" "$tmp/err" && ok || bad "no contact: said on stderr"
expect 3 "source unknown" "$bin" report --db "$db" --evidence "$ev" --contacts "$tmp/contacts" "$tmp/unknown.eml"
arfcheck "$tmp/out" "$tmp/unknown.eml" >"$tmp/chk" && ok || bad "unknown-source ARF: $(cat "$tmp/chk")"
grep -q "^Source IP: unknown" "$tmp/out" && ok || bad "the report says the source is unknown"
grep -q "^Source-IP:" "$tmp/chk" && bad "no Source-IP field when unknown" || ok
grep -q "source unknown" "$tmp/err" && ok || bad "source unknown: said on stderr"
expect 3 "no Received at all" "$bin" report --db "$db" --evidence "$ev" "$tmp/nohop.eml"
: >"$tmp/empty"
expect 1 "not mail" "$bin" report --db "$db" --evidence "$ev" "$tmp/empty"
expect 2 "no file" "$bin" report --db "$db" --evidence "$ev"
expect 2 "missing file" "$bin" report --db "$db" --evidence "$ev" "$tmp/nope.eml"

# --send: to the MTA ($SPAMSIFT_SENDMAIL stands in for /usr/sbin/sendmail)
printf '#!/bin/sh\necho "$@" >"%s/mta.args"\ncat >"%s/mta.in"\n' "$tmp" "$tmp" >"$tmp/mta"
chmod +x "$tmp/mta"
expect 0 "--send" env SPAMSIFT_SENDMAIL="$tmp/mta" "$bin" report --db "$db" --evidence "$ev" \
	--contacts "$tmp/contacts" --send "$tmp/narrow.eml"
[ ! -s "$tmp/out" ] && ok || bad "--send prints nothing"
[ "$(cat "$tmp/mta.args")" = "-t -i" ] && ok || bad "sendmail -t -i: $(cat "$tmp/mta.args")"
arfcheck "$tmp/mta.in" "$tmp/narrow.eml" abuse@narrow.example >"$tmp/chk" && ok || bad "sent ARF: $(cat "$tmp/chk")"

# the model learned them: the global spam count, and alice's model
"$bin" stats --db "$db" >"$tmp/stats"
grep -q "global: [1-9][0-9]* spam, 0 ham" "$tmp/stats" && ok || bad "learned as spam: $(cat "$tmp/stats")"
grep -q "alice" "$tmp/stats" && ok || bad "--user learns into that user's model: $(cat "$tmp/stats")"

# bad contacts files: FILE:LINE
printf '10.0.0.0/8 abuse@ten.example\n10.1.0.0/99 abuse@x.example\n' >"$tmp/bad1"
expect 2 "bad prefix" "$bin" report --db "$db" --evidence "$ev" --contacts "$tmp/bad1" "$tmp/narrow.eml"
grep -q "$tmp/bad1:2: bad prefix length" "$tmp/err" && ok || bad "FILE:LINE for a bad prefix: $(cat "$tmp/err")"
printf '# c\n\n10.0.0.0/8 nobody\n' >"$tmp/bad2"
expect 2 "bad contact" "$bin" report --db "$db" --evidence "$ev" --contacts "$tmp/bad2" "$tmp/narrow.eml"
grep -q "$tmp/bad2:3: " "$tmp/err" && ok || bad "FILE:LINE for a bad contact: $(cat "$tmp/err")"
expect 2 "missing contacts file" "$bin" report --db "$db" --evidence "$ev" --contacts "$tmp/none" "$tmp/narrow.eml"
printf 'not a database' >"$tmp/bad.mmdb"
expect 2 "bad --geoip" "$bin" report --db "$db" --evidence "$ev" --geoip "$tmp/bad.mmdb" "$tmp/narrow.eml"
grep -q "bad.mmdb" "$tmp/err" && ok || bad "bad --geoip named: $(cat "$tmp/err")"

# a real country database (written by tests/mkmmdb.py, read by libmaxminddb):
# its country wins over the contacts file's, the longest network wins, IPv6
# too, and a source with no contact still gets its country
python3 "$tests/mkmmdb.py" "$tmp/geo.mmdb" 198.51.0.0/16=US 198.51.100.0/25=DE 2001:db8::/32=JP \
	203.0.113.0/24=BR && ok || bad "mkmmdb.py"
evg=$tmp/evgeo
expect 0 "report with --geoip" "$bin" report --db "$db" --evidence "$evg" --contacts "$tmp/contacts" \
	--geoip "$tmp/geo.mmdb" "$tmp/narrow.eml"
grep -q "network 198.51.100.0/24), country DE" "$tmp/out" && ok || bad "GeoIP country in the report: $(grep -i country "$tmp/out")"
expect 0 "report v6 with --geoip" "$bin" report --db "$db" --evidence "$evg" --contacts "$tmp/contacts" \
	--geoip "$tmp/geo.mmdb" "$tmp/v6.eml"
expect 0 "report wide with --geoip" "$bin" report --db "$db" --evidence "$evg" --contacts "$tmp/contacts" \
	--geoip "$tmp/geo.mmdb" "$tmp/wide.eml"
expect 3 "report no contact with --geoip" "$bin" report --db "$db" --evidence "$evg" --contacts "$tmp/contacts" \
	--geoip "$tmp/geo.mmdb" "$tmp/nocontact.eml"
expect 3 "report local source with --geoip" "$bin" report --db "$db" --evidence "$evg" \
	--geoip "$tmp/geo.mmdb" "$tmp/unknown.eml"
expect 0 "--stats of GeoIP countries" "$bin" report --stats --json --evidence "$evg"
[ "$(js "$tmp/out" 'sorted((x["country"], x["reports"]) for x in j["by_country"])')" = "[('', 1), ('BR', 1), ('DE', 1), ('JP', 1), ('US', 1)]" ] && ok || bad "--stats by GeoIP country: $(cat "$tmp/out")"

# the evidence store: one record per stored report, the original's bytes and SHA-256
stored=$(grep -c "SSEVID1" "$ev/evidence.log")
[ "$stored" = 8 ] && ok || bad "8 records stored, found $stored"
grep -q "^sha256: $(sha256sum <"$tmp/v6.eml" | cut -d' ' -f1)\$" "$ev/evidence.log" && ok || bad "the SHA-256 of the original is stored"
grep -q "Claim the prize of v6 one" "$ev/evidence.log" && ok || bad "the original is stored"
expect 0 "--stats" "$bin" report --stats --evidence "$ev"
cp "$tmp/out" "$tmp/stats.csv"
python3 - "$tmp/stats.csv" >"$tmp/chk" <<'X' && ok || bad "--stats CSV: $(cat "$tmp/chk" "$tmp/stats.csv")"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
got = {(r["kind"], r["network"], r["country"]): int(r["reports"]) for r in rows}
want = {("network", "198.51.100.0/24", "VN"): 3, ("network", "198.51.0.0/16", "US"): 1,
        ("network", "2001:db8::/32", ""): 1, ("network", "", ""): 3,
        ("country", "", "VN"): 3, ("country", "", "US"): 1, ("country", "", ""): 4}
assert got == want, got
X
expect 0 "--stats --json" "$bin" report --stats --json --evidence "$ev"
[ "$(js "$tmp/out" 'j["total"], j["skipped_bytes"], sorted((x["network"], x["country"], x["reports"]) for x in j["by_network"]), sorted((x["country"], x["reports"]) for x in j["by_country"])')" = "8 0 [('', '', 3), ('198.51.0.0/16', 'US', 1), ('198.51.100.0/24', 'VN', 3), ('2001:db8::/32', '', 1)] [('', 4), ('US', 1), ('VN', 3)]" ] && ok || bad "--stats JSON: $(cat "$tmp/out")"
expect 0 "--stats --until the past" "$bin" report --stats --json --evidence "$ev" --until 2000-01-01
[ "$(js "$tmp/out" 'j["total"]')" = 0 ] && ok || bad "--until 2000: $(cat "$tmp/out")"
expect 0 "--stats --since" "$bin" report --stats --json --evidence "$ev" --since 2000-01-01T00:00:00Z --until 4102444800
[ "$(js "$tmp/out" 'j["total"]')" = 8 ] && ok || bad "--since 2000: $(cat "$tmp/out")"
expect 2 "--stats bad time" "$bin" report --stats --evidence "$ev" --since yesterday
expect 0 "--stats of an empty store" "$bin" report --stats --evidence "$tmp/none"
[ "$(cat "$tmp/out")" = "kind,network,country,reports" ] && ok || bad "empty store CSV"

# a crash mid-write: the torn tail is skipped, earlier records still count,
# and a later report (appended after the tail) counts too
size=$(wc -c <"$ev/evidence.log")
"$bin" report --db "$db" --evidence "$ev" --contacts "$tmp/contacts" "$tmp/wide.eml" >/dev/null 2>&1
python3 -c "import os,sys; os.truncate(sys.argv[1], int(sys.argv[2]) + 60)" "$ev/evidence.log" "$size"
expect 0 "--stats over a torn tail" "$bin" report --stats --json --evidence "$ev"
[ "$(js "$tmp/out" 'j["total"], j["skipped_bytes"]')" = "8 60" ] && ok || bad "torn tail skipped: $(cat "$tmp/out")"
grep -q "60 bytes of torn records skipped" "$tmp/err" && ok || bad "the torn tail is reported"
"$bin" report --db "$db" --evidence "$ev" --contacts "$tmp/contacts" "$tmp/wide.eml" >/dev/null 2>&1
expect 0 "--stats after the torn tail" "$bin" report --stats --json --evidence "$ev"
[ "$(js "$tmp/out" 'j["total"], j["skipped_bytes"]')" = "9 60" ] && ok || bad "appended after a torn tail: $(cat "$tmp/out")"

# spamsiftd: POST /report and spamc -C (TELL, Set: local,remote), settings from a file
dev=$tmp/dev
cat >"$tmp/d.conf" <<X
db = $db
evidence = $dev
contacts = $tmp/contacts
report_from = reports@local.example
X
start_daemon d 2 "$daemon" -c "$tmp/d.conf" --http 127.0.0.1:0 --spamd 127.0.0.1:0 --threads 2
port=$(bound_port d http)
sport=$(bound_port d spamd)
[ -n "$port" ] && [ -n "$sport" ] && ok || bad "spamsiftd started: $(cat "$tmp/d.out" "$tmp/d.err")"
mail 198.51.100.8 "via http" >"$tmp/http.eml"
code=$(curl -sS --max-time 10 -o "$tmp/out" -w '%{http_code}' -H "X-User: carol" --data-binary "@$tmp/http.eml" "http://127.0.0.1:$port/report")
[ "$code" = 200 ] && ok || bad "POST /report: $code $(cat "$tmp/out")"
[ "$(js "$tmp/out" 'j["result"], j["stored"], j["source_ip"], j["network"], j["country"], j["contact"], j["user"]')" = "learned True 198.51.100.8 198.51.100.0/24 VN abuse@narrow.example carol" ] && ok || bad "POST /report JSON: $(cat "$tmp/out")"
python3 -c "import json,sys; sys.stdout.write(json.load(open(sys.argv[1]))['arf'])" "$tmp/out" >"$tmp/http.arf"
arfcheck "$tmp/http.arf" "$tmp/http.eml" abuse@narrow.example >"$tmp/chk" && ok || bad "POST /report ARF: $(cat "$tmp/chk")"
[ "$(js "$tmp/out" 'j["sha256"]')" = "$(sha256sum <"$tmp/http.eml" | cut -d' ' -f1)" ] && ok || bad "POST /report sha256"
code=$(curl -sS --max-time 10 -o "$tmp/out" -w '%{http_code}' --data-binary "@$tmp/empty" "http://127.0.0.1:$port/report")
[ "$code" = 422 ] && ok || bad "POST /report of nothing: $code"
code=$(curl -sS --max-time 10 -o "$tmp/out" -w '%{http_code}' "http://127.0.0.1:$port/report")
[ "$code" = 405 ] && ok || bad "GET /report: $code"
mail 198.51.3.3 "via spamc" >"$tmp/spamc.eml"
spamc -d 127.0.0.1 -p "$sport" -u dave -C report <"$tmp/spamc.eml" >"$tmp/out" 2>&1
grep -q "successfully reported" "$tmp/out" && ok || bad "spamc -C report: $(cat "$tmp/out")"
spamc -d 127.0.0.1 -p "$sport" -L spam <"$tmp/wide.eml" >"$tmp/out" 2>&1
expect 0 "daemon --stats" "$bin" report --stats --json --evidence "$dev"
[ "$(js "$tmp/out" 'j["total"], sorted((x["network"], x["reports"]) for x in j["by_network"])')" = "2 [('198.51.0.0/16', 1), ('198.51.100.0/24', 1)]" ] && ok || bad "the daemon stored two reports (not the plain learn): $(cat "$tmp/out")"
grep -q "^user: dave$" "$dev/evidence.log" && grep -q "^user: carol$" "$dev/evidence.log" && ok || bad "the reporting users are stored"
kill "$pid"
wait "$pid" 2>/dev/null
pid=""

# without an evidence store, reports are off: 501, and TELL remote is not done
start_daemon d 2 "$daemon" --db "$db" --http 127.0.0.1:0 --spamd 127.0.0.1:0 --threads 1
port=$(bound_port d http)
sport=$(bound_port d spamd)
code=$(curl -sS --max-time 10 -o "$tmp/out" -w '%{http_code}' --data-binary "@$tmp/http.eml" "http://127.0.0.1:$port/report")
[ "$code" = 501 ] && ok || bad "POST /report without evidence: $code $(cat "$tmp/out")"
mail 198.51.3.4 "off" >"$tmp/off.eml"
spamc -d 127.0.0.1 -p "$sport" -C report <"$tmp/off.eml" >"$tmp/out" 2>&1
grep -q "successfully reported" "$tmp/out" && bad "spamc -C without evidence claims a report" || ok
kill "$pid"
wait "$pid" 2>/dev/null
pid=""

finish
