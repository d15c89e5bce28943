#!/bin/sh
# checks.sh: the built-in checks as users meet them, through `spamsift
# check` and spamsiftd, against a real DNS server (Debian's nsd on
# 127.0.0.1, started here with zones written here): SPF, DMARC, a DKIM
# signature made here, an IP block list and a URL domain list named in a
# rule file, the phishing signs, the Authentication-Results field; DNS off
# without --resolver; a server that never answers costs at most
# --dns-timeout per scan and gives DNS_TEMPERROR; bad resolvers refused.
# Loopback only; nsd and the daemon are stopped by their PIDs.
# Needs $SPAMSIFT, $SPAMSIFTD, nsd, spamc, /usr/bin/python3 with dkimpy.
# Ends with "N passed, N failed".
set -u
. "$(dirname "$0")/lib.sh"
daemon=${SPAMSIFTD:?set SPAMSIFTD to the spamsiftd binary}
pid=""
if ! command -v nsd >/dev/null || ! command -v spamc >/dev/null; then
	[ "${CI:-}" = true ] && { echo "checks.sh: nsd or spamc missing under CI"; exit 1; }
	echo "checks.sh: skipped (apt-get install nsd spamc)"
	exit 0
fi
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; python3 "$tests/dnsd.py" stop "$tmp/ns";
	python3 "$tests/dnsd.py" stop "$tmp/bh"; rm -rf "$tmp"' EXIT

# ---- a model, a DKIM key, zones ----
gen_corpus 5 10
db=$tmp/db
train_model "$db"

mkdir -p "$tmp/ns" "$tmp/key"
opendkim-genkey -b 1024 -d good.test -s s1 -D "$tmp/key" >/dev/null 2>&1 && ok || bad "opendkim-genkey"
dkim_txt=$(tr -d '\n\t' <"$tmp/key/s1.txt" | sed 's/^[^(]*( *//; s/ *).*$//')
cat >"$tmp/ns/example.test.zone" <<'ZONE'
$TTL 300
@      IN SOA ns.example.test. hostmaster.example.test. 1 3600 600 86400 60
@      IN NS ns.example.test.
@      IN TXT "v=spf1 ip4:192.0.2.0/24 -all"
_dmarc IN TXT "v=DMARC1; p=reject"
7.113.0.203.bl  IN A 127.0.0.2
evil-pay.test.uribl IN A 127.0.0.2
ZONE
cat >"$tmp/ns/good.test.zone" <<ZONE
\$TTL 300
@      IN SOA ns.good.test. hostmaster.good.test. 1 3600 600 86400 60
@      IN NS ns.good.test.
@      IN TXT "v=spf1 ip4:192.0.2.0/24 -all"
_dmarc IN TXT "v=DMARC1; p=quarantine"
s1._domainkey IN TXT $dkim_txt
ZONE
set -- $(python3 "$tests/dnsd.py" start "$tmp/ns" "$tmp/ns/example.test.zone" "$tmp/ns/good.test.zone")
[ -n "${1:-}" ] && ok || { bad "nsd did not start"; finish; exit 1; }
dns=127.0.0.1:$1

cat >"$tmp/lists.rules" <<'EOF'
dnsbl RBL_TEST bl.example.test
uribl URIBL_TEST uribl.example.test
score RBL_TEST 2.5
score URIBL_TEST 2
EOF

# A forged mail: From example.test (SPF -all, DMARC reject), sent from a
# listed host, with a link whose text names paypal.com but goes elsewhere
# (evil-pay.test: a listed domain). The Return-Path gives the envelope
# sender to a scan that has no envelope (spamc).
cat >"$tmp/forged.eml" <<'EOF'
Return-Path: <boss@example.test>
Received: from mail.evil.test (mail.evil.test [203.0.113.7])
	by mx.local (Postfix) with ESMTP id 1; Mon, 2 Nov 2026 10:00:00 +0000
From: Boss <boss@example.test>
To: you@local.test
Subject: invoice
Date: Mon, 2 Nov 2026 10:00:00 +0000
Message-ID: <forged-1@example.test>
MIME-Version: 1.0
Content-Type: text/html; charset=utf-8

<p>Please pay <a href="http://login.evil-pay.test/pay">https://www.paypal.com/</a></p>
EOF

# A signed mail from good.test's own network.
cat >"$tmp/plain.eml" <<'EOF'
From: Alice <alice@good.test>
To: you@local.test
Subject: minutes of the meeting
Date: Mon, 2 Nov 2026 10:00:00 +0000
Message-ID: <m-1@good.test>

