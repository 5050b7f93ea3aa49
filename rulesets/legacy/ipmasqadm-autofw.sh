#!/bin/sh
#
# rc.firewall-autofw -- auto-forwarding on a Linux 2.2 gateway
# (ipmasqadm autofw, CONFIG_IP_MASQUERADE_IPAUTOFW).
#
# Scenario: RealAudio clients on the LAN open TCP 7070 to the server and
# expect the audio on UDP 6970-7170; autofw forwards those UDP ports to
# the LAN host that last used the control port (and only from the server
# it contacted).  An X display box (192.168.0.21) receives TCP 6000-6010
# statically.
#
# Revision history:
#   1.0  1999-11-22  first version
#
IPCHAINS=/sbin/ipchains
IPMASQADM=/usr/sbin/ipmasqadm

EXTIF=eth0
INTNET=192.168.0.0/24

echo "1" > /proc/sys/net/ipv4/ip_forward

$IPCHAINS -P input ACCEPT
$IPCHAINS -P output ACCEPT
$IPCHAINS -P forward DENY
$IPCHAINS -F forward
$IPCHAINS -A forward -i $EXTIF -s $INTNET -j MASQ

$IPMASQADM autofw -F
$IPMASQADM autofw -A -r udp 6970 7170 -c tcp 7070
$IPMASQADM autofw -A -r tcp 6000 6010 -h 192.168.0.21
