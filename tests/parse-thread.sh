#!/bin/bash
# tests/parse-thread.sh -- a big script's top level is parsed by a thread of
# its own, a line ahead of the evaluation (src/parser/shell.c): the result
# must be the serial parse's, byte for byte -- the compiled output, and the
# diagnostics in the same order, none from past an `exit`.
#
# MASQC_TEST_PARSE_THREAD=1 takes the thread whatever the size, =0 never.

. "$(dirname "$0")/lib.sh"

need_masqc
make_tmpdir

# same MODE-LABEL DIR SCRIPT ARGS...: masqc ARGS SCRIPT (in DIR) with the
# thread and without; stdout, stderr and the exit status must agree
same() {
	local label=$1 dir=$2 script=$3 rc0 rc1
	shift 3
	(cd "$dir" && MASQC_TEST_PARSE_THREAD=0 "$MASQC" "$@" "$script") >"$TMP/o0" 2>"$TMP/e0"
	rc0=$?
	(cd "$dir" && MASQC_TEST_PARSE_THREAD=1 "$MASQC" "$@" "$script") >"$TMP/o1" 2>"$TMP/e1"
	rc1=$?
	if [ $rc0 -eq $rc1 ] && cmp -s "$TMP/o0" "$TMP/o1" && cmp -s "$TMP/e0" "$TMP/e1"; then
		tap_ok "$label"
	else
		tap_not_ok "$label (exit $rc0 serial, $rc1 threaded)"
		diff "$TMP/e0" "$TMP/e1" | head -n 20 | tap_diag
		diff "$TMP/o0" "$TMP/o1" | head -n 20 | tap_diag
	fi
}

