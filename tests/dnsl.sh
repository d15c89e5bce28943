#!/bin/sh
# dnsl.sh: the DNS list check of src/dnsl (through tests/dnsl/dnslprobe)
# against a real DNS server, Debian's nsd, started here on 127.0.0.1 with
# list zones written here; against a server that never answers; and the
# cache of one client across scans, with the server stopped in between.
# Needs $DNSLPROBE and nsd (make check installs it).
DNSLPROBE=${DNSLPROBE:?set DNSLPROBE to build/tests/dnslprobe}
SPAMSIFT=${SPAMSIFT:-unused}
. "$(dirname "$0")/lib.sh"

if ! command -v nsd >/dev/null; then
	[ "${CI:-}" = true ] && { echo "dnsl.sh: nsd missing under CI"; exit 1; }
	echo "dnsl.sh: skipped (no nsd; apt-get install nsd)"
	exit 0
fi
probe_pid=
trap '[ -n "$probe_pid" ] && kill "$probe_pid" 2>/dev/null; python3 "$tests/dnsd.py" stop "$tmp/ns"; python3 "$tests/dnsd.py" stop "$tmp/bh"; rm -rf "$tmp"' EXIT

# The lists: bl.example.test (IPs) and uribl.example.test (domains).
v6=9.9.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2
mkdir -p "$tmp/ns"
{
	cat <<'ZONE'
$TTL 300
@    IN SOA ns.example.test. hostmaster.example.test. 1 3600 600 86400 60
@    IN NS ns.example.test.
ns   IN A 127.0.0.1
99.2.0.192.bl IN A 127.0.0.2
98.2.0.192.bl IN A 127.0.0.10
97.2.0.192.bl IN A 127.255.255.254
96.2.0.192.bl IN A 192.0.2.1
95.2.0.192.bl IN A 127.0.0.2
95.2.0.192.bl IN A 127.0.0.11
evil.co.uk.uribl IN A 127.0.0.6
example.co.uk.uribl IN A 127.0.0.16
7.113.0.203.uribl IN A 127.0.0.8
quota.example.uribl IN A 127.0.0.1
sender.example.uribl IN A 127.0.0.16
ZONE
	echo "$v6.bl IN A 127.0.0.5"
} >"$tmp/ns/example.test.zone"
set -- $(python3 "$tests/dnsd.py" start "$tmp/ns" "$tmp/ns/example.test.zone")
port=$1
[ -n "$port" ] && ok || { bad "nsd did not start"; finish; exit 1; }
srv=127.0.0.1:$port

# The lists as a rule file would define them: exact codes, a range, bits.
LISTS="--dnsbl RBL_TEST:bl.example.test --code RBL_TEST_SBL:RBL_TEST:127.0.0.2
 --code RBL_TEST_PBL:RBL_TEST:127.0.0.4/30 --code RBL_TEST_XBL:RBL_TEST:127.0.0.11
 --uribl URIBL_TEST:uribl.example.test --bits URIBL_BLACK:URIBL_TEST:2
 --bits URIBL_GREY:URIBL_TEST:4 --bits URIBL_RED:URIBL_TEST:8"

