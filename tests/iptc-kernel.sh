#!/bin/bash
# tests/iptc-kernel.sh -- masqc apply/diff/rollback/confirm/load with
# --backend iptables-legacy (libiptc), in a private network namespace
# (`unshare -n`: never the host's ruleset), state in a scratch directory.
#
#   - every match and target ipt.c writes: libiptc apply gives what
#     iptables-legacy-restore of `masqc compile -t iptables/-t ip6tables`
#     gives (two more fresh namespaces), and diff is empty right after
#   - foreign things survive apply and rollback: a user chain in a table
#     masqc writes, a table masqc does not write (mangle), the IPv6 tables
#   - a user chain masqc created and no longer needs is deleted
#   - a later table the kernel refuses (MASQC_TEST_IPTC_FAIL_TABLE, and a
#     CT helper the kernel does not have) after an earlier one was
#     committed: exit 1, the earlier one is put back, no generation, the
#     refused rule named at its source line; check --kernel sees the
#     refusal and changes nothing
#   - a foreign chain jumping to a chain masqc would delete: exit 2 (not
#     the script's fault), nothing changed
#   - diff: empty after apply, non-empty (exit 1) against another script
#   - rollback walks the generations back to none
#   - iptables-legacy's lock (/run/xtables.lock) held elsewhere: exit 2,
#     nothing changed
#   - confirm timeout restores through the same backend
#   - moving between nft and iptables-legacy removes the other's rules,
#     and rollback moves back
#   - masqc load with "backend iptables-legacy" in masqc.conf

. "$(dirname "$0")/lib.sh"

need_masqc
need_netns
need_cmd iptables-legacy iptables-legacy-save iptables-legacy-restore ip6tables-legacy \
	ip6tables-legacy-save ip6tables-legacy-restore nft
need_iptc_backend
in_private_netns "$@"
L="--backend iptables-legacy"

# the whole legacy ruleset (both families, counters out, tables sorted),
# masqc's nft tables and the sysctl -> $1
# (an x_tables table cannot be removed once it exists: one left with
# ACCEPT policies and no rules is the same as none, and is dropped)
legacy() {
	iptables-legacy-save | ipt_clean /dev/stdin | ipt_tables
	ip6tables-legacy-save | ipt_clean /dev/stdin | ipt_tables
}
state() {
	{
		legacy
		nft list ruleset | grep -A1000 'table ip masqc' || true
		echo "ip_forward=$(cat /proc/sys/net/ipv4/ip_forward)"
	} >"$1"
}
# what is not masqc's
foreign() {
	{
		iptables-legacy -S FOREIGN
		iptables-legacy-save -t mangle | ipt_clean /dev/stdin
		ip6tables-legacy-save | ipt_clean /dev/stdin | ipt_tables all
	} >"$1" 2>&1
}

# ---- every match and target, against iptables-legacy-restore -----------------

