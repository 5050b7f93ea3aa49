#!/bin/bash
# tests/netlink-equiv.sh -- the netlink backend puts in the kernel exactly
# what `nft -f` of the text backend's output puts there.
#
# For every golden rulesets/NAME.nft and rulesets/legacy/NAME.nft (compiled
# from NAME.sh or NAME.rules with NAME.args), in throwaway user+network namespaces (`unshare -rn`,
# never the host's ruleset):
#   - namespace A: nft -f NAME.nft
#   - namespace B: tests/nl-load load NAME.sh (one netlink batch,
#     anonymous sets as nft makes them), with a foreign table loaded first
# and then
#   1. `nft list ruleset` of A and B are identical (B without its foreign table);
#   2. the kernel objects are identical, expression for expression
#      (nl-load dump: the netlink backend's normalised readback);
#   3. the batch as compiled renders exactly like its readback from the
#      kernel, source locations included (the basis of `masqc diff`), and
#      the readback renders the same from the kernel's messages (most
#      rules) as through libnftnl objects (MASQC_TEST_RENDER_LIBNFTNL=1);
#   4. the foreign table survived the load byte for byte;
#   5. with shared named sets the rules are the same once sets are
#      written inline;
#   6. with keyed sets (the form of big rulesets) the batch loads, nft
#      lists it, and the compiled batch renders like its readback
#      (tests/keyed-sets.sh compares its traffic with the anonymous form).
# The same for tests/netlink/*.sh (one rule per construct the backends
# write), whose nft text is made by masqc compile.
# Then: a check-only run (-c) validates and leaves the kernel untouched; a
# batch the kernel refuses (a conntrack helper that does not exist) names
# the source line and leaves the previous ruleset in place.

. "$(dirname "$0")/lib.sh"

NL_LOAD=${NL_LOAD:-${MASQC_BUILDDIR:-$TESTS_DIR/..}/tests/nl-load}
NFT=${NFT:-$(command -v nft || echo /usr/sbin/nft)}

[ -x "$NL_LOAD" ] || tap_skip_all "tests/nl-load not built (configure found no libnftnl/libmnl?)"
[ -x "$NFT" ] || tap_skip_all "nft not found"
command -v unshare >/dev/null || tap_skip_all "unshare not found"
unshare -rn "$NFT" list ruleset >/dev/null 2>&1 ||
	tap_skip_all "cannot load rules in a user+network namespace (unshare -rn)"

make_tmpdir

FOREIGN='table inet foreign {
	set s { type ipv4_addr; elements = { 10.9.8.7 }; }
	chain c { type filter hook input priority 10; policy accept; ip saddr @s counter drop; }
}'

# $1 name; sets ARGS and SRC (relative to rulesets/)
ruleset_source() {
	local n=$1
	ruleset_args "$RULESETS/$n.args"
	SRC=$n.sh
	[ -f "$RULESETS/$SRC" ] || SRC=$n.rules
}

# Run a shell snippet in a fresh user+network namespace, cwd $DIR
# (rulesets/ unless set).
in_ns() {
	(cd "${DIR:-$RULESETS}" && NL_LOAD=$NL_LOAD NFT=$NFT FOREIGN=$FOREIGN T=$TMP \
		unshare -rn bash -c "$1")
}

compare() {
	local desc=$1 a=$2 b=$3
	if [ -f "$a" ] && cmp -s "$a" "$b"; then
		tap_ok "$desc"
	else
		tap_not_ok "$desc"
		diff -u "$a" "$b" | head -n 40 | tap_diag
	fi
}

