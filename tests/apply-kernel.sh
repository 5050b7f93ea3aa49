#!/bin/bash
# tests/apply-kernel.sh -- masqc apply / rollback against a real kernel,
# in a private network namespace (`unshare -n`: never the host's ruleset;
# the sysctls under /proc/sys/net are the namespace's own).  State goes to
# a scratch directory (MASQC_STATE_DIR, MASQC_RUN_DIR).
#
#   - a foreign table (docker-like) survives apply and rollback byte for byte
#   - diff right after apply is empty
#   - a batch the kernel refuses at its last object (MASQC_TEST_FAIL_LAST=1
#     appends a rule jumping to a chain that does not exist) leaves the
#     previous ruleset, sysctls and generations as they were
#   - rollback walks the generations back, ruleset and sysctls, to none
#   - the lock: a second apply waits, then gives up with exit 4
#   - generations are pruned to MASQC_KEEP
#   - a dynamic map (ipmasqadm autofw -c): diff stays empty when the packet
#     path has learned an element, and sees a changed map timeout
#   - a big batch (25,000 rules, keyed sets, 11 MB in one sendmsg): diff
#     empty after apply, a refusal at its last object located and the
#     previous ruleset kept
#   - recording the generation fails after a successful commit
#     (MASQC_TEST_FAIL_RECORD=1): said, no generation; with --confirm the
#     previous ruleset comes back (no watcher without a generation)

. "$(dirname "$0")/lib.sh"

need_masqc
need_netns
need_cmd nft flock
in_private_netns "$@"

cat >a.sh <<'S'
#!/bin/sh
echo 0 > /proc/sys/net/ipv4/ip_forward
echo 1 > /proc/sys/net/ipv4/conf/all/rp_filter
iptables -P INPUT DROP
iptables -A INPUT -i lo -j ACCEPT
iptables -A INPUT -p tcp --dport 22 -j ACCEPT
S
cat >b.sh <<'S'
#!/bin/sh
echo 1 > /proc/sys/net/ipv4/ip_forward
iptables -P FORWARD DROP
iptables -A FORWARD -i eth1 -o eth0 -j ACCEPT
iptables -A FORWARD -m state --state ESTABLISHED,RELATED -j ACCEPT
iptables -t nat -A POSTROUTING -o eth0 -j MASQUERADE
S
cat >c.sh <<'S'
#!/bin/sh
echo 2 > /proc/sys/net/ipv4/conf/all/rp_filter
iptables -A INPUT -p tcp -m multiport --dports 25,110,143 -j ACCEPT
iptables -A OUTPUT -p udp --dport 53 -j ACCEPT
S

state() {	# $1: name -> $1.nft, $1.sysctl
	nft list ruleset >"$1.nft"
	printf 'ip_forward=%s rp_filter=%s\n' "$(cat /proc/sys/net/ipv4/ip_forward)" \
		"$(cat /proc/sys/net/ipv4/conf/all/rp_filter)" >"$1.sysctl"
}
same_state() {	# $1 description, $2 expected name, $3 got name
	if cmp -s "$2.nft" "$3.nft" && cmp -s "$2.sysctl" "$3.sysctl"; then
		tap_ok "$1"
	else
		tap_not_ok "$1"
		diff -u "$2.nft" "$3.nft" | head -n 40 | tap_diag
		diff -u "$2.sysctl" "$3.sysctl" | tap_diag
	fi
}

echo 0 >/proc/sys/net/ipv4/ip_forward
echo 0 >/proc/sys/net/ipv4/conf/all/rp_filter
nft -f - <<'N'
table inet docker_like {
	set blocked { type ipv4_addr; elements = { 192.0.2.9 } }
	chain input { type filter hook input priority 10; policy accept; ip saddr @blocked counter drop; }
	chain forward { type filter hook forward priority 0; policy accept; iifname "docker0" accept; }
}
N
nft list table inet docker_like >foreign.0
state s0

# ---- apply, diff, foreign table
expect_rc "apply a.sh" 0 "$MASQC" apply a.sh
grep -q 'generation 1 applied' out || tap_diag <out
state s1
tap_compare "foreign table intact after apply" foreign.0 <(nft list table inet docker_like)
expect_rc "diff right after apply: exit 0" 0 "$MASQC" diff a.sh
[ ! -s out ] && tap_ok "diff right after apply: empty" || { tap_not_ok "diff right after apply: empty"; tap_diag <out; }
grep -qx 'ip_forward=0 rp_filter=1' s1.sysctl && tap_ok "apply set the script's sysctls" ||
	{ tap_not_ok "apply set the script's sysctls"; tap_diag <s1.sysctl; }

