#!/bin/sh
#
# rc.firewall-multilan -- one Linux 2.2 gateway, two internal networks,
# both masqueraded, and free traffic between them.
#
# Scenario: eth0 external (203.0.113.7), eth1 office LAN 192.168.0.0/24,
# eth2 workshop LAN 192.168.1.0/24.  Each LAN may reach the other and the
# Internet.
#
# NOTE (2.2): in the forward chain "-i" is the interface the packet will
# LEAVE by.  "-i eth1 -d 192.168.0.0/24" therefore means "anything being
# forwarded towards the office LAN" -- from the workshop LAN, but also
# from the Internet: whoever can route 192.168.0.0/24 to us gets in.
#
# Revision history:
#   1.1  2000-08-21  workshop LAN on eth2
#   1.0  1999-12-12  first version (office LAN only)
#
IPCHAINS=/sbin/ipchains

EXTIF="eth0"
INTIF="eth1"
INTNET="192.168.0.0/24"
INT2IF="eth2"
INT2NET="192.168.1.0/24"

echo "Loading rc.firewall-multilan.."

/sbin/depmod -a
/sbin/modprobe ip_masq_ftp

echo "1" > /proc/sys/net/ipv4/ip_forward
echo "1" > /proc/sys/net/ipv4/ip_always_defrag

$IPCHAINS -M -S 7200 10 160

$IPCHAINS -P input ACCEPT
$IPCHAINS -P output ACCEPT
$IPCHAINS -P forward DENY
$IPCHAINS -F input
$IPCHAINS -F output
$IPCHAINS -F forward

# the internal networks may talk to each other
$IPCHAINS -A forward -i $INTIF -d $INTNET -j ACCEPT
$IPCHAINS -A forward -i $INT2IF -d $INT2NET -j ACCEPT

# both are masqueraded to the Internet
$IPCHAINS -A forward -j MASQ -i $EXTIF -s $INTNET -d 0.0.0.0/0
$IPCHAINS -A forward -j MASQ -i $EXTIF -s $INT2NET -d 0.0.0.0/0

echo "done."
