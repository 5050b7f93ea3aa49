#!/bin/sh
#
# legacy-pitfall-forward-iface-out.sh -- lab-owned script.
# legacy-semantics.md section 3, pitfall 2 (and `! -y`).
#
# In the ipchains forward chain, -i is the OUTGOING interface.  The
# office LAN (eth1) may open TCP connections to the workshop LAN (eth2):
# packets leaving by eth2 towards 192.168.1.0/24 are accepted; packets
# leaving by eth1 from the workshop are accepted only when they are not
# connection requests (! -y), i.e. answers.  A translation using the
# incoming interface would block the office and let nothing back.
#
IPCHAINS=ipchains
EXTIF=eth0
INTNET=192.168.0.0/24
LABNET=192.168.1.0/24

echo "1" > /proc/sys/net/ipv4/ip_forward

$IPCHAINS -P input ACCEPT
$IPCHAINS -P output ACCEPT
$IPCHAINS -P forward DENY

$IPCHAINS -A forward -i eth2 -s $INTNET -d $LABNET -j ACCEPT
$IPCHAINS -A forward -i eth1 -p tcp -s $LABNET -d $INTNET ! -y -j ACCEPT
$IPCHAINS -A forward -i $EXTIF -s $INTNET -j MASQ
