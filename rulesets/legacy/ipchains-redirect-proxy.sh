#!/bin/sh
#
# rc.firewall-tproxy -- transparent web proxy on a Linux 2.2 gateway.
#
# Scenario: squid listens on port 3128 of the gateway.  Every web request
# (TCP 80) a LAN host sends to the outside is diverted into squid without
# configuring the browsers; requests to the gateway's own web server
# (192.168.0.1:80) are left alone.  Everything else from the LAN is
# masqueraded as usual.
#
# Needs CONFIG_IP_TRANSPARENT_PROXY and CONFIG_IP_ALWAYS_DEFRAG.  squid
# needs "httpd_accel_uses_host_header on" and friends.
#
# Revision history:
#   1.1  2000-12-01  do not divert requests for the gateway's own server
#   1.0  2000-09-20  first version
#
IPCHAINS=/sbin/ipchains

EXTIF="eth0"
INTIF="eth1"
INTIP="192.168.0.1"
INTNET="192.168.0.0/24"
PROXYPORT=3128

echo "1" > /proc/sys/net/ipv4/ip_forward
echo "1" > /proc/sys/net/ipv4/ip_always_defrag

$IPCHAINS -F input
$IPCHAINS -F forward
$IPCHAINS -P input ACCEPT
$IPCHAINS -P output ACCEPT
$IPCHAINS -P forward DENY

# the gateway's own web server is reached directly
$IPCHAINS -A input -i $INTIF -p tcp -s $INTNET -d $INTIP 80 -j ACCEPT
# every other web request from the LAN goes into squid
$IPCHAINS -A input -i $INTIF -p tcp -s $INTNET -d 0.0.0.0/0 80 -j REDIRECT $PROXYPORT

$IPCHAINS -A forward -i $EXTIF -s $INTNET -j MASQ
