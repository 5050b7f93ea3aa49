#!/bin/sh
#
# dynamic-ip.sh -- masquerading on a cable/DHCP line whose address changes
#
# masqc-oracle: skip masqc compiles "SNAT to the address of the rule's own -o interface" to MASQUERADE by design, so iptables-save of a real run (SNAT --to-source 203.0.113.7) differs on purpose
#
# Scenario: eth0 gets its address by DHCP from the cable provider, eth1
# is the LAN 192.168.0.0/24.  This script is run from the DHCP client's
# "address bound" hook, so every time the lease changes the rules are
# rebuilt with the new address.
#
# The address is only needed for the SNAT rule; all the filtering is
# done by interface, so it stays right even between a lease change and
# the next run of this script.
#
# Revision history:
#   1.4  2006-01-17  NFLOG instead of LOG for the ulogd box
#   1.3  2005-09-02  loopback traffic no longer tracked
#   1.2  2005-03-30  ssh to the LAN box on port 2222
#   1.1  2004-10-11  address read with "ip" instead of ifconfig
#   1.0  2004-06-02  first version
#
FWVER=1.4

echo "Loading dynamic-ip.sh version $FWVER .."

IPTABLES=iptables
MODPROBE=modprobe
LSMOD=lsmod
IP=ip

EXTIF="eth0"
INTIF="eth1"
INTNET="192.168.0.0/24"
SSHBOX="192.168.0.10"

# Whatever the DHCP server gave us this time.
EXTIP="`$IP addr show $EXTIF | grep 'inet ' | awk '{print $2}' | cut -d/ -f1`"

if [ -z "$EXTIP" ]; then
	echo "dynamic-ip.sh: $EXTIF has no IPv4 address yet, try again later" >&2
	exit 1
fi
echo "   $EXTIF is $EXTIP"

for MOD in ip_tables ip_conntrack iptable_nat iptable_raw ipt_NFLOG; do
	if [ -z "`$LSMOD | grep ^$MOD`" ]; then
		$MODPROBE $MOD
	fi
done

echo 1 > /proc/sys/net/ipv4/ip_forward

# With a changing address, let the kernel rewrite the source of sockets
# that were bound to the old one instead of leaving them dead.
echo 1 > /proc/sys/net/ipv4/ip_dynaddr

echo "   Flushing .."
$IPTABLES -P INPUT DROP
$IPTABLES -P OUTPUT ACCEPT
$IPTABLES -P FORWARD DROP
$IPTABLES -F
$IPTABLES -X
$IPTABLES -t nat -F
$IPTABLES -t raw -F

#----------------------------------------------------------------------
# raw: loopback traffic does not need a conntrack entry.
#----------------------------------------------------------------------
$IPTABLES -t raw -A PREROUTING -i lo -j NOTRACK
$IPTABLES -t raw -A OUTPUT -o lo -j NOTRACK

#----------------------------------------------------------------------
# INPUT
#----------------------------------------------------------------------
echo "   INPUT rules .."
$IPTABLES -A INPUT -i lo -j ACCEPT
$IPTABLES -A INPUT -m state --state ESTABLISHED,RELATED -j ACCEPT
$IPTABLES -A INPUT -i $INTIF -s $INTNET -j ACCEPT

# The DHCP lease renewal: server port 67 to client port 68.
$IPTABLES -A INPUT -i $EXTIF -p udp --sport 67 --dport 68 -j ACCEPT

# A packet arriving with TTL 1 cannot be answered usefully anyway, and
# that is what the provider's traceroute-style "is this modem alive"
# probes look like.  Drop them quietly.
$IPTABLES -A INPUT -i $EXTIF -m ttl --ttl-eq 1 -j DROP

# The rest goes to ulogd (group 5) and is dropped by the policy.
$IPTABLES -A INPUT -i $EXTIF -m limit --limit 1/second \
	-j NFLOG --nflog-group 5 --nflog-prefix "dyn IN drop"

#----------------------------------------------------------------------
# FORWARD
#----------------------------------------------------------------------
echo "   FORWARD rules .."
$IPTABLES -A FORWARD -i $EXTIF -o $INTIF -m state --state ESTABLISHED,RELATED -j ACCEPT
$IPTABLES -A FORWARD -i $INTIF -o $EXTIF -s $INTNET -j ACCEPT
$IPTABLES -A FORWARD -i $EXTIF -o $INTIF -d $SSHBOX -p tcp --dport 22 \
	-m state --state NEW -j ACCEPT
$IPTABLES -A FORWARD -m limit --limit 1/second \
	-j NFLOG --nflog-group 5 --nflog-prefix "dyn FWD drop"

#----------------------------------------------------------------------
# NAT
#----------------------------------------------------------------------
echo "   NAT: ssh forward, SNAT to $EXTIP .."
# Port 2222 on whatever our address is today -> the LAN ssh box.
$IPTABLES -t nat -A PREROUTING -i $EXTIF -p tcp --dport 2222 \
	-j DNAT --to-destination $SSHBOX:22

# SNAT to the current address.  The script is re-run on every lease
# change, so the address is never stale for long.
$IPTABLES -t nat -A POSTROUTING -o $EXTIF -s $INTNET -j SNAT --to-source $EXTIP

echo "dynamic-ip.sh $FWVER done."
