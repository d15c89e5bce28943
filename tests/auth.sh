#!/bin/sh
# auth.sh: SPF, DKIM and DMARC of src/auth (through tests/auth/authprobe)
# against a real DNS server, Debian's nsd on 127.0.0.1 serving zones written
# here, with mail signed here (keys by opendkim-genkey and dkimpy); and
# against a server that never answers, where the whole run must cost the
# deadline and no more.
# Needs $AUTHPROBE, nsd, opendkim-tools, python3-dkim (make check installs them).
AUTHPROBE=${AUTHPROBE:?set AUTHPROBE to build/tests/authprobe}
SPAMSIFT=${SPAMSIFT:-unused}
. "$(dirname "$0")/lib.sh"

for t in nsd opendkim-genkey; do
	if ! command -v $t >/dev/null && ! [ -x /usr/sbin/$t ]; then
		[ "${CI:-}" = true ] && { echo "auth.sh: $t missing under CI"; exit 1; }
		echo "auth.sh: skipped (no $t; apt-get install nsd opendkim-tools)"
		exit 0
	fi
done
PATH=$PATH:/usr/sbin
# dkimpy is Debian's (python3-dkim), not in a pyenv python on PATH.
PY=/usr/bin/python3
sign() { $PY "$tests/auth/dkimsign.py" sign "$@"; }
trap 'python3 "$tests/dnsd.py" stop "$tmp/ns"; python3 "$tests/dnsd.py" stop "$tmp/bh"; rm -rf "$tmp"' EXIT

# Keys: RSA from opendkim-genkey, Ed25519 from dkimpy.
mkdir -p "$tmp/ns" "$tmp/keys"
opendkim-genkey --bits=2048 -d example.test -s rsa1 -D "$tmp/keys" || { bad "opendkim-genkey"; finish; exit 1; }
opendkim-genkey --bits=1024 -d other.test -s rsa2 -D "$tmp/keys"
edpub=$($PY "$tests/auth/dkimsign.py" ed25519-key "$tmp/keys/ed1.key") || { bad "ed25519 key"; finish; exit 1; }

z=$tmp/ns/example.test.zone
cat >"$z" <<'ZONE'
$TTL 300
@    IN SOA ns.example.test. hostmaster.example.test. 1 3600 600 86400 60
@    IN NS ns.example.test.
ns   IN A 127.0.0.1
; SPF: one domain per case
ip4      IN TXT "v=spf1 ip4:192.0.2.0/24 -all"
inc      IN TXT "v=spf1 include:ip4.example.test -all"
redir    IN TXT "v=spf1 redirect=ip4.example.test"
a        IN TXT "v=spf1 a -all"
a        IN A 198.51.100.7
mx       IN TXT "v=spf1 mx -all"
mx       IN MX 10 mail.example.test.
mail     IN A 203.0.113.9
ip6      IN TXT "v=spf1 ip6:2001:db8::/32 -all"
exists   IN TXT "v=spf1 exists:%{i}.allow.example.test -all"
192.0.2.77.allow IN A 127.0.0.2
soft     IN TXT "v=spf1 ip4:192.0.2.1 ~all"
neutral  IN TXT "v=spf1 ?all"
badsyn   IN TXT "v=spf1 ip4:192.0.2.300 -all"
many     IN TXT "v=spf1 a:h1.example.test a:h2.example.test a:h3.example.test a:h4.example.test a:h5.example.test a:h6.example.test a:h7.example.test a:h8.example.test a:h9.example.test a:h10.example.test a:h11.example.test -all"
void     IN TXT "v=spf1 a:nothing.example.test -all"
; a domain no server here serves: nsd refuses, a quick temporary error
incfail  IN TXT "v=spf1 include:elsewhere.test -all"
nospf    IN A 192.0.2.1
; the domain itself: mail from its own relays
@        IN TXT "v=spf1 ip4:192.0.2.0/24 -all"
; DMARC: reject here, quarantine for subdomains without their own record
_dmarc   IN TXT "v=DMARC1; p=reject; sp=quarantine; rua=mailto:d@example.test"
ZONE
cat "$tmp/keys/rsa1.txt" >>"$z"
echo "" >>"$z"
echo "ed1._domainkey IN TXT \"v=DKIM1; k=ed25519; p=$edpub\"" >>"$z"
echo "revoked._domainkey IN TXT \"v=DKIM1; k=rsa; p=\"" >>"$z"

