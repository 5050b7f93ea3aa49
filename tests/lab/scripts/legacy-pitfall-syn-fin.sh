#!/bin/sh
#
# legacy-pitfall-syn-fin.sh -- lab-owned script.
# legacy-semantics.md section 3, pitfall 12 (-y is not --syn).
#
# The gateway routes a public block 192.168.0.0/24 (not masqueraded) and
# refuses connection requests from the outside to it: "-y" on the input
# chain.  2.2's -y is SYN set with ACK and RST clear -- FIN is ignored, so
# a SYN+FIN segment (an old scanner trick that many stacks accept as a
# connection request) is denied as well.  iptables' --syn also requires
# FIN clear and would let SYN+FIN through.  Answers (SYN+ACK, ACK) pass.
#
IPCHAINS=ipchains
EXTIF=eth0
LAN=192.168.0.0/24

echo "1" > /proc/sys/net/ipv4/ip_forward

$IPCHAINS -P input ACCEPT
$IPCHAINS -P output ACCEPT
$IPCHAINS -P forward ACCEPT

$IPCHAINS -A input -i $EXTIF -p tcp -d $LAN -y -j DENY
