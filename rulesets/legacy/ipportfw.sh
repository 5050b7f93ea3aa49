#!/bin/sh
#
# rc.firewall-ipportfw -- masquerading plus port forwarding on a Linux
# 2.0 gateway, with Steven Clarke's ipportfw patch
# (CONFIG_IP_MASQUERADE_IPPORTFW).
#
# Scenario: the web server lives on the LAN (192.168.0.20, port 80) but
# the world knows it as port 8080 of the gateway's address 203.0.113.7;
# a game server on 192.168.0.21 needs TCP 6000-6003 and UDP 27015.
#
# Port forwarding is reverse masquerading: the answers of the internal
# servers must be masqueraded by a forward rule, exactly as if they had
# opened the connection themselves -- the masquerade rule for the LAN
# below covers them.
#
# Revision history:
#   1.2  1999-10-08  game server ports (one line per port, ipportfw has
#                    no ranges)
#   1.1  1999-01-21  web server moved behind the gateway
#   1.0  1998-08-02  first version
#
FWVER="1.2"

echo "Loading rc.firewall-ipportfw version $FWVER.."

IPFWADM=/sbin/ipfwadm
IPPORTFW=/usr/local/sbin/ipportfw
MODPROBE=/sbin/modprobe

EXTIF="eth0"
EXTIP="203.0.113.7"
INTIF="eth1"
INTNET="192.168.0.0/24"
WEBSERVER="192.168.0.20"
GAMESERVER="192.168.0.21"

/sbin/depmod -a
$MODPROBE ip_masq_ftp

echo "1" > /proc/sys/net/ipv4/ip_forward

$IPFWADM -I -f
$IPFWADM -O -f
$IPFWADM -F -f
$IPFWADM -I -p accept
$IPFWADM -O -p accept
$IPFWADM -F -p deny

# masquerade the LAN -- and with it the answers of the forwarded servers
$IPFWADM -F -a m -W $EXTIF -S $INTNET -D 0.0.0.0/0

echo "   Enabling IPPORTFW redirection on $EXTIP.."
$IPPORTFW -C

# www: 8080 on the outside is port 80 of the web server
$IPPORTFW -A -t$EXTIP/8080 -R $WEBSERVER/80

# the game server
$IPPORTFW -A -t$EXTIP/6000 -R $GAMESERVER/6000
$IPPORTFW -A -t$EXTIP/6001 -R $GAMESERVER/6001
$IPPORTFW -A -t$EXTIP/6002 -R $GAMESERVER/6002
$IPPORTFW -A -t$EXTIP/6003 -R $GAMESERVER/6003
$IPPORTFW -A -u$EXTIP/27015 -R $GAMESERVER/27015

echo "done."