z2=$tmp/ns/other.test.zone
cat >"$z2" <<'ZONE'
$TTL 300
@    IN SOA ns.other.test. hostmaster.other.test. 1 3600 600 86400 60
@    IN NS ns.other.test.
@    IN TXT "v=spf1 ip4:203.0.113.0/24 -all"
_dmarc IN TXT "v=DMARC1; p=none"
ZONE
cat "$tmp/keys/rsa2.txt" >>"$z2"
echo "" >>"$z2"

z3=$tmp/ns/strict.test.zone
cat >"$z3" <<'ZONE'
$TTL 300
@    IN SOA ns.strict.test. hostmaster.strict.test. 1 3600 600 86400 60
@    IN NS ns.strict.test.
bounce IN TXT "v=spf1 ip4:192.0.2.0/24 -all"
_dmarc IN TXT "v=DMARC1; p=reject; aspf=s; adkim=s"
ZONE

z4=$tmp/ns/nodmarc.test.zone
cat >"$z4" <<'ZONE'
$TTL 300
@    IN SOA ns.nodmarc.test. hostmaster.nodmarc.test. 1 3600 600 86400 60
@    IN NS ns.nodmarc.test.
@    IN TXT "v=spf1 ip4:192.0.2.0/24 -all"
_dmarc IN TXT "not a dmarc record"
ZONE

set -- $(python3 "$tests/dnsd.py" start "$tmp/ns" "$z" "$z2" "$z3" "$z4")
port=$1
[ -n "$port" ] && ok || { bad "nsd did not start: $(tail -5 "$tmp/ns/nsd.out" 2>/dev/null)"; finish; exit 1; }
srv=127.0.0.1:$port

# mail FROM [RECEIVED-IP HELO RETURN-PATH]: a message on standard output
mail() {
	[ -n "${2:-}" ] && printf 'Received: from %s (%s [%s])\n\tby mx.local (Postfix) with ESMTP id 1; Mon, 1 Jan 2024 00:00:00 +0000\n' "$3" "$3" "$2"
	[ -n "${4+x}" ] && printf 'Return-Path: <%s>\n' "$4"
	printf 'From: Someone <%s>\nTo: rcpt@local.test\nSubject: test of %s\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-ID: <%s@local.test>\n\nHello,\nthis is the body.\n\n  with  spaces  \n' "$1" "$1" "$$"
}

probe() { "$AUTHPROBE" --resolver "$srv" --timeout 3 "$@" >"$tmp/out" 2>"$tmp/err"; }
has() {
	[ -n "${AUTH_VERBOSE:-}" ] && sed 's/^/  | /' "$tmp/out"
	if grep -qx -- "$1" "$tmp/out"; then ok; else bad "$2: no line '$1' in: $(cat "$tmp/out" "$tmp/err")"; fi; }
hasnt() { if grep -q -- "$1" "$tmp/out"; then bad "$2: '$1' in: $(cat "$tmp/out")"; else ok; fi; }