Here are the minutes, see you on Friday.
EOF
/usr/bin/python3 - "$tmp/key/s1.private" "$tmp/plain.eml" "$tmp/signed.eml" <<'EOF'
import sys, dkim
key = open(sys.argv[1], "rb").read()
msg = open(sys.argv[2], "rb").read().replace(b"\n", b"\r\n")
sig = dkim.sign(msg, b"s1", b"good.test", key, include_headers=[b"from", b"to", b"subject", b"date"])
open(sys.argv[3], "wb").write(sig + msg)
EOF
[ -s "$tmp/signed.eml" ] && ok || bad "signing with dkimpy"
sed 's/see you on Friday/see you on Monday/' "$tmp/signed.eml" >"$tmp/altered.eml"

check() { "$bin" check --db "$db" --json "$@"; }
has() { if grep -q -- "$1" "$tmp/out"; then ok; else bad "$2: no '$1' in $(head -c 600 "$tmp/out")"; fi; }
hasnt() { if grep -q -- "$1" "$tmp/out"; then bad "$2: '$1' in $(head -c 600 "$tmp/out")"; else ok; fi; }

# ---- the CLI with DNS ----
expect 0 "check forged with DNS" check --resolver "$dns" --rules "$tmp/lists.rules" \
	--from boss@example.test "$tmp/forged.eml"
has '"name":"SPF_FAIL","score":1.5' "SPF fail scored by the default rules"
has '"name":"DMARC_FAIL_REJECT"' "DMARC p=reject"
has '"name":"RBL_TEST","score":2.5' "the sending IP (first untrusted hop) listed"
has '203.0.113.7 -> 127.0.0.2' "the listing's detail"
has '"name":"URIBL_TEST","score":2' "the URL's registrable domain listed"
has '"name":"PHISH_LINK_MISMATCH"' "link text naming another host"
has '"authentication_results":"[^"]*spf=fail smtp.mailfrom=boss@example.test' "A-R: spf"
has 'dmarc=fail (p=reject) header.from=example.test' "A-R: dmarc"
expect 0 "check signed with DNS" check --resolver "$dns" --ip 192.0.2.5 --from alice@good.test \
	"$tmp/signed.eml"
has '"name":"DKIM_VALID"' "signature made here verifies"
has '"name":"SPF_PASS"' "SPF pass from the domain's network"
has '"name":"DMARC_PASS"' "DMARC aligned"
has 'dkim=pass header.d=good.test header.s=s1' "A-R: dkim"
expect 0 "check altered with DNS" check --resolver "$dns" --ip 192.0.2.5 --from alice@good.test \
	"$tmp/altered.eml"
has '"name":"DKIM_INVALID"' "an altered body fails"
hasnt '"name":"DKIM_VALID"' "no valid signature left"

# ---- without a resolver: no DNS checks, the others still run ----
expect 0 "check forged without DNS" check --rules "$tmp/lists.rules" "$tmp/forged.eml"
hasnt 'SPF_' "no SPF without a resolver"
hasnt 'RBL_TEST' "no DNS lists without a resolver"
hasnt 'authentication_results' "no A-R without a resolver"
has '"name":"PHISH_LINK_MISMATCH"' "phishing signs need no DNS"

# ---- the report form lists the symbols with their points ----
expect 0 "check report form" "$bin" check --db "$db" --resolver "$dns" --from boss@example.test \
	"$tmp/forged.eml"
has 'SPF_FAIL' "plain output names SPF_FAIL"

# ---- a server that never answers costs the deadline, no more ----
set -- $(python3 "$tests/dnsd.py" blackhole "$tmp/bh")
hole=127.0.0.1:$1
t0=$(date +%s%N)
expect 0 "check with a silent DNS server" check --resolver "$hole" --dns-timeout 1 \
	--rules "$tmp/lists.rules" "$tmp/forged.eml"
ms=$((($(date +%s%N) - t0) / 1000000))
has '"name":"DNS_TEMPERROR"' "DNS_TEMPERROR"
has '"name":"SPF_TEMPERROR"' "SPF temperror"
has '"name":"PHISH_LINK_MISMATCH"' "the other checks still ran"
# start-up (rule compilation, model) plus one 1 s deadline
[ "$ms" -lt 2500 ] && ok || bad "a silent DNS server cost ${ms} ms with --dns-timeout 1"