# mail FILE HOP-IP... [-- URL...]: a message received through the hops
# (newest first) with the URLs in its body.
mail() {
	f=$1
	shift
	{
		n=1
		while [ $# -gt 0 ] && [ "$1" != -- ]; do
			echo "Received: from h$n.example (h$n.example [$1]) by mx$n.example.org with ESMTP id $n; Mon, 1 Jan 2024 00:00:0$n +0000"
			n=$((n + 1))
			shift
		done
		[ "$1" = -- ] && shift
		printf 'From: Sender <a@sender.example>\nReply-To: b@quota.example\nSubject: test\n\n'
		for u in "$@"; do echo "see $u now"; done
	} >"$tmp/$f"
}
probe() { "$DNSLPROBE" "$@" >"$tmp/out" 2>"$tmp/err"; }
has() { if grep -qx -- "$1" "$tmp/out"; then ok; else bad "$2: no line '$1' in: $(cat "$tmp/out" "$tmp/err")"; fi; }
hasnt() { if grep -q -- "$1" "$tmp/out"; then bad "$2: '$1' in: $(cat "$tmp/out")"; else ok; fi; }
elapsed() { sed -n 's/^elapsed_ms \([0-9]*\)$/\1/p' "$tmp/out"; }

# The first untrusted hop: private and loopback hops are skipped, the
# first public one is asked; an exact code names the listing.
mail m1.eml 10.1.2.3 192.168.7.7 127.0.0.1 192.0.2.99 192.0.2.98 -- http://clean.example/
probe --resolver $srv $LISTS "$tmp/m1.eml"
has "query 99.2.0.192.bl.example.test ok" "first public untrusted hop asked"
has "hit RBL_TEST_SBL 192.0.2.99 -> 127.0.0.2" "exact code"
hasnt "3.2.1.10\." "10/8 not asked"
hasnt "7.7.168.192\." "192.168/16 not asked"
hasnt "1.0.0.127\." "127/8 not asked"
hasnt "98.2.0.192" "older hop not asked without --deep"
has "query clean.example.uribl.example.test nxdomain" "domain asked"
hasnt "hit URIBL" "NXDOMAIN is not a listing"
hasnt "DNS_TEMPERROR" "no timeout against nsd"

# --deep: the older untrusted hops too; a list answer without a code is
# the list's own symbol.
probe --resolver $srv --deep $LISTS "$tmp/m1.eml"
has "hit RBL_TEST_SBL 192.0.2.99 -> 127.0.0.2" "deep: first hop"
has "hit RBL_TEST 192.0.2.98 -> 127.0.0.10" "deep: older hop, list symbol"

# Trusted relays are not asked about: with 192.0.2.99 trusted, .98 is.
probe --resolver $srv --trusted "10.0.0.0/8 192.0.2.99" $LISTS "$tmp/m1.eml"
has "hit RBL_TEST 192.0.2.98 -> 127.0.0.10" "trusted hop skipped"
hasnt "RBL_TEST_SBL" "trusted hop not asked"

# The envelope's client IP wins over the Received chain: IPv6 nibbles and
# a range code; a private envelope IP falls back to the chain.
probe --resolver $srv --ip 2001:db8::99 $LISTS "$tmp/m1.eml"
has "query $v6.bl.example.test ok" "IPv6 nibbles"
has "hit RBL_TEST_PBL 2001:db8::99 -> 127.0.0.5" "IPv6 listing, range code"
hasnt "99.2.0.192" "envelope IP replaces the chain"
probe --resolver $srv --ip 10.9.9.9 $LISTS "$tmp/m1.eml"
has "hit RBL_TEST_SBL 192.0.2.99 -> 127.0.0.2" "private envelope IP: the chain"
hasnt "9.9.9.10" "private envelope IP not asked"
probe --resolver $srv --ip ::ffff:192.0.2.99 $LISTS "$tmp/m1.eml"
has "query 99.2.0.192.bl.example.test ok" "IPv4-mapped IPv6 asked as IPv4"
mail m0.eml -- http://clean.example/
probe --resolver $srv --ip fd00::1 $LISTS "$tmp/m0.eml"
hasnt "\.bl\.example\.test" "unique local IPv6 not asked"

# Two records, two codes; refused/over-quota and non-127/8 answers.
probe --resolver $srv --ip 192.0.2.95 $LISTS "$tmp/m0.eml"
has "hit RBL_TEST_SBL 192.0.2.95 -> 127.0.0.2" "two records: first code"
has "hit RBL_TEST_XBL 192.0.2.95 -> 127.0.0.11" "two records: second code"
probe --resolver $srv --ip 192.0.2.97 $LISTS "$tmp/m0.eml"
has "hit DNSL_BLOCKED bl.example.test: 192.0.2.97 -> 127.255.255.254" "Spamhaus 'refused' answer"
hasnt "hit RBL_TEST" "a refused answer is no listing"
probe --resolver $srv --ip 192.0.2.96 $LISTS "$tmp/m0.eml"
has "hit DNSL_BLOCKED bl.example.test: 192.0.2.96 -> 192.0.2.1" "answer outside 127/8"

# URL domains: bitmask with two bits, the registrable domain (public
# suffix list: example.co.uk, not evil.example.co.uk), an IP literal
# reversed, URIBL's 127.0.0.1 "blocked", hosts that are not domains.
mail m2.eml -- http://a.b.evil.co.uk/x https://A.B.Evil.Example.CO.UK/y http://203.0.113.7/z \
	http://www.quota.example/ http://localhost/ http://intranet.local/ http://10.0.0.1/ \
	http://co.uk/ http://www.evil.co.uk/again http://clean.example/
probe --resolver $srv $LISTS "$tmp/m2.eml"
has "query evil.co.uk.uribl.example.test ok" "registrable domain asked"
has "hit URIBL_BLACK evil.co.uk -> 127.0.0.6" "bitmask: first bit"
has "hit URIBL_GREY evil.co.uk -> 127.0.0.6" "bitmask: second bit"
hasnt "URIBL_RED evil" "bitmask: unset bit"
has "query example.co.uk.uribl.example.test ok" "a.b.evil.example.co.uk -> example.co.uk"
has "hit URIBL_TEST example.co.uk -> 127.0.0.16" "no code matched: list symbol"
has "query 7.113.0.203.uribl.example.test ok" "IP literal asked reversed"
has "hit URIBL_RED 203.0.113.7 -> 127.0.0.8" "IP literal listed"
has "hit DNSL_BLOCKED uribl.example.test: quota.example -> 127.0.0.1" "URIBL 127.0.0.1 refused"
hasnt "localhost\.uribl\|local\.uribl\|1.0.0.10\.\|query co\.uk\.\|query uk\." "not real domains"
n=$(grep -c "^query evil.co.uk" "$tmp/out")
[ "$n" = 1 ] && ok || bad "a domain is asked once, asked $n times"

# Sender domains only when asked for.
hasnt "sender.example" "From domain not asked by default"
probe --resolver $srv --sender-domains $LISTS "$tmp/m2.eml"
has "hit URIBL_TEST sender.example -> 127.0.0.16, example.co.uk -> 127.0.0.16" "From domain listed (one hit, details joined)"

# Thirty URL domains: twenty asked, the cut reported.
set --
for i in $(seq 1 30); do set -- "$@" "http://www.d$i.example/"; done
mail m3.eml 192.0.2.99 -- "$@"
probe --resolver $srv $LISTS "$tmp/m3.eml"
n=$(grep -c "^query d[0-9]*\.example\.uribl" "$tmp/out")
[ "$n" = 20 ] && ok || bad "30 domains: $n asked, wanted 20"
has "hit DNSL_LIMIT_DOMAINS 20 of 30 domains queried" "cut reported"
has "query d20.example.uribl.example.test nxdomain" "the first twenty in order"
hasnt "query d21\." "the 21st is not asked"
probe --resolver $srv --max-domains 5 $LISTS "$tmp/m3.eml"
has "hit DNSL_LIMIT_DOMAINS 5 of 30 domains queried" "--max-domains"

# The cache: a second scan on the same client, after nsd is stopped,
# gets the listings and the NXDOMAINs without asking anyone.
"$DNSLPROBE" --resolver $srv --timeout 2 --again "$tmp/go" $LISTS "$tmp/m2.eml" >"$tmp/cache" 2>&1 &
probe_pid=$!
for i in $(seq 1 100); do grep -q "^elapsed_ms" "$tmp/cache" && break; sleep 0.05; done
python3 "$tests/dnsd.py" stop "$tmp/ns"
touch "$tmp/go"
wait $probe_pid
probe_pid=
cp "$tmp/cache" "$tmp/out"
has "again hit URIBL_BLACK evil.co.uk -> 127.0.0.6" "cached listing after the server stopped"
has "again hit URIBL_RED 203.0.113.7 -> 127.0.0.8" "cached IP literal listing"
has "again query clean.example.uribl.example.test nxdomain" "cached NXDOMAIN"
hasnt "DNS_TEMPERROR" "nothing timed out in the cached scan"
ms=$(sed -n 's/^again elapsed_ms \([0-9]*\)$/\1/p' "$tmp/out")
[ -n "$ms" ] && [ "$ms" -le 100 ] && ok || bad "cached scan took ${ms} ms"
echo "cache: second scan ${ms} ms with the server stopped"
# ...while a new client (no cache) now fails: the server is really gone.
probe --resolver $srv --timeout 2 $LISTS "$tmp/m2.eml"
has "hit DNS_TEMPERROR uribl.example.test" "new client: server gone"

# A server that never answers: every question is a DNS_TEMPERROR naming
# its list, and the scan costs its deadline, no more.
set -- $(python3 "$tests/dnsd.py" blackhole "$tmp/bh")
hole=127.0.0.1:$1
probe --resolver $hole --timeout 1.5 $LISTS "$tmp/m2.eml"
has "hit DNS_TEMPERROR uribl.example.test" "blackhole: domain list"
n=$(grep -c "^query .* tempfail" "$tmp/out")
t=$(grep -c "^query " "$tmp/out")
[ "$n" = "$t" ] && [ "$n" -ge 5 ] && ok || bad "blackhole: $n of $t questions tempfail"
ms=$(elapsed)
[ "$ms" -ge 1400 ] && [ "$ms" -le 1800 ] && ok || bad "blackhole took ${ms} ms for a 1.5 s deadline"
echo "blackhole: $t questions, ${ms} ms for a 1500 ms deadline"
probe --resolver $hole --timeout 1 --ip 192.0.2.99 $LISTS "$tmp/m3.eml"
has "hit DNS_TEMPERROR bl.example.test, uribl.example.test" "blackhole: both lists, one hit"
ms=$(elapsed)
[ "$ms" -ge 900 ] && [ "$ms" -le 1300 ] && ok || bad "blackhole took ${ms} ms for a 1 s deadline"
echo "blackhole: $(grep -c '^query ' "$tmp/out") questions, ${ms} ms for a 1000 ms deadline"

# Bad usage.
expect 2 "unknown option refused" "$DNSLPROBE" --nope "$tmp/m0.eml"
expect 2 "code for an unknown list refused" "$DNSLPROBE" --code X:NOPE:127.0.0.2 "$tmp/m0.eml"
finish
