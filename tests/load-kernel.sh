#!/bin/bash
# tests/load-kernel.sh -- the boot-time loader, `masqc load`, between two
# throwaway network namespaces joined by a veth pair:
#
#   H (the machine booting)  vh 10.99.0.1/24, 10.98.0.1/24
#   P (a probe on its LAN)   vp 10.99.0.2/24, 10.98.0.2/24
#
# masqc.conf allows tcp/2222 from 10.99.0.0/24 on vh during the lockdown.
#   - a script that does not compile: exit 1, the error with its source
#     line on stderr, and H stays locked down: loopback works, tcp/8080
#     from P is dropped, tcp/2222 from P's 10.99.0.2 gets through, from
#     10.98.0.2 it does not
#   - a broken masqc.conf: exit 2, located, locked down
#   - a good script: exit 0, the lockdown is gone, the ruleset is in
#     (`masqc diff` is empty) and does what it says
# State and configuration live in a scratch directory (MASQC_STATE_DIR,
# MASQC_RUN_DIR, MASQC_CONF); nothing touches the host.

. "$(dirname "$0")/lib.sh"

need_masqc
need_netns
need_cmd ip nft python3
"$MASQC" compile -t render /dev/null >/dev/null 2>&1 ||
	tap_skip_all "masqc built without the netlink backend"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/masqc-test.XXXXXX")
H=masqc-load-$$-h P=masqc-load-$$-p
LISTENER=
cleanup() {
	[ -n "$LISTENER" ] && kill "$LISTENER" 2>/dev/null
	ip netns del "$H" 2>/dev/null
	ip netns del "$P" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
ip netns add "$H" && ip netns add "$P" || tap_skip_all "cannot create network namespaces"
ip link add vh netns "$H" type veth peer name vp netns "$P" || tap_skip_all "cannot create a veth pair"
ip -n "$H" link set lo up && ip -n "$P" link set lo up
ip -n "$H" link set vh up && ip -n "$P" link set vp up
ip -n "$H" addr add 10.99.0.1/24 dev vh && ip -n "$H" addr add 10.98.0.1/24 dev vh
ip -n "$P" addr add 10.99.0.2/24 dev vp && ip -n "$P" addr add 10.98.0.2/24 dev vp
cd "$TMP"
export MASQC_STATE_DIR=$TMP/state MASQC_RUN_DIR=$TMP/run MASQC_CONF=$TMP/masqc.conf

# listens on 2222 and 8080 in H
cat >listen.py <<'PY'
import socket, selectors
sel = selectors.DefaultSelector()
for port in (2222, 8080):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(16)
    sel.register(s, selectors.EVENT_READ)
while True:
    for key, _ in sel.select():
        c, _ = key.fileobj.accept()
        c.close()
PY
cat >probe.py <<'PY'
import socket, sys
src, dst, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = socket.socket()
s.settimeout(1.5)
if src != "-":
    s.bind((src, 0))
try:
    s.connect((dst, port))
except OSError:
    sys.exit(1)
PY
ip netns exec "$H" python3 listen.py &
LISTENER=$!
sleep 0.5
# from P (source address $1) to H port $2; in H to loopback port $1
reach() { ip netns exec "$P" python3 probe.py "$1" 10.99.0.1 "$2"; }
reach_from_98() { ip netns exec "$P" python3 probe.py 10.98.0.2 10.98.0.1 "$1"; }
reach_lo() { ip netns exec "$H" python3 probe.py - 127.0.0.1 "$1"; }
expect() {	# $1 description, $2 want (yes/no), command...
	local d=$1 want=$2 got=no
	shift 2
	"$@" && got=yes
	[ "$got" = "$want" ] && tap_ok "$d" || tap_not_ok "$d (reached: $got)"
}
load() { ip netns exec "$H" "$MASQC" load >load.out 2>load.err; echo $? >load.rc; }
tables() { ip netns exec "$H" nft list tables; }

expect "before anything: tcp/8080 from P reaches H" yes reach 10.99.0.2 8080

cat >broken.sh <<'S'
#!/bin/sh
iptables -P INPUT DROP
iptables -A INPUT -p tcp --dport 8080 -j ACCEPTT
S
cat >good.sh <<'S'
#!/bin/sh
iptables -P INPUT DROP
iptables -A INPUT -i lo -j ACCEPT
iptables -A INPUT -m state --state ESTABLISHED,RELATED -j ACCEPT
iptables -A INPUT -p tcp --dport 8080 -j ACCEPT
S
conf() {
	cat >masqc.conf <<C
# the loader's configuration (masqc.conf(5))
script $1
lockdown-allow tcp 2222 from 10.99.0.0/24 on vh
C
}

# ---- a script that does not compile
conf broken.sh
load
[ "$(cat load.rc)" = 1 ] && tap_ok "broken script: load exits 1" || tap_not_ok "broken script: load exits 1 (got $(cat load.rc))"
grep -q 'broken\.sh:3:[0-9]*: error: ' load.err && grep -q 'staying locked down' load.err &&
	tap_ok "broken script: the error names the source line, and says it stays locked down" ||
	{ tap_not_ok "broken script: the error names the source line"; tap_diag <load.err; }
tables | grep -q 'table inet masqc_lockdown' && tap_ok "locked down: table inet masqc_lockdown is in" ||
	{ tap_not_ok "locked down: table inet masqc_lockdown is in"; tables | tap_diag; }
expect "locked down: loopback works" yes reach_lo 8080
expect "locked down: tcp/8080 from P is dropped" no reach 10.99.0.2 8080
expect "locked down: the exception (tcp/2222 from 10.99.0.0/24) works" yes reach 10.99.0.2 2222
expect "locked down: tcp/2222 from outside the allowed prefix is dropped" no reach_from_98 2222

# ---- a broken configuration
conf good.sh
echo 'lockdown-alow tcp 22' >>masqc.conf
load
[ "$(cat load.rc)" = 2 ] && tap_ok "broken masqc.conf: load exits 2" || tap_not_ok "broken masqc.conf: load exits 2 (got $(cat load.rc))"
grep -q 'masqc\.conf:4:1: error: unknown directive' load.err && grep -q "did you mean 'lockdown-allow'" load.err &&
	tap_ok "broken masqc.conf: located, with a suggestion" || { tap_not_ok "broken masqc.conf: located"; tap_diag <load.err; }
expect "broken masqc.conf: still locked down (tcp/8080 dropped)" no reach 10.99.0.2 8080
expect "broken masqc.conf: the valid exception still applies" yes reach 10.99.0.2 2222

# ---- a good script
conf good.sh
load
[ "$(cat load.rc)" = 0 ] && tap_ok "good script: load exits 0" || { tap_not_ok "good script: load exits 0"; tap_diag <load.err; }
tables | grep -q masqc_lockdown && { tap_not_ok "good script: the lockdown is gone"; tables | tap_diag; } ||
	tap_ok "good script: the lockdown is gone"
ip netns exec "$H" "$MASQC" diff good.sh >diff.out 2>/dev/null
[ $? = 0 ] && tap_ok "good script: the running ruleset is the compiled one (diff empty)" ||
	{ tap_not_ok "good script: the running ruleset is the compiled one"; tap_diag <diff.out; }
expect "good script: tcp/8080 from P is accepted" yes reach 10.99.0.2 8080
expect "good script: tcp/2222 is dropped by the ruleset's policy" no reach 10.99.0.2 2222
ip netns exec "$H" "$MASQC" rollback --list | grep -q ' loaded ' && tap_ok "the load is a generation (rollback --list)" ||
	tap_not_ok "the load is a generation (rollback --list)"

tap_done
