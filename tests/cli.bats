#!/usr/bin/env bats
# tests/cli.bats -- the command line as users see it: exit status, stdout,
# stderr.  The binary is $MASQC (default ../src/masqc from this directory) so
# the suite can run under valgrind:
#     MASQC="valgrind -q --error-exitcode=99 $PWD/src/masqc" bats tests/cli.bats
# Each test writes its scripts into its own $BATS_TEST_TMPDIR.

setup() {
	: "${MASQC:=$BATS_TEST_DIRNAME/../src/masqc}"
	export LC_ALL=C NO_COLOR=1
	cd "$BATS_TEST_TMPDIR"
	cat >masq.sh <<'EOF'
#!/bin/sh
IPTABLES=iptables
EXTIF=eth0
INTIF=eth1
$IPTABLES -P FORWARD DROP
$IPTABLES -A FORWARD -i $INTIF -o $EXTIF -j ACCEPT
$IPTABLES -A FORWARD -m state --state ESTABLISHED,RELATED -j ACCEPT
$IPTABLES -t nat -A POSTROUTING -o $EXTIF -j MASQUERADE
EOF
	cat >snat.sh <<'EOF'
IPTABLES=iptables
EXTIP=${EXTIP:-198.51.100.1}
$IPTABLES -t nat -A POSTROUTING -o eth0 -j SNAT --to-source $EXTIP
EOF
	cat >typo.sh <<'EOF'
IPTABLES=iptables
$IPTABLES -A INPUT -p tcp --dport 22 -j ACCEPTT
EOF
	cat >init.sh <<'EOF'
#!/bin/sh
case "$1" in
start)
	iptables -A INPUT -p tcp --dport 22 -j ACCEPT
	;;
stop)
	iptables -A INPUT -p tcp --dport 23 -j DROP
	;;
esac
EOF
	cat >dump.rules <<'EOF'
*filter
:INPUT DROP [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
COMMIT
EOF
}

# bats' `run` with both streams kept apart.
run_split() {
	run --separate-stderr "$@"
}

bats_require_minimum_version 1.5.0

@test "--help prints usage and exits 0" {
	run $MASQC --help
	[ "$status" -eq 0 ]
	[[ "$output" == *compile* ]]
	[[ "$output" == *check* ]]
}

@test "--version exits 0 and names the program" {
	run $MASQC --version
	[ "$status" -eq 0 ]
	[[ "$output" == *masqc* ]]
}

@test "no arguments is a usage error (exit 2)" {
	run $MASQC
	[ "$status" -eq 2 ]
}

@test "unknown subcommand exits 2" {
	run $MASQC frobnicate masq.sh
	[ "$status" -eq 2 ]
}

@test "unknown option exits 2" {
	run $MASQC compile --no-such-option masq.sh
	[ "$status" -eq 2 ]
}

@test "missing input file exits 2 with a message naming it" {
	run_split $MASQC compile does-not-exist.sh
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	[[ "$stderr" == *does-not-exist.sh* ]]
}

@test "compile writes nftables text to stdout" {
	run_split $MASQC compile masq.sh
	[ "$status" -eq 0 ]
	[[ "$output" == *masquerade* ]]
	[[ "$output" == *table* ]]
	[[ "$output" == *chain* ]]
}

@test "compile output is accepted by nft -c (in a private namespace)" {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	command -v nft >/dev/null || skip "nft not installed"
	unshare -n true 2>/dev/null || skip "no unshare -n"
	$MASQC compile -o out.nft masq.sh
	run unshare -n nft -c -f out.nft
	[ "$status" -eq 0 ]
}

@test "compile -o FILE writes the file and nothing to stdout" {
	run_split $MASQC compile -o out.nft masq.sh
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ -s out.nft ]
	grep -q masquerade out.nft
}

@test "compile -t iptables writes iptables-restore text" {
	run_split $MASQC compile -t iptables masq.sh
	[ "$status" -eq 0 ]
	[[ "$output" == *"*nat"* ]]
	[[ "$output" == *MASQUERADE* ]]
	[[ "$output" == *COMMIT* ]]
}

