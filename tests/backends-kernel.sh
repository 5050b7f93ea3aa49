#!/bin/bash
# tests/backends-kernel.sh -- the kernel accepts what the backends print.
#
# tests/unit/test-backends writes its hand-built IR cases as NAME.nft,
# NAME.ipt and NAME.ipt6; each is loaded into a throwaway network namespace:
#   - nft:      `nft -c -f` (check) and a real `nft -f`, twice (the
#               table/delete/table idiom must make a reload idempotent);
#   - iptables: `iptables-legacy-restore --test`, then a real restore and
#               `iptables-legacy-save`: every rule line we printed must come
#               back byte for byte (our printer mimics iptables-save 1.8.9).
# Never the host's ruleset: everything runs under `unshare -n`.

. "$(dirname "$0")/lib.sh"

need_netns
need_cmd nft iptables-legacy-restore iptables-legacy-save ip6tables-legacy-restore
make_tmpdir

BIN=${TEST_BACKENDS:-$TESTS_DIR/unit/test-backends}
[ -x "$BIN" ] || tap_skip_all "test-backends not built ($BIN)"
"$BIN" "$TMP" >"$TMP/unit.log" 2>&1 || {
	tap_not_ok "test-backends ran"
	tap_diag <"$TMP/unit.log"
}

for f in "$TMP"/*.nft; do
	[ -f "$f" ] || continue
	n=$(basename "$f")
	if out=$(unshare -n nft -c -f "$f" 2>&1); then
		tap_ok "$n: nft -c accepts it"
	else
		tap_not_ok "$n: nft -c accepts it"
		echo "$out" | tap_diag
	fi
	if out=$(unshare -n sh -c 'nft -f "$1" && nft list ruleset >"$1.l1" &&
				 nft -f "$1" && nft list ruleset >"$1.l2" &&
				 cmp -s "$1.l1" "$1.l2"' sh "$f" 2>&1); then
		tap_ok "$n: loads, and reloads to the same ruleset"
	else
		tap_not_ok "$n: loads, and reloads to the same ruleset"
		echo "$out" | tap_diag
	fi
done

# The table, chain and rule lines of a file, as iptables-save prints them,
# each prefixed with its table; tables sorted by name (iptables-save prints
# them in kernel registration order), lines inside a table in file order.
rule_lines() {
	grep -E '^(-A|:|\*|COMMIT)' "$1" | sed -e 's/ \[[0-9]*:[0-9]*\]$//' |
		awk '/^\*/ { t = substr($0, 2) } { print t "\t" $0 }' | sort -s -t "$(printf '\t')" -k1,1
}

for f in "$TMP"/*.ipt "$TMP"/*.ipt6; do
	[ -f "$f" ] || continue
	n=$(basename "$f")
	case $f in
	*.ipt6) restore=ip6tables-legacy-restore save=ip6tables-legacy-save ;;
	*) restore=iptables-legacy-restore save=iptables-legacy-save ;;
	esac
	if out=$(unshare -n "$restore" --test <"$f" 2>&1); then
		tap_ok "$n: $restore --test accepts it"
	else
		tap_not_ok "$n: $restore --test accepts it"
		echo "$out" | tap_diag
		continue
	fi
	rule_lines "$f" >"$f.want"
	unshare -n sh -c '"$1" <"$2" && "$3"' sh "$restore" "$f" "$save" >"$f.saved" 2>&1
	rule_lines "$f.saved" >"$f.got"
	tap_compare "$n: $save prints back exactly our text" "$f.want" "$f.got"
done

tap_done
