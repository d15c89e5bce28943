#!/bin/sh
# dns.sh: the DNS client of src/dns (through tests/dns/dnsprobe) against a
# real DNS server, Debian's nsd, started here on 127.0.0.1 with zones
# written here; and against a server that never answers.
# Needs $DNSPROBE and nsd (make check installs it).
DNSPROBE=${DNSPROBE:?set DNSPROBE to build/tests/dnsprobe}
SPAMSIFT=${SPAMSIFT:-unused}
. "$(dirname "$0")/lib.sh"

if ! command -v nsd >/dev/null; then
	[ "${CI:-}" = true ] && { echo "dns.sh: nsd missing under CI"; exit 1; }
	echo "dns.sh: skipped (no nsd; apt-get install nsd)"
	exit 0
fi
trap 'python3 "$tests/dnsd.py" stop "$tmp/ns"; python3 "$tests/dnsd.py" stop "$tmp/bh"; rm -rf "$tmp"' EXIT

mkdir -p "$tmp/ns"
cat >"$tmp/ns/example.test.zone" <<'ZONE'
$TTL 300
@    IN SOA ns.example.test. hostmaster.example.test. 1 3600 600 86400 60
@    IN NS ns.example.test.
ns   IN A 127.0.0.1
www  IN A 192.0.2.10
www  IN A 192.0.2.11
www  IN AAAA 2001:db8::10
@    IN TXT "v=spf1 ip4:192.0.2.0/24 -all"
long IN TXT "part one " "part two"
99.2.0.192.bl IN A 127.0.0.2
1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.bl IN A 127.0.0.4
ZONE
set -- $(python3 "$tests/dnsd.py" start "$tmp/ns" "$tmp/ns/example.test.zone")
port=$1
[ -n "$port" ] && ok || { bad "nsd did not start"; finish; exit 1; }
srv=127.0.0.1:$port

probe() { "$DNSPROBE" "$@" >"$tmp/out" 2>"$tmp/err"; }
has() { if grep -qx -- "$1" "$tmp/out"; then ok; else bad "$2: no line '$1' in: $(cat "$tmp/out")"; fi; }

# Answers of every kind, asked at once.
probe $srv 3 www.example.test/A www.example.test/AAAA example.test/TXT long.example.test/TXT \
	nope.example.test/A www.example.test/TXT 99.2.0.192.bl.example.test/A
has "www.example.test A ok 192.0.2.1[01] 192.0.2.1[01]" "two A records"
has "www.example.test AAAA ok 2001:db8::10" "AAAA"
has 'example.test TXT ok "v=spf1 ip4:192.0.2.0/24 -all"' "TXT"
has 'long.example.test TXT ok "part one part two"' "TXT of two strings joined"
has "nope.example.test A nxdomain" "NXDOMAIN"
has "www.example.test TXT nodata" "NODATA"
has "99.2.0.192.bl.example.test A ok 127.0.0.2" "DNSBL-style A"
has "elapsed_ms [0-9]* timed_out 0" "nothing timed out"

# One after another with one deadline.
probe $srv 3 --seq www.example.test/AAAA example.test/TXT
has "www.example.test AAAA ok 2001:db8::10" "sequential lookup"
has 'example.test TXT ok "v=spf1 ip4:192.0.2.0/24 -all"' "second sequential lookup"

# Fifty questions at once all come back.
set --
for i in $(seq 1 50); do set -- "$@" "h$i.example.test/A"; done
probe $srv 3 "$@"
n=$(grep -c "nxdomain" "$tmp/out")
[ "$n" = 50 ] && ok || bad "50 queries at once: $n answered"

# Names that cannot be asked are answered NXDOMAIN without asking.
long=$(python3 -c 'print("a" * 64 + ".example.test")')
probe $srv 3 "$long/A" "a..b.example.test/A"
has "$long A nxdomain" "label over 63 bytes"
has "a..b.example.test A nxdomain" "empty label"

# A server that never answers costs the deadline, no more, and gives
# "tempfail"; batched and sequential alike.
set -- $(python3 "$tests/dnsd.py" blackhole "$tmp/bh")
hole=127.0.0.1:$1
probe $hole 1.5 www.example.test/A example.test/TXT a.b.example.test/A
has "www.example.test A tempfail" "blackhole: tempfail"
ms=$(sed -n 's/^elapsed_ms \([0-9]*\) .*/\1/p' "$tmp/out")
[ "$ms" -ge 1400 ] && [ "$ms" -le 2000 ] && ok || bad "blackhole batch took ${ms} ms for a 1.5 s deadline"
has "elapsed_ms [0-9]* timed_out 3" "three timed out"
probe $hole 1 --seq www.example.test/A example.test/TXT www.example.test/AAAA
ms=$(sed -n 's/^elapsed_ms \([0-9]*\) .*/\1/p' "$tmp/out")
[ "$ms" -ge 900 ] && [ "$ms" -le 1500 ] && ok || bad "blackhole sequence took ${ms} ms for a 1 s deadline"
has "www.example.test AAAA tempfail" "late sequential lookup: tempfail at once"

# A server that is down (port closed) is a quick temporary error.
python3 "$tests/dnsd.py" stop "$tmp/ns"
probe $srv 2 www.example.test/A
has "www.example.test A tempfail" "closed port: tempfail"

# Bad server specs are refused.
expect 2 "bad resolver refused" "$DNSPROBE" "localhost:53" 1 www.example.test/A
expect 2 "bad port refused" "$DNSPROBE" "127.0.0.1:99999" 1 www.example.test/A
finish