# --- SPF ---
mail u@example.test >"$tmp/plain.eml"
spf() { # spf IP MAILFROM-DOMAIN WANT WHAT
	probe --ip "$1" --helo mx.sender.test --from "user@$2" "$tmp/plain.eml"
	has "$3 $2" "$4"
}
spf 192.0.2.5 ip4.example.test SPF_PASS "ip4 pass"
spf 198.51.100.1 ip4.example.test SPF_FAIL "ip4 -all fail"
spf 192.0.2.5 inc.example.test SPF_PASS "include: pass"
spf 198.51.100.1 inc.example.test SPF_FAIL "include: fail"
spf 192.0.2.5 redir.example.test SPF_PASS "redirect= pass"
spf 198.51.100.7 a.example.test SPF_PASS "a pass"
spf 198.51.100.8 a.example.test SPF_FAIL "a fail"
spf 203.0.113.9 mx.example.test SPF_PASS "mx pass"
spf 2001:db8::25 ip6.example.test SPF_PASS "ip6 pass"
spf 2001:db9::25 ip6.example.test SPF_FAIL "ip6 fail"
spf 192.0.2.77 exists.example.test SPF_PASS "exists: with a macro pass"
spf 192.0.2.78 exists.example.test SPF_FAIL "exists: fail"
spf 192.0.2.9 soft.example.test SPF_SOFTFAIL "~all softfail"
spf 192.0.2.9 neutral.example.test SPF_NEUTRAL "?all neutral"
spf 192.0.2.9 nospf.example.test SPF_NONE "no record: none"
spf 192.0.2.9 nxdomain.example.test SPF_NONE "no domain: none"
spf 192.0.2.9 void.example.test SPF_FAIL "void lookup: no match, fail"
probe --ip 192.0.2.9 --from user@badsyn.example.test "$tmp/plain.eml"
has "SPF_PERMERROR badsyn.example.test.*" "syntax error: permerror"
probe --ip 192.0.2.9 --from user@many.example.test "$tmp/plain.eml"
has "SPF_PERMERROR many.example.test.*" "over 10 lookups: permerror"
probe --ip 192.0.2.9 --from user@incfail.example.test "$tmp/plain.eml"
has "SPF_TEMPERROR incfail.example.test.*" "include: of a domain that fails: temperror"
hasnt DNS_TEMPERROR "a refusal is no timeout"
# The null sender: postmaster@HELO (RFC 7208 section 2.4).
probe --ip 192.0.2.5 --helo ip4.example.test --from "" "$tmp/plain.eml"
has "SPF_PASS ip4.example.test" "null sender: HELO identity"
has "ar: authprobe; spf=pass smtp.mailfrom=postmaster@ip4.example.test smtp.helo=ip4.example.test;.*" "A-R for the null sender"
# Without --ip: the first untrusted Received hop and Return-Path.
mail u@example.test 192.0.2.5 relay.example.test bounce@ip4.example.test >"$tmp/recv.eml"
probe "$tmp/recv.eml"
has "SPF_PASS ip4.example.test" "Received hop and Return-Path"
mail u@example.test 198.51.100.1 relay.example.test bounce@ip4.example.test >"$tmp/recv2.eml"
probe "$tmp/recv2.eml"
has "SPF_FAIL ip4.example.test" "Received hop from elsewhere"
mail u@example.test 192.0.2.5 ip4.example.test "" >"$tmp/recv3.eml"
probe "$tmp/recv3.eml"
has "SPF_PASS ip4.example.test" "Return-Path <>: postmaster@HELO of the hop"

# --- DKIM ---
k=$tmp/keys
mail u@example.test >"$tmp/m.eml"
sign "$k/rsa1.private" rsa1 example.test rsa-sha256 relaxed/relaxed <"$tmp/m.eml" >"$tmp/rr.eml"
sign "$k/rsa1.private" rsa1 example.test rsa-sha256 simple/simple <"$tmp/m.eml" >"$tmp/ss.eml"
sign "$k/ed1.key" ed1 example.test ed25519-sha256 relaxed/relaxed <"$tmp/m.eml" >"$tmp/ed.eml"
sign "$k/ed1.key" ed1 example.test ed25519-sha256 simple/simple <"$tmp/m.eml" >"$tmp/eds.eml"
dkim() { # dkim FILE WANT WHAT
	probe --ip 198.51.100.1 --helo mx.sender.test --from bounce@other.test "$1"
	has "$2" "$3"
}
dkim "$tmp/rr.eml" "DKIM_VALID d=example.test s=rsa1" "rsa-sha256 relaxed/relaxed"
dkim "$tmp/ss.eml" "DKIM_VALID d=example.test s=rsa1" "rsa-sha256 simple/simple"
dkim "$tmp/ed.eml" "DKIM_VALID d=example.test s=ed1" "ed25519-sha256 relaxed/relaxed"
dkim "$tmp/eds.eml" "DKIM_VALID d=example.test s=ed1" "ed25519-sha256 simple/simple"
has "ar: authprobe; spf=fail smtp.mailfrom=bounce@other.test smtp.helo=mx.sender.test; dkim=pass header.d=example.test header.s=ed1 header.b=.*; dmarc=pass (p=reject) header.from=example.test" "A-R of a signed message"
sed 's/\r*$/\r/' "$tmp/rr.eml" >"$tmp/rr-crlf.eml"
dkim "$tmp/rr-crlf.eml" "DKIM_VALID d=example.test s=rsa1" "CRLF line ends"
# A body byte changed, a signed header changed: invalid, both canonicalisations.
for f in rr ss ed eds; do
	sed 's/this is the body/this is the bodY/' "$tmp/$f.eml" >"$tmp/$f-body.eml"
	sed 's/^Subject: test/Subject: Test/' "$tmp/$f.eml" >"$tmp/$f-subj.eml"
	dkim "$tmp/$f-body.eml" "DKIM_INVALID d=example.test s=.*" "$f: body byte changed"
	hasnt DKIM_VALID "$f: body byte changed"
	has "ar: .*dkim=fail .*" "$f: A-R dkim=fail"
	dkim "$tmp/$f-subj.eml" "DKIM_INVALID d=example.test s=.*" "$f: signed header changed"
