#!/bin/sh
#
# rc.firewall-ipchains -- first-light IP masquerading for a Linux 2.2 gateway
#
# Scenario: eth0 faces the ISP (203.0.113.7), eth1 is the LAN
# (192.168.0.0/24, the gateway is .1).  The LAN is masqueraded behind the
# gateway; the input and output chains stay wide open while testing.
#
# Needs a 2.2.x kernel with CONFIG_IP_FIREWALL, CONFIG_IP_MASQUERADE,
# CONFIG_IP_ALWAYS_DEFRAG, and ipchains 1.3.10 or newer.
#
# Revision history:
#   1.23  2000-05-02  forward policy REJECT while flushing, DENY after
#   1.22  1999-12-10  ip_always_defrag (mandatory for MASQ on 2.2)
#   1.21  1999-08-15  FTP masq module loaded explicitly
#   1.20  1999-04-01  converted from rc.firewall-ipfwadm
#
FWVER="1.23"

echo -e "\n\nLoading simple rc.firewall-ipchains : version $FWVER..\n"

IPCHAINS=/sbin/ipchains
DEPMOD=/sbin/depmod
MODPROBE=/sbin/modprobe

EXTIF="eth0"
INTIF="eth1"
INTLAN="192.168.0.0/24"

echo "   External Interface:  $EXTIF"
echo "   Internal Interface:  $INTIF"
echo -e "   Internal Network:    $INTLAN\n"

echo "   loading required IPMASQ kernel modules.."
$DEPMOD -a
echo -en "   Loading modules: "
echo -en "FTP, "
$MODPROBE ip_masq_ftp
echo ".  Done loading modules."

echo "   enabling forwarding.."
echo "1" > /proc/sys/net/ipv4/ip_forward

echo "   enabling AlwaysDefrag.."
echo "1" > /proc/sys/net/ipv4/ip_always_defrag

# While the chains are being rebuilt nothing may cross the gateway
# (REJECT makes a half-loaded firewall easy to notice); the final forward
# policy is DENY.
echo "   clearing any existing rules and setting default policy.."
$IPCHAINS -P input ACCEPT
$IPCHAINS -P output ACCEPT
$IPCHAINS -P forward REJECT
$IPCHAINS -F input
$IPCHAINS -F output
$IPCHAINS -F forward

echo "   enabling IPMASQ functionality on $EXTIF"
$IPCHAINS -P forward DENY
$IPCHAINS -A forward -i $EXTIF -s $INTLAN -j MASQ

echo -e "\nrc.firewall-ipchains v$FWVER done.\n"
