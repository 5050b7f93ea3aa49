#!/bin/sh
#
# legacy-pitfall-input-sees-forward.sh -- lab-owned script (not a HOWTO
# example).  legacy-semantics.md section 3, pitfall 1.
#
# On Linux 2.2 the ipchains input chain sees EVERY incoming packet, also
# those that will be forwarded.  So an input rule denies forwarded
# traffic: 192.168.0.20 cannot go out at all, and SMTP from the LAN to the
# outside is refused by the input chain (REJECT there = ICMP port
# unreachable) before the forward chain is ever consulted.  A translation
# to an nft "hook input" chain would let both through.
#
IPCHAINS=ipchains
EXTIF=eth0
INTIF=eth1
INTNET=192.168.0.0/24

echo "1" > /proc/sys/net/ipv4/ip_forward

$IPCHAINS -P input ACCEPT
$IPCHAINS -P output ACCEPT
$IPCHAINS -P forward DENY

$IPCHAINS -A input -i $INTIF -s 192.168.0.20/32 -j DENY
$IPCHAINS -A input -i $INTIF -p tcp -s $INTNET -d 0.0.0.0/0 25 -j REJECT

$IPCHAINS -A forward -i $EXTIF -s $INTNET -j MASQ
