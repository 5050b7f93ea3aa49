#!/bin/sh
#
# rc.firewall-tproxy -- transparent web proxy on a Linux 2.0 gateway.
#
# Scenario: a proxy listens on port 3128 of the gateway; web requests
# (TCP 80) from the LAN to anywhere but the gateway itself are handed to
# it ("-r 3128" on an input accept rule); the rest of the LAN is
# masqueraded.  The first matching input rule wins, so the exception for
# the gateway's own web server comes first.
#
# Needs CONFIG_IP_TRANSPARENT_PROXY (which also turns on
# CONFIG_IP_ALWAYS_DEFRAG).
#
# Revision history:
#   1.0  1998-07-13  first version
#
IPFWADM=/sbin/ipfwadm

EXTIF=eth0
INTIF=eth1
INTIP=192.168.0.1
INTNET=192.168.0.0/24

echo "1" > /proc/sys/net/ipv4/ip_forward

$IPFWADM -I -f
$IPFWADM -F -f
$IPFWADM -I -p accept
$IPFWADM -O -p accept
$IPFWADM -F -p deny

$IPFWADM -I -a accept -P tcp -W $INTIF -S $INTNET -D $INTIP 80
$IPFWADM -I -a accept -P tcp -W $INTIF -S $INTNET -D 0.0.0.0/0 80 -r 3128

$IPFWADM -F -a m -W $EXTIF -S $INTNET -D 0.0.0.0/0
