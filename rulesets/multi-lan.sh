#!/bin/sh
#
# multi-lan.sh -- one gateway, two masqueraded LANs
#
# Scenario: a small office.
#
#   eth0  outside, 203.0.113.7
#   eth1  office LAN 192.168.0.0/24   (staff, file server, printers)
#   eth2  guest LAN  192.168.1.0/24   (visitors' laptops, wireless AP)
#
# Both LANs are masqueraded out of eth0.  Between the LANs:
#
#   office -> guest   allowed (staff can reach the AP's admin page etc.)
#   guest  -> office  refused, except the two guest-network printers'
#                     print server on the office LAN (LPD/IPP/JetDirect)
#
# Guests only get the common Internet services (web, mail, DNS, ssh, VPN);
# the address block the AP hands to the front desk PCs gets everything.
#
# Revision history:
#   1.2  2005-06-30  front desk range (iprange) gets full access
#   1.1  2005-01-12  guest printing to the office print server
#   1.0  2004-11-05  second LAN on eth2
#
FWVER=1.2

echo "Loading multi-lan.sh version $FWVER .."

IPTABLES=iptables
MODPROBE=modprobe
LSMOD=lsmod

EXTIF="eth0"
EXTIP="203.0.113.7"

INTIF="eth1"
INTNET="192.168.0.0/24"
INTIP="192.168.0.1"

INTIF2="eth2"
INTNET2="192.168.1.0/24"
INTIP2="192.168.1.1"

# Front desk PCs on the guest LAN: fixed DHCP leases in this range.
FRONTDESK="192.168.1.100-192.168.1.119"
PRINTSERVER="192.168.0.5"
# The admin's laptop, which roams between both LANs.
ADMINMAC="00:00:5e:00:53:01"

# Services a guest may use on the Internet.
GUEST_TCP="22,25,53,80,110,143,443,465,587,993,995,1723"
GUEST_UDP="53,123,500,4500"

echo "   Office LAN: $INTIF $INTNET"
echo "   Guest LAN:  $INTIF2 $INTNET2 (front desk $FRONTDESK)"

for MOD in ip_tables ip_conntrack iptable_nat ip_conntrack_ftp ip_nat_ftp; do
	if [ -z "`$LSMOD | grep ^$MOD`" ]; then
		$MODPROBE $MOD
	fi
done

echo 1 > /proc/sys/net/ipv4/ip_forward

# Source validation on every interface: a packet whose source would not
# be routed back out of the interface it arrived on is dropped.  Cheaper
# than a spoofing rule per LAN.
for f in /proc/sys/net/ipv4/conf/*/rp_filter; do
	echo 1 > $f
done

echo "   Flushing, policies DROP .."
$IPTABLES -P INPUT DROP
$IPTABLES -P OUTPUT ACCEPT
$IPTABLES -P FORWARD DROP
$IPTABLES -F
$IPTABLES -t nat -F
$IPTABLES -X

#----------------------------------------------------------------------
# INPUT: the gateway itself.
#----------------------------------------------------------------------
$IPTABLES -A INPUT -i lo -j ACCEPT
$IPTABLES -A INPUT -m state --state ESTABLISHED,RELATED -j ACCEPT

# Windows browsing and other LAN multicast: silently ignored, would
# otherwise flood the log from both LANs.
$IPTABLES -A INPUT -m pkttype --pkt-type multicast -j DROP

# Office: anything.  Guests: DHCP and DNS only.
$IPTABLES -A INPUT -i $INTIF -s $INTNET -j ACCEPT
$IPTABLES -A INPUT -i $INTIF2 -p udp --sport 68 --dport 67 -j ACCEPT
$IPTABLES -A INPUT -i $INTIF2 -s $INTNET2 -d $INTIP2 -p udp --dport 53 -j ACCEPT
$IPTABLES -A INPUT -i $INTIF2 -s $INTNET2 -d $INTIP2 -p tcp --dport 53 -j ACCEPT
# ... and ssh from the admin laptop when it sits on the guest side.
$IPTABLES -A INPUT -i $INTIF2 -m mac --mac-source $ADMINMAC -p tcp --dport 22 -j ACCEPT

$IPTABLES -A INPUT -m limit --limit 3/minute -j LOG --log-prefix "mlan IN drop: "

#----------------------------------------------------------------------
# FORWARD
#----------------------------------------------------------------------
echo "   FORWARD rules .."
$IPTABLES -N guest-out
$IPTABLES -N lan-to-lan

$IPTABLES -A FORWARD -m state --state ESTABLISHED,RELATED -j ACCEPT

# Traffic between the two LANs goes through one chain, both directions.
$IPTABLES -A FORWARD -i $INTIF -o $INTIF2 -j lan-to-lan
$IPTABLES -A FORWARD -i $INTIF2 -o $INTIF -j lan-to-lan

# Office out.
$IPTABLES -A FORWARD -i $INTIF -o $EXTIF -s $INTNET -j ACCEPT

# Guests out, through their own chain.
$IPTABLES -A FORWARD -i $INTIF2 -o $EXTIF -s $INTNET2 -j guest-out

$IPTABLES -A FORWARD -m limit --limit 3/minute -j LOG --log-prefix "mlan FWD drop: "

# lan-to-lan: office may open anything towards the guest LAN; guests
# may only print.  A refusal is answered so that the guest's print
# dialog fails at once.
$IPTABLES -A lan-to-lan -s $INTNET -d $INTNET2 -j ACCEPT
$IPTABLES -A lan-to-lan -s $INTNET2 -d $PRINTSERVER -p tcp \
	-m multiport --dports 515,631,9100 -j ACCEPT
$IPTABLES -A lan-to-lan -j REJECT --reject-with icmp-net-prohibited

# guest-out: the front desk gets everything, other guests the list.
$IPTABLES -A guest-out -m iprange --src-range $FRONTDESK -j ACCEPT
$IPTABLES -A guest-out -p tcp -m multiport --dports $GUEST_TCP -j ACCEPT
$IPTABLES -A guest-out -p udp -m multiport --dports $GUEST_UDP -j ACCEPT
$IPTABLES -A guest-out -p gre -j ACCEPT
$IPTABLES -A guest-out -p icmp --icmp-type echo-request -j ACCEPT
$IPTABLES -A guest-out -p tcp -j REJECT --reject-with tcp-reset
$IPTABLES -A guest-out -j REJECT --reject-with icmp-host-prohibited

#----------------------------------------------------------------------
# NAT: both LANs out of the one address.  Traffic between the LANs is
# routed untranslated (POSTROUTING only matches -o $EXTIF).
#----------------------------------------------------------------------
echo "   NAT: masquerading both LANs on $EXTIF .."
$IPTABLES -t nat -A POSTROUTING -o $EXTIF -s $INTNET -j MASQUERADE
$IPTABLES -t nat -A POSTROUTING -o $EXTIF -s $INTNET2 -j MASQUERADE

echo "multi-lan.sh $FWVER done."
