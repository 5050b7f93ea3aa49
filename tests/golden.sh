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

# Scenario DIR NAME, backend: nft or ipt.  A backend that must refuse the
# scenario (legacy constructs iptables cannot express) has NAME.KIND.err
# instead of NAME.KIND: the exact stderr of the refusing compile (exit 1).
check_output() {
	local dir=$1 input=$2 kind=$3 name golden got err rc rel
	name=$(input_name "$input")
	rel=${dir#"$RULESETS"}; rel=${rel#/}; rel=${rel:+$rel/}
	golden=$dir/$name.$kind got=$TMP/$name.$kind err=$TMP/$name.$kind.stderr
	local -a targ=()
	[ "$kind" = ipt ] && targ=(-t iptables)
	ruleset_args "$dir/$name.args"
	run_masqc "$dir" "$input" "$got" "$err" compile "${targ[@]}" "${ARGS[@]}"
	rc=$?
	if [ -f "$golden.err" ]; then
		if [ $regen = yes ]; then
			if [ $rc -eq 1 ] && cmp -s "$golden.err" "$err"; then
				rm -f "$golden.err.got"
			else
				cp "$err" "$golden.err.got"
				echo "wrote rulesets/$rel$name.$kind.err.got (exit $rc, expected 1)"
			fi
			return
		fi
		if [ $rc -ne 1 ]; then
			tap_not_ok "$rel$name.$kind: masqc compile exited $rc, expected a refusal (1)"
			tap_diag <"$err"
			return
		fi
		tap_compare "$rel$name.$kind.err" "$golden.err" "$err"
		return
	fi
	if [ $regen = yes ]; then
		if [ $rc -ne 0 ]; then
			echo "$rel$name.$kind: masqc exited $rc, no .got written:" >&2
			cat "$err" >&2
		elif [ -f "$golden" ] && cmp -s "$golden" "$got"; then
			rm -f "$golden.got"
		else
			cp "$got" "$golden.got"
			echo "wrote rulesets/$rel$name.$kind.got$([ -f "$golden" ] || echo ' (new)')"
		fi
		return
	fi
	[ -f "$golden" ] || return 0
	if [ $rc -ne 0 ]; then
		tap_not_ok "$rel$name.$kind: masqc compile exited $rc"
		tap_diag <"$err"
		return
	fi
	tap_compare "$rel$name.$kind" "$golden" "$got"
}

# masqc explain: each source line beside what it became (NAME.explain).
# Exit 0, or 1 for a scenario that must be refused (NAME.nft.err).
check_explain() {
	local dir=$1 input=$2 name golden got rc want=0 rel
	name=$(input_name "$input")
	rel=${dir#"$RULESETS"}; rel=${rel#/}; rel=${rel:+$rel/}
	golden=$dir/$name.explain got=$TMP/$name.explain
	[ -f "$dir/$name.nft.err" ] && want=1
	ruleset_args "$dir/$name.args"
	run_masqc "$dir" "$input" "$got" "$TMP/$name.explain.stderr" explain "${ARGS[@]}"
	rc=$?
	if [ $regen = yes ]; then
		if [ -f "$golden" ] && cmp -s "$golden" "$got" && [ $rc = $want ]; then
			rm -f "$golden.got"
		else
			cp "$got" "$golden.got"
			echo "wrote rulesets/$rel$name.explain.got (exit $rc, expected $want)$([ -f "$golden" ] || echo ' (new)')"
		fi
		return
	fi
	if [ ! -f "$golden" ]; then
		tap_not_ok "$rel$name.explain: no golden (run make regen and review)"
		return
	fi
	if [ $rc != $want ]; then
		tap_not_ok "$rel$name.explain: masqc explain exited $rc, expected $want"
		tap_diag <"$TMP/$name.explain.stderr"
		return
	fi
	tap_compare "$rel$name.explain" "$golden" "$got"
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

for dir in $RULESET_DIRS; do
	for input in $(list_inputs "$dir"); do
		name=$(input_name "$input")
		if [ $regen = no ] && [ ! -f "$dir/$name.nft" ] && [ ! -f "$dir/$name.ipt" ] &&
		   [ ! -f "$dir/$name.nft.err" ]; then
			tap_not_ok "$input: no golden ($name.nft / $name.ipt); run make regen and review"
			continue
		fi
		check_output "$dir" "$input" nft
		check_output "$dir" "$input" ipt
		check_explain "$dir" "$input"
	done
done

for input in $(list_inputs "$RULESETS/errors"); do
	check_error "$input"
done

[ $regen = yes ] && exit 0
tap_done "no rulesets yet"