for dir in $RULESET_DIRS "$RULESETS/errors"; do
	for f in "$dir"/*.sh; do
		[ -f "$f" ] || continue
		name=$(basename "$f")
		ruleset_args "${f%.sh}.args"
		same "${dir#"$RULESETS"}/$name: compile" "$dir" "$name" compile "${ARGS[@]}"
	done
done

# exit in the middle: nothing after it runs, and its syntax error is not
# reported; the syntax error before it is, in its place among the rest
{
	echo 'iptables -P INPUT DROP'
	for i in $(seq 1 300); do echo "iptables -A INPUT -s 10.0.$((i / 250)).$((i % 250)) -j ACCEPT"; done
	echo 'iptables -A INPUT -j NOSUCHTARGET'
	echo 'if true; then'
	echo '  iptables -A INPUT -p tcp --dport 22 -j ACCEPT'
	echo 'fi fi'
	for i in $(seq 1 300); do echo "iptables -A INPUT -d 10.1.$((i / 250)).$((i % 250)) -j DROP"; done
	echo 'exit 0'
	echo 'iptables -A INPUT -j ALSOMISSING'
	echo 'if then'
	for i in $(seq 1 300); do echo "iptables -A INPUT -d 10.2.$((i / 250)).$((i % 250)) -j DROP"; done
} >"$TMP/exit.sh"
same "exit mid-script, errors before and after it: check" "$TMP" exit.sh check
if grep -q ALSOMISSING "$TMP/e1" || grep -q "10\.2\." "$TMP/o1"; then
	tap_not_ok "nothing from past the exit"
else
	tap_ok "nothing from past the exit"
fi
same "exit mid-script: compile" "$TMP" exit.sh compile --no-locations

# each top-level line is built in a pool freed with the line (shast.h): a
# function body must outlive its line, a redefinition must not free the body
# that is running, and here-documents, case patterns, substitutions and
# loops must read the same with the thread and without (under the
# sanitizers, a body freed too early is a crash)
{
	echo 'IPT=iptables'
	echo 'allow() { $IPT -A INPUT -s "$1" -j ACCEPT; }'
	echo 'redef() { redef() { $IPT -A INPUT -s "$1" -j DROP; }; $IPT -A INPUT -s "$1" -j REJECT; }'
	for i in $(seq 1 400); do
		case $((i % 6)) in
		0) echo "allow 10.3.$((i / 250)).$((i % 250))" ;;
		1) echo "case \"\$X\" in a|b) \$IPT -A INPUT -p tcp --dport $i -j DROP ;; *) \$IPT -A INPUT -p udp --dport $i -j ACCEPT ;; esac" ;;
		2) echo "V=\$(echo $i); if [ \"\$V\" = $i ]; then \$IPT -A INPUT -p tcp --sport \${V} -j ACCEPT; fi" ;;
		3) printf 'cat <<EOF >/dev/null\nbody %s\nEOF\n' "$i" ;;
		4) echo "for p in $i $((i + 1)); do \$IPT -A OUTPUT -p tcp --dport \$p -j ACCEPT; done" ;;
		5) echo "redef 10.4.$((i / 250)).$((i % 250))" ;;
		esac
	done
	echo 'allow 10.5.0.1'
} >"$TMP/pools.sh"
same "pools: functions called long after their line, redefinitions, here-documents: compile" \
	"$TMP" pools.sh compile --no-locations
# 66 calls of each function; redef's first call redefines it (one reject)
if grep -q "10\.5\.0\.1" "$TMP/o1" && [ "$(grep -c "10\.3\..*accept" "$TMP/o1")" -eq 66 ] &&
   [ "$(grep -c "10\.4\..*drop" "$TMP/o1")" -eq 65 ] &&
   [ "$(grep -c "10\.4\..*reject" "$TMP/o1")" -eq 1 ]; then
	tap_ok "pools: every call of a function defined 400 lines before wrote its rule"
else
	tap_not_ok "pools: every call of a function defined 400 lines before wrote its rule"
	grep "10\.[345]\." "$TMP/o1" | head -n 5 | tap_diag
fi

# diagnostics of the shell and of the dispatcher at the same place keep
# the serial order; a sourced file, iptables-restore of a here-document and
# of a file (both add to the source set) read the same with the thread
cat >"$TMP/inc.sh" <<'EOF'
iptables -A INPUT -s 10.9.0.1 -j ACCEPT
EOF
cat >"$TMP/saved.rules" <<'EOF'
*filter
-A INPUT -s 10.9.0.3 -j ACCEPT
COMMIT
EOF
{
	echo 'iptables -A INPUT -s $NOT_SET -j ACCEPT'
	echo '. ./inc.sh'
	echo 'iptables-restore -n <<EOF'
	echo '*filter'
	echo '-A INPUT -s 10.9.0.2 -j ACCEPT'
	echo 'COMMIT'
	echo 'EOF'
	echo 'iptables-restore -n < saved.rules'
	for i in $(seq 1 50); do
		echo "iptables -A INPUT -s 10.8.0.$i -j NOSUCH$((i % 3))"
		echo "echo \$UNSET_$i > /proc/sys/net/ipv4/ip_forward"
		echo "iptables -A INPUT -p tcp --dport \"\$PORT_$i\" -j ACCEPT"
	done
	echo '. ./inc.sh'
} >"$TMP/dispatch.sh"
same "shell and dispatcher: same-place diagnostics, sourced file, iptables-restore: check" \
	"$TMP" dispatch.sh check
if grep -q '^dispatch.sh:[0-9]*:[0-9]*: note: variable PORT_1 is not set' "$TMP/e1" &&
   grep -A3 'variable PORT_1 is not set' "$TMP/e1" | grep -q "error: invalid port or service ''"; then
	tap_ok "shell and dispatcher: the shell's note comes before the dispatcher's error at the same place"
else
	tap_not_ok "shell and dispatcher: the shell's note comes before the dispatcher's error at the same place"
	head -n 20 "$TMP/e1" | tap_diag
fi
sed -e '/NOSUCH/d' -e '/PORT_/d' -e '/UNSET_/d' "$TMP/dispatch.sh" >"$TMP/dispatch-ok.sh"
same "shell and dispatcher: compile" "$TMP" dispatch-ok.sh compile --no-locations -D NOT_SET=1.2.3.4
if [ "$(grep -c '10\.9\.0\.[123]' "$TMP/o1")" = 4 ]; then
	tap_ok "shell and dispatcher: rules of the sourced file (twice) and of both iptables-restore inputs"
else
	tap_not_ok "shell and dispatcher: rules of the sourced file (twice) and of both iptables-restore inputs"
	tap_diag <"$TMP/o1"
fi

# a script past the size where the thread is taken by default
if command -v python3 >/dev/null; then
	python3 "$SRCDIR/bench/gen.py" 5000 "$TMP" >/dev/null
	if [ "$(wc -c <"$TMP/rules-5000.sh")" -lt 262144 ]; then
		tap_not_ok "bench/gen.py 5000 is smaller than the parse thread's threshold"
	fi
	(cd "$TMP" && "$MASQC" compile rules-5000.sh) >"$TMP/d" 2>&1
	(cd "$TMP" && MASQC_TEST_PARSE_THREAD=0 "$MASQC" compile rules-5000.sh) >"$TMP/s" 2>&1
	if cmp -s "$TMP/d" "$TMP/s"; then
		tap_ok "5,000 rules: the default (threaded) compile = the serial one"
	else
		tap_not_ok "5,000 rules: the default (threaded) compile = the serial one"
		diff "$TMP/s" "$TMP/d" | head -n 20 | tap_diag
	fi
else
	tap_skip "5,000 rules" "no python3"
fi

tap_done
