# lib.sh: what the shell test scripts share (sourced, not run): a scratch
# folder removed on exit, pass/fail counting, and `expect`.
# Needs $SPAMSIFT (the binary); sets $bin, $tests and $tmp.
bin=${SPAMSIFT:?set SPAMSIFT to the spamsift binary}
tests=$(cd "$(dirname "$0")" && pwd) # this folder: genmail.py, rawnet.py
tmp=$(mktemp -d)
export SPAMSIFT_CACHE_DIR="$tmp/cache" # compiled rules: one compile per script
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# expect CODE DESCRIPTION CMD...: runs CMD (output in $tmp/out, $tmp/err),
# checks its exit code
expect() {
	want=$1; what=$2; shift 2
	"$@" >"$tmp/out" 2>"$tmp/err"
	got=$?
	if [ "$got" = "$want" ]; then ok; else bad "$what: exit $got, wanted $want ($(head -c 300 "$tmp/err"))"; fi
}

# gt A B: A > B, for numbers (decimals too)
gt() { python3 -c "import sys; sys.exit(0 if $1 > $2 else 1)"; }

# finish: prints the tally, fails when anything failed
finish() {
	echo "$pass passed, $fail failed"
	[ "$fail" = 0 ]
}

# start_daemon NAME LINES CMD...: runs CMD in the background, its output in
# $tmp/NAME.out and $tmp/NAME.err, sets $pid, and waits (10 s at most, or
# until it dies) for LINES lines of output: the listeners it bound.
start_daemon() {
	sd_name=$1; sd_lines=$2; shift 2
	: >"$tmp/$sd_name.out"
	"$@" >"$tmp/$sd_name.out" 2>"$tmp/$sd_name.err" &
	pid=$!
	sd_i=0
	while [ "$sd_i" -lt 100 ] && [ "$(wc -l <"$tmp/$sd_name.out")" -lt "$sd_lines" ]; do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
		sd_i=$((sd_i + 1))
	done
}

# bound_port NAME DOOR: the port of DOOR's 127.0.0.1 listener that the
# daemon started by start_daemon NAME printed (empty when none)
bound_port() { sed -n "s/^$2 127\\.0\\.0\\.1:\\([0-9][0-9]*\\)\$/\\1/p" "$tmp/$1.out"; }

# free_port: a TCP port free on 127.0.0.1 now
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_httpd NAME ARGS...: spamsiftd ($daemon) with an HTTP door on a free
# port and 2 threads (start_daemon); sets $started (also added to $pids)
# and the door's port in $hport
start_httpd() {
	sh_name=$1
	shift
	start_daemon "$sh_name" 1 "$daemon" --http 127.0.0.1:0 --threads 2 "$@"
	started=$pid
	pids="${pids:-} $started"
	hport=$(bound_port "$sh_name" http)
}

# gen_corpus SEED [N]: training mail made by genmail.py, in $tmp/spam and
# $tmp/ham (N messages each, or genmail's default)
gen_corpus() {
	python3 - "$tmp" "$tests" "$1" "${2:-}" <<'PY'
import sys
sys.dont_write_bytecode = True
sys.path.insert(0, sys.argv[2])
import genmail
g = genmail.Gen(sys.argv[1], seed=int(sys.argv[3]))
g.corpus(int(sys.argv[4])) if sys.argv[4] else g.corpus()
PY
}

# train_model DB: learns $tmp/spam and $tmp/ham into the store DB
train_model() {
	expect 0 "learn spam" "$bin" learn --spam --db "$1" "$tmp/spam"
	expect 0 "learn ham" "$bin" learn --ham --db "$1" "$tmp/ham"
}

# start_redis NAME PORT [ARGS...]: a redis-server on 127.0.0.1:PORT with its
# own folder $tmp/NAME (its settings on the command line, nothing saved
# unless ARGS say so); its PID in $redis and $tmp/NAME.pid, added to $pids
# (which the caller's trap kills); waits until it answers a PING (with
# $rauth, redis-cli's password options, when set)
start_redis() {
	sr_name=$1 sr_port=$2
	shift 2
	mkdir -p "$tmp/$sr_name"
	redis-server --bind 127.0.0.1 --port "$sr_port" --dir "$tmp/$sr_name" --save "" \
		--daemonize no --logfile "$tmp/$sr_name/log" "$@" &
	redis=$!
	echo "$redis" >"$tmp/$sr_name.pid"
	pids="${pids:-} $redis"
	for sr_i in $(seq 100); do
		# shellcheck disable=SC2086
		redis-cli -p "$sr_port" ${rauth:-} ping 2>/dev/null | grep -q PONG && return 0
		sleep 0.05
	done
	echo "redis $sr_name did not start: $(tail -5 "$tmp/$sr_name/log")"
	return 1
}