cat >all.sh <<'S'
IPT=iptables
$IPT -N tcp_in
$IPT -N log_drop
$IPT -P INPUT DROP
$IPT -A INPUT -i lo -j ACCEPT
$IPT -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
$IPT -A INPUT -m conntrack ! --ctstate INVALID --ctstatus ASSURED -j ACCEPT
$IPT -A INPUT -m state --state INVALID -j DROP
$IPT -A INPUT -p tcp -m multiport --dports 25,110,143:145 -j ACCEPT
$IPT -A INPUT -p tcp ! --syn -m tcp --sport 1024:65535 -j ACCEPT
$IPT -A INPUT -p tcp --tcp-flags SYN,RST SYN,RST -j DROP
$IPT -A INPUT -p tcp -m tcp --tcp-option 8 -j ACCEPT
$IPT -A INPUT -p icmp --icmp-type echo-request -m limit --limit 6/min --limit-burst 10 -j ACCEPT
$IPT -A INPUT -p icmp --icmp-type 3/4 -j ACCEPT
$IPT -A INPUT -m mac --mac-source 00:11:22:33:44:55 -j ACCEPT
$IPT -A INPUT -m mark --mark 0x10/0xf0 -j ACCEPT
$IPT -A INPUT -m connmark ! --mark 0x2 -j ACCEPT
$IPT -A INPUT -m tos --tos 0x10 -j ACCEPT
$IPT -A INPUT -m dscp --dscp 0x0a -j ACCEPT
$IPT -A INPUT -m length --length 0:64 -j ACCEPT
$IPT -A INPUT -m ttl --ttl-gt 60 -j ACCEPT
$IPT -A INPUT -m comment --comment "a comment with spaces" -j ACCEPT
$IPT -A INPUT -m addrtype --dst-type BROADCAST,MULTICAST -j DROP
$IPT -A INPUT -p tcp -m tcpmss --mss 1000:1500 -j ACCEPT
$IPT -A INPUT -m pkttype --pkt-type broadcast -j DROP
$IPT -A INPUT -m helper --helper ftp -j ACCEPT
$IPT -A INPUT -m iprange --src-range 10.0.0.1-10.0.0.9 -j ACCEPT
$IPT -A INPUT ! -s 10.1.0.0/16 -d 10.2.0.0/255.255.0.0 -i eth+ -j tcp_in
$IPT -A INPUT -p 47 -j ACCEPT
$IPT -A INPUT -f -j DROP
$IPT -A INPUT -p udp -g log_drop
$IPT -A INPUT -p tcp --dport 113 -j REJECT --reject-with tcp-reset
$IPT -A INPUT -p udp --dport 111 -j REJECT --reject-with icmp-host-prohibited
$IPT -A INPUT -j REJECT
$IPT -A tcp_in -p tcp --dport 22 -j ACCEPT
$IPT -A tcp_in -j RETURN
$IPT -A tcp_in -p tcp
$IPT -A log_drop -j LOG --log-prefix "drop: " --log-level 6 --log-tcp-sequence --log-tcp-options --log-ip-options --log-uid
$IPT -A log_drop -j NFLOG --nflog-group 3 --nflog-prefix x --nflog-threshold 4
$IPT -A log_drop -j DROP
$IPT -A OUTPUT -m owner --uid-owner 1000 -j ACCEPT
$IPT -A OUTPUT -m owner --gid-owner 100-200 -j ACCEPT
$IPT -t nat -A PREROUTING -i eth0 -p tcp --dport 80 -j DNAT --to-destination 192.168.0.10:8080
$IPT -t nat -A PREROUTING -i eth0 -p udp --dport 53 -j DNAT --to-destination 192.168.0.10-192.168.0.12
$IPT -t nat -A PREROUTING -i eth1 -p tcp --dport 80 -j REDIRECT --to-ports 3128
$IPT -t nat -A POSTROUTING -o eth0 -s 192.168.0.0/24 -p tcp -j SNAT --to-source 203.0.113.7:1024-2000 --random --persistent
$IPT -t nat -A POSTROUTING -o ppp0 -p udp -j MASQUERADE --to-ports 2000-3000 --random-fully
$IPT -t mangle -A PREROUTING -p tcp --dport 22 -j TOS --set-tos 0x10
$IPT -t mangle -A PREROUTING -p tcp --dport 80 -j DSCP --set-dscp 0x0a
$IPT -t mangle -A PREROUTING -j MARK --set-mark 0x1/0xff
$IPT -t mangle -A PREROUTING -j MARK --or-mark 0x100
$IPT -t mangle -A PREROUTING -j CONNMARK --save-mark
$IPT -t mangle -A PREROUTING -j CONNMARK --set-mark 0x4
$IPT -t mangle -A OUTPUT -j CONNMARK --restore-mark --nfmask 0xff --ctmask 0xff
$IPT -t mangle -A POSTROUTING -j TTL --ttl-set 64
$IPT -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu
$IPT -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1400
$IPT -t raw -A PREROUTING -p udp --dport 5060 -j CT --helper sip
$IPT -t raw -A PREROUTING -i lo -j NOTRACK
ip6tables -P INPUT DROP
ip6tables -A INPUT -p ipv6-icmp --icmpv6-type echo-request -j ACCEPT
ip6tables -A INPUT -s 2001:db8::/32 -d 2001:db8:1::1/128 -p tcp --dport 22 -j ACCEPT
ip6tables -A INPUT -m hl --hl-eq 255 -j ACCEPT
ip6tables -A INPUT -p udp -j REJECT --reject-with icmp6-adm-prohibited
ip6tables -t mangle -A POSTROUTING -j HL --hl-dec 1
ip6tables -t nat -A POSTROUTING -o eth0 -j MASQUERADE
ip6tables -t nat -A PREROUTING -p tcp --dport 80 -j DNAT --to-destination [2001:db8::5]:8080
S
"$MASQC" compile -t iptables all.sh >all.ipt 2>all.err && "$MASQC" compile -t ip6tables all.sh >all.ip6t 2>>all.err ||
	{ tap_not_ok "all.sh compiles to iptables"; tap_diag <all.err; }
