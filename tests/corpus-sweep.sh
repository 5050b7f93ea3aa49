#!/bin/bash
# tests/corpus-sweep.sh -- every real-world script in the shared corpus either
# compiles to something the kernel accepts, or stops with located
# diagnostics.  Nothing crashes, hangs, or says something without a location.
#
# The corpus lives beside the project (../shared/corpus from the project
# root) and is never copied into it; without it the sweep is skipped.
#
# Classes, per file (masqc compile, 10 s timeout):
#   compiled+accepted    exit 0 and the nft output loads (unshare -n nft -f)
#   located-diagnostics  exit 1 and every diagnostic line is
#                        FILE:LINE:COL: error|warning|note: ...
#   FAIL                 anything else: a crash or sanitizer report, a hang,
#                        exit 0 with output the kernel rejects, an unlocated
#                        message, any other exit status
# Every family (iptables, ipchains, ipfwadm, mixed, and any *.save / *.rules
# dumps) is held to that, and tallied per family.
# Under an ASan/UBSan build (make check in a --enable-sanitizers tree) a
# sanitizer report is a crash.

. "$(dirname "$0")/lib.sh"

need_masqc
CORPUS=${MASQC_CORPUS:-$SRCDIR/../shared/corpus}
[ -d "$CORPUS" ] || tap_skip_all "no corpus at $CORPUS"
CORPUS=$(cd "$CORPUS" && pwd)
make_tmpdir

SWEEP_TIMEOUT=${SWEEP_TIMEOUT:-10}
kernel=no
have_netns && command -v nft >/dev/null 2>&1 && kernel=yes

if masqc_is_asan; then
	tap_note "masqc: $MASQC (ASan/UBSan build)"
else
	tap_note "masqc: $MASQC (no sanitizers; the --enable-sanitizers build runs this sweep under ASan/UBSan)"
fi
[ $kernel = yes ] || tap_note "no root/unshare/nft: compiled output is not loaded into a kernel"

LOCATED='^[^:]+:[0-9]+:[0-9]+: (error|warning|note): '
# A line that claims to be a diagnostic: "...: error: ", "masqc: ..." and
# sanitizer reports.  Source-line echoes and caret lines are not.
DIAGLIKE=': (error|warning|note|fatal error): |^masqc: |^[^ ]*masqc[^ ]*: |AddressSanitizer|LeakSanitizer|runtime error:'
# The diagnostic cap's summary line is the one message without a location.
CAPLINE='^masqc: note: [0-9]+ more diagnostics? not shown'

# Sets CLASS and WHY for one file; $1 = path relative to the corpus, $2 = strict|lenient.
classify() {
	local rel=$1 mode=$2 dir base out err rc bad
	dir=$CORPUS/$(dirname "$rel") base=$(basename "$rel")
	out=$TMP/out.nft err=$TMP/err
	(cd "$dir" && timeout -k 2 "$SWEEP_TIMEOUT" "$MASQC" compile "$base") >"$out" 2>"$err" </dev/null
	rc=$?
	WHY=
	bad=$(grep -E "$DIAGLIKE" "$err" | grep -Ev "$LOCATED" | grep -Ev "$CAPLINE" | head -n 3)
	case $rc in
	124|137) CLASS=FAIL WHY="timeout after ${SWEEP_TIMEOUT}s"; return ;;
	0|1) ;;
	*) CLASS=FAIL WHY="exit status $rc (crash or sanitizer report)"; return ;;
	esac
	if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$err"; then
		CLASS=FAIL WHY="sanitizer report"; return
	fi
	if [ -n "$bad" ]; then
		CLASS=FAIL WHY="unlocated diagnostic: $(echo "$bad" | head -n 1)"; return
	fi
	if [ $rc -eq 1 ]; then
		if ! grep -qE '^[^:]+:[0-9]+:[0-9]+: error: ' "$err"; then
			CLASS=FAIL WHY="exit 1 without a located error"; return
		fi
		if [ -s "$out" ]; then
			CLASS=FAIL WHY="exit 1 but wrote to stdout"; return
		fi
		CLASS=located-diagnostics; return
	fi
	if [ "$mode" = lenient ]; then
		CLASS=compiled; return
	fi
	if [ $kernel = no ]; then
		CLASS=compiled WHY="not loaded: no kernel access"; return
	fi
	if unshare -n nft -f "$out" >"$TMP/nfterr" 2>&1; then
		CLASS=compiled+accepted
	else
		CLASS=FAIL WHY="exit 0 but the kernel rejects the output: $(head -n 2 "$TMP/nfterr" | tr '\n' ' ')"
	fi
}

declare -A TALLY=()
sweep() {
	local group=$1 mode=$2 rel
	shift 2
	for rel in "$@"; do
		classify "$rel" "$mode"
		TALLY["$group $CLASS"]=$(( ${TALLY["$group $CLASS"]:-0} + 1 ))
		if [ "$CLASS" = FAIL ]; then
			tap_not_ok "$rel: $WHY"
			sed -n '1,15p' "$TMP/err" | tap_diag
		else
			tap_ok "$rel: $CLASS${WHY:+ ($WHY)}"
		fi
	done
}

cd "$CORPUS"
shopt -s nullglob
dump_files=()
while IFS= read -r f; do dump_files+=("${f#./}"); done < <(find . \( -name '*.save' -o -name '*.rules' \) -type f | LC_ALL=C sort)
families=(iptables ipchains ipfwadm mixed)
for fam in "${families[@]}"; do
	sweep "$fam" strict "$fam"/*.sh
done
[ ${#dump_files[@]} -gt 0 ] && { families+=(dumps); sweep dumps strict "${dump_files[@]}"; }

for group in "${families[@]}"; do
	line=
	for class in compiled+accepted compiled located-diagnostics FAIL; do
		n=${TALLY["$group $class"]:-0}
		[ "$n" -gt 0 ] && line="$line $class=$n"
	done
	tap_note "tally $group:${line:- (no files)}"
done

tap_done "corpus has no scripts"
