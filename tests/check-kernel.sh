#!/bin/bash
# tests/check-kernel.sh -- masqc check --kernel: the kernel validates the
# compiled batch and aborts it (nothing is committed).  Runs as an
# unprivileged user inside `unshare -rn` (a user + network namespace of its
# own), as CI would; as root without user namespaces, in `unshare -n`.
#
#   - a good ruleset: exit 0, nothing left in the namespace
#   - what only the kernel rejects (a conntrack helper it does not have;
#     the MASQC_TEST_FAIL_LAST hook's jump to a missing chain): exit 1,
#     located at the source line, while plain `check` says 0
#   - without any privilege: exit 2 (trouble) with a hint, not 1

. "$(dirname "$0")/lib.sh"

need_masqc
need_cmd unshare
"$MASQC" compile -t render /dev/null >/dev/null 2>&1 ||
	tap_skip_all "masqc built without the netlink backend"
make_tmpdir
chmod 755 "$TMP"
cd "$TMP"

# how to get CAP_NET_ADMIN in a namespace of one's own
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null &&
	setpriv --reuid=65534 --regid=65534 --clear-groups unshare -rn true 2>/dev/null; then
	NS=(setpriv --reuid=65534 --regid=65534 --clear-groups unshare -rn)
	how="as nobody in unshare -rn"
elif [ "$(id -u)" -ne 0 ] && unshare -rn true 2>/dev/null; then
	NS=(unshare -rn)
	how="unprivileged, in unshare -rn"
elif have_netns; then
	NS=(unshare -n)
	how="as root in unshare -n (no user namespaces here)"
else
	tap_skip_all "neither unshare -rn nor root"
fi
tap_note "running check --kernel $how"

cp "$RULESETS/simple-masq.sh" good.sh
cat >badhelper.sh <<'S'
#!/bin/sh
iptables -P INPUT DROP
iptables -A INPUT -i lo -j ACCEPT
iptables -t raw -A PREROUTING -p tcp --dport 2121 -j CT --helper no-such-helper
S
chmod 644 ./*.sh

run() {	# $1 expected status, $2 description, command... (lib.sh expect_rc)
	local want=$1 d=$2
	shift 2
	expect_rc "$d" "$want" "$@"
}

run 0 "a good ruleset: exit 0" "${NS[@]}" bash -c '"$0" check --kernel good.sh && echo "-- listing --" && { ! command -v nft >/dev/null || nft list ruleset; }' "$MASQC"
grep -q 'the kernel accepts the ruleset' out && tap_ok "... and says so" || tap_not_ok "... and says so"
[ "$(sed -n '/^-- listing --$/,$p' out)" = "-- listing --" ] && tap_ok "nothing was committed" ||
	{ tap_not_ok "nothing was committed"; tap_diag <out; }
run 0 "plain check accepts the unknown helper (only the kernel knows)" "$MASQC" check badhelper.sh
run 1 "check --kernel rejects the unknown helper: exit 1" "${NS[@]}" "$MASQC" check --kernel badhelper.sh
grep -q '^badhelper\.sh:4:[0-9]*: error: the kernel refused the ct helper object' err &&
	tap_ok "the refusal is located at the script line" ||
	{ tap_not_ok "the refusal is located at the script line"; tap_diag <err; }
grep -q 'the check failed' err && tap_ok "and says nothing was committed" || tap_not_ok "and says nothing was committed"
run 1 "check --kernel rejects a batch refused at its last object" \
	"${NS[@]}" env MASQC_TEST_FAIL_LAST=1 "$MASQC" check --kernel good.sh
run 1 "check --kernel of a script that does not compile: exit 1" \
	"${NS[@]}" "$MASQC" check --kernel "$SRCDIR/rulesets/errors/typo-target.sh"
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
	run 2 "no CAP_NET_ADMIN at all: exit 2 (trouble, not a bad ruleset)" setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$MASQC" check --kernel good.sh
	grep -q 'unshare -rn' err && tap_ok "... with a hint to use unshare -rn" || { tap_not_ok "... with a hint to use unshare -rn"; tap_diag <err; }
fi

tap_done
