#!/bin/sh
#
# rc.portfw-range -- forward a whole range of ports from a Linux 2.0
# gateway to one internal host with ipportfw, in a loop instead of one
# line per port.
#
# Scenario: a video-conferencing box on the LAN (192.168.0.21) answers on
# TCP 6000-6010; the gateway (eth0, 203.0.113.7) masquerades the LAN.
# The loop counts with expr, as /bin/sh on 2.0-era systems had no $(( )).
#
# Revision history:
#   1.1  2000-02-14  range widened to 6010
#   1.0  1999-11-30  first version
#
IPFWADM=/sbin/ipfwadm
IPPORTFW=/usr/local/sbin/ipportfw

EXTIF=eth0
EXTIP=203.0.113.7
INTNET=192.168.0.0/24
TARGET=192.168.0.21
FIRST=6000
LAST=6010

echo "1" > /proc/sys/net/ipv4/ip_forward

$IPFWADM -F -f
$IPFWADM -F -p deny
$IPFWADM -F -a masq -W $EXTIF -S $INTNET -D 0.0.0.0/0

$IPPORTFW -C

echo -n "Forwarding ports $FIRST-$LAST to $TARGET: "
port=$FIRST
while [ $port -le $LAST ]
do
	$IPPORTFW -A -t$EXTIP/$port -R $TARGET/$port
	echo -n "$port "
	port=`expr $port + 1`
done
echo "done."
