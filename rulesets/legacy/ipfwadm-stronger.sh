#!/bin/sh
#
# rc.firewall-ipfwadm-stronger -- a tighter ruleset for a Linux 2.0
# masquerading gateway, to be used once rc.firewall-ipfwadm works.
#
# Scenario: eth0 faces the ISP with a static address (203.0.113.7), eth1
# is the office LAN (192.168.0.0/24), eth2 a lab segment
# (192.168.1.0/24) that may reach the gateway but is NOT masqueraded.
#
#   input:   LAN traffic in on eth1, ssh/smtp/www to the gateway, TCP
#            packets with ACK set (answers to our own and masqueraded
#            connections), UDP answers, a few ICMP types; anything
#            claiming a LAN source on eth0 is refused and logged;
#            everything else is refused (ICMP port unreachable).
#   output:  to the LANs, from our own external address, loopback;
#            un-masqueraded LAN addresses must never leave on eth0.
#   forward: masquerade the office LAN, refuse the rest (and log it).
#
# Remember that on 2.0 the input firewall sees every packet that comes
# in, also the ones that will be forwarded, and the output firewall sees
# every packet that goes out, forwarded ones after masquerading.
#
# Revision history:
#   0.76  2000-01-18  lab segment on eth2 may use the gateway
#   0.75  1999-07-04  answers to masqueraded UDP accepted (DNS!)
#   0.74  1999-02-11  interfaces by name (-W) instead of by address (-V):
#                     the address of ppp0 changes at every dial-up
#   0.70  1998-09-30  first version, derived from the simple script
#
FWVER="0.76"

echo -e "\nLoading rc.firewall-ipfwadm-stronger version $FWVER..\n"

IPFWADM=/sbin/ipfwadm
DEPMOD=/sbin/depmod
MODPROBE=/sbin/modprobe

EXTIF="eth0"
EXTIP="203.0.113.7"
INTIF="eth1"
INTIP="192.168.0.1"
INTNET="192.168.0.0/24"
LABIF="eth2"
LABNET="192.168.1.0/24"
UNIVERSE="0.0.0.0/0"

echo "   External: $EXTIF ($EXTIP)"
echo "   Internal: $INTIF ($INTIP, $INTNET), lab: $LABIF ($LABNET)"

$DEPMOD -a
$MODPROBE ip_masq_ftp

echo "1" > /proc/sys/net/ipv4/ip_forward
echo "1" > /proc/sys/net/ipv4/ip_always_defrag

$IPFWADM -M -s 7200 10 60

#----------------------------------------------------------------------
# Incoming packets (all of them, also those to be forwarded)
#----------------------------------------------------------------------
echo "   input rules.."
$IPFWADM -I -f
$IPFWADM -I -p reject

# the LANs may send anything (it still has to pass the forward rules)
$IPFWADM -I -a accept -W $INTIF -S $INTNET -D $UNIVERSE
$IPFWADM -I -a accept -W $LABIF -S $LABNET -D $UNIVERSE

# spoofed LAN addresses from the outside
$IPFWADM -I -a reject -W $EXTIF -S $INTNET -D $UNIVERSE -o

# loopback
$IPFWADM -I -a accept -W lo -S $UNIVERSE -D $UNIVERSE

# public services of the gateway: ssh, smtp, www
$IPFWADM -I -a accept -P tcp -W $EXTIF -S $UNIVERSE -D $EXTIP 22 25 80

# TCP answers (ACK set) to connections we or the LAN opened
$IPFWADM -I -a accept -P tcp -k -W $EXTIF -S $UNIVERSE -D $EXTIP

# UDP answers (DNS, NTP) on unprivileged ports
$IPFWADM -I -a accept -P udp -W $EXTIF -S $UNIVERSE -D $EXTIP 1024:65535

# ICMP: echo-reply, destination-unreachable, time-exceeded
$IPFWADM -I -a accept -P icmp -W $EXTIF -S $UNIVERSE 0 3 11 -D $EXTIP

# everything else is refused and logged
$IPFWADM -I -a reject -S $UNIVERSE -D $UNIVERSE -o

#----------------------------------------------------------------------
# Outgoing packets (also forwarded ones, after masquerading)
#----------------------------------------------------------------------
echo "   output rules.."
$IPFWADM -O -f
$IPFWADM -O -p reject

$IPFWADM -O -a accept -W $INTIF -S $UNIVERSE -D $INTNET
$IPFWADM -O -a accept -W $LABIF -S $UNIVERSE -D $LABNET

# LAN addresses must never appear on the outside
$IPFWADM -O -a reject -W $EXTIF -S $UNIVERSE -D $INTNET -o
$IPFWADM -O -a reject -W $EXTIF -S $INTNET -D $UNIVERSE -o

$IPFWADM -O -a accept -W $EXTIF -S $EXTIP -D $UNIVERSE
$IPFWADM -O -a accept -W lo -S $UNIVERSE -D $UNIVERSE

$IPFWADM -O -a reject -S $UNIVERSE -D $UNIVERSE -o

#----------------------------------------------------------------------
# Forwarding: only the office LAN, masqueraded
#----------------------------------------------------------------------
echo "   forward rules.."
$IPFWADM -F -f
$IPFWADM -F -p reject

$IPFWADM -F -a masquerade -W $EXTIF -S $INTNET -D $UNIVERSE
$IPFWADM -F -a reject -S $UNIVERSE -D $UNIVERSE -o

echo -e "\nrc.firewall-ipfwadm-stronger v$FWVER done.\n"
