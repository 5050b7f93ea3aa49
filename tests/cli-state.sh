#!/bin/bash
# tests/cli-state.sh -- the command line of apply, confirm, rollback, load,
# diff and check --kernel: usage errors (exit 2, with a message), and the
# state commands on an empty state (exit 3).  The state lives in a scratch
# directory (MASQC_STATE_DIR, MASQC_RUN_DIR).  Some of these commands reach
# the kernel when they get that far (load installs its lockdown before it
# even reads its configuration: fail-closed), so as root the whole test
# runs in a private network namespace; without root nothing can be changed.

. "$(dirname "$0")/lib.sh"

need_masqc
if [ "$(id -u)" -eq 0 ] && [ -z "${MASQC_TEST_IN_NS:-}" ]; then
	have_netns || tap_skip_all "root without unshare -n: would reach the host's ruleset"
	exec env MASQC_TEST_IN_NS=1 unshare -n bash "$0" "$@"
fi
make_tmpdir
export MASQC_STATE_DIR=$TMP/state MASQC_RUN_DIR=$TMP/run MASQC_CONF=$TMP/none.conf
cd "$TMP"
printf 'iptables -A INPUT -j ACCEPT\n' >ok.sh

run() {	# $1 expected status, $2 stderr regex ('' = any), command...
	local want=$1 re=$2 rc
	shift 2
	"$@" >out 2>err
	rc=$?
	if [ "$rc" = "$want" ] && { [ -z "$re" ] || grep -Eq -- "$re" err; }; then
		tap_ok "masqc ${*:2}: exit $want"
	else
		tap_not_ok "masqc ${*:2}: exit $rc, want $want${re:+ and /$re/}"
		cat out err | head -n 10 | tap_diag
	fi
}

run 2 'no script given' "$MASQC" apply
run 2 'no script given' "$MASQC" diff
run 2 '--confirm wants a number' "$MASQC" apply --confirm 0 ok.sh
run 2 '--confirm wants a number' "$MASQC" apply --confirm soon ok.sh
run 2 'option --confirm does not apply here' "$MASQC" compile --confirm 5 ok.sh
run 2 'option --kernel does not apply here' "$MASQC" apply --kernel ok.sh
run 2 'option --json does not apply here' "$MASQC" check --json ok.sh
run 2 'option -o does not apply here' "$MASQC" diff -o x ok.sh -- ok.sh
run 2 'takes no script' "$MASQC" confirm ok.sh
run 2 'takes no script' "$MASQC" load ok.sh
run 2 'N is a number of generations' "$MASQC" rollback two
run 2 'N is a number of generations' "$MASQC" rollback 0
run 2 "options go before '--'" "$MASQC" diff ok.sh -- ok.sh -D X=1
run 2 "did you mean 'apply'" "$MASQC" aply ok.sh
run 2 "did you mean 'rollback'" "$MASQC" rolback
run 0 '' "$MASQC" rollback --list
grep -q '(no generations)' out && tap_ok "rollback --list on an empty state says so" || tap_not_ok "rollback --list on an empty state says so"
run 3 'nothing to confirm' "$MASQC" confirm
run 3 'no generation to roll back to' "$MASQC" rollback
run 2 'cannot read' "$MASQC" load
if [ "$(id -u)" -eq 0 ] && command -v nft >/dev/null; then
	nft list tables | grep -q masqc_lockdown && tap_ok "load without a configuration still locks down (in this namespace)" ||
		tap_not_ok "load without a configuration still locks down (in this namespace)"
fi
"$MASQC" --help >out 2>&1
for c in apply confirm rollback diff load 'check   \[--kernel\]'; do
	grep -Eq "masqc $c" out && tap_ok "--help lists $c" || tap_not_ok "--help lists $c"
done

tap_done
