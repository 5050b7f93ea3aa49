#!/bin/bash
# tests/keyed-sets.sh -- the keyed-set form of big rulesets (netlink.c,
# lookup_nl): past 1024 lists in a table, every list becomes an id in one
# set per key type, and a rule looks up (its list id . the field).
#
# In throwaway network namespaces (`unshare -n`, never the host's ruleset):
#   1. traffic: the same rules loaded with anonymous sets and with keyed
#      sets count the same packets, rule by rule (port lists, port ranges,
#      a negated list, a list two rules share, address lists with and
#      without prefixes, a ct state list), for UDP from six sources to
#      eight ports over lo;
#   2. the compiled keyed batch renders exactly like its kernel readback
#      (the basis of `masqc diff`), and `nft list ruleset` still lists it;
#   3. above the threshold, `masqc apply` of 1,500 distinct lists (and
#      20,000 rules: diff renders the compiled side in two threads) loads
#      a handful of sets (not one per list), `masqc diff` right after is
#      empty, and `nft list ruleset` lists it.

. "$(dirname "$0")/lib.sh"

NL_LOAD=${NL_LOAD:-${MASQC_BUILDDIR:-$TESTS_DIR/..}/tests/nl-load}

need_masqc
need_netns
need_cmd nft ip python3
[ -x "$NL_LOAD" ] || tap_skip_all "tests/nl-load not built (configure found no libnftnl/libmnl?)"
make_tmpdir

cat >"$TMP/lists.sh" <<'EOF'
#!/bin/sh
iptables -N cnt
iptables -A INPUT -p udp -m multiport --dports 1000,1002,1004 -j cnt
iptables -A INPUT -p udp -m multiport --dports 1000:1003,2000 -j cnt
iptables -A INPUT -p udp -m multiport ! --dports 1000,1002 -j cnt
iptables -A INPUT -p udp -m multiport --dports 1002,1000,1004 -j cnt
iptables -A INPUT -s 127.0.0.2,127.0.0.4 -p udp -j cnt
iptables -A INPUT -s 127.0.0.0/30,127.0.1.0/24 -p udp -j cnt
iptables -A INPUT -s 127.0.0.5,127.0.1.0/24 -p udp -m multiport --dports 1001,2001 -j cnt
iptables -A INPUT -p udp -m state --state NEW,ESTABLISHED -j cnt
iptables -A INPUT -p udp -m multiport --sports 1:65535,7 -j cnt
EOF

cat >"$TMP/send.py" <<'EOF'
import socket
for src in ("127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.1.7"):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0))
    for port in (999, 1000, 1001, 1002, 1003, 1004, 2000, 2001):
        s.sendto(b"x", ("127.0.0.1", port))
    s.close()
EOF

# $1: anon or keyed
counts() {
	(cd "$TMP" && unshare -n bash -c '
		ip link set lo up &&
		"$0" load --'"$1"'-sets lists.sh &&
		python3 send.py &&
		nft list chain ip masqc filter_INPUT >'"$1"'.list &&
		"$0" dump --inline --loc >'"$1"'.dump &&
		"$0" render --inline --loc --'"$1"'-sets lists.sh >'"$1"'.render' "$NL_LOAD") \
		2>"$TMP/$1.err" || return 1
	grep -o 'packets [0-9]*' "$TMP/$1.list" >"$TMP/$1.counts"
}

if counts anon && counts keyed; then
	if grep -q 'masqc_list' "$TMP/keyed.dump" || grep -q ' list key ' "$TMP/keyed.dump"; then
		tap_ok "the keyed form uses keyed sets"
	else
		tap_not_ok "the keyed form uses keyed sets"
		tap_diag <"$TMP/keyed.dump"
	fi
	if [ "$(wc -l <"$TMP/anon.counts")" -eq 9 ] && ! grep -qx 'packets 0' "$TMP/anon.counts" &&
	   cmp -s "$TMP/anon.counts" "$TMP/keyed.counts"; then
		tap_ok "anonymous and keyed sets count the same packets, rule by rule"
	else
		tap_not_ok "anonymous and keyed sets count the same packets, rule by rule"
		paste "$TMP/anon.counts" "$TMP/keyed.counts" | tap_diag
	fi
	tap_compare "keyed sets: the compiled batch renders like its readback" \
		"$TMP/keyed.render" "$TMP/keyed.dump"
else
	tap_not_ok "loading the lists (anonymous and keyed) and sending traffic"
	cat "$TMP"/*.err | head -n 20 | tap_diag
fi

# Above the threshold, through masqc apply: 1,500 distinct lists.
{
	echo '#!/bin/sh'
	for ((i = 0; i < 500; i++)); do
		echo "iptables -A INPUT -p tcp -m multiport --dports $((i + 1)),$((i + 2000)),$((i + 4000)) -j ACCEPT"
		echo "iptables -A INPUT -p udp -m multiport --dports $((i + 1)):$((i + 10)),$((i + 3000)) -j ACCEPT"
		echo "iptables -A FORWARD -s 10.$((i / 250)).$((i % 250)).0/24,192.0.2.$((i % 250)) -j ACCEPT"
	done
	echo "iptables -A FORWARD -d 203.0.113.0/24,255.255.255.0/24 -j DROP"
	# past 20,000 rules in a table the compiled side renders in two threads
	echo "iptables -N bulk"
	for ((i = 0; i < 19000; i++)); do
		echo "iptables -A bulk -d 198.18.$((i / 250)).$((i % 250)) -j RETURN"
	done
} >"$TMP/big.sh"
(cd "$TMP" && MASQC_STATE_DIR=$TMP/state MASQC_RUN_DIR=$TMP/run unshare -n bash -c '
	"$0" apply big.sh >apply.out 2>&1 || { echo "apply failed" >&2; cat apply.out >&2; exit 1; }
	"$0" diff big.sh >diff.out 2>&1; echo $? >diff.rc
	nft list ruleset >big.list 2>big.list.err; echo $? >list.rc
	nft list sets >sets.list 2>&1
	"$1" dump >big.dump' "$MASQC" "$NL_LOAD") 2>"$TMP/big.err"
if [ -s "$TMP/big.dump" ]; then
	nsets=$(grep -c '^set ' "$TMP/big.dump")
	if [ "$nsets" -ge 1 ] && [ "$nsets" -le 4 ] && ! grep -q '__set' "$TMP/big.dump"; then
		tap_ok "1,500 lists above the threshold: $nsets keyed sets"
	else
		tap_not_ok "1,500 lists above the threshold: a handful of keyed sets (got $nsets)"
		grep '^set ' "$TMP/big.dump" | cut -c1-200 | head | tap_diag
	fi
	if [ "$(cat "$TMP/diff.rc")" = 0 ] && [ ! -s "$TMP/diff.out" ]; then
		tap_ok "masqc diff right after apply is empty (keyed sets)"
	else
		tap_not_ok "masqc diff right after apply is empty (keyed sets)"
		head -n 30 "$TMP/diff.out" | tap_diag
	fi
	if [ "$(cat "$TMP/list.rc")" = 0 ] && grep -q 'masqc_list' "$TMP/big.list"; then
		tap_ok "nft list ruleset lists the keyed sets"
	else
		tap_not_ok "nft list ruleset lists the keyed sets"
		head -n 10 "$TMP/big.list.err" | tap_diag
	fi
else
	tap_not_ok "masqc apply above the threshold"
	head -n 20 "$TMP/big.err" | tap_diag
fi

tap_done
