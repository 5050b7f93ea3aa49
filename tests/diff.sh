#!/bin/bash
# tests/diff.sh -- masqc diff: exit status (0 same, 1 differ, 2 trouble),
# unified output naming source lines, --json, --against a saved rendering,
# compiled vs compiled without root (the CI dry run), and compiled vs the
# running kernel in a private network namespace.

. "$(dirname "$0")/lib.sh"

need_masqc
"$MASQC" compile -t render /dev/null >/dev/null 2>&1 ||
	tap_skip_all "masqc built without the netlink backend (no -t render)"
make_tmpdir
chmod 755 "$TMP"
cd "$TMP"

cat >old.sh <<'S'
#!/bin/sh
iptables -P INPUT DROP
iptables -A INPUT -i lo -j ACCEPT
iptables -A INPUT -p tcp --dport 22 -j ACCEPT
iptables -A INPUT -p tcp --dport 80 -j ACCEPT
S
# one rule added at line 6, one removed (port 80): and everything moved
# down a line, which is no change
cat >new.sh <<'S'
#!/bin/sh
# a comment that shifts every line
iptables -P INPUT DROP
iptables -A INPUT -i lo -j ACCEPT
iptables -A INPUT -p tcp --dport 22 -j ACCEPT
iptables -A INPUT -p tcp --dport 443 -j ACCEPT
S
cat >shifted.sh <<'S'
#!/bin/sh


