#!/bin/sh
#
# rc.firewall-helpers -- masquerading helper modules on a Linux 2.2
# gateway: FTP (also on a second port) and IRC (DCC), plus RealAudio.
#
# Scenario: eth0 external, eth1 LAN 192.168.0.0/24 masqueraded.  Some
# users reach an FTP server on port 2121 and an IRC network on 7000, so
# the modules are told about those ports too ("ports=" takes up to 12).
#
# Revision history:
#   1.2  2001-05-30  IRC on 7000 as well
#   1.1  2000-10-04  FTP on 2121
#   1.0  2000-02-02  first version
#
IPCHAINS=/sbin/ipchains
MODPROBE=/sbin/modprobe

EXTIF=eth0
INTNET=192.168.0.0/24

echo -n "Loading masquerading modules: "
/sbin/depmod -a
echo -n "ftp "
$MODPROBE ip_masq_ftp ports=21,2121
echo -n "irc "
$MODPROBE ip_masq_irc ports=6667,7000
echo -n "raudio "
$MODPROBE ip_masq_raudio
echo "."

echo "1" > /proc/sys/net/ipv4/ip_forward
echo "1" > /proc/sys/net/ipv4/ip_always_defrag

$IPCHAINS -P input ACCEPT
$IPCHAINS -P output ACCEPT
$IPCHAINS -P forward DENY
$IPCHAINS -F forward
$IPCHAINS -A forward -i $EXTIF -s $INTNET -j MASQ
