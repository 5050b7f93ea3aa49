#!/bin/sh
#
# rc.firewall-multilan -- a Linux 2.0 gateway with two internal networks,
# both masqueraded, with a bidirectional forward rule between them.
#
# Scenario: eth0 external (203.0.113.7), eth1 office LAN 192.168.0.0/24,
# eth2 workshop LAN 192.168.1.0/24.  "-b" makes one rule match both
# directions, so office <-> workshop traffic is forwarded unmasqueraded,
# and nothing else is let towards the LANs except answers to masqueraded
# connections.
#
# Revision history:
#   1.1  1998-12-03  one -b rule instead of two
#   1.0  1998-05-27  first version
#
IPFWADM=/sbin/ipfwadm

EXTIF="eth0"
INTNET="192.168.0.0/24"
INT2NET="192.168.1.0/24"
ANY="0.0.0.0/0"

echo "Loading rc.firewall-multilan (ipfwadm).."

/sbin/depmod -a
/sbin/modprobe ip_masq_ftp

echo "1" > /proc/sys/net/ipv4/ip_forward

$IPFWADM -M -s 7200 10 160

$IPFWADM -I -f
$IPFWADM -O -f
$IPFWADM -F -f
$IPFWADM -I -p accept
$IPFWADM -O -p accept
$IPFWADM -F -p deny

# office <-> workshop, both ways in one rule
$IPFWADM -F -a accept -b -S $INTNET -D $INT2NET

# both LANs masqueraded to the Internet
$IPFWADM -F -a masq -W $EXTIF -S $INTNET -D $ANY
$IPFWADM -F -a masq -W $EXTIF -S $INT2NET -D $ANY

echo "done."