done
# White space: relaxed forgives it, simple does not.
sed 's/^Subject: test of/Subject:  test   of/; s/^  with  spaces  $/ with spaces/' "$tmp/rr.eml" >"$tmp/rr-ws.eml"
dkim "$tmp/rr-ws.eml" "DKIM_VALID d=example.test s=rsa1" "relaxed: white space changed"
sed 's/^Subject: test of/Subject:  test   of/' "$tmp/ss.eml" >"$tmp/ss-ws.eml"
dkim "$tmp/ss-ws.eml" "DKIM_INVALID d=example.test s=rsa1" "simple: white space changed"
# An unsigned header added: still valid.
sed '/^To:/a X-Added: by a list' "$tmp/rr.eml" >"$tmp/rr-add.eml"
dkim "$tmp/rr-add.eml" "DKIM_VALID d=example.test s=rsa1" "unsigned header added"
# Two signatures, both good.
sign "$k/rsa2.private" rsa2 other.test rsa-sha256 relaxed/simple <"$tmp/ed.eml" >"$tmp/two.eml"
dkim "$tmp/two.eml" "DKIM_VALID d=.* s=.*, d=.* s=.*" "two signatures"
# No key, revoked key: invalid (permerror in A-R); no signature: none.
sed 's/s=rsa1;/s=nokey;/' "$tmp/rr.eml" >"$tmp/nokey.eml"
dkim "$tmp/nokey.eml" "DKIM_INVALID d=example.test s=nokey" "no key published"
has "ar: .*dkim=permerror .*header.s=nokey.*" "no key: A-R permerror"
sed 's/s=rsa1;/s=revoked;/' "$tmp/rr.eml" >"$tmp/revoked.eml"
dkim "$tmp/revoked.eml" "DKIM_INVALID d=example.test s=revoked" "revoked key"
dkim "$tmp/m.eml" "DKIM_NONE " "unsigned"
# rsa-sha1 verifies but is not accepted any more (RFC 8301).
sign "$k/rsa1.private" rsa1 example.test rsa-sha1 relaxed/relaxed <"$tmp/m.eml" >"$tmp/sha1.eml"
dkim "$tmp/sha1.eml" "DKIM_INVALID d=example.test s=rsa1" "rsa-sha1 refused"
has "ar: .*dkim=permerror (rsa-sha1 is not accepted RFC 8301) header.d=example.test.*" "rsa-sha1: A-R permerror"

