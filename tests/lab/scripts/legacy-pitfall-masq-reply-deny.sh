#!/bin/sh
#
# legacy-pitfall-masq-reply-deny.sh -- lab-owned script.
# legacy-semantics.md section 3, pitfall 3.
#
# The first forward rule denies everything that leaves by eth1 (towards
# the LAN).  On 2.2 answers to masqueraded connections are demasqueraded
# and skip the forward chain entirely (ICMP errors about them too), so the
# LAN still browses; only unsolicited forwarded traffic towards the LAN
# is denied.
#
IPCHAINS=ipchains
EXTIF=eth0
INTIF=eth1
INTNET=192.168.0.0/24

echo "1" > /proc/sys/net/ipv4/ip_forward

$IPCHAINS -P input ACCEPT
$IPCHAINS -P output ACCEPT
$IPCHAINS -P forward DENY

$IPCHAINS -A forward -i $INTIF -j DENY
$IPCHAINS -A forward -i $EXTIF -s $INTNET -j MASQ
