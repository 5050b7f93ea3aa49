#!/bin/sh
#
# rc.firewall-share -- a Linux 2.2 gateway that shares incoming web and
# mail connections among inside servers with ipmasqadm's preferences
# (-p pref: how many connections in a row an entry takes before the next
# one's turn).
#
# Scenario: eth0 external (203.0.113.7), eth1 LAN 192.168.0.0/24.
# Web (tcp/80 of the external address): www1 192.168.0.20 takes two
# connections for every one of www2 192.168.0.21 (portfw).  Mail
# (tcp/25): connection requests are marked 3 by the input chain and
# shared one by one between 192.168.0.10 and 192.168.0.30 (mfw).
#
# Revision history:
#   1.0  2000-05-02  first version
#   1.1  2000-06-19  www2 is the older box: weight 1
#
IPCHAINS=/sbin/ipchains
IPMASQADM=/usr/sbin/ipmasqadm
EXTIF="eth0"
EXTIP="203.0.113.7"
INTNET="192.168.0.0/24"

/sbin/modprobe ip_masq_portfw
/sbin/modprobe ip_masq_mfw

echo "1" > /proc/sys/net/ipv4/ip_forward

$IPCHAINS -P input ACCEPT
$IPCHAINS -P output ACCEPT
$IPCHAINS -P forward DENY
$IPCHAINS -F forward
$IPCHAINS -A forward -i $EXTIF -s $INTNET -j MASQ

# mail: mark the connection requests for mfw
$IPCHAINS -F input
$IPCHAINS -A input -i $EXTIF -p tcp -y -d $EXTIP/32 25 -m 3

$IPMASQADM portfw -f
$IPMASQADM portfw -a -P tcp -L $EXTIP 80 -R 192.168.0.20 80 -p 2
$IPMASQADM portfw -a -P tcp -L $EXTIP 80 -R 192.168.0.21 80 -p 1

$IPMASQADM mfw -F
$IPMASQADM mfw -A -m 3 -r 192.168.0.10 25 -p 1
$IPMASQADM mfw -A -m 3 -r 192.168.0.30 25 -p 1