iptables -P INPUT DROP
iptables -A INPUT -i lo -j ACCEPT
iptables -A INPUT -p tcp --dport 22 -j ACCEPT
iptables -A INPUT -p tcp --dport 80 -j ACCEPT
S
printf 'iptables -A INPUT -j ACCEPTT\n' >broken.sh
chmod 644 ./*.sh

run() {	# $1 expected status, $2 description, command... (lib.sh expect_rc)
	local want=$1 d=$2
	shift 2
	expect_rc "$d" "$want" "$@"
}
has() {	# $1 description, $2 file, $3 extended regex
	if grep -Eq -- "$3" "$2"; then tap_ok "$1"; else tap_not_ok "$1"; tap_diag <"$2"; fi
}

run 0 "same scripts: exit 0" "$MASQC" diff old.sh -- old.sh
[ ! -s out ] && tap_ok "same scripts: no output" || tap_not_ok "same scripts: no output"
run 0 "only line numbers moved: exit 0 (not a change)" "$MASQC" diff old.sh -- shifted.sh
run 1 "a rule added and one removed: exit 1" "$MASQC" diff old.sh -- new.sh
cp out unified
has "unified header names both sides" unified '^--- compiled: old\.sh$'
has "unified header, new side" unified '^\+\+\+ compiled: new\.sh$'
has "a hunk header" unified '^@@ -[0-9]+,[0-9]+ \+[0-9]+,[0-9]+ @@$'
has "the removed rule names its old source line" unified '^-rule ip masqc filter_INPUT: .*  # old\.sh:5$'
has "the added rule names its new source line" unified '^\+rule ip masqc filter_INPUT: .*  # new\.sh:6$'
n=$(grep -c '^[-+]rule' unified)
[ "$n" = 2 ] && tap_ok "exactly one rule removed and one added" || { tap_not_ok "exactly one rule removed and one added ($n)"; tap_diag <unified; }
run 1 "--old FILE is the same comparison" "$MASQC" diff --old old.sh new.sh
cmp -s out unified && tap_ok "--old output = OLD -- NEW output" || tap_not_ok "--old output = OLD -- NEW output"

run 1 "--json: exit 1" "$MASQC" diff --json old.sh -- new.sh
if python3 - out <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["same"] is False and d["added"] == 1 and d["removed"] == 1, d
ops = {c["op"]: c for c in d["changes"]}
assert ops["removed"]["file"] == "old.sh" and ops["removed"]["line"] == 5, ops
assert ops["added"]["file"] == "new.sh" and ops["added"]["line"] == 6, ops
assert "  # " not in ops["added"]["object"]
PY
then tap_ok "--json: changes with object, file and line"; else tap_not_ok "--json: changes with object, file and line"; tap_diag <out; fi
run 0 "--json, same: exit 0" "$MASQC" diff --json old.sh -- shifted.sh
python3 -c 'import json,sys; d=json.load(open("out")); assert d["same"] and d["changes"] == []' &&
	tap_ok "--json, same: same=true, no changes" || { tap_not_ok "--json, same: same=true, no changes"; tap_diag <out; }

# against a saved rendering
run 0 "compile -t render -o saves a rendering" "$MASQC" compile -t render -o saved.render old.sh
run 0 "--against the saved rendering: same" "$MASQC" diff --against saved.render shifted.sh
run 1 "--against the saved rendering: differs" "$MASQC" diff --against saved.render new.sh
has "--against names the file" out '^--- saved\.render$'
"$MASQC" compile -o saved.nft old.sh 2>/dev/null
run 2 "--against nft text: exit 2 with a hint" "$MASQC" diff --against saved.nft old.sh
has "the hint says how to save a rendering" err 'compile -t render'

# trouble
run 2 "a script that does not compile: exit 2" "$MASQC" diff old.sh -- broken.sh
has "the compile error is shown, located" err '^broken\.sh:1:22: error: '
run 2 "a missing script: exit 2" "$MASQC" diff old.sh -- missing.sh
run 2 "'--' with nothing before it: exit 2" "$MASQC" diff -- new.sh
run 2 "--against and OLD -- NEW together: exit 2" "$MASQC" diff --against saved.render old.sh -- new.sh

# the CI dry run needs no privilege at all
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
	run 1 "compiled vs compiled as an unprivileged user (nobody): exit 1" \
		setpriv --reuid=65534 --regid=65534 --clear-groups "$MASQC" diff old.sh -- new.sh
	cmp -s out unified && tap_ok "... with the same output" || tap_not_ok "... with the same output"
else
	tap_ok "compiled vs compiled ran unprivileged above (not root)"
fi

# against the running kernel
if have_netns && command -v nft >/dev/null; then
	cat >ns.sh <<'S'
set -u
"$MASQC" diff old.sh >d1.out 2>/dev/null; echo $? >d1.rc
"$MASQC" apply old.sh >/dev/null 2>&1
"$MASQC" diff old.sh >d2.out 2>/dev/null; echo $? >d2.rc
"$MASQC" diff --json old.sh >d3.out 2>/dev/null; echo $? >d3.rc
"$MASQC" diff new.sh >d4.out 2>/dev/null; echo $? >d4.rc
# a rule changed behind masqc's back shows up
nft insert rule ip masqc filter_INPUT tcp dport 23 accept
"$MASQC" diff old.sh >d5.out 2>/dev/null; echo $? >d5.rc
"$MASQC" diff --against "$MASQC_STATE_DIR/gen/1/render" old.sh >d6.out 2>/dev/null; echo $? >d6.rc
S
	MASQC=$MASQC MASQC_STATE_DIR=$TMP/state MASQC_RUN_DIR=$TMP/run unshare -n bash ns.sh
	[ "$(cat d1.rc)" = 1 ] && grep -q '^+rule ip masqc filter_INPUT: .*# old.sh:4$' d1.out &&
		tap_ok "running (empty) vs compiled: exit 1, the rules to add" ||
		{ tap_not_ok "running (empty) vs compiled: exit 1, the rules to add"; tap_diag <d1.out; }
	[ "$(cat d2.rc)" = 0 ] && [ ! -s d2.out ] && tap_ok "right after apply: exit 0, empty" ||
		{ tap_not_ok "right after apply: exit 0, empty"; tap_diag <d2.out; }
	[ "$(cat d3.rc)" = 0 ] && grep -q '"same": true' d3.out && tap_ok "right after apply, --json: same" ||
		{ tap_not_ok "right after apply, --json: same"; tap_diag <d3.out; }
	[ "$(cat d4.rc)" = 1 ] && grep -q '^--- running ruleset$' d4.out && grep -q '^+rule .*# new.sh:6$' d4.out &&
		tap_ok "running vs a new script: exit 1, changed rules with source lines" ||
		{ tap_not_ok "running vs a new script: exit 1, changed rules with source lines"; tap_diag <d4.out; }
	[ "$(cat d5.rc)" = 1 ] && grep -q '^-rule ip masqc filter_INPUT: .*0x00001700' d5.out &&
		tap_ok "a rule added by hand is reported (no source line)" ||
		{ tap_not_ok "a rule added by hand is reported (no source line)"; tap_diag <d5.out; }
	[ "$(cat d6.rc)" = 0 ] && tap_ok "--against a generation's render file: same" ||
		{ tap_not_ok "--against a generation's render file: same"; tap_diag <d6.out; }
else
	tap_skip "running ruleset cases" "needs root and unshare -n"
fi

tap_done