# --- DMARC ---
dmarc() { # dmarc FILE IP MAILFROM WANT WHAT
	probe --ip "$2" --helo mx.sender.test --from "$3" "$1"
	has "$4" "$5"
}
dmarc "$tmp/rr.eml" 198.51.100.1 b@other.test "DMARC_PASS example.test" "aligned DKIM pass"
dmarc "$tmp/m.eml" 192.0.2.5 b@ip4.example.test "DMARC_PASS example.test" "relaxed SPF alignment"
dmarc "$tmp/m.eml" 198.51.100.1 b@ip4.example.test "DMARC_FAIL_REJECT example.test p=reject" "p=reject"
has "ar: authprobe; spf=fail smtp.mailfrom=b@ip4.example.test smtp.helo=mx.sender.test; dkim=none; dmarc=fail (p=reject) header.from=example.test" "A-R dmarc=fail (p=reject)"
dmarc "$tmp/rr-body.eml" 198.51.100.1 b@other.test "DMARC_FAIL_REJECT example.test p=reject" "broken signature: fail"
sign "$k/rsa2.private" rsa2 other.test rsa-sha256 relaxed/relaxed <"$tmp/m.eml" >"$tmp/foreign.eml"
dmarc "$tmp/foreign.eml" 198.51.100.1 b@other.test "DMARC_FAIL_REJECT example.test p=reject" "unaligned DKIM pass"
mail u@sub.example.test >"$tmp/sub.eml"
dmarc "$tmp/sub.eml" 198.51.100.1 b@other.test "DMARC_FAIL_QUARANTINE sub.example.test p=quarantine" "org fallback: sp=quarantine"
dmarc "$tmp/sub.eml" 192.0.2.5 b@ip4.example.test "DMARC_PASS sub.example.test" "org fallback: relaxed pass"
mail u@other.test >"$tmp/other.eml"
dmarc "$tmp/other.eml" 198.51.100.1 b@ip4.example.test "DMARC_FAIL_NONE other.test p=none" "p=none"
dmarc "$tmp/other.eml" 203.0.113.5 b@other.test "DMARC_PASS other.test" "p=none, SPF pass"
mail u@strict.test >"$tmp/strict.eml"
dmarc "$tmp/strict.eml" 192.0.2.5 b@bounce.strict.test "DMARC_FAIL_REJECT strict.test p=reject" "aspf=s: subdomain not aligned"
has "SPF_PASS bounce.strict.test" "aspf=s: SPF itself passed"
mail u@nodmarc.test >"$tmp/nodmarc.eml"
dmarc "$tmp/nodmarc.eml" 192.0.2.5 b@nodmarc.test "DMARC_NONE nodmarc.test" "no valid record: none"
has "ar: authprobe; spf=pass smtp.mailfrom=b@nodmarc.test smtp.helo=mx.sender.test; dkim=none; dmarc=none header.from=nodmarc.test" "A-R dmarc=none"

# --- A server that never answers ---
# Every method gives a temporary error, DNS_TEMPERROR names what timed
# out, and the whole run costs the deadline, no more.
set -- $(python3 "$tests/dnsd.py" blackhole "$tmp/bh")
hole=127.0.0.1:$1
"$AUTHPROBE" --resolver "$hole" --timeout 1.5 --ip 192.0.2.5 --helo mx.sender.test \
	--from b@ip4.example.test "$tmp/two.eml" >"$tmp/out" 2>"$tmp/err"
has "SPF_TEMPERROR ip4.example.test.*" "blackhole: SPF temperror"
has "DKIM_TEMPERROR d=.* s=.*, d=.* s=.*" "blackhole: DKIM temperror for both signatures"
has "DMARC_TEMPERROR example.test" "blackhole: DMARC temperror"
has "DNS_TEMPERROR .*TXT ip4.example.test.*" "blackhole: DNS_TEMPERROR names the SPF query"
has "DNS_TEMPERROR .*TXT _dmarc.example.test.*" "blackhole: DNS_TEMPERROR names the DMARC query"
has "ar: authprobe; spf=temperror .*dkim=temperror .*dmarc=temperror header.from=example.test" "blackhole: A-R"
ms=$(sed -n 's/^elapsed_ms \([0-9]*\)$/\1/p' "$tmp/out")
[ -n "$ms" ] && [ "$ms" -ge 1400 ] && [ "$ms" -le 2000 ] && ok || bad "blackhole: auth took ${ms} ms for a 1.5 s deadline"
finish