expect_rc "apply b.sh" 0 "$MASQC" apply b.sh
state s2
tap_compare "foreign table intact after a second apply" foreign.0 <(nft list table inet docker_like)
expect_rc "apply c.sh" 0 "$MASQC" apply c.sh
state s3

# ---- a batch refused at its last object
MASQC_TEST_FAIL_LAST=1 "$MASQC" apply a.sh >out 2>err
rc=$?
[ $rc = 1 ] && tap_ok "a batch refused at its last object: exit 1" || tap_not_ok "a batch refused at its last object: exit 1 (got $rc)"
grep -q '^<MASQC_TEST_FAIL_LAST>:1:1: error: the kernel refused the rule' err &&
	tap_ok "the refusal names the object's source" ||
	{ tap_not_ok "the refusal names the object's source"; grep -v ': note: ' err | tap_diag; }
state s3b
same_state "refused batch: ruleset and sysctls unchanged" s3 s3b
[ "$(cat "$MASQC_STATE_DIR/current")" = 3 ] && [ ! -e "$MASQC_STATE_DIR/gen/4" ] && [ ! -e "$MASQC_STATE_DIR/gen/4.tmp" ] &&
	tap_ok "refused batch: no generation recorded" || { tap_not_ok "refused batch: no generation recorded"; ls "$MASQC_STATE_DIR/gen" | tap_diag; }
expect_rc "check --kernel sees the same refusal" 1 env MASQC_TEST_FAIL_LAST=1 "$MASQC" check --kernel a.sh

# ---- rollback walks back
"$MASQC" rollback --list >list 2>&1
if grep -q '^\* *3 .* applied .* c.sh$' list && grep -q '^ *1 .* a.sh$' list; then
	tap_ok "rollback --list shows the generations, current marked"
else
	tap_not_ok "rollback --list shows the generations, current marked"; tap_diag <list
fi
expect_rc "rollback (3 -> 2)" 0 "$MASQC" rollback
state r2
same_state "rollback restores generation 2 (ruleset and sysctls)" s2 r2
expect_rc "diff against b.sh after the rollback: same" 0 "$MASQC" diff b.sh
expect_rc "rollback (2 -> 1)" 0 "$MASQC" rollback
state r1
same_state "rollback restores generation 1" s1 r1
expect_rc "rollback to before the first generation" 0 "$MASQC" rollback
state r0
same_state "no generation: masqc's tables gone, sysctls as before" s0 r0
expect_rc "rollback with nothing left: exit 3" 3 "$MASQC" rollback
tap_compare "foreign table intact after every rollback" foreign.0 <(nft list table inet docker_like)

# several steps at once, from a fresh chain 4 -> 5 -> 6
"$MASQC" apply a.sh >/dev/null 2>&1 && "$MASQC" apply b.sh >/dev/null 2>&1 && "$MASQC" apply c.sh >/dev/null 2>&1
expect_rc "rollback 2 (two generations at once)" 0 "$MASQC" rollback 2
state r5
same_state "rollback 2 lands on the generation two back" s1 r5
grep -q 'rolled back to generation 4' out && tap_ok "rollback 2 names the generation" ||
	{ tap_not_ok "rollback 2 names the generation"; tap_diag <out; }

# the snapshot: the scripts are not needed any more
mv a.sh a.sh.gone
"$MASQC" apply b.sh >/dev/null 2>&1
expect_rc "rollback without the original script (rebuilt from the generation)" 0 "$MASQC" rollback
state r6
same_state "the rebuilt generation is the one applied" s1 r6
mv a.sh.gone a.sh

# ---- the lock
flock "$MASQC_RUN_DIR/lock" sleep 4 &
sleep 0.5
expect_rc "apply while another holds the lock: exit 4" 4 env MASQC_LOCK_WAIT=1 "$MASQC" apply b.sh
grep -q 'another masqc holds' err && tap_ok "the lock is named" || { tap_not_ok "the lock is named"; tap_diag <err; }
wait

# ---- pruning
for i in 1 2 3 4 5 6; do MASQC_KEEP=4 "$MASQC" apply c.sh >/dev/null 2>&1; done
n=$(ls "$MASQC_STATE_DIR/gen" | wc -l)
[ "$n" = 4 ] && tap_ok "MASQC_KEEP=4 keeps 4 generations" || { tap_not_ok "MASQC_KEEP=4 keeps 4 generations (got $n)"; ls "$MASQC_STATE_DIR/gen" | tap_diag; }

