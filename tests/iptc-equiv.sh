#!/bin/bash
# tests/iptc-equiv.sh -- the iptables-legacy backend installs exactly what
# iptables-legacy-restore makes of `masqc compile -t iptables`.
#
# For every ruleset in rulesets/ and rulesets/legacy that compiles to
# iptables (with its NAME.args):
#
#   namespace A  masqc apply --backend iptables-legacy (libiptc, no
#                iptables-restore), then iptables-legacy-save and
#                ip6tables-legacy-save; `masqc diff` right after must be
#                empty with exit 0;
#   namespace B  masqc compile -t iptables / -t ip6tables through
#                iptables-legacy-restore / ip6tables-legacy-restore, then the
#                same saves.
#
# The dumps are compared without comments and counters, tables sorted by
# name (every table kept, pristine or not).  Each side is a fresh
# `unshare -n`: the host's ruleset is never touched.  Rulesets that do not
# compile to iptables (nft-only constructs) are listed as skips.

. "$(dirname "$0")/lib.sh"

need_netns
need_masqc
need_cmd iptables-legacy-save iptables-legacy-restore ip6tables-legacy-save ip6tables-legacy-restore
make_tmpdir
need_iptc_backend

SIDE_A='
dir=$1 input=$2 out=$3; shift 3
cd "$dir" || exit 22
export MASQC_STATE_DIR=$out.state MASQC_RUN_DIR=$out.run
"$MASQC" apply --backend iptables-legacy "$@" "$input" >"$out.apply" 2>&1 || exit 30
iptables-legacy-save >"$out.v4" || exit 23
ip6tables-legacy-save >"$out.v6" || exit 23
"$MASQC" diff "$@" "$input" >"$out.diff" 2>"$out.differr"
echo $? >"$out.diffrc"
exit 0
'
SIDE_B='
iptables-legacy-restore <"$1" || exit 24
ip6tables-legacy-restore <"$2" || exit 25
iptables-legacy-save >"$3.v4" || exit 23
ip6tables-legacy-save >"$3.v6" || exit 23
exit 0
'
export MASQC

for dir in $RULESET_DIRS; do
	for input in $(list_inputs "$dir"); do
		name=$(input_name "$input")
		[ "$dir" = "$RULESETS" ] || name=legacy/$name
		ruleset_args "$dir/$(input_name "$input").args"
		out=$TMP/${name//\//_}
		if ! (cd "$dir" && "$MASQC" compile -t iptables "${ARGS[@]}" "$input") >"$out.ipt" 2>"$out.err" ||
		   ! (cd "$dir" && "$MASQC" compile -t ip6tables "${ARGS[@]}" "$input") >"$out.ip6t" 2>"$out.err"; then
			tap_skip "$name" "does not compile to iptables: $(grep -m1 ': error: ' "$out.err" | cut -c1-120)"
			continue
		fi
		if ! unshare -n bash -c "$SIDE_A" sh "$dir" "$input" "$out.A" "${ARGS[@]}" >"$out.nserr" 2>&1; then
			tap_not_ok "$name: masqc apply --backend iptables-legacy failed"
			cat "$out.nserr" "$out.A.apply" 2>/dev/null | grep -v ': note: \|^	' | head -n 30 | tap_diag
			continue
		fi
		if ! unshare -n bash -c "$SIDE_B" sh "$out.ipt" "$out.ip6t" "$out.B" >"$out.nserr" 2>&1; then
			tap_not_ok "$name: iptables-legacy-restore of masqc's output failed"
			tap_diag <"$out.nserr"
			continue
		fi
		for v in v4 v6; do
			ipt_clean "$out.A.$v" | ipt_tables all >"$out.A.$v.norm"
			ipt_clean "$out.B.$v" | ipt_tables all >"$out.B.$v.norm"
		done
		if cmp -s "$out.A.v4.norm" "$out.B.v4.norm" && cmp -s "$out.A.v6.norm" "$out.B.v6.norm"; then
			tap_ok "$name: libiptc apply = iptables-legacy-restore ($(grep -c '^-A' "$out.A.v4.norm") + $(grep -c '^-A' "$out.A.v6.norm") rules)"
		else
			tap_not_ok "$name: libiptc apply (-) and iptables-legacy-restore (+) differ"
			diff -u "$out.A.v4.norm" "$out.B.v4.norm" | head -n 60 | tap_diag
			diff -u "$out.A.v6.norm" "$out.B.v6.norm" | head -n 60 | tap_diag
		fi
		if [ "$(cat "$out.A.diffrc")" = 0 ] && [ ! -s "$out.A.diff" ]; then
			tap_ok "$name: diff right after apply is empty"
		else
			tap_not_ok "$name: diff right after apply is empty (exit $(cat "$out.A.diffrc"))"
			head -n 40 "$out.A.diff" | tap_diag
			grep -v ': note: \|^	' "$out.A.differr" | head -n 10 | tap_diag
		fi
	done
done

tap_done "no rulesets"
