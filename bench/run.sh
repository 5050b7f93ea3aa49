#!/bin/bash
# bench/run.sh -- masqc's compile speed against what users run today.
#
# In ONE run (machines here are noisy: only ratios from the same run mean
# anything), for N = 1,000, 10,000, 100,000 rules (bench/gen.py):
#   - masqc compile of the shell script (nft output)   vs
#     iptables-restore-translate -f of the equivalent iptables-save dump,
#     medians over BENCH_REPS runs, and their ratio at each N;
#   - growth of masqc from 10k to 100k (linear would be 10x);
#   - peak RSS of each (/usr/bin/time);
#   - running the script itself with iptables-nft in a private network
#     namespace (N = 1,000, and 10,000 when 1,000 suggests it takes under
#     2 minutes) against compiling it: the end-to-end ratio;
#   - as root, for N in BENCH_KERNEL_SIZES (default: the largest size),
#     each load in a fresh network namespace (`unshare -n`, never the
#     host's ruleset): `masqc apply` of the script (one netlink batch,
#     generation recorded in a scratch state directory) against `nft -f`
#     of masqc's nft text for the same script and `iptables-nft-restore`
#     of the equivalent dump; and, with the ruleset loaded in a named
#     namespace, `masqc diff` of the script against the running ruleset
#     against `nft list ruleset`.  Medians over BENCH_KERNEL_REPS (default
#     3; `nft -f` at 100k takes a minute or more, so BENCH_NFT_REPS,
#     default 1 at 100k), peak RSS, ratios and the bars.
# It prints every command it runs, then a results table.  Not a test: it
# asserts nothing and `make check` does not run it.
#
#   MASQC=src/masqc bench/run.sh            (or: make bench)
#   BENCH_SIZES="1000 10000" BENCH_REPS=3 bench/run.sh
#   BENCH_SIZES=100000 BENCH_REPS=1 bench/run.sh   (the kernel figures only)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
MASQC=${MASQC:-$HERE/../src/masqc}
SIZES=${BENCH_SIZES:-1000 10000 100000}
REPS=${BENCH_REPS:-5}
OUT=${BENCH_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/masqc-bench.XXXXXX")}
PATH=$PATH:/usr/sbin:/sbin
export LC_ALL=C

[ -x "$MASQC" ] || { echo "bench: no masqc at $MASQC (build it, or set MASQC)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time missing (apt-get install time)" >&2; exit 2; }
command -v iptables-restore-translate >/dev/null || { echo "bench: iptables-restore-translate missing (apt-get install iptables)" >&2; exit 2; }

echo "bench: masqc = $MASQC"
echo "bench: scratch = $OUT; $REPS repetitions per figure; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo

# measure LABEL CMD... : runs CMD (stdout to $OUT/last.out) REPS times;
# sets MED (median seconds) and RSS (largest peak RSS in MB).
measure() {
	local label=$1 i t0 t1 rss reps=${MREPS:-$REPS}
	shift
	local -a times=()
	RSS=0
	echo "  \$ $* >$OUT/last.out    # $label, x$reps"
	for ((i = 0; i < reps; i++)); do
		t0=$(date +%s%N)
		if ! /usr/bin/time -f %M -o "$OUT/rss" "$@" >"$OUT/last.out" 2>"$OUT/last.err"; then
			echo "bench: failed: $*" >&2
			head -n 20 "$OUT/last.err" >&2
			exit 1
		fi
		t1=$(date +%s%N)
		times+=($(( (t1 - t0) / 1000 )))
		rss=$(tail -n 1 "$OUT/rss")
		[ "$rss" -gt "$RSS" ] && RSS=$rss
	done
	MED=$(printf '%s\n' "${times[@]}" | sort -n | awk '{ a[NR] = $1 } END { m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.4f", m / 1e6 }')
	RSS=$(awk -v k="$RSS" 'BEGIN { printf "%.1f", k / 1024 }')
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

declare -A M_T M_R T_T T_R S_T
for n in $SIZES; do
	echo "== N = $n"
	echo "  \$ python3 $HERE/gen.py $n $OUT"
	python3 "$HERE/gen.py" "$n" "$OUT"
	script=$OUT/rules-$n.sh dump=$OUT/rules-$n.save
	measure "masqc compile" "$MASQC" compile -o "$OUT/masqc-$n.nft" "$script"
	M_T[$n]=$MED M_R[$n]=$RSS
	measure "iptables-restore-translate" iptables-restore-translate -f "$dump"
	T_T[$n]=$MED T_R[$n]=$RSS
	cp "$OUT/last.out" "$OUT/translate-$n.nft"
	echo "  masqc ${M_T[$n]} s / ${M_R[$n]} MB; translate ${T_T[$n]} s / ${T_R[$n]} MB"
	echo
done

# Running the script itself: iptables-nft, one process per rule, in a
# throwaway network namespace.
run_script() {
	local n=$1 shim=$OUT/shim t0 t1
	mkdir -p "$shim"
	ln -sf "$(command -v iptables-nft)" "$shim/iptables"
	echo "  \$ unshare -n env PATH=$shim:\$PATH bash $OUT/rules-$n.sh    # once"
	t0=$(date +%s%N)
	unshare -n env PATH="$shim:$PATH" bash "$OUT/rules-$n.sh" >"$OUT/script-$n.log" 2>&1 ||
		{ echo "bench: the script failed under iptables-nft:" >&2; head "$OUT/script-$n.log" >&2; return 1; }
	t1=$(date +%s%N)
	S_T[$n]=$(awk -v d=$(( (t1 - t0) / 1000 )) 'BEGIN { printf "%.3f", d / 1e6 }')
}

can_ns=no
[ "$(id -u)" -eq 0 ] && command -v iptables-nft >/dev/null && unshare -n true 2>/dev/null && can_ns=yes
if [ $can_ns = yes ] && [[ " $SIZES " == *" 1000 "* ]]; then
	echo "== running the scripts (iptables-nft, unshare -n)"
	run_script 1000
	est=$(awk -v t="${S_T[1000]}" 'BEGIN { printf "%d", t * 10 * 1.5 }')
	if [[ " $SIZES " == *" 10000 "* ]] && [ "$est" -lt 120 ]; then
		run_script 10000
	else
		echo "  (10,000: skipped, estimated ${est}s from 1,000)"
	fi
	echo
else
	echo "== running the scripts: skipped (needs root, unshare -n, iptables-nft, and N=1000 in BENCH_SIZES)"
fi

echo "== results (medians of $REPS; ratios < 1 mean masqc is faster)"
printf '%-8s | %-14s | %-18s | %-10s | %-12s | %-12s | %-12s | %-14s\n' \
	N "masqc compile" "restore-translate" "ratio" "masqc RSS" "transl RSS" "run script" "script/masqc"
printf '%s\n' "---------|----------------|--------------------|------------|--------------|--------------|--------------|---------------"
for n in $SIZES; do
	st=${S_T[$n]:-}
	printf '%-8s | %-14s | %-18s | %-10s | %-12s | %-12s | %-12s | %-14s\n' \
		"$n" "${M_T[$n]} s" "${T_T[$n]} s" "$(ratio "${M_T[$n]}" "${T_T[$n]}")" \
		"${M_R[$n]} MB" "${T_R[$n]} MB" "${st:+$st s}" "${st:+$(ratio "$st" "${M_T[$n]}")x}"
done
if [ -n "${M_T[10000]:-}" ] && [ -n "${M_T[100000]:-}" ]; then
	echo
	echo "growth masqc 100k/10k: $(ratio "${M_T[100000]}" "${M_T[10000]}")x (linear: 10x; bar: <= 12x)"
	echo "growth translate 100k/10k: $(ratio "${T_T[100000]}" "${T_T[10000]}")x"
fi
echo
echo "bars (../shared/docs/performance.md): compile 100k <= 1.0x iptables-restore-translate; 100k <= 12x 10k; peak < 200 MB; 10k script end to end >= 1000x"

# ---------------------------------------------------------------------------
# Loading into the kernel and diffing against it (issue 5).

KSIZES=${BENCH_KERNEL_SIZES:-$(printf '%s\n' $SIZES | sort -n | tail -n 1)}
KREPS=${BENCH_KERNEL_REPS:-3}
can_kernel=no
[ "$(id -u)" -eq 0 ] && unshare -n true 2>/dev/null && command -v nft >/dev/null &&
	command -v iptables-nft-restore >/dev/null && command -v ip >/dev/null && can_kernel=yes
declare -A A_T A_R F_T F_R R_T R_R D_T D_R L_T L_R
if [ $can_kernel = yes ]; then
	for n in $KSIZES; do
		[ -f "$OUT/rules-$n.sh" ] || python3 "$HERE/gen.py" "$n" "$OUT"
		[ -f "$OUT/masqc-$n.nft" ] || "$MASQC" compile -o "$OUT/masqc-$n.nft" "$OUT/rules-$n.sh" 2>/dev/null
		script=$OUT/rules-$n.sh dump=$OUT/rules-$n.save
		echo "== kernel, N = $n (each load in a fresh unshare -n)"
		MREPS=$KREPS measure "masqc apply" unshare -n env MASQC_STATE_DIR="$OUT/state-$n" \
			MASQC_RUN_DIR="$OUT/run-$n" "$MASQC" apply "$script"
		A_T[$n]=$MED A_R[$n]=$RSS
		nreps=${BENCH_NFT_REPS:-$([ "$n" -ge 100000 ] && echo 1 || echo "$KREPS")}
		MREPS=$nreps measure "nft -f (masqc's nft text)" unshare -n nft -f "$OUT/masqc-$n.nft"
		F_T[$n]=$MED F_R[$n]=$RSS
		MREPS=$KREPS measure "iptables-nft-restore (the dump)" unshare -n iptables-nft-restore "$dump"
		R_T[$n]=$MED R_R[$n]=$RSS
		ns=masqc-bench-$$
		ip netns add "$ns"
		echo "  \$ ip netns exec $ns $MASQC apply $script    # once, then diff against it"
		ip netns exec "$ns" env MASQC_STATE_DIR="$OUT/state-$n" MASQC_RUN_DIR="$OUT/run-$n" \
			"$MASQC" apply "$script" >/dev/null 2>&1 || { echo "bench: apply into $ns failed" >&2; ip netns del "$ns"; exit 1; }
		MREPS=$KREPS measure "masqc diff (running = compiled)" ip netns exec "$ns" \
			env MASQC_STATE_DIR="$OUT/state-$n" "$MASQC" diff "$script"
		D_T[$n]=$MED D_R[$n]=$RSS
		MREPS=$KREPS measure "nft list ruleset" ip netns exec "$ns" nft list ruleset
		L_T[$n]=$MED L_R[$n]=$RSS
		ip netns del "$ns"
		echo "  phases of one apply and one diff (MASQC_TIMES=1):"
		unshare -n env MASQC_TIMES=1 MASQC_STATE_DIR="$OUT/state-$n" MASQC_RUN_DIR="$OUT/run-$n" \
			bash -c '"$0" apply "$1" >/dev/null 2>"$2/phases"; "$0" diff "$1" >/dev/null 2>>"$2/phases"' \
			"$MASQC" "$script" "$OUT"
		grep '^masqc: time:' "$OUT/phases" | sed 's/^/    /'
		echo
	done
	echo "== kernel results (medians; ratios < 1 mean masqc is faster)"
	printf '%-8s | %-12s | %-12s | %-14s | %-10s | %-10s | %-12s | %-12s | %-10s | %-16s\n' \
		N "masqc apply" "nft -f" "ipt-nft-rest." "apply/nft" "apply/ipt" "masqc diff" "nft list" "diff/list" "peak RSS (MB)"
	printf '%s\n' "---------|--------------|--------------|----------------|------------|------------|--------------|--------------|------------|-----------------"
	for n in $KSIZES; do
		printf '%-8s | %-12s | %-12s | %-14s | %-10s | %-10s | %-12s | %-12s | %-10s | %-16s\n' \
			"$n" "${A_T[$n]} s" "${F_T[$n]} s" "${R_T[$n]} s" "$(ratio "${A_T[$n]}" "${F_T[$n]}")" \
			"$(ratio "${A_T[$n]}" "${R_T[$n]}")" "${D_T[$n]} s" "${L_T[$n]} s" "$(ratio "${D_T[$n]}" "${L_T[$n]}")" \
			"apply ${A_R[$n]}, nft ${F_R[$n]}, restore ${R_R[$n]}, diff ${D_R[$n]}, list ${L_R[$n]}"
	done
	echo
	echo "bars (../shared/docs/performance.md): apply 100k <= 0.1x nft -f and <= 1.0x iptables-nft-restore, peak < 300 MB; diff 100k <= 0.25x nft list ruleset"
else
	echo "== kernel: skipped (needs root, unshare -n, ip, nft and iptables-nft-restore)"
fi
echo "outputs kept in $OUT"