# tests/netlink/*.sh: more constructs than the scenarios use; their nft
# text comes from masqc compile (skipped when masqc is not built).
for extra in "$TESTS_DIR"/netlink/*.sh; do
	[ -x "$MASQC" ] || break
	n=$(basename "$extra" .sh)
	(cd "$TESTS_DIR/netlink" && "$MASQC" compile "$n.sh") >"$TMP/$n.nft" 2>"$TMP/$n.compile.err" ||
		{ tap_not_ok "$n: masqc compile failed"; tap_diag <"$TMP/$n.compile.err"; }
done

for golden in "$RULESETS"/*.nft "$RULESETS"/legacy/*.nft "$TESTS_DIR"/netlink/*.sh; do
	DIR=$RULESETS
	case $golden in
	*.sh)	n=$(basename "$golden" .sh); DIR=$TESTS_DIR/netlink
		[ -s "$TMP/$n.nft" ] || continue
		nftfile=$TMP/$n.nft ARGS=() SRC=$n.sh ;;
	*/legacy/*)
		n=$(basename "$golden" .nft); DIR=$RULESETS/legacy nftfile=$n.nft
		ruleset_args "$DIR/$n.args"; SRC=$n.sh ;;
	*)	n=$(basename "$golden" .nft); nftfile=$n.nft
		ruleset_source "$n" ;;
	esac
	[ -f "$DIR/$SRC" ] || continue
	a=$TMP/$n.a b=$TMP/$n.b
	in_ns '"$NFT" -f '"$nftfile"' &&
		"$NFT" list ruleset >$T/'"$n"'.a.nft &&
		"$NL_LOAD" dump >$T/'"$n"'.a.dump &&
		"$NL_LOAD" dump --inline >$T/'"$n"'.a.inline' 2>"$a.err" ||
		{ tap_not_ok "$n: nft -f of the golden failed"; tap_diag <"$a.err"; continue; }
	if ! in_ns '"$NFT" -f - <<<"$FOREIGN" &&
		"$NFT" list table inet foreign >$T/'"$n"'.foreign.before &&
		"$NL_LOAD" load --anon-sets '"${ARGS[*]}"' '"$SRC"' 2>$T/'"$n"'.b.err &&
		"$NFT" list table inet foreign >$T/'"$n"'.foreign.after &&
		"$NFT" delete table inet foreign &&
		"$NFT" list ruleset >$T/'"$n"'.b.nft &&
		"$NL_LOAD" dump >$T/'"$n"'.b.dump &&
		"$NL_LOAD" dump --loc >$T/'"$n"'.b.loc &&
		MASQC_TEST_RENDER_LIBNFTNL=1 "$NL_LOAD" dump --loc >$T/'"$n"'.b.slow' 2>"$b.err"; then
		tap_not_ok "$n: netlink batch failed to load"
		grep -v ': note: ' "$TMP/$n.b.err" "$b.err" | head -n 20 | tap_diag
		continue
	fi
	(cd "$DIR" && "$NL_LOAD" render --loc --anon-sets "${ARGS[@]}" "$SRC") \
		>"$TMP/$n.c.loc" 2>/dev/null
	compare "$n: nft list ruleset after the batch = after nft -f" "$TMP/$n.a.nft" "$TMP/$n.b.nft"
	compare "$n: kernel objects identical, expression for expression" \
		"$TMP/$n.a.dump" "$TMP/$n.b.dump"
	compare "$n: compiled batch renders like its kernel readback (with locations)" \
		"$TMP/$n.c.loc" "$TMP/$n.b.loc"
	compare "$n: readback rendered from the kernel's messages = through libnftnl" \
		"$TMP/$n.b.slow" "$TMP/$n.b.loc"
	compare "$n: foreign table untouched" "$TMP/$n.foreign.before" "$TMP/$n.foreign.after"
	if in_ns '"$NL_LOAD" load --shared-sets '"${ARGS[*]}"' '"$SRC"' 2>/dev/null &&
		"$NL_LOAD" dump --inline >$T/'"$n"'.s.inline' 2>"$TMP/$n.s.err"; then
		compare "$n: shared named sets, same rules" "$TMP/$n.a.inline" "$TMP/$n.s.inline"
	else
		tap_not_ok "$n: shared-set batch failed to load"
		tap_diag <"$TMP/$n.s.err"
	fi
	if in_ns '"$NL_LOAD" load --keyed-sets '"${ARGS[*]}"' '"$SRC"' 2>/dev/null &&
		"$NFT" list ruleset >/dev/null &&
		"$NL_LOAD" dump --inline --loc >$T/'"$n"'.k.loc' 2>"$TMP/$n.k.err"; then
		(cd "$DIR" && "$NL_LOAD" render --inline --loc --keyed-sets "${ARGS[@]}" "$SRC") \
			>"$TMP/$n.kc.loc" 2>/dev/null
		compare "$n: keyed sets, the batch renders like its readback" \
			"$TMP/$n.kc.loc" "$TMP/$n.k.loc"
	else
		tap_not_ok "$n: keyed-set batch failed to load (or nft cannot list it)"
		tap_diag <"$TMP/$n.k.err"
	fi
done

# Check mode: the kernel validates, nothing stays.
DIR=$RULESETS
if in_ns '"$NL_LOAD" load -c stronger.sh -D EXTIP=203.0.113.7 2>/dev/null &&
	"$NFT" list ruleset >$T/check.nft' 2>"$TMP/check.err" && [ ! -s "$TMP/check.nft" ]; then
	tap_ok "check mode (-c) validates and commits nothing"
else
	tap_not_ok "check mode (-c) validates and commits nothing"
	cat "$TMP/check.err" "$TMP/check.nft" 2>/dev/null | tap_diag
fi

# A batch the kernel refuses at its last objects: the error names the
# source line, and the ruleset loaded before stays as it was.
cat >"$TMP/bad-helper.sh" <<'EOF'
#!/bin/sh
iptables -P INPUT DROP
iptables -A INPUT -i lo -j ACCEPT
iptables -t raw -A PREROUTING -p tcp --dport 2121 -j CT --helper no-such-helper
EOF
if in_ns '"$NL_LOAD" load simple-masq.sh 2>/dev/null &&
	"$NFT" list ruleset >$T/keep.before &&
	{ "$NL_LOAD" load $T/bad-helper.sh 2>$T/bad.err; echo $? >$T/bad.rc; } ;
	"$NFT" list ruleset >$T/keep.after' 2>"$TMP/bad.ns.err"; then
	if [ "$(cat "$TMP/bad.rc")" = 1 ] &&
	   grep -q 'bad-helper.sh:4:.*error: the kernel refused the ct helper object' "$TMP/bad.err"; then
		tap_ok "a refused batch is a located error (bad-helper.sh:4)"
	else
		tap_not_ok "a refused batch is a located error (bad-helper.sh:4)"
		grep -v ': note: ' "$TMP/bad.err" | tap_diag
	fi
	compare "a refused batch leaves the previous ruleset intact" \
		"$TMP/keep.before" "$TMP/keep.after"
else
	tap_not_ok "refused-batch namespace run"
	tap_diag <"$TMP/bad.ns.err"
fi

tap_done
