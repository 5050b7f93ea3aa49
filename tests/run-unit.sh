#!/bin/sh
# tests/run-unit.sh -- LOG_COMPILER for unit test binaries and .bats files.
#
# A unit binary that prints its own TAP (a line "1..N") is passed through.
# One that only exits 0/non-zero is wrapped into a one-case TAP stream, so
# the TAP driver can read both styles.  A .bats file runs through
# `bats --formatter tap`, or is skipped when bats is not installed.

t=$1
shift
name=$(basename "$t")

case $t in
*.bats)
	bats=${BATS:-}
	[ -n "$bats" ] || bats=$(command -v bats 2>/dev/null || true)
	if [ -z "$bats" ]; then
		echo "1..0 # SKIP bats not installed (apt-get install bats)"
		exit 0
	fi
	exec "$bats" --formatter tap "$t" "$@"
	;;
esac

out=$(mktemp "${TMPDIR:-/tmp}/masqc-unit.XXXXXX")
trap 'rm -f "$out"' EXIT
"$t" "$@" >"$out" 2>&1
rc=$?
if grep -q '^1\.\.[0-9]' "$out"; then
	cat "$out"
	# Exit 1 after "not ok" lines is the failure already reported; anything
	# else (a crash, a sanitizer's status) stays visible to the driver.
	if [ "$rc" -eq 1 ] && grep -q '^not ok' "$out"; then
		exit 0
	fi
	exit "$rc"
fi
sed -e 's/^/# /' "$out"
echo "1..1"
case $rc in
0)  echo "ok 1 - $name" ;;
77) echo "ok 1 - $name # SKIP exit status 77" ;;
*)  echo "not ok 1 - $name (exit status $rc)" ;;
esac
exit 0
