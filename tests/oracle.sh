#!/bin/bash
# tests/oracle.sh -- the exact oracle: running the script with real iptables
# and loading masqc's translation must give the same kernel ruleset.
#
# For each rulesets/NAME.sh (unless it has a line "# masqc-oracle: skip WHY"):
#
#   namespace A  the script itself runs (bash NAME.sh start) against
#                iptables-legacy, then iptables-legacy-save;
#   namespace B  masqc compile -t iptables ARGS NAME.sh, freshly compiled,
#                goes through iptables-legacy-restore, then iptables-legacy-save.
#
# Both dumps are normalised (comments, counters, untouched empty tables and
# table order dropped) and must be identical.  Scripts that call ip6tables
# are compared for IPv6 too.
#
# Both namespaces have the same interfaces: eth0 203.0.113.7/24 (outside),
# eth1 192.168.0.1/24, eth2 192.168.1.1/24 (inside), ppp0 198.51.100.7/24,
# lo up.  Each side is a fresh `unshare -n -m`: a private network namespace
# so the host's firewall is never touched, and a private mount namespace in
# which /proc/sys is read-only except /proc/sys/net (whose entries belong to
# the new network namespace), so a script's `echo 1 > /proc/sys/...` cannot
# reach the host.
#
# The script sees a PATH where iptables/ip6tables are the legacy tools,
# modprobe/insmod/depmod/rmmod do nothing (modprobe/insmod log the module:
# see the conntrack helper note below), lsmod prints nothing, and ifconfig
# prints the old net-tools format ("inet addr:A  Bcast:B  Mask:M") that the
# HOWTOs' awk idioms expect.  Rulesets must therefore call plain `iptables`
# (IPTABLES=iptables), not /sbin/iptables.

. "$(dirname "$0")/lib.sh"

need_netns
need_masqc
need_cmd iptables-legacy iptables-legacy-save iptables-legacy-restore ip mount timeout
make_tmpdir

SCRIPT_TIMEOUT=${ORACLE_TIMEOUT:-60}

# --- PATH shims for side A ---------------------------------------------------

SHIMS=$TMP/shims
mkdir -p "$SHIMS"
for pair in iptables:iptables-legacy ip6tables:ip6tables-legacy \
	    iptables-save:iptables-legacy-save iptables-restore:iptables-legacy-restore \
	    ip6tables-save:ip6tables-legacy-save ip6tables-restore:ip6tables-legacy-restore; do
	real=$(command -v "${pair#*:}" 2>/dev/null) || continue
	ln -s "$real" "$SHIMS/${pair%%:*}"
done
for c in depmod rmmod lsmod; do
	printf '#!/bin/sh\nexit 0\n' >"$SHIMS/$c"
	chmod +x "$SHIMS/$c"
done
# modprobe/insmod do nothing but record the module, for the helper rule below.
for c in modprobe insmod; do
	printf '#!/bin/sh\n[ -n "$ORACLE_MODLOG" ] && echo "$*" >>"$ORACLE_MODLOG"\nexit 0\n' >"$SHIMS/$c"
	chmod +x "$SHIMS/$c"
done

cat >"$SHIMS/ifconfig" <<'EOF'
#!/bin/bash
# Old net-tools ifconfig output for the namespace's interfaces; anything
# that would configure an interface is a no-op.
mask_of() {
	local p=$1 m=0 i
	for ((i = 0; i < 32; i++)); do
		m=$(( (m << 1) | (i < p ? 1 : 0) ))
	done
	echo "$(( (m >> 24) & 255 )).$(( (m >> 16) & 255 )).$(( (m >> 8) & 255 )).$(( m & 255 ))"
}
bcast_of() {
	local a=$1 p=$2 IFS=. o1 o2 o3 o4 n h
	read -r o1 o2 o3 o4 <<<"$a"
	n=$(( (o1 << 24) | (o2 << 16) | (o3 << 8) | o4 ))
	h=$(( (1 << (32 - p)) - 1 ))
	n=$(( n | h ))
	echo "$(( (n >> 24) & 255 )).$(( (n >> 16) & 255 )).$(( (n >> 8) & 255 )).$(( n & 255 ))"
}
show() {
	local ifc=$1 line a p
	if ! ip link show dev "$ifc" >/dev/null 2>&1; then
		echo "$ifc: error fetching interface information: Device not found" >&2
		return 1
	fi
	printf '%-10sLink encap:Ethernet  HWaddr 02:00:00:00:00:01  \n' "$ifc"
	line=$(ip -4 -o addr show dev "$ifc" | head -n 1)
	if [ -n "$line" ]; then
		set -- $line
		a=${4%/*} p=${4#*/}
		printf '          inet addr:%s  Bcast:%s  Mask:%s\n' "$a" "$(bcast_of "$a" "$p")" "$(mask_of "$p")"
	fi
	printf '          UP BROADCAST RUNNING MULTICAST  MTU:1500  Metric:1\n\n'
}
case $# in
0) set -- -a ;;
esac
if [ "$1" = -a ]; then
	for i in $(ip -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }'); do
		show "$i"
	done
	exit 0
