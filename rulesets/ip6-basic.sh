#!/bin/sh
#
# ip6-basic.sh -- IPv6 filtering for the gateway (no NAT: IPv6 is routed)
#
# Scenario: the provider routes 2001:db8:1::/64 to us; eth1 carries that
# prefix to the LAN, eth0 is the uplink.  There is no masquerading in
# IPv6 -- LAN hosts have global addresses -- so the firewall is what
# keeps the outside from opening connections to them.
#
# Rules of thumb followed here:
#   - ICMPv6 is not optional: neighbour discovery, router advertisements
#     and "packet too big" must pass or IPv6 simply stops working;
#   - everything else inbound only if it belongs to a connection the
#     inside started;
#   - ssh to the gateway only from the LAN prefix.
#
# Revision history:
#   1.1  2005-11-20  packet-too-big forwarded, PMTU broke without it
#   1.0  2005-10-02  first version
#
FWVER=1.1

echo "Loading ip6-basic.sh version $FWVER .."

IP6TABLES=ip6tables
MODPROBE=modprobe
LSMOD=lsmod

EXTIF=eth0
INTIF=eth1
LANPREFIX=2001:db8:1::/64

for MOD in ip6_tables ip6table_filter nf_conntrack_ipv6; do
	if [ -z "`$LSMOD | grep ^$MOD`" ]; then
		$MODPROBE $MOD
	fi
done

echo 1 > /proc/sys/net/ipv6/conf/all/forwarding

echo "   Flushing, policies DROP .."
$IP6TABLES -P INPUT DROP
$IP6TABLES -P FORWARD DROP
$IP6TABLES -P OUTPUT ACCEPT
$IP6TABLES -F
$IP6TABLES -X

$IP6TABLES -N icmp6-needed

# The ICMPv6 IPv6 cannot live without (RFC 4890 keeps a longer list).
for T in destination-unreachable packet-too-big time-exceeded parameter-problem; do
	$IP6TABLES -A icmp6-needed -p icmpv6 --icmpv6-type $T -j ACCEPT
done
$IP6TABLES -A icmp6-needed -p icmpv6 --icmpv6-type echo-request -m limit --limit 10/second -j ACCEPT
$IP6TABLES -A icmp6-needed -p icmpv6 --icmpv6-type echo-reply -j ACCEPT

#----------------------------------------------------------------------
# INPUT
#----------------------------------------------------------------------
echo "   INPUT rules .."
$IP6TABLES -A INPUT -i lo -j ACCEPT
$IP6TABLES -A INPUT -m conntrack --ctstate INVALID -j DROP
$IP6TABLES -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT

# Neighbour discovery and router advertisements are link-local only: a
# router never forwards them, so they must arrive with hop limit 255.
for T in router-solicitation router-advertisement neighbour-solicitation neighbour-advertisement; do
	$IP6TABLES -A INPUT -p icmpv6 --icmpv6-type $T -m hl --hl-eq 255 -j ACCEPT
done
$IP6TABLES -A INPUT -j icmp6-needed

$IP6TABLES -A INPUT -i $INTIF -s $LANPREFIX -p tcp --dport 22 -m state --state NEW -j ACCEPT
# DHCPv6 and DNS for the LAN.
$IP6TABLES -A INPUT -i $INTIF -p udp --dport 547 -j ACCEPT
$IP6TABLES -A INPUT -i $INTIF -s $LANPREFIX -p udp --dport 53 -j ACCEPT

$IP6TABLES -A INPUT -m limit --limit 5/minute -j LOG --log-prefix "ip6 IN drop: " --log-level info
$IP6TABLES -A INPUT -i $INTIF -j REJECT --reject-with icmp6-adm-prohibited

#----------------------------------------------------------------------
# FORWARD
#----------------------------------------------------------------------
echo "   FORWARD rules .."
$IP6TABLES -A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
$IP6TABLES -A FORWARD -i $INTIF -o $EXTIF -s $LANPREFIX -j ACCEPT
# Packets from the LAN claiming another source are spoofed or lost.
$IP6TABLES -A FORWARD -i $INTIF ! -s $LANPREFIX -j DROP
$IP6TABLES -A FORWARD -p icmpv6 -j icmp6-needed
$IP6TABLES -A FORWARD -m limit --limit 5/minute -j LOG --log-prefix "ip6 FWD drop: " --log-level info
$IP6TABLES -A FORWARD -i $INTIF -p tcp -j REJECT --reject-with tcp-reset
$IP6TABLES -A FORWARD -i $INTIF -j REJECT --reject-with icmp6-adm-prohibited

echo "ip6-basic.sh $FWVER done."
