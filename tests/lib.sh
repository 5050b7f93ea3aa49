# tests/lib.sh -- shared helpers for masqc's shell tests (sourced by bash).
#
# Every test prints TAP (read by build-aux/tap-driver.sh under `make check`)
# with a trailing plan, so a test can decide how many cases it has while it
# runs.  A test that cannot run here (no root, no unshare, no corpus) prints
# `1..0 # SKIP reason` and exits 0: the TAP driver reports that as a skip,
# where exit 77 would be an error under the TAP driver.

set -u

# Where the sources and the binary are.  `make check` exports MASQC and
# MASQC_SRCDIR; run by hand, the defaults follow the tests directory.
TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRCDIR=${MASQC_SRCDIR:-$(cd "$TESTS_DIR/.." && pwd)}
MASQC=${MASQC:-$TESTS_DIR/../src/masqc}
RULESETS=$SRCDIR/rulesets
# Scenario directories: the iptables-era rulesets and the 2.0/2.2 ones.
RULESET_DIRS="$RULESETS $RULESETS/legacy"

export LC_ALL=C
# Diagnostics must not depend on the terminal.
export NO_COLOR=1
# Sanitizer builds: any report is a failure with a recognisable status.
export ASAN_OPTIONS=${ASAN_OPTIONS:-exitcode=99:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:exitcode=98:print_stacktrace=1}

TAP_N=0
TAP_FAILED=0

tap_ok()        { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N - $*"; }
tap_not_ok()    { TAP_N=$((TAP_N + 1)); TAP_FAILED=$((TAP_FAILED + 1)); echo "not ok $TAP_N - $*"; }
tap_skip()      { local d=$1; shift; TAP_N=$((TAP_N + 1)); echo "ok $TAP_N - $d # SKIP $*"; }
# Indented diagnostic text (a diff, stderr) after a result.
tap_diag()      { sed -e 's/^/# /'; }
tap_note()      { echo "# $*"; }
tap_done() {
	if [ "$TAP_N" -eq 0 ]; then
		echo "1..0 # SKIP ${1:-nothing to test}"
	else
		echo "1..$TAP_N"
	fi
	exit 0
}
tap_skip_all()  { echo "1..0 # SKIP $*"; exit 0; }

# Result of a comparison: $1 = description, $2 = expected file, $3 = got file.
tap_compare() {
	local desc=$1 exp=$2 got=$3
	if cmp -s "$exp" "$got"; then
		tap_ok "$desc"
	else
		tap_not_ok "$desc"
		diff -u "$exp" "$got" | head -n 200 | tap_diag
	fi
}

# The iptables-legacy backend is built in (configure found libip4tc,
# libip6tc and libxtables): an empty script renders through it.
need_iptc_backend() {
	local t
	t=$(mktemp "${TMPDIR:-/tmp}/masqc-probe.XXXXXX")
	if ! "$MASQC" compile -t render --backend iptables-legacy "$t" >/dev/null 2>&1; then
		rm -f "$t"
		tap_skip_all "masqc built without the iptables-legacy backend"
	fi
	rm -f "$t"
}

need_masqc() {
	[ -x "$MASQC" ] || tap_skip_all "masqc binary not built ($MASQC)"
}

# Kernel tests need root and a private network namespace; they never touch
# the host's ruleset.
have_netns() {
	[ "$(id -u)" -eq 0 ] || return 1
	command -v unshare >/dev/null 2>&1 || return 1
	unshare -n true 2>/dev/null
}
need_netns() {
	have_netns || tap_skip_all "needs root and unshare -n (network namespaces)"
}
need_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin command -v "$c" >/dev/null 2>&1 ||
			tap_skip_all "$c not installed"
	done
}
case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH=$PATH:/usr/sbin:/sbin ;; esac