fi
[ $# -eq 1 ] || exit 0
show "$1"
EOF
chmod +x "$SHIMS/ifconfig"

# --- namespace set-up, shared by both sides ----------------------------------

NS_SETUP='
mount --make-rprivate / 2>/dev/null
mount --bind /proc/sys /proc/sys &&
mount -o remount,bind,ro /proc/sys &&
mount --bind /proc/sys/net /proc/sys/net &&
mount -o remount,bind,rw /proc/sys/net || { echo "oracle: cannot fence /proc/sys" >&2; exit 20; }
ip link set lo up
mkif() {
	# No dummy module on some kernels: an empty bridge holds an address too.
	ip link add "$1" type dummy 2>/dev/null || ip link add "$1" type bridge || exit 21
	ip addr add "$2" dev "$1" && ip link set "$1" up || exit 21
}
mkif eth0 203.0.113.7/24
mkif eth1 192.168.0.1/24
mkif eth2 192.168.1.1/24
mkif ppp0 198.51.100.7/24
'

# Side A: $1 dir, $2 script, $3 out prefix, rest: script arguments.
SIDE_A=$NS_SETUP'
dir=$1 script=$2 out=$3 shims=$4; shift 4
cd "$dir" || exit 22
: >"$out.mods"
ORACLE_MODLOG=$out.mods PATH=$shims:/usr/sbin:/usr/bin:/sbin:/bin timeout '"$SCRIPT_TIMEOUT"' bash "$script" "$@" </dev/null >"$out.log" 2>&1
echo $? >"$out.status"
iptables-legacy-save >"$out.v4" || exit 23
if command -v ip6tables-legacy-save >/dev/null; then ip6tables-legacy-save >"$out.v6" || exit 23; fi
exit 0
'

# Side A for an iptables-save dump (NAME.rules / NAME.save): the dump itself
# goes through iptables-legacy-restore.  $1 dump, $2 out prefix.
SIDE_A_DUMP=$NS_SETUP'
echo 0 >"$2.status"; : >"$2.log"
iptables-legacy-restore <"$1" >"$2.log" 2>&1 || echo $? >"$2.status"
iptables-legacy-save >"$2.v4" || exit 23
if command -v ip6tables-legacy-save >/dev/null; then ip6tables-legacy-save >"$2.v6" || exit 23; fi
exit 0
'

# Side B: $1 v4 restore file, $2 v6 restore file (may be empty), $3 out prefix.
SIDE_B=$NS_SETUP'
iptables-legacy-restore <"$1" || exit 24
if [ -n "$2" ]; then ip6tables-legacy-restore <"$2" || exit 25; fi
iptables-legacy-save >"$3.v4" || exit 23
if command -v ip6tables-legacy-save >/dev/null; then ip6tables-legacy-save >"$3.v6" || exit 23; fi
exit 0
'

# Conntrack helpers.  On the kernels these scripts were written for,
# `modprobe ip_conntrack_ftp` alone attached the FTP helper to port 21
# (automatic helper assignment, removed in Linux 4.7); masqc makes that
# explicit with raw-table rules "-p tcp --dport 21 -j CT --helper ftp".  The
# oracle's modprobe does nothing, so side A lacks exactly those rules.  They
# are dropped from side B when they have that bare form, name a helper whose
# module the script loaded, and are not in side A.  Prints the dropped lines.
helper_names() {
	local words w
	while read -r words; do
		for w in $words; do
			case $w in -*|*=*) continue ;; esac
			w=${w##*/} w=${w%.ko} w=${w%.o}
			case $w in
			ip_conntrack_*|nf_conntrack_*|ip_nat_*|nf_nat_*|ip_masq_*)
				w=${w#ip_conntrack_} w=${w#nf_conntrack_} w=${w#ip_nat_} w=${w#nf_nat_} w=${w#ip_masq_}
				echo "$w"
				[ "$w" = h323 ] && printf 'RAS\nQ.931\n'
				;;
			esac
			break
		done
	done <"$1" | sort -u
}
implicit_helper_rules() {
	local a=$1 b=$2 modlog=$3 names
	names=$(helper_names "$modlog" | tr '\n' '|' | sed -e 's/|$//' -e 's/\./\\./g')
	[ -n "$names" ] || return 0
	grep -E -- "^-A (PREROUTING|OUTPUT) -p (tcp|udp) -m (tcp|udp) --dport [0-9]+ -j CT --helper ($names)\$" "$b" |
		grep -vxF -f "$a" || true
}

# Words for `--arg WORD` in ARGS (the script's positional parameters).
script_words() {
	local i
	WORDS=()
	for ((i = 0; i < ${#ARGS[@]}; i++)); do
		case ${ARGS[i]} in
		--arg) WORDS+=("${ARGS[i + 1]:-}"); i=$((i + 1)) ;;
		--arg=*) WORDS+=("${ARGS[i]#--arg=}") ;;
		esac
	done
	[ ${#WORDS[@]} -gt 0 ] || WORDS=(start)
}

for input in $(list_inputs); do
	name=$(input_name "$input")
	script=$RULESETS/$input
	why=$(sed -n 's/^#[[:space:]]*masqc-oracle:[[:space:]]*skip[[:space:]]*//p' "$script" | head -n 1)
	if grep -q '^#[[:space:]]*masqc-oracle:[[:space:]]*skip' "$script"; then
		tap_skip "oracle $name" "${why:-no reason given}"
		continue
	fi
	ruleset_args "$RULESETS/$name.args"
	script_words
	out=$TMP/$name
	v6=no
	case $input in
	*.sh) grep -q 'ip6tables\|IP6TABLES' "$script" && v6=yes ;;
	esac

	# Side B first: if masqc cannot compile it, there is nothing to compare.
	if ! (cd "$RULESETS" && "$MASQC" compile -t iptables "${ARGS[@]}" "$input") >"$out.ipt" 2>"$out.err"; then
		tap_not_ok "oracle $name: masqc compile -t iptables failed"
		tap_diag <"$out.err"
		continue
	fi
	: >"$out.ip6t"
	if [ $v6 = yes ] &&
	   ! (cd "$RULESETS" && "$MASQC" compile -t ip6tables "${ARGS[@]}" "$input") >"$out.ip6t" 2>"$out.err6"; then
		tap_not_ok "oracle $name: masqc compile -t ip6tables failed"
		tap_diag <"$out.err6"
		continue
	fi
	v6file=
	[ $v6 = yes ] && v6file=$out.ip6t

	case $input in
	*.sh) side_a=("$SIDE_A" sh "$RULESETS" "$input" "$out.A" "$SHIMS" "${WORDS[@]}") ;;
	*) side_a=("$SIDE_A_DUMP" sh "$script" "$out.A") ;;
	esac
	if ! unshare -n -m bash -c "${side_a[@]}" >"$out.nserr" 2>&1; then
		tap_not_ok "oracle $name: namespace A (running the script) failed"
		tap_diag <"$out.nserr"
		continue
	fi
	if ! unshare -n -m bash -c "$SIDE_B" sh "$out.ipt" "$v6file" "$out.B" >"$out.nserr" 2>&1; then
		tap_not_ok "oracle $name: namespace B (restoring masqc's output) failed"
		tap_diag <"$out.nserr"
		continue
	fi

	ipt_clean "$out.A.v4" >"$out.A.v4.clean"
	ipt_clean "$out.B.v4" >"$out.B.v4.clean"
	: >"$out.implicit"
	[ -f "$out.A.mods" ] && implicit_helper_rules "$out.A.v4.clean" "$out.B.v4.clean" "$out.A.mods" >"$out.implicit"
	if [ -s "$out.implicit" ]; then
		echo "$name: helper rules that stand for the script's modprobe (not compared):"
		sed -e 's/^/  /' "$out.implicit"
	fi | tap_diag
	ipt_tables <"$out.A.v4.clean" >"$out.A.v4.norm"
	grep -vxF -f "$out.implicit" "$out.B.v4.clean" | ipt_tables >"$out.B.v4.norm"
	if cmp -s "$out.A.v4.norm" "$out.B.v4.norm"; then
		tap_ok "oracle $name (IPv4)"
	else
		tap_not_ok "oracle $name (IPv4): running the script (-) and masqc's output (+) differ"
		diff -u --label "script ($input ${WORDS[*]})" --label "masqc compile -t iptables" \
			"$out.A.v4.norm" "$out.B.v4.norm" | head -n 200 | tap_diag
		echo "script exit status $(cat "$out.A.status"); its output:" | tap_diag
		head -n 40 "$out.A.log" | tap_diag
	fi
	if [ $v6 = yes ] && [ -f "$out.A.v6" ]; then
		ipt_clean "$out.A.v6" | ipt_tables >"$out.A.v6.norm"
		ipt_clean "$out.B.v6" | ipt_tables >"$out.B.v6.norm"
		if cmp -s "$out.A.v6.norm" "$out.B.v6.norm"; then
			tap_ok "oracle $name (IPv6)"
		else
			tap_not_ok "oracle $name (IPv6): running the script (-) and masqc's output (+) differ"
			diff -u --label "script" --label "masqc compile -t ip6tables" \
				"$out.A.v6.norm" "$out.B.v6.norm" | head -n 200 | tap_diag
		fi
	fi
done

tap_done "no rulesets yet"
