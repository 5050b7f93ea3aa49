#!/bin/sh
#
# rc.firewall-mfw -- forwarding by firewall mark on a Linux 2.2 gateway
# (ipchains -m plus ipmasqadm mfw, CONFIG_IP_MASQUERADE_MFW).
#
# Scenario: new connections to port 8080 of the external address
# 203.0.113.7 are marked 1 and sent to the web server 192.168.0.20 port
# 80; new ssh connections to port 2222 coming from the partner office
# (198.51.100.50) only are marked 2 and sent to 192.168.0.21 port 22.
# mfw acts on the first packet of a connection, hence -y on the marking
# rules.  The marking rules have no target: they mark and go on.
#
# As with portfw, the internal servers' answers must be masqueraded: the
# LAN's MASQ rule covers them.
#
# Revision history:
#   1.1  2001-01-29  ssh for the partner office
#   1.0  2000-11-02  first version
#
IPCHAINS=/sbin/ipchains
IPMASQADM=/usr/sbin/ipmasqadm

EXTIF=eth0
EXTIP=203.0.113.7
INTNET=192.168.0.0/24
PARTNER=198.51.100.50

echo "1" > /proc/sys/net/ipv4/ip_forward

$IPCHAINS -F input
$IPCHAINS -F forward
$IPCHAINS -P input ACCEPT
$IPCHAINS -P output ACCEPT
$IPCHAINS -P forward DENY

$IPCHAINS -A input -i $EXTIF -p tcp -y -d $EXTIP/32 8080 -m 1
$IPCHAINS -A input -i $EXTIF -p tcp -y -s $PARTNER/32 -d $EXTIP/32 2222 -m 2

$IPCHAINS -A forward -i $EXTIF -s $INTNET -j MASQ

$IPMASQADM mfw -F
$IPMASQADM mfw -A -m 1 -r 192.168.0.20 80
$IPMASQADM mfw -A -m 2 -r 192.168.0.21 22