unshare -n sh -c 'export MASQC_STATE_DIR=$PWD/all.state MASQC_RUN_DIR=$PWD/all.run
	"$1" apply --backend iptables-legacy all.sh >all.apply 2>&1 || exit 1
	iptables-legacy-save >all.A4 && ip6tables-legacy-save >all.A6 || exit 2
	"$1" diff all.sh >all.diff 2>&1; echo $? >all.diffrc' sh "$MASQC" ||
	{ tap_not_ok "apply all.sh"; grep -v ': note: \|^	' all.apply | head -n 20 | tap_diag; }
unshare -n sh -c 'iptables-legacy-restore <all.ipt && ip6tables-legacy-restore <all.ip6t &&
	iptables-legacy-save >all.B4 && ip6tables-legacy-save >all.B6' || tap_not_ok "iptables-legacy-restore of all.sh"
for v in 4 6; do
	ipt_clean all.A$v | ipt_tables all >all.A$v.norm
	ipt_clean all.B$v | ipt_tables all >all.B$v.norm
done
n4=$(grep -c '^-A' all.A4.norm) n6=$(grep -c '^-A' all.A6.norm)
[ "$n4" -ge 55 ] && [ "$n6" -ge 7 ] && tap_ok "every rule of all.sh is in ($n4 IPv4, $n6 IPv6)" ||
	tap_not_ok "every rule of all.sh is in (got $n4 IPv4, $n6 IPv6)"
tap_compare "all matches and targets, IPv4: libiptc apply = iptables-legacy-restore" all.B4.norm all.A4.norm
tap_compare "all matches and targets, IPv6: libiptc apply = iptables-legacy-restore" all.B6.norm all.A6.norm
[ "$(cat all.diffrc 2>/dev/null)" = 0 ] && [ ! -s all.diff ] && tap_ok "all.sh: diff right after apply is empty" ||
	{ tap_not_ok "all.sh: diff right after apply is empty"; head -n 20 all.diff | tap_diag; }

# ---- generations, ownership, failures -------------------------------------

cat >a.sh <<'S'
echo 0 > /proc/sys/net/ipv4/ip_forward
iptables -N tcp_in
iptables -P INPUT DROP
iptables -A INPUT -i lo -j ACCEPT
iptables -A INPUT -p tcp -j tcp_in
iptables -A tcp_in -p tcp --dport 22 -j ACCEPT
S
cat >b.sh <<'S'
echo 1 > /proc/sys/net/ipv4/ip_forward
iptables -P FORWARD DROP
iptables -A FORWARD -i eth1 -o eth0 -j ACCEPT
iptables -A FORWARD -m state --state ESTABLISHED,RELATED -j ACCEPT
iptables -t nat -A POSTROUTING -o eth0 -j MASQUERADE
S
cat >c.sh <<'S'
echo 1 > /proc/sys/net/ipv4/ip_forward
iptables -A INPUT -p tcp -m multiport --dports 25,110,143 -j ACCEPT
iptables -t nat -A PREROUTING -i eth0 -p tcp --dport 2222 -j DNAT --to-destination 192.168.0.10:22
S

echo 0 >/proc/sys/net/ipv4/ip_forward
iptables-legacy -N FOREIGN
iptables-legacy -A FOREIGN -s 192.0.2.9/32 -j DROP
iptables-legacy -A FOREIGN -j RETURN
iptables-legacy -t mangle -N DOCKER_M
iptables-legacy -t mangle -A PREROUTING -i docker0 -j MARK --set-mark 7
iptables-legacy -t mangle -A DOCKER_M -p udp -j ACCEPT
ip6tables-legacy -A INPUT -s 2001:db8::9/128 -j DROP
foreign foreign.0
state s0

expect_rc "apply --backend iptables-legacy a.sh" 0 "$MASQC" apply $L a.sh
grep -q 'generation 1 applied (3 rules)' out || { tap_not_ok "apply says generation 1, 3 rules"; tap_diag <out; }
state s1
foreign foreign.1
tap_compare "foreign chain, mangle table and IPv6 tables intact after apply" foreign.0 foreign.1
iptables-legacy -S tcp_in 2>/dev/null | grep -q -- '--dport 22 -j ACCEPT' && tap_ok "the script's user chain is in" ||
	tap_not_ok "the script's user chain is in"
grep -qx 'backend iptables-legacy' "$MASQC_STATE_DIR/gen/1/options" && [ -s "$MASQC_STATE_DIR/gen/1/ruleset.ipt" ] &&
	tap_ok "the generation records its backend and the iptables-restore text" ||
	{ tap_not_ok "the generation records its backend"; tap_diag <"$MASQC_STATE_DIR/gen/1/options"; }
