#!/bin/bash
# tests/golden.sh -- golden tests: every scenario's compiled output and every
# broken input's diagnostics, compared byte for byte.
#
#   rulesets/NAME.sh          scenario; NAME.args = extra masqc arguments
#   rulesets/NAME.rules|.save an iptables-save dump, treated the same way
#   rulesets/NAME.nft         masqc compile ARGS NAME.sh
#   rulesets/NAME.ipt         masqc compile -t iptables ARGS NAME.sh
#   rulesets/errors/NAME.sh   broken input; NAME.err = exact stderr of
#                             masqc check ARGS NAME.sh, exit status 1 or the
#                             first line of NAME.status
#
# masqc runs with cwd = the script's directory and the relative script name,
# so file names in the output are stable.
#
# A test never rewrites its goldens.  `tests/golden.sh --regen` (make regen)
# writes NAME.nft.got / NAME.ipt.got / NAME.err.got next to them for a human
# to review and copy over.

. "$(dirname "$0")/lib.sh"

regen=no
[ "${1:-}" = --regen ] && regen=yes

need_masqc
make_tmpdir

# $1 dir, $2 script name, $3 stdout file, $4 stderr file, rest: masqc args.
run_masqc() {
	local dir=$1 script=$2 out=$3 err=$4
	shift 4
	(cd "$dir" && "$MASQC" "$@" "$script") >"$out" 2>"$err"
}

# Scenario NAME, backend: nft or ipt.
check_output() {
	local input=$1 kind=$2 name golden got err rc
	name=$(input_name "$input")
	golden=$RULESETS/$name.$kind got=$TMP/$name.$kind err=$TMP/$name.$kind.stderr
	local -a targ=()
	[ "$kind" = ipt ] && targ=(-t iptables)
	ruleset_args "$RULESETS/$name.args"
	run_masqc "$RULESETS" "$input" "$got" "$err" compile "${targ[@]}" "${ARGS[@]}"
	rc=$?
	if [ $regen = yes ]; then
		if [ $rc -ne 0 ]; then
			echo "$name.$kind: masqc exited $rc, no .got written:" >&2
			cat "$err" >&2
		elif [ -f "$golden" ] && cmp -s "$golden" "$got"; then
			rm -f "$golden.got"
		else
			cp "$got" "$golden.got"
			echo "wrote rulesets/$name.$kind.got$([ -f "$golden" ] || echo ' (new)')"
		fi
		return
	fi
	[ -f "$golden" ] || return 0
	if [ $rc -ne 0 ]; then
		tap_not_ok "$name.$kind: masqc compile exited $rc"
		tap_diag <"$err"
		return
	fi
	tap_compare "$name.$kind" "$golden" "$got"
}

check_error() {
	local input=$1 dir=$RULESETS/errors name golden got want=1 rc
	name=$(input_name "$input")
	golden=$dir/$name.err got=$TMP/$name.err
	[ -f "$dir/$name.status" ] && want=$(head -n 1 "$dir/$name.status")
	ruleset_args "$dir/$name.args"
	run_masqc "$dir" "$input" "$TMP/$name.stdout" "$got" check "${ARGS[@]}"
	rc=$?
	if [ $regen = yes ]; then
		if [ -f "$golden" ] && cmp -s "$golden" "$got" && [ "$rc" = "$want" ]; then
			rm -f "$golden.got"
		else
			cp "$got" "$golden.got"
			echo "wrote rulesets/errors/$name.err.got (exit $rc, expected $want)$([ -f "$golden" ] || echo ' (new)')"
		fi
		return
	fi
	if [ ! -f "$golden" ]; then
		tap_not_ok "errors/$name: no golden errors/$name.err (run make regen and review)"
		return
	fi
	if [ "$rc" != "$want" ]; then
		tap_not_ok "errors/$name: exit status $rc, expected $want"
		tap_diag <"$got"
		return
	fi
	tap_compare "errors/$name.err" "$golden" "$got"
}

for input in $(list_inputs); do
	name=$(input_name "$input")
	if [ $regen = no ] && [ ! -f "$RULESETS/$name.nft" ] && [ ! -f "$RULESETS/$name.ipt" ]; then
		tap_not_ok "$input: no golden ($name.nft / $name.ipt); run make regen and review"
		continue
	fi
	check_output "$input" nft
	check_output "$input" ipt
done

for input in $(list_inputs "$RULESETS/errors"); do
	check_error "$input"
done

[ $regen = yes ] && exit 0
tap_done "no rulesets yet"
