#!/bin/sh
#
# rc.firewall-ipchains-stronger -- a tighter ruleset for a Linux 2.2
# masquerading gateway, to be used once rc.firewall-ipchains works.
#
# Scenario: eth0 faces the ISP with a static address (203.0.113.7), eth1
# is the LAN (192.168.0.0/24).  eth2 exists (a lab segment) but nothing
# in this script lets it use the gateway.
#
#   input:   anything from the LAN; ssh and www to the gateway; answers
#            to masqueraded connections, which on 2.2 always arrive on the
#            masquerading port range 61000-65096; ICMP to the gateway;
#            LAN sources on eth0 are spoofed: denied and logged; the rest
#            is refused (REJECT) and logged.
#   output:  to the LAN, from our external address, loopback; LAN
#            addresses must never leave on eth0 un-masqueraded.
#   forward: no outgoing SMTP from the LAN (the ISP's relay must be
#            used), masquerade the LAN, refuse and log everything else.
#
# 2.2 reminders: the input chain sees every incoming packet (forwarded
# ones too, and answers to masqueraded connections before they are
# demasqueraded), the output chain every outgoing one (forwarded ones
# after MASQ), and "-i" names the OUTGOING interface in forward/output.
#
# Revision history:
#   0.77  2001-02-20  outgoing SMTP from the LAN refused (spam relays)
#   0.76  2000-09-12  only the masquerading port range is open to the world
#   0.75  2000-03-01  logging of refused packets
#   0.70  1999-06-30  first version, derived from rc.firewall-ipchains
#
FWVER=0.77

echo -e "\nLoading rc.firewall-ipchains-stronger : version $FWVER..\n"

IPCHAINS=/sbin/ipchains
DEPMOD=/sbin/depmod
MODPROBE=/sbin/modprobe

EXTIF="eth0"
EXTIP="203.0.113.7"
INTIF="eth1"
INTIP="192.168.0.1/32"
INTNET="192.168.0.0/24"
UNIVERSE="0.0.0.0/0"
MASQPORTS="61000:65096"

echo "  External Interface: $EXTIF ($EXTIP)"
echo "  Internal Interface: $INTIF"
echo "  Internal IP:        $INTIP"
echo "  Internal Network:   $INTNET"

$DEPMOD -a
$MODPROBE ip_masq_ftp

echo "1" > /proc/sys/net/ipv4/ip_forward
echo "1" > /proc/sys/net/ipv4/ip_always_defrag

# 2 hours TCP, 10 s after FIN, 60 s UDP
$IPCHAINS -M -S 7200 10 60

#######################################################################
# Incoming
#######################################################################
echo "  - input rules.."
$IPCHAINS -F input
$IPCHAINS -P input REJECT

# LAN hosts may talk to anything (forward rules still apply)
$IPCHAINS -A input -i $INTIF -s $INTNET -d $UNIVERSE -j ACCEPT

# spoofing: LAN addresses coming in from the outside
$IPCHAINS -A input -i $EXTIF -s $INTNET -d $UNIVERSE -l -j DENY

# loopback
$IPCHAINS -A input -i lo -s $UNIVERSE -d $UNIVERSE -j ACCEPT

# ssh and www on the gateway itself
$IPCHAINS -A input -i $EXTIF -p tcp -s $UNIVERSE -d $EXTIP/32 22 -j ACCEPT
$IPCHAINS -A input -i $EXTIF -p tcp -s $UNIVERSE -d $EXTIP/32 80 -j ACCEPT

# answers to masqueraded connections (and FTP data connections the
# ip_masq_ftp module announced) come in on the masquerading ports
$IPCHAINS -A input -i $EXTIF -p tcp -s $UNIVERSE -d $EXTIP/32 $MASQPORTS -j ACCEPT
$IPCHAINS -A input -i $EXTIF -p udp -s $UNIVERSE -d $EXTIP/32 $MASQPORTS -j ACCEPT

# ICMP to the gateway (answers to masqueraded pings included)
$IPCHAINS -A input -i $EXTIF -p icmp -s $UNIVERSE -d $EXTIP/32 -j ACCEPT

# everything else: refuse and log
$IPCHAINS -A input -s $UNIVERSE -d $UNIVERSE -l -j REJECT

#######################################################################
# Outgoing
#######################################################################
echo "  - output rules.."
$IPCHAINS -F output
$IPCHAINS -P output REJECT

$IPCHAINS -A output -i $INTIF -s $UNIVERSE -d $INTNET -j ACCEPT

# LAN addresses must never leave on the outside
$IPCHAINS -A output -i $EXTIF -s $UNIVERSE -d $INTNET -l -j REJECT
$IPCHAINS -A output -i $EXTIF -s $INTNET -d $UNIVERSE -l -j REJECT

$IPCHAINS -A output -i $EXTIF -s $EXTIP/32 -d $UNIVERSE -j ACCEPT
$IPCHAINS -A output -i lo -s $UNIVERSE -d $UNIVERSE -j ACCEPT

$IPCHAINS -A output -s $UNIVERSE -d $UNIVERSE -l -j REJECT

#######################################################################
# Forwarding
#######################################################################
echo "  - forward rules.."
$IPCHAINS -F forward
$IPCHAINS -P forward DENY

# the LAN must use the ISP's mail relay
$IPCHAINS -A forward -p tcp -s $INTNET -d $UNIVERSE smtp -j REJECT

$IPCHAINS -A forward -i $EXTIF -s $INTNET -d $UNIVERSE -j MASQ
$IPCHAINS -A forward -s $UNIVERSE -d $UNIVERSE -l -j REJECT

echo -e "\nrc.firewall-ipchains-stronger v$FWVER done.\n"
