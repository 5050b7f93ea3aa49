#!/bin/sh
# run-lab.sh -- `make check` entry point of the masqc lab (TAP on stdout).
#
# Runs every scenario in tests/lab/scenarios/ on every backend (nft, apply
# -- masqc apply then masqc diff --, iptables-legacy, apply-legacy -- the
# same through libiptc --, iptables-nft;
# ip6tables-legacy/-nft for the IPv6 half of a script), each in fresh
# dual-stack network namespaces, and
# prints one TAP test point per probe x backend plus one "all backends
# agree" point per scenario.  Skips (1..0 # SKIP) when not root, when network
# namespaces cannot be created, or when a required tool is missing.
#
# Environment: MASQC (compiler, default $top_builddir/src/masqc or
# ./src/masqc), MASQLAB_ARGS (extra arguments for masqlab.py run, e.g.
# "--backend nft -v"), PYTHON.  Arguments are passed to masqlab.py run.

here=$(cd "$(dirname "$0")" && pwd)

skip() {
	echo "1..0 # SKIP $*"
	exit 0
}

[ "$(id -u)" = 0 ] || skip "the lab needs root (network namespaces); run: sudo make check"

# Debian's python3 carries python3-pyftpdlib; prefer it over one on PATH.
if [ -z "$PYTHON" ]; then
	for p in /usr/bin/python3 python3; do
		if "$p" -c 'import tomllib' 2>/dev/null; then
			PYTHON=$p
			break
		fi
	done
fi
[ -n "$PYTHON" ] || skip "python3 >= 3.11 (tomllib) not found"

for tool in ip nft iptables-legacy-restore iptables-nft-restore \
	ip6tables-legacy-restore ip6tables-nft-restore curl; do
	command -v "$tool" >/dev/null 2>&1 || skip "$tool not installed"
done

if [ -z "$MASQC" ]; then
	for m in "${top_builddir:-.}/src/masqc" "$here/../../src/masqc"; do
		if [ -x "$m" ]; then
			MASQC=$m
			break
		fi
	done
fi
[ -n "$MASQC" ] && export MASQC

# shellcheck disable=SC2086
exec "$PYTHON" "$here/masqlab.py" run --tap $MASQLAB_ARGS "$@"