expect_rc "diff right after apply: exit 0" 0 "$MASQC" diff a.sh
[ ! -s out ] && tap_ok "diff right after apply: empty" || { tap_not_ok "diff right after apply: empty"; tap_diag <out; }
grep -qx 'ip_forward=0' s1 && tap_ok "apply set the script's sysctl" || tap_not_ok "apply set the script's sysctl"

expect_rc "apply b.sh" 0 "$MASQC" apply $L b.sh
state s2
foreign foreign.2
tap_compare "foreign things intact after a second apply" foreign.0 foreign.2
iptables-legacy -S tcp_in >/dev/null 2>&1 && tap_not_ok "a.sh's user chain is gone after b.sh" ||
	tap_ok "a.sh's user chain is gone after b.sh"
iptables-legacy-save -t nat | grep -q -- '-A POSTROUTING -o eth0 -j MASQUERADE' && tap_ok "b.sh's nat rule is in" ||
	tap_not_ok "b.sh's nat rule is in"
expect_rc "diff a.sh against the running b.sh: exit 1" 1 "$MASQC" diff a.sh
grep -q '^+-A INPUT -i lo -j ACCEPT  # a.sh:4$' out && grep -q '^-:FORWARD DROP$' out &&
	tap_ok "the diff names the added rule's source line and the removed policy" ||
	{ tap_not_ok "the diff names the added rule's source line and the removed policy"; tap_diag <out; }

# a later table refused after an earlier one was committed
MASQC_TEST_IPTC_FAIL_TABLE="ip nat" "$MASQC" apply $L c.sh >out 2>err
rc=$?
[ $rc = 1 ] && tap_ok "nat refused after filter was committed: exit 1" ||
	{ tap_not_ok "nat refused after filter was committed: exit 1 (got $rc)"; tap_diag <err; }
grep -q 'the kernel refused table ip nat' err && tap_ok "the refused table is named" ||
	{ tap_not_ok "the refused table is named"; grep -v ': note: \|^	' err | tap_diag; }
state s2b
tap_compare "refused table: filter put back, ruleset and sysctl unchanged" s2 s2b
[ "$(cat "$MASQC_STATE_DIR/current")" = 2 ] && [ ! -e "$MASQC_STATE_DIR/gen/3" ] &&
	tap_ok "refused table: no generation recorded" || tap_not_ok "refused table: no generation recorded"
expect_rc "check --kernel sees the same refusal" 1 env MASQC_TEST_IPTC_FAIL_TABLE="ip nat" "$MASQC" check --kernel $L c.sh

# a genuine refusal: the kernel has no helper of that name; filter (first)
# is committed, raw refused, filter put back, and the rule is named
cat >badhelper.sh <<'S'
iptables -P INPUT DROP
iptables -A INPUT -p tcp --dport 80 -j ACCEPT
iptables -t raw -A PREROUTING -p tcp --dport 9999 -j CT --helper nosuchhelper
S
expect_rc "a helper the kernel does not have: exit 1" 1 "$MASQC" apply $L badhelper.sh
grep -q '^badhelper.sh:3:1: error: iptables-legacy: the kernel refuses this rule (table ip raw, -A PREROUTING .*--helper nosuchhelper)' err &&
	tap_ok "the refused rule is named at its source line" ||
	{ tap_not_ok "the refused rule is named at its source line"; grep -v ': note: ' err | tap_diag; }
state s2d
tap_compare "the refused raw table: filter put back, nothing changed" s2 s2d
expect_rc "check --kernel: the same refusal" 1 "$MASQC" check --kernel $L badhelper.sh
grep -q '^badhelper.sh:3:1: error: .*the kernel refuses this rule' err &&
	tap_ok "check --kernel names the rule too" || { tap_not_ok "check --kernel names the rule too"; tap_diag <err; }
expect_rc "check --kernel accepts c.sh" 0 "$MASQC" check --kernel $L c.sh
state s2c
tap_compare "check --kernel changed nothing" s2 s2c

expect_rc "apply c.sh" 0 "$MASQC" apply $L c.sh
state s3
cmp -s s2 s3 && tap_not_ok "c.sh changes the filter table (so the refusal test meant something)" ||
	tap_ok "c.sh changes the filter table (so the refusal test meant something)"

# ---- rollback
expect_rc "rollback (3 -> 2)" 0 "$MASQC" rollback
state r2
tap_compare "rollback restores generation 2" s2 r2
expect_rc "diff b.sh after the rollback: same" 0 "$MASQC" diff b.sh
expect_rc "rollback (2 -> 1)" 0 "$MASQC" rollback
state r1
tap_compare "rollback restores generation 1 (its user chain too)" s1 r1
expect_rc "rollback to before the first generation" 0 "$MASQC" rollback
state r0
tap_compare "no generation: masqc's rules gone, built-in policies ACCEPT, sysctl as before" s0 r0
expect_rc "rollback with nothing left: exit 3" 3 "$MASQC" rollback
foreign foreign.3
tap_compare "foreign things intact after every rollback" foreign.0 foreign.3

