#!/bin/sh
#
# rc.firewall-icmp -- a Linux 2.2 gateway that lets only the useful ICMP
# messages in from the Internet, by type and code ranges.
#
# Scenario: eth0 external (203.0.113.7), eth1 LAN 192.168.0.0/24,
# masqueraded.  From outside: echo replies, destination-unreachable,
# source-quench and redirect (but no network or host redirects), time
# exceeded and parameter problem, and pings to the gateway itself; every
# other ICMP message is logged and denied.  ipchains takes the ICMP type
# where a source port would be, and the code where a destination port
# would be.
#
# Revision history:
#   1.0  1999-11-21  first version
#   1.1  2000-01-09  no network/host redirects (codes 0:1)
#
IPCHAINS=/sbin/ipchains
EXTIF="eth0"
EXTIP="203.0.113.7"
INTNET="192.168.0.0/24"

echo "1" > /proc/sys/net/ipv4/ip_forward

$IPCHAINS -F input
$IPCHAINS -P input ACCEPT
$IPCHAINS -A input -i $EXTIF -p icmp -s 0/0 5 -d 0/0 0:1 -l -j DENY
$IPCHAINS -A input -i $EXTIF -p icmp -s 0/0 0 -j ACCEPT
$IPCHAINS -A input -i $EXTIF -p icmp -s 0/0 3:5 -j ACCEPT
$IPCHAINS -A input -i $EXTIF -p icmp -s 0/0 11:12 -j ACCEPT
$IPCHAINS -A input -i $EXTIF -p icmp -s 0/0 echo-request -d $EXTIP/32 -j ACCEPT
$IPCHAINS -A input -i $EXTIF -p icmp -l -j DENY

$IPCHAINS -P output ACCEPT
$IPCHAINS -F forward
$IPCHAINS -P forward ACCEPT
$IPCHAINS -A forward -i $EXTIF -s $INTNET -j MASQ