# a silent fingerprint server too: its lookup (own timeout 1 s) is cut to the
# scan's 0.3 s DNS deadline, so the scan costs start-up + 0.3 s, not + 1.3 s
"$bin" fp keygen org >"$tmp/fp.key"
t0=$(date +%s%N)
expect 0 "check without network checks" check "$tmp/spam/00.eml"
base=$((($(date +%s%N) - t0) / 1000000))
t0=$(date +%s%N)
expect 0 "check with silent DNS and fingerprint servers" check --resolver "$hole" --dns-timeout 0.3 \
	--fp-server "$hole" --fp-key "$tmp/fp.key" "$tmp/spam/00.eml"
ms=$((($(date +%s%N) - t0) / 1000000))
has '"name":"FUZZY_TEMPERROR"' "FUZZY_TEMPERROR from a silent fingerprint server"
has '"name":"DNS_TEMPERROR"' "DNS_TEMPERROR with it"
[ "$ms" -lt $((base + 800)) ] && ok || bad "silent DNS + fingerprints cost ${ms} ms (${base} ms without) with --dns-timeout 0.3"

# ---- bad settings ----
expect 2 "bad --resolver" "$bin" check --db "$db" --resolver nowhere:53 "$tmp/forged.eml"
grep -q "resolver 'nowhere:53'" "$tmp/err" && ok || bad "bad resolver named: $(cat "$tmp/err")"
expect 2 "bad --dns-timeout" "$bin" check --db "$db" --resolver "$dns" --dns-timeout 0 "$tmp/forged.eml"
expect 2 "spamsiftd bad --resolver" "$daemon" --db "$db" --spamd 127.0.0.1:0 --resolver 1.2.3:53
printf 'db = %s\nspamd = 127.0.0.1:0\nresolver = nowhere\n' "$db" >"$tmp/bad.conf"
expect 2 "spamsiftd bad resolver key" "$daemon" -c "$tmp/bad.conf"
grep -q "bad.conf:3: resolver" "$tmp/err" && ok || bad "FILE:LINE for resolver: $(cat "$tmp/err")"

# ---- spamsiftd: symbols over spamd, Authentication-Results added ----
start_daemon d 1 "$daemon" --db "$db" --spamd 127.0.0.1:0 --resolver "$dns" --dns-timeout 2 \
	--authserv-id mx.test --rules "$tmp/lists.rules"
port=$(bound_port d spamd)
[ -n "$port" ] && ok || bad "spamsiftd started: $(cat "$tmp/d.err")"
grep -q "resolver $dns" "$tmp/d.err" && ok || bad "the log names the resolver"
spamc -d 127.0.0.1 -p "$port" <"$tmp/forged.eml" >"$tmp/out" 2>"$tmp/err"
has '^Authentication-Results: mx.test; spf=fail' "spamc: the processed message has A-R"
has '^X-Spam-Status: Yes.*SPF_FAIL' "spamc: X-Spam-Status lists SPF_FAIL"
has 'RBL_TEST' "spamc: the DNS list fired"
spamc -d 127.0.0.1 -p "$port" -y <"$tmp/signed.eml" >"$tmp/out" 2>"$tmp/err"
has 'DKIM_VALID' "spamc -y: the symbols of a signed mail"
kill "$pid"
wait "$pid" && ok || bad "spamsiftd exit 0 at SIGTERM (leaks under ASan?): $(tail -5 "$tmp/d.err")"
pid=""

# spamsiftd with a silent DNS server: each scan within the deadline
start_daemon d 1 "$daemon" --db "$db" --spamd 127.0.0.1:0 --resolver "$hole" --dns-timeout 1
port=$(bound_port d spamd)
t0=$(date +%s%N)
spamc -d 127.0.0.1 -p "$port" -y <"$tmp/forged.eml" >"$tmp/out" 2>"$tmp/err"
spamc -d 127.0.0.1 -p "$port" -y <"$tmp/signed.eml" >>"$tmp/out" 2>>"$tmp/err"
ms=$((($(date +%s%N) - t0) / 1000000))
has 'DNS_TEMPERROR' "spamc: DNS_TEMPERROR from a silent server"
[ "$ms" -lt 3000 ] && ok || bad "two scans with a silent DNS server took ${ms} ms (deadline 1 s each)"
kill "$pid"
wait "$pid" && ok || bad "spamsiftd exit 0 at SIGTERM (leaks under ASan?): $(tail -5 "$tmp/d.err")"
pid=""
finish