# Extra masqc arguments of a ruleset: NAME.args, one per line; blank lines
# and lines starting with # are ignored.  Fills the array ARGS.
ruleset_args() {
	local f=$1 line
	ARGS=()
	[ -f "$f" ] || return 0
	while IFS= read -r line || [ -n "$line" ]; do
		case $line in ''|'#'*) continue ;; esac
		ARGS+=("$line")
	done <"$f"
}

# Whether the masqc binary was built with AddressSanitizer.
masqc_is_asan() {
	grep -q __asan_init "$MASQC" 2>/dev/null
}

# One command and its exit status: $1 description, $2 expected status,
# the command; its stdout and stderr are left in ./out and ./err, and the
# errors (not the notes) and the start of stdout are shown when the status
# is wrong.
expect_rc() {
	local d=$1 want=$2 rc
	shift 2
	"$@" >out 2>err
	rc=$?
	if [ "$rc" = "$want" ]; then
		tap_ok "$d"
	else
		tap_not_ok "$d (exit $rc, want $want)"
		{ grep -v ': note: ' err | head -n 20; head -n 20 out; } | tap_diag
	fi
}

# Runs the calling test again in a network namespace of its own (as root:
# nothing it loads reaches the host), then gives it a scratch directory as
# its working directory, with masqc's state and run directories in it.
# Call as: in_private_netns "$@"
in_private_netns() {
	if [ -z "${MASQC_TEST_IN_NS:-}" ]; then
		exec env MASQC_TEST_IN_NS=1 unshare -n bash "$0" "$@"
	fi
	make_tmpdir
	export MASQC_STATE_DIR=$TMP/state MASQC_RUN_DIR=$TMP/run
	cd "$TMP" || exit 2
}

# A scratch directory removed when the test exits.
make_tmpdir() {
	TMP=$(mktemp -d "${TMPDIR:-/tmp}/masqc-test.XXXXXX")
	trap 'rm -rf "$TMP"' EXIT
}

# Lists rulesets/NAME.sh scenario scripts (sorted, names only).
list_rulesets() {
	local d=${1:-$RULESETS} f
	[ -d "$d" ] || return 0
	for f in "$d"/*.sh; do
		[ -f "$f" ] || continue
		basename "$f" .sh
	done | LC_ALL=C sort
}

# Lists every compiler input in a rulesets directory, with its extension:
# scenario scripts (NAME.sh) and iptables-save dumps (NAME.rules, NAME.save).
list_inputs() {
	local d=${1:-$RULESETS} f
	[ -d "$d" ] || return 0
	for f in "$d"/*.sh "$d"/*.rules "$d"/*.save; do
		[ -f "$f" ] || continue
		basename "$f"
	done | LC_ALL=C sort
}
# NAME of an input file (extension dropped).
input_name() { local n=${1%.sh}; n=${n%.rules}; echo "${n%.save}"; }

# iptables-save text -> comparable text: no comments, no counters.
ipt_clean() {
	grep -v '^#' "$1" | sed -e 's/ \[[0-9]*:[0-9]*\]$//'
}

# Then tables in name order, and tables left in their pristine state
# (built-in chains with policy ACCEPT, no rules, no user chains) dropped: a
# script that merely flushes the mangle table and a translation that never
# mentions it leave the kernel in the same state.  ipt_tables all: keep the
# pristine tables too (only sort).
ipt_tables() {
	awk -v all="${1:-}" '
		/^\*/ { tbl = substr($0, 2); n = 0; keep = (all == "all"); lines[n++] = $0; next }
		/^COMMIT/ {
			lines[n++] = $0
			if (keep) for (i = 0; i < n; i++) printf "%s\t%06d\t%s\n", tbl, i, lines[i]
			next
		}
		/^-/ { keep = 1 }
		/^:/ { if ($2 != "ACCEPT") keep = 1 }
		{ lines[n++] = $0 }
	' | sort -t "$(printf '\t')" -k1,1 -k2,2n | cut -f3-
}