@test "compile -t iptables output passes iptables-restore --test" {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	command -v iptables-legacy-restore >/dev/null || skip "iptables-legacy-restore not installed"
	unshare -n true 2>/dev/null || skip "no unshare -n"
	$MASQC compile -t iptables -o out.ipt masq.sh
	run unshare -n iptables-legacy-restore --test out.ipt
	[ "$status" -eq 0 ]
}

@test "compile -t with an unknown backend exits 2" {
	run $MASQC compile -t pf masq.sh
	[ "$status" -eq 2 ]
}

@test "-D NAME=VALUE changes the output" {
	run_split $MASQC compile snat.sh
	[ "$status" -eq 0 ]
	[[ "$output" == *198.51.100.1* ]]
	run_split $MASQC compile -D EXTIP=203.0.113.7 snat.sh
	[ "$status" -eq 0 ]
	[[ "$output" == *203.0.113.7* ]]
	[[ "$output" != *198.51.100.1* ]]
}

@test "check exits 0 on a clean script and prints nothing on stdout" {
	run_split $MASQC check masq.sh
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "check exits 1 with file:line:col: error: and a caret line" {
	run_split $MASQC check typo.sh
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[[ "$stderr" =~ typo\.sh:2:[0-9]+:\ error: ]]
	echo "$stderr" | grep -Eq '^ *\^~*$'
}

@test "check suggests ACCEPT for -j ACCEPTT" {
	run_split $MASQC check typo.sh
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"did you mean"* ]]
	[[ "$stderr" == *"'ACCEPT'"* ]]
}

@test "compile with errors writes nothing, not even with -o" {
	run_split $MASQC compile -o out.nft typo.sh
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[ ! -s out.nft ]
}

@test "--dialect iptables-save reads a dump" {
	run_split $MASQC compile --dialect iptables-save dump.rules
	[ "$status" -eq 0 ]
	[[ "$output" == *"dport 22"* ]]
	[[ "$output" == *drop* ]]
}

@test "an iptables-save dump is detected without --dialect" {
	run_split $MASQC compile dump.rules
	[ "$status" -eq 0 ]
	[[ "$output" == *"dport 22"* ]]
}

@test "a script feeding iptables-restore from a here-document is read as a script" {
	cat >feed.sh <<'S'
iptables -P INPUT DROP
iptables-restore -n <<EOF
*filter
-A INPUT -p tcp --dport 2222 -j ACCEPT
COMMIT
EOF
S
	run_split $MASQC compile feed.sh
	[ "$status" -eq 0 ]
	[[ "$output" == *"dport 2222"* ]]
	[[ "$output" == *"policy drop"* ]]
}

@test "--dialect shell on a dump does not read it as a dump" {
	run_split $MASQC compile --dialect shell dump.rules
	[[ "$output" != *"dport 22"* ]]
}

@test "an init script compiles its start branch by default" {
	run_split $MASQC compile init.sh
	[ "$status" -eq 0 ]
	[[ "$output" == *"dport 22"* ]]
	[[ "$output" != *"dport 23"* ]]
}

@test "--arg stop selects the stop branch" {
	run_split $MASQC compile --arg stop init.sh
	[ "$status" -eq 0 ]
	[[ "$output" == *"dport 23"* ]]
	[[ "$output" != *"dport 22"* ]]
}

@test "--no-locations drops the source comments" {
	run_split $MASQC compile masq.sh
	[[ "$output" == *masq.sh* ]]
	run_split $MASQC compile --no-locations masq.sh
	[ "$status" -eq 0 ]
	[[ "$output" != *masq.sh:* ]]
}

@test "--strict turns an unknown command into an error" {
	printf 'frobnicate --all\niptables -A INPUT -j ACCEPT\n' >unknown.sh
	run_split $MASQC check unknown.sh
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"unknown.sh:1:1: warning:"* ]]
	run_split $MASQC check --strict unknown.sh
	[ "$status" -eq 1 ]
}

