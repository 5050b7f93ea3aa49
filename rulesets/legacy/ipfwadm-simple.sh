#!/bin/sh
#
# rc.firewall-ipfwadm -- first-light IP masquerading for a Linux 2.0 gateway
#
# Scenario: eth0 faces the ISP (203.0.113.7), eth1 is the LAN
# (192.168.0.0/24, the gateway is .1).  Every LAN host may go out,
# masqueraded behind the gateway's address.  The input and output
# firewalls are left at "accept" on purpose: this script is only meant to
# prove that masquerading works before a stronger one is put in place.
#
# Needs a 2.0.x kernel with CONFIG_IP_FORWARD, CONFIG_IP_FIREWALL and
# CONFIG_IP_MASQUERADE, and ipfwadm 2.3.0.
#
# Revision history:
#   1.4  1999-03-02  masquerading timeouts raised for long telnet sessions
#   1.3  1998-11-20  ip_always_defrag on (helps masqueraded NFS)
#   1.2  1998-06-14  load the FTP masq module
#   1.1  1997-12-01  interface names in variables
#   1.0  1997-08-09  first version
#
FWVER="1.4"

echo -e "\n\nLoading simple rc.firewall-ipfwadm version $FWVER..\n"

IPFWADM=/sbin/ipfwadm
DEPMOD=/sbin/depmod
MODPROBE=/sbin/modprobe

EXTIF="eth0"
INTIF="eth1"
INTNET="192.168.0.0/24"

echo "   External Interface:  $EXTIF"
echo "   Internal Interface:  $INTIF"
echo "   Internal Network:    $INTNET"

# FTP is the one protocol everybody needs; the other ip_masq_* modules
# (raudio, irc, cuseeme, vdolive, quake) are left out until someone asks.
echo "   Loading modules.."
$DEPMOD -a
$MODPROBE ip_masq_ftp

echo "   Enabling forwarding.."
echo "1" > /proc/sys/net/ipv4/ip_forward

# Masquerading timeouts: 2 hours for TCP sessions, 10 seconds after the
# FIN, 160 seconds for UDP.
echo "   Setting masquerading timeouts.."
$IPFWADM -M -s 7200 10 160

# Start from a clean slate.  The forward policy is "deny" so that only
# what is masqueraded below can cross the gateway.
echo "   Clearing the firewalls and setting the policies.."
$IPFWADM -I -f
$IPFWADM -O -f
$IPFWADM -F -f
$IPFWADM -I -p accept
$IPFWADM -O -p accept
$IPFWADM -F -p deny

echo "   Enabling IP masquerading for $INTNET on $EXTIF.."
$IPFWADM -F -a masquerade -W $EXTIF -S $INTNET -D 0.0.0.0/0

echo -e "\nrc.firewall-ipfwadm v$FWVER done.\n"
