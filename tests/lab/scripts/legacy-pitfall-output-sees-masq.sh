#!/bin/sh
#
# legacy-pitfall-output-sees-masq.sh -- lab-owned script.
# legacy-semantics.md section 3, pitfall 1 (output half).
#
# On Linux 2.2 the output chain sees forwarded packets AFTER MASQ (source
# = the gateway's external address) and demasqueraded answers AFTER the
# rewrite (destination = the LAN host).  So:
#   - "-s 192.168.0.0/24 on eth0: DENY" only catches LAN addresses that
#     leak un-masqueraded; masqueraded traffic passes;
#   - "-s 203.0.113.7 to 198.51.100.50 port 443: DENY" stops the LAN's
#     masqueraded https to that host too (and the gateway's own);
#   - "to 192.168.0.20 on eth1: DENY" kills every answer of the masqueraded
#     connections of that host.
#
IPCHAINS=ipchains
EXTIF=eth0
EXTIP=203.0.113.7
INTIF=eth1
INTNET=192.168.0.0/24

echo "1" > /proc/sys/net/ipv4/ip_forward

$IPCHAINS -P input ACCEPT
$IPCHAINS -P output ACCEPT
$IPCHAINS -P forward DENY

$IPCHAINS -A output -i $EXTIF -s $INTNET -d 0.0.0.0/0 -j DENY
$IPCHAINS -A output -i $EXTIF -p tcp -s $EXTIP/32 -d 198.51.100.50/32 443 -j DENY
$IPCHAINS -A output -i $INTIF -d 192.168.0.20/32 -j DENY

$IPCHAINS -A forward -i $EXTIF -s $INTNET -j MASQ