@test "--sysctl-out writes the script's sysctls" {
	printf 'echo 1 > /proc/sys/net/ipv4/ip_forward\niptables -A INPUT -j ACCEPT\n' >fwd.sh
	run_split $MASQC compile --sysctl-out sysctl.conf fwd.sh
	[ "$status" -eq 0 ]
	grep -q 'net.ipv4.ip_forward *= *1' sysctl.conf
}

@test "a raw table holding only CT --helper rules still becomes a helper chain" {
	cat >rawhelper.sh <<'EOF2'
iptables -t raw -A PREROUTING -p tcp --dport 21 -j CT --helper ftp
EOF2
	run $MASQC compile rawhelper.sh
	[ "$status" -eq 0 ]
	[[ "$output" == *"chain helpers_raw_PREROUTING"* ]]
	[[ "$output" == *'ct helper set "ftp-tcp"'* ]]
	[[ "$output" == *'type "ftp" protocol tcp'* ]]
}

@test "--backend with an unknown backend exits 2 and names the two" {
	run_split $MASQC apply --backend pf masq.sh
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"unknown backend 'pf' (nft or iptables-legacy)"* ]]
}

@test "--backend does not apply to compile -t nft, check without --kernel, rollback" {
	run_split $MASQC compile --backend iptables-legacy masq.sh
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"option --backend does not apply here"* ]]
	run_split $MASQC check --backend iptables-legacy masq.sh
	[ "$status" -eq 2 ]
	run_split $MASQC rollback --backend nft
	[ "$status" -eq 2 ]
}

@test "compile -t render --backend iptables-legacy: the iptables-legacy rendering" {
	$MASQC compile -t render /dev/null >/dev/null 2>&1 || skip "built without the netlink backend"
	$MASQC compile -t render --backend iptables-legacy /dev/null >/dev/null 2>&1 ||
		skip "built without the iptables-legacy backend"
	run_split $MASQC compile -t render --backend iptables-legacy masq.sh
	[ "$status" -eq 0 ]
	[[ "$output" == *"*ip filter"* ]]
	[[ "$output" == *":FORWARD DROP"* ]]
	[[ "$output" == *"-A FORWARD -i eth1 -o eth0 -j ACCEPT  # masq.sh:6"* ]]
	[[ "$output" == *"*ip nat"* ]]
	[[ "$output" == *"-A POSTROUTING -o eth0 -j MASQUERADE  # masq.sh:8"* ]]
	[[ "$output" != *"table ip masqc"* ]]
}

@test "diff OLD -- NEW with --backend iptables-legacy compares iptables renderings" {
	$MASQC compile -t render --backend iptables-legacy /dev/null >/dev/null 2>&1 ||
		skip "built without the iptables-legacy backend"
	run_split $MASQC diff --backend iptables-legacy snat.sh -- masq.sh
	[ "$status" -eq 1 ]
	[[ "$output" == *"+-A POSTROUTING -o eth0 -j MASQUERADE  # masq.sh:8"* ]]
	[[ "$output" == *"--to-source 198.51.100.1  # snat.sh:3"* ]]
	run_split $MASQC diff --backend iptables-legacy masq.sh -- masq.sh
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "-q hides the notes, not the warnings" {
	cat >legacy.sh <<'EOF'
/sbin/depmod -a
ipchains -A output -i eth0 -s 192.168.0.0/24 -j REJECT
EOF
	run "$MASQC" check legacy.sh
	[ "$status" -eq 0 ]
	[[ "$output" == *": note: depmod is not part of the ruleset"* ]]
	[[ "$output" == *": warning: REJECT in the output chain becomes DROP"* ]]
	run "$MASQC" check -q legacy.sh
	[ "$status" -eq 0 ]
	[[ "$output" != *": note: depmod"* ]]
	[[ "$output" == *": warning: REJECT in the output chain becomes DROP"* ]]
}
