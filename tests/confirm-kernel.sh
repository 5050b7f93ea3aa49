#!/bin/bash
# tests/confirm-kernel.sh -- masqc apply --confirm in a private network
# namespace (`unshare -n`), state in a scratch directory.
#
#   - the applying session is killed with SIGKILL (apply, its shell, the
#     whole process group: what an SSH connection dying does); the watcher
#     lives on, and at the deadline the previous ruleset and sysctls come back
#   - a confirm in time keeps the new ruleset, and the watcher goes away
#   - apply while a confirmation is pending: exit 4; confirm with nothing
#     pending: exit 3; rollback settles a pending confirmation

. "$(dirname "$0")/lib.sh"

need_masqc
need_netns
need_cmd nft setsid
in_private_netns "$@"

cat >old.sh <<'S'
echo 0 > /proc/sys/net/ipv4/ip_forward
iptables -P INPUT DROP
iptables -A INPUT -p tcp --dport 22 -j ACCEPT
S
cat >new.sh <<'S'
echo 1 > /proc/sys/net/ipv4/ip_forward
iptables -P INPUT DROP
iptables -A INPUT -p tcp --dport 2222 -j ACCEPT
S

state() {
	nft list ruleset >"$1.nft"
	cat /proc/sys/net/ipv4/ip_forward >"$1.sysctl"
}
same_state() {
	if cmp -s "$2.nft" "$3.nft" && cmp -s "$2.sysctl" "$3.sysctl"; then
		tap_ok "$1"
	else
		tap_not_ok "$1"
		diff -u "$2.nft" "$3.nft" | head -n 30 | tap_diag
		diff -u "$2.sysctl" "$3.sysctl" | tap_diag
	fi
}
# waits up to $1 seconds for the pending confirmation to go away
wait_settled() {
	local i
	for ((i = 0; i < $1 * 10; i++)); do
		[ -e "$MASQC_RUN_DIR/pending" ] || return 0
		sleep 0.1
	done
	return 1
}
watcher_pid() { sed -n 's/^pid=//p' "$MASQC_RUN_DIR/pending" 2>/dev/null; }
# a process that exited but is not reaped yet (a zombie) counts as gone
alive() {
	local st
	st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
	case $st in Z*) return 1 ;; esac
	return 0
}
# waits up to 3 s for the process to go
gone() {
	local i
	for ((i = 0; i < 30; i++)); do alive "$1" || return 0; sleep 0.1; done
	return 1
}

"$MASQC" apply old.sh >/dev/null 2>&1 || tap_not_ok "apply old.sh"
state before

# ---- the session dies: kill -9 of the whole process group
setsid bash -c 'echo $$ >sess.pid; "$MASQC" apply --confirm 3 new.sh >apply.out 2>&1; sleep 60' &
for ((i = 0; i < 100; i++)); do [ -s apply.out ] && [ -e "$MASQC_RUN_DIR/pending" ] && break; sleep 0.1; done
state during
wpid=$(watcher_pid)
kill -9 -- "-$(cat sess.pid)"
wait 2>/dev/null
if ! cmp -s before.nft during.nft && [ "$(cat during.sysctl)" = 1 ]; then
	tap_ok "the new ruleset and sysctls are in while the confirmation is pending"
else
	tap_not_ok "the new ruleset and sysctls are in while the confirmation is pending"
	tap_diag <apply.out
fi
[ -n "$wpid" ] && alive "$wpid" &&
	tap_ok "the watcher survives its session being killed (pid $wpid)" ||
	tap_not_ok "the watcher survives its session being killed"
"$MASQC" apply old.sh >out 2>err
rc=$?
[ $rc = 4 ] && grep -q 'awaits confirmation' err && tap_ok "apply while a confirmation is pending: exit 4" ||
	{ tap_not_ok "apply while a confirmation is pending: exit 4 (got $rc)"; tap_diag <err; }
if wait_settled 8; then
	tap_ok "the deadline passed: the watcher settled it"
else
	tap_not_ok "the deadline passed: the watcher settled it"
fi
state after
same_state "confirm timeout restored the previous ruleset and sysctls" before after
grep -q 'generation 2 was not confirmed' "$MASQC_RUN_DIR/confirm.log" && tap_ok "the watcher logged the restore" ||
	{ tap_not_ok "the watcher logged the restore"; tap_diag <"$MASQC_RUN_DIR/confirm.log"; }
"$MASQC" rollback --list | grep -q '^ *2 .* reverted ' && tap_ok "the unconfirmed generation is listed as reverted" ||
	{ tap_not_ok "the unconfirmed generation is listed as reverted"; "$MASQC" rollback --list | tap_diag; }
gone "$wpid" && tap_ok "the watcher exits after restoring" || tap_not_ok "the watcher exits after restoring"
"$MASQC" confirm >out 2>err
[ $? = 3 ] && tap_ok "confirm with nothing pending: exit 3" || tap_not_ok "confirm with nothing pending: exit 3"

# ---- confirmed in time
"$MASQC" apply --confirm 3 new.sh >/dev/null 2>&1
wpid=$(watcher_pid)
state new
"$MASQC" confirm >out 2>&1
[ $? = 0 ] && grep -q 'generation 3 confirmed' out && tap_ok "confirm in time: exit 0" ||
	{ tap_not_ok "confirm in time: exit 0"; tap_diag <out; }
sleep 4
state kept
same_state "a confirmed ruleset stays past the deadline" new kept
gone "$wpid" && tap_ok "the watcher left after the confirm" || tap_not_ok "the watcher left after the confirm"

# ---- rollback while pending settles it at once
"$MASQC" apply --confirm 30 old.sh >/dev/null 2>&1
wpid=$(watcher_pid)
"$MASQC" rollback >out 2>&1
[ $? = 0 ] && [ ! -e "$MASQC_RUN_DIR/pending" ] && tap_ok "rollback while pending: settled" ||
	{ tap_not_ok "rollback while pending: settled"; tap_diag <out; }
state rolled
same_state "rollback while pending restores what the confirm would have" new rolled
gone "$wpid" && tap_ok "its watcher left" || tap_not_ok "its watcher left"

tap_done
