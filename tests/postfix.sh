# postfix.sh: a private Postfix instance for the integration tests (sourced,
# not run; needs root and Debian's postfix package). Adapted from the team's
# recipe (../shared/recipes/postfix.sh), which handles the pitfalls of a
# second instance on loopback (maillog_file needs maillog_file_prefixes;
# virtual_mailbox_limit must not be below message_size_limit; its own queue
# and data folders). It differs in two ways, so that the tests run from a
# fresh clone with /bin/sh: it lives in the repository, and it waits for the
# SMTP port with python3 rather than bash's /dev/tcp.
#
# start_postfix DIR SMTP_PORT MILTER: Postfix on 127.0.0.1:SMTP_PORT that
# delivers mail for @example.net into DIR/mail/box/ (Maildir) and passes
# every message through MILTER (inet:127.0.0.1:PORT), tempfailing when the
# milter cannot be reached. stop_postfix DIR stops it.
start_postfix() {
	pf_dir=$1 pf_port=$2 pf_milter=$3
	mkdir -p "$pf_dir/etc" "$pf_dir/spool" "$pf_dir/data" "$pf_dir/mail"
	chmod 755 "$pf_dir" "$(dirname "$pf_dir")" # Postfix's users reach queue and mailbox
	chown -R postfix "$pf_dir/data"
	chmod 755 "$pf_dir/mail"
	chown nobody "$pf_dir/mail"
	cat >"$pf_dir/etc/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $pf_dir/spool
data_directory = $pf_dir/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.example.org
mydomain = example.org
myorigin = example.org
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
mynetworks = 127.0.0.0/8
relay_domains =
smtpd_relay_restrictions = permit_mynetworks, reject
virtual_mailbox_domains = example.net
virtual_mailbox_base = $pf_dir/mail
virtual_mailbox_maps = static:box/
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
virtual_minimum_uid = 1
maillog_file = $pf_dir/maillog
maillog_file_prefixes = $pf_dir
smtpd_milters = $pf_milter
milter_default_action = tempfail
milter_protocol = 6
message_size_limit = 52428800
virtual_mailbox_limit = 0
CF
	cat >"$pf_dir/etc/master.cf" <<CF
127.0.0.1:$pf_port inet n - n - - smtpd
pickup    unix n - n 60 1 pickup
cleanup   unix n - n - 0 cleanup
qmgr      unix n - n 300 1 qmgr
rewrite   unix - - n - - trivial-rewrite
bounce    unix - - n - 0 bounce
defer     unix - - n - 0 bounce
trace     unix - - n - 0 bounce
verify    unix - - n - 1 verify
flush     unix n - n 1000? 0 flush
proxymap  unix - - n - - proxymap
smtp      unix - - n - - smtp
relay     unix - - n - - smtp
error     unix - - n - - error
retry     unix - - n - - error
discard   unix - - n - - discard
local     unix - n n - - local
virtual   unix - n n - - virtual
lmtp      unix - - n - - lmtp
anvil     unix - - n - 1 anvil
scache    unix - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
CF
	postfix -c "$pf_dir/etc" check >/dev/null 2>&1
	postfix -c "$pf_dir/etc" start >/dev/null 2>&1 || return 1
	python3 - "$pf_port" <<'PY'
import socket, sys, time
for i in range(100):
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(1)
PY
}

# stop_postfix DIR: stops it and waits (at most 10 s) for its master
# process, by the PID in its queue folder, to be gone.
stop_postfix() {
	pf_master=$(tr -dc 0-9 <"$1/spool/pid/master.pid" 2>/dev/null)
	postfix -c "$1/etc" stop >/dev/null 2>&1
	for pf_i in $(seq 100); do
		[ -z "$pf_master" ] && return 0
		pf_state=$(sed -n 's/^[0-9]* ([^)]*) \(.\).*/\1/p' "/proc/$pf_master/stat" 2>/dev/null)
		[ -z "$pf_state" ] || [ "$pf_state" = Z ] && return 0
		sleep 0.1
	done
	kill "$pf_master" 2>/dev/null
}