# ---- a foreign chain jumping to one masqc would delete
"$MASQC" apply $L a.sh >/dev/null 2>&1
iptables-legacy -A FOREIGN -p tcp -j tcp_in
state s4
expect_rc "apply b.sh while a foreign chain jumps to a.sh's chain: exit 2" 2 "$MASQC" apply $L b.sh
grep -q 'deleting chain tcp_in' err && tap_ok "the chain that cannot go is named" ||
	{ tap_not_ok "the chain that cannot go is named"; grep -v ': note: \|^	' err | tap_diag; }
state s4b
tap_compare "nothing changed" s4 s4b
iptables-legacy -D FOREIGN -p tcp -j tcp_in

# ---- iptables-legacy's lock (a private /run: the host's lock is not taken)
state s4c
unshare -m sh -c 'mount -t tmpfs tmpfs /run || exit 9
	flock /run/xtables.lock sleep 3 &
	sleep 0.5
	MASQC_LOCK_WAIT=1 "$1" apply --backend iptables-legacy b.sh >out 2>err
	echo $? >lock.rc
	wait' sh "$MASQC"
[ "$(cat lock.rc)" = 2 ] && grep -q 'xtables.lock is held' err &&
	tap_ok "/run/xtables.lock held by another program: exit 2, named" ||
	{ tap_not_ok "/run/xtables.lock held by another program: exit 2, named (exit $(cat lock.rc))"; tap_diag <err; }
state s4d
tap_compare "the held lock: nothing changed" s4c s4d

# ---- confirm timeout
state s5
expect_rc "apply --confirm 2 b.sh" 0 "$MASQC" apply $L --confirm 2 b.sh
state s5p
cmp -s s5 s5p && tap_not_ok "b.sh is in while the confirmation is pending" ||
	tap_ok "b.sh is in while the confirmation is pending"
for ((i = 0; i < 100; i++)); do
	[ -e "$MASQC_RUN_DIR/pending" ] || break
	sleep 0.1
done
[ ! -e "$MASQC_RUN_DIR/pending" ] && tap_ok "the watcher settled the deadline" || tap_not_ok "the watcher settled the deadline"
state s5r
tap_compare "confirm timeout restored the previous legacy ruleset" s5 s5r
grep -q 'was not confirmed within its deadline' "$MASQC_RUN_DIR/confirm.log" && tap_ok "the watcher logged the restore" ||
	{ tap_not_ok "the watcher logged the restore"; tap_diag <"$MASQC_RUN_DIR/confirm.log"; }

# ---- between backends
expect_rc "apply --backend nft b.sh over a legacy generation" 0 "$MASQC" apply --backend nft b.sh
nft list table ip masqc >/dev/null 2>&1 && tap_ok "nft: masqc's table is in" || tap_not_ok "nft: masqc's table is in"
legacy >legacy.moved
sed -n '/^table ip masqc/,$!p' s0 | grep -v '^ip_forward=' >legacy.0
tap_compare "masqc's legacy rules went with the move to nft (only foreign ones left)" legacy.0 legacy.moved
foreign foreign.4
tap_compare "foreign things intact after the move" foreign.0 foreign.4
expect_rc "diff (default backend: the running generation's, nft) is empty" 0 "$MASQC" diff b.sh
expect_rc "rollback to the legacy generation" 0 "$MASQC" rollback
state s6
tap_compare "back on iptables-legacy, nft table gone" s5 s6

# ---- masqc load with the backend in masqc.conf
printf 'script %s/c.sh\nbackend iptables-legacy\n' "$TMP" >masqc.conf
expect_rc "masqc load (backend iptables-legacy in masqc.conf)" 0 env MASQC_CONF=$TMP/masqc.conf "$MASQC" load
iptables-legacy-save -t nat | grep -q -- '--dport 2222 -j DNAT' && ! nft list table inet masqc-lockdown >/dev/null 2>&1 &&
	tap_ok "load: c.sh is in through libiptc, the lockdown is lifted" ||
	{ tap_not_ok "load: c.sh is in through libiptc, the lockdown is lifted"; nft list ruleset | tap_diag; }
expect_rc "diff c.sh after load: same" 0 "$MASQC" diff c.sh

tap_done
