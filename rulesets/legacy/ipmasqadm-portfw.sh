#!/bin/sh
#
# rc.firewall-portfw -- masquerading plus port forwarding on a Linux 2.2
# gateway with ipchains and ipmasqadm portfw
# (CONFIG_IP_MASQUERADE_MOD, CONFIG_IP_MASQUERADE_IPPORTFW).
#
# Scenario: the LAN's web server (192.168.0.20:80) is published as port
# 8080 of the gateway's external address 203.0.113.7; a game server on
# 192.168.0.21 needs TCP 6000-6003 and UDP 27015.
#
# "All in-firewall forwarding takes place by reverse-masquerading" (the
# ipmasqadm manual): the answers of the internal servers cross the
# forward chain and must hit a MASQ rule.  The LAN's MASQ rule does that.
#
# Revision history:
#   1.3  2000-10-10  game server: one portfw line per port
#   1.2  2000-01-05  flush the portfw table first (re-runnable)
#   1.1  1999-09-01  converted from ipportfw (2.0) to ipmasqadm (2.2)
#
FWVER="1.3"

echo "Loading rc.firewall-portfw version $FWVER.."

IPCHAINS=ipchains
IPMASQADM=/usr/sbin/ipmasqadm

EXTIF="eth0"
EXTIP="203.0.113.7"
INTNET="192.168.0.0/24"
PORTFWIP="192.168.0.20"
GAMEIP="192.168.0.21"

/sbin/depmod -a
/sbin/modprobe ip_masq_ftp
/sbin/modprobe ip_masq_portfw

echo "1" > /proc/sys/net/ipv4/ip_forward
echo "1" > /proc/sys/net/ipv4/ip_always_defrag

$IPCHAINS -P input ACCEPT
$IPCHAINS -P output ACCEPT
$IPCHAINS -P forward DENY
$IPCHAINS -F input
$IPCHAINS -F output
$IPCHAINS -F forward

$IPCHAINS -A forward -i $EXTIF -s $INTNET -j MASQ

echo "   Enabling PORTFW on $EXTIP.."
$IPMASQADM portfw -f
$IPMASQADM portfw -a -P tcp -L $EXTIP 8080 -R $PORTFWIP 80

$IPMASQADM portfw -a -P tcp -L $EXTIP 6000 -R $GAMEIP 6000
$IPMASQADM portfw -a -P tcp -L $EXTIP 6001 -R $GAMEIP 6001
$IPMASQADM portfw -a -P tcp -L $EXTIP 6002 -R $GAMEIP 6002
$IPMASQADM portfw -a -P tcp -L $EXTIP 6003 -R $GAMEIP 6003
$IPMASQADM portfw -a -P udp -L $EXTIP 27015 -R $GAMEIP 27015

echo "done."