# ---- a map the packet path fills (autofw with a control port)
cat >afw.sh <<'S'
#!/bin/sh
ipchains -P forward DENY
ipchains -A forward -i eth0 -s 192.168.0.0/24 -j MASQ
ipmasqadm autofw -A -r udp 6970 7170 -c tcp 7070
S
sed 's/-c tcp 7070/-c tcp 7070 -u/' afw.sh >afw-u.sh
expect_rc "apply afw.sh (a dynamic map)" 0 "$MASQC" apply afw.sh
expect_rc "diff right after apply of a dynamic map: exit 0" 0 "$MASQC" diff afw.sh
nft add element ip masqc legacy_autofw_1 '{ ipv4 : 192.168.0.10 }'
nft list map ip masqc legacy_autofw_1 | grep -q '192.168.0.10' &&
	tap_ok "the map took an element, as the packet path would add it" ||
	tap_not_ok "the map took an element, as the packet path would add it"
expect_rc "diff with a learned element: exit 0 (what rules learn is state)" 0 "$MASQC" diff afw.sh
expect_rc "diff against autofw -u (no timeout): exit 1" 1 "$MASQC" diff afw-u.sh
grep -q '^-.*timeout 15000ms' out && tap_ok "the diff shows the running map's timeout" ||
	{ tap_not_ok "the diff shows the running map's timeout"; tap_diag <out; }

# ---- the record fails after a successful commit (MASQC_TEST_FAIL_RECORD=1:
# the generation's files are written beside the commit, then it fails)
"$MASQC" apply c.sh >/dev/null 2>&1
state sc
cur=$(cat "$MASQC_STATE_DIR/current")
next=$(( $(ls "$MASQC_STATE_DIR/gen" | sort -n | tail -n 1) + 1 ))
MASQC_TEST_FAIL_RECORD=1 "$MASQC" apply b.sh >out 2>err
rc=$?
[ $rc = 2 ] && tap_ok "a record failing after the commit: exit 2" ||
	{ tap_not_ok "a record failing after the commit: exit 2 (got $rc)"; tap_diag <err; }
grep -q "the ruleset is loaded, but recording generation $next failed" err &&
	tap_ok "it says the ruleset is loaded and which generation was not recorded" ||
	{ tap_not_ok "it says the ruleset is loaded and which generation was not recorded"; tap_diag <err; }
[ "$(cat "$MASQC_STATE_DIR/current")" = "$cur" ] && [ ! -e "$MASQC_STATE_DIR/gen/$next" ] &&
	[ ! -e "$MASQC_STATE_DIR/gen/$next.tmp" ] &&
	tap_ok "failed record: no generation, current unchanged" ||
	{ tap_not_ok "failed record: no generation, current unchanged"; ls "$MASQC_STATE_DIR/gen" | tap_diag; }
expect_rc "failed record: b.sh is what runs (diff b.sh: same)" 0 "$MASQC" diff b.sh
expect_rc "put c.sh back" 0 "$MASQC" apply c.sh
state sc2
MASQC_TEST_FAIL_RECORD=1 "$MASQC" apply --confirm 60 b.sh >out 2>err
rc=$?
[ $rc = 2 ] && tap_ok "--confirm, record failing after the commit: exit 2" ||
	{ tap_not_ok "--confirm, record failing after the commit: exit 2 (got $rc)"; tap_diag <err; }
grep -q 'restoring the previous ruleset' err && tap_ok "--confirm without a generation: it says it restores" ||
	{ tap_not_ok "--confirm without a generation: it says it restores"; tap_diag <err; }
state sc3
same_state "--confirm without a generation: the previous ruleset and sysctls are back" sc2 sc3
[ ! -e "$MASQC_RUN_DIR/pending" ] && tap_ok "--confirm without a generation: nothing pending" ||
	tap_not_ok "--confirm without a generation: nothing pending"

# ---- a big batch
if command -v python3 >/dev/null; then
	python3 "$SRCDIR/bench/gen.py" 25000 . >/dev/null
	expect_rc "25,000 rules: apply" 0 "$MASQC" apply -q rules-25000.sh
	expect_rc "25,000 rules: diff right after apply is empty" 0 "$MASQC" diff rules-25000.sh
	state big1
	MASQC_TEST_FAIL_LAST=1 "$MASQC" apply -q rules-25000.sh >out 2>err
	rc=$?
	[ $rc = 1 ] && grep -q '^<MASQC_TEST_FAIL_LAST>:1:1: error: the kernel refused the rule' err &&
		tap_ok "25,000 rules refused at the last object: located, exit 1" ||
		{ tap_not_ok "25,000 rules refused at the last object: located, exit 1 (got $rc)"
		  grep -v ': note: ' err | tap_diag; }
	state big2
	same_state "25,000 rules refused: ruleset unchanged" big1 big2
else
	tap_skip "a big batch" "no python3"
fi

tap_done
