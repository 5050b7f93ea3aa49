#!/bin/bash
# scripts/install-deps.sh -- install everything masqc's build, tests and
# benchmark need (Debian).  Idempotent and quiet: when every package is
# already installed it does nothing at all.
set -euo pipefail

PACKAGES=(
	build-essential autoconf automake libtool pkg-config
	flex bison
	libnftnl-dev libmnl-dev libiptc-dev libip4tc-dev libip6tc-dev libxtables-dev
	nftables iptables iproute2 util-linux net-tools kmod
	bats valgrind python3 time xz-utils
	python3-pyftpdlib curl socat
)

missing=()
for p in "${PACKAGES[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all ${#PACKAGES[@]} packages present"
	exit 0
fi

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
