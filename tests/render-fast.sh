#!/bin/bash
# tests/render-fast.sh -- the rendering (nl_render, what diff compares and
# what a generation's render hash is of) formats the commonest expressions
# itself (src/backends/netlink.c, expr_text); its text must be libnftnl's
# to the byte.  MASQC_TEST_RENDER_LIBNFTNL=1 leaves every expression to
# libnftnl: both renderings of every scenario, in every set form, must agree.

. "$(dirname "$0")/lib.sh"

need_masqc
[ -x "${NL_LOAD:-}" ] || NL_LOAD=$TESTS_DIR/nl-load
[ -x "$NL_LOAD" ] || tap_skip_all "no tests/nl-load (built without libnftnl)"
make_tmpdir

same() {	# label dir script args...
	local label=$1 dir=$2 script=$3
	shift 3
	(cd "$dir" && "$NL_LOAD" render "$@" "$script") >"$TMP/fast" 2>/dev/null
	(cd "$dir" && MASQC_TEST_RENDER_LIBNFTNL=1 "$NL_LOAD" render "$@" "$script") >"$TMP/slow" 2>/dev/null
	if cmp -s "$TMP/fast" "$TMP/slow"; then
		tap_ok "$label"
	else
		tap_not_ok "$label"
		diff "$TMP/slow" "$TMP/fast" | head -n 20 | tap_diag
	fi
}

for dir in $RULESET_DIRS; do
	for f in "$dir"/*.sh; do
		[ -f "$f" ] || continue
		name=$(basename "$f")
		ruleset_args "${f%.sh}.args"
		same "${dir#"$RULESETS"}/$name: rendering = libnftnl's" "$dir" "$name" --loc --inline "${ARGS[@]}"
		same "${dir#"$RULESETS"}/$name: keyed sets, rendering = libnftnl's" "$dir" "$name" --keyed-sets "${ARGS[@]}"
	done
done
if command -v python3 >/dev/null; then
	python3 "$SRCDIR/bench/gen.py" 5000 "$TMP" >/dev/null
	same "5,000 generated rules: rendering = libnftnl's" "$TMP" rules-5000.sh --loc --inline
else
	tap_skip "5,000 generated rules" "no python3"
fi

tap_done
