#!/bin/bash
# tests/legacy-kernel.sh -- the kernel accepts what the legacy lowering
# produces (docs/legacy.md).
#
#  1. tests/unit/test-legacy-lower writes every hand-built case as NAME.nft
#     (and NAME.ipt when the iptables backend could express it): each is
#     checked with `nft -c -f` / `iptables-legacy-restore --test`;
#  2. every rulesets/legacy/*.sh that compiles is compiled to nft and to
#     iptables-restore text and checked the same way (a compile that stops
#     with located errors is fine here: the goldens pin those).
# Everything runs under `unshare -n`: the host's ruleset is never touched.

. "$(dirname "$0")/lib.sh"

need_netns
need_cmd nft iptables-legacy-restore
need_masqc
make_tmpdir

BIN=${TEST_LEGACY_LOWER:-${MASQC_BUILDDIR:-$TESTS_DIR/..}/tests/unit/test-legacy-lower}
if [ -x "$BIN" ]; then
	mkdir -p "$TMP/unit"
	"$BIN" "$TMP/unit" >"$TMP/unit.log" 2>&1 || {
		tap_not_ok "test-legacy-lower ran"
		tap_diag <"$TMP/unit.log"
	}
else
	tap_skip "unit cases" "test-legacy-lower not built ($BIN)"
fi

check_nft() {
	local f=$1 n=$2 out
	if out=$(unshare -n nft -c -f "$f" 2>&1); then
		tap_ok "$n: nft -c accepts it"
	else
		tap_not_ok "$n: nft -c accepts it"
		echo "$out" | tap_diag
	fi
}

check_ipt() {
	local f=$1 n=$2 out
	if out=$(unshare -n iptables-legacy-restore --test <"$f" 2>&1); then
		tap_ok "$n: iptables-restore --test accepts it"
	else
		tap_not_ok "$n: iptables-restore --test accepts it"
		echo "$out" | tap_diag
	fi
}

for f in "$TMP"/unit/*.nft; do
	[ -f "$f" ] && check_nft "$f" "unit $(basename "$f")"
done
for f in "$TMP"/unit/*.ipt; do
	[ -f "$f" ] && check_ipt "$f" "unit $(basename "$f")"
done

for name in $(list_rulesets "$RULESETS/legacy"); do
	src=$RULESETS/legacy/$name.sh
	ruleset_args "$RULESETS/legacy/$name.args"
	if "$MASQC" compile ${ARGS[@]+"${ARGS[@]}"} -o "$TMP/$name.nft" "$src" 2>"$TMP/$name.err"; then
		check_nft "$TMP/$name.nft" "$name (nft)"
	else
		tap_skip "$name (nft)" "stops with located errors"
	fi
	if "$MASQC" compile -t iptables ${ARGS[@]+"${ARGS[@]}"} -o "$TMP/$name.ipt" "$src" 2>"$TMP/$name.err"; then
		check_ipt "$TMP/$name.ipt" "$name (iptables)"
	else
		tap_skip "$name (iptables)" "stops with located errors"
	fi
done

tap_done "no legacy cases"
