#!/bin/bash
# tests/apply-equiv.sh -- every scenario ruleset loaded through
# `masqc apply` (one netlink batch, no nft involved) puts in the kernel
# exactly what `nft -f` of its golden nft text puts there.
#
# For each rulesets/NAME.sh / NAME.rules (and rulesets/legacy/) with a
# golden NAME.nft, in two throwaway network namespaces (`unshare -n`):
#   A: masqc apply NAME.sh (with NAME.args), state in a scratch directory
#   B: nft -f NAME.nft
# `nft list ruleset` of A and B must be identical, and `masqc diff` in A
# must be empty right after the apply.  This is the lab's "apply" path at
# the ruleset level: the lab (tests/lab) proves behaviour on the `nft -f`
# load, so an identical kernel ruleset carries its results over.

. "$(dirname "$0")/lib.sh"

need_masqc
need_netns
need_cmd nft
"$MASQC" compile -t render /dev/null >/dev/null 2>&1 ||
	tap_skip_all "masqc built without the netlink backend"
make_tmpdir

for dir in $RULESET_DIRS; do
	for input in $(list_inputs "$dir"); do
		n=$(input_name "$input")
		golden=$dir/$n.nft
		[ -f "$golden" ] || continue
		rel=${dir#"$RULESETS"}; rel=${rel#/}; label=${rel:+$rel/}$n
		ruleset_args "$dir/$n.args"
		w=$TMP/${label//\//_}
		mkdir -p "$w"
		(cd "$dir" && MASQC_STATE_DIR=$w/state MASQC_RUN_DIR=$w/run unshare -n bash -c '
			"$0" apply "$@" >'"$w"'/apply.out 2>'"$w"'/apply.err || exit 1
			nft list ruleset >'"$w"'/a.nft
			"$0" diff "$@" >'"$w"'/diff.out 2>/dev/null; echo $? >'"$w"'/diff.rc
		' "$MASQC" "${ARGS[@]}" "$input")
		if [ $? -ne 0 ]; then
			tap_not_ok "$label: masqc apply failed"
			grep -v ': note: ' "$w/apply.err" | head -n 20 | tap_diag
			continue
		fi
		if ! unshare -n bash -c 'nft -f "$1" && nft list ruleset >"$2"' _ "$golden" "$w/b.nft" 2>"$w/nft.err"; then
			tap_not_ok "$label: nft -f of the golden failed"
			tap_diag <"$w/nft.err"
			continue
		fi
		tap_compare "$label: apply (netlink) = nft -f (golden), nft list ruleset" "$w/b.nft" "$w/a.nft"
		if [ "$(cat "$w/diff.rc")" = 0 ]; then
			tap_ok "$label: diff right after apply is empty"
		else
			tap_not_ok "$label: diff right after apply is empty"
			head -n 30 "$w/diff.out" | tap_diag
		fi
	done
done

tap_done "no scenario rulesets with goldens"
