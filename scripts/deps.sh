#!/bin/sh
# deps.sh [build|test|bench|fuzz]...: make sure the Debian 12 packages that
# spamsift needs for the named jobs are installed. As root it installs what
# is missing (apt-get); otherwise it prints the exact command and fails.
set -eu

pkgs_build="gcc libc6-dev make pkg-config libicu-dev libidn2-dev libxxhash-dev liblmdb-dev \
	libev-dev zlib1g-dev libhyperscan-dev libpcre2-dev libpsl-dev libarchive-dev libunbound-dev \
	libspf2-dev libopendkim-dev libssl-dev libmagic-dev libevent-dev libsodium-dev \
	libmaxminddb-dev libhiredis-dev"
pkgs_test="$pkgs_build xz-utils python3 clang libclang-rt-14-dev clang-format spamc postfix swaks curl \
	nsd opendkim-tools python3-dkim chromium fonts-wqy-microhei redis-server redis-tools"
# The browser tests need Node.js with npm: Debian's packages when the
# machine has none (a machine with another Node.js, NodeSource's say, keeps
# it: Debian's npm conflicts with that nodejs package)
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	pkgs_test="$pkgs_test nodejs npm"
fi
pkgs_fuzz="clang libclang-rt-14-dev"
pkgs_bench="$pkgs_build libgmime-3.0-dev bogofilter time python3 curl wrk spamassassin spamd \
	spamc rspamd redis-server"

want=""
for job in "${@:-build}"; do
	case "$job" in
	build) want="$want $pkgs_build" ;;
	test) want="$want $pkgs_test" ;;
	fuzz) want="$want $pkgs_fuzz" ;;
	bench) want="$want $pkgs_bench" ;;
	*) echo "deps.sh: unknown job '$job' (build, test, fuzz, bench)" >&2; exit 2 ;;
	esac
done

missing=""
for p in $want; do
	case " $missing " in *" $p "*) continue ;; esac
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" = 0 ]; then
	echo "deps.sh: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	# postfix: no system mail set-up; the tests run private instances
	echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
else
	echo "deps.sh: missing Debian packages; run as root:" >&2
	echo "  apt-get install -y$missing" >&2
	exit 1
fi
