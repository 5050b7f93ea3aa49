#!/bin/bash
# tests/kernel-load.sh -- the kernel accepts every golden.
#
# Each rulesets/*.nft golden is loaded with nft -f in a throwaway network
# namespace, then loaded a second time in the same namespace: masqc's output
# must be idempotent (it deletes and re-creates only its own tables), so the
# listing after the second load must equal the one after the first.  Each
# rulesets/*.ipt golden goes through iptables-legacy-restore --test and
# iptables-nft-restore --test, and is restored twice with the same result.
# Never the host's ruleset: everything runs under `unshare -n`.

. "$(dirname "$0")/lib.sh"

need_netns
make_tmpdir

# Runs inside the namespace: load twice, list after each.
nft_twice='
	nft -f "$1" || exit 10
	nft list ruleset >"$2.1" || exit 11
	nft -f "$1" || exit 12
	nft list ruleset >"$2.2" || exit 13
'

ipt_twice='
	restore=$1 save=$2 file=$3 out=$4
	$restore --test <"$file" || exit 10
	$restore <"$file" || exit 11
	$save | grep -v "^#" | sed -e "s/ \[[0-9]*:[0-9]*\]\$//" >"$out.1" || exit 12
	$restore <"$file" || exit 13
	$save | grep -v "^#" | sed -e "s/ \[[0-9]*:[0-9]*\]\$//" >"$out.2" || exit 14
'

have_nft=no; command -v nft >/dev/null 2>&1 && have_nft=yes

for f in $(for d in $RULESET_DIRS; do ls "$d"/*.nft 2>/dev/null; done); do
	[ -f "$f" ] || continue
	name=${f#"$RULESETS"/}
	if [ $have_nft = no ]; then
		tap_skip "$name loads" "nft not installed"
		continue
	fi
	out=$TMP/${name//\//_}.list
	unshare -n bash -c "$nft_twice" sh "$f" "$out" >"$TMP/err" 2>&1
	rc=$?
	if [ $rc -ne 0 ]; then
		tap_not_ok "$name loads (step $((rc - 9)) failed)"
		tap_diag <"$TMP/err"
		continue
	fi
	# A golden that declares chains must leave something behind.
	if grep -q '^[[:space:]]*chain ' "$f" && [ ! -s "$out.1" ]; then
		tap_not_ok "$name loads (but nft list ruleset is empty)"
		continue
	fi
	tap_ok "$name loads"
	tap_compare "$name reloads idempotently" "$out.1" "$out.2"
done

for f in $(for d in $RULESET_DIRS; do ls "$d"/*.ipt 2>/dev/null; done); do
	[ -f "$f" ] || continue
	name=${f#"$RULESETS"/}
	for flavour in legacy nft; do
		restore=iptables-$flavour-restore save=iptables-$flavour-save
		if ! command -v "$restore" >/dev/null 2>&1; then
			tap_skip "$name $restore" "$restore not installed"
			continue
		fi
		out=$TMP/${name//\//_}.$flavour
		unshare -n bash -c "$ipt_twice" sh "$restore" "$save" "$f" "$out" >"$TMP/err" 2>&1
		rc=$?
		if [ $rc -ne 0 ]; then
			tap_not_ok "$name: $restore (step $((rc - 9)) failed)"
			tap_diag <"$TMP/err"
			continue
		fi
		tap_ok "$name: $restore --test"
		tap_compare "$name: $restore twice gives the same ruleset" "$out.1" "$out.2"
	done
done

tap_done "no goldens (rulesets/*.nft, *.ipt) yet"
