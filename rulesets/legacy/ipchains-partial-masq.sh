#!/bin/sh
#
# rc.firewall-partial -- a Linux 2.2 gateway that masquerades only two
# chosen hosts of the LAN.
#
# Scenario: eth0 external (203.0.113.7), eth1 LAN 192.168.0.0/24.  Only
# 192.168.0.20 and 192.168.0.21 may use the Internet; the rest of the LAN
# stays inside.
#
# Revision history:
#   1.0  2000-03-07  first version
#
IPCHAINS=ipchains
EXTIF="eth0"

echo "1" > /proc/sys/net/ipv4/ip_forward

$IPCHAINS -P input ACCEPT
$IPCHAINS -P output ACCEPT
$IPCHAINS -F forward
$IPCHAINS -P forward DENY
$IPCHAINS -A forward -i $EXTIF -s 192.168.0.20/32 -j MASQ
$IPCHAINS -A forward -i $EXTIF -s 192.168.0.21/32 -j MASQ
