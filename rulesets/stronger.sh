#!/bin/sh
#
# stronger.sh -- the "after it works, lock it down" masquerading gateway
#
# Scenario: same box as simple-masq.sh (eth0 outside with a static
# address, eth1 = 192.168.0.0/24 inside) but now every chain defaults to
# DROP and is opened only where needed:
#
#   INPUT    loopback, the LAN, replies, a few ICMP types, ident refused
#   OUTPUT   loopback, to the LAN, anything from our own address outside
#   FORWARD  LAN out, replies in
#   nat      SNAT to the fixed external address
#
# Everything refused is logged (rate limited) by one user chain and then
# REJECTed, so LAN users get a quick error instead of a timeout.
#
# The external address is read from the interface at run time.  When
# compiling this script offline, give it on the command line:
#     masqc compile -D EXTIP=203.0.113.7 stronger.sh
#
# Revision history:
#   2.4  2005-03-02  ident gets a TCP reset: mail servers stop stalling
#   2.3  2004-09-14  conntrack INVALID dropped before anything else
#   2.2  2004-01-20  log/reject chain rate limited
#   2.1  2003-06-08  spoof check on the internal interface too
#   2.0  2003-02-27  rewritten with DROP policies everywhere
#
FWVER=2.4

echo "Loading stronger.sh version $FWVER .."

IPTABLES=iptables
MODPROBE=modprobe
LSMOD=lsmod
DEPMOD=depmod
IFCONFIG=ifconfig
GREP=grep
AWK=awk

EXTIF="eth0"
INTIF="eth1"
echo "   External interface: $EXTIF"
echo "   Internal interface: $INTIF"

# The external address, taken from ifconfig.  The awk program copes with
# both the old "inet addr:A.B.C.D" and the newer "inet A.B.C.D" layout.
#
# If the address is fixed you may just as well write it down:
#EXTIP="203.0.113.7"
EXTIP="`$IFCONFIG $EXTIF | $AWK '/inet / { sub(/addr:/, "", $2); print $2; exit }'`"
echo "   External IP: $EXTIP"

INTIP="192.168.0.1"
INTNET="192.168.0.0/24"
UNIVERSE="0.0.0.0/0"
echo "   Internal network: $INTNET, gateway $INTIP"

#----------------------------------------------------------------------
# Modules (skipped when already loaded).
#----------------------------------------------------------------------
echo "   Loading modules:"
$DEPMOD -a

for MOD in ip_tables ip_conntrack ip_conntrack_ftp iptable_nat ip_nat_ftp
do
	if [ -z "`$LSMOD | $GREP "^$MOD " | $AWK '{print $1}'`" ]; then
		echo "     $MOD"
		$MODPROBE $MOD
	fi
done

#----------------------------------------------------------------------
# Kernel knobs.
#----------------------------------------------------------------------
echo "   Enabling forwarding .."
echo 1 > /proc/sys/net/ipv4/ip_forward

#----------------------------------------------------------------------
# Clean slate, DROP everywhere.
#----------------------------------------------------------------------
echo "   Flushing, policies DROP .."
$IPTABLES -P INPUT DROP
$IPTABLES -F INPUT
$IPTABLES -P OUTPUT DROP
$IPTABLES -F OUTPUT
$IPTABLES -P FORWARD DROP
$IPTABLES -F FORWARD
$IPTABLES -F -t nat
$IPTABLES -X
$IPTABLES -Z

#----------------------------------------------------------------------
# One place to refuse things.  --log-level info keeps the messages off
# the console; the limit keeps a port scan from filling /var/log.
#----------------------------------------------------------------------
echo "   Creating the log-and-reject chain .."
$IPTABLES -N log-and-reject
$IPTABLES -A log-and-reject -m limit --limit 10/minute --limit-burst 20 \
	-j LOG --log-level info --log-prefix "FW refused: "
$IPTABLES -A log-and-reject -p tcp -j REJECT --reject-with tcp-reset
$IPTABLES -A log-and-reject -j REJECT --reject-with icmp-port-unreachable

#----------------------------------------------------------------------
# INPUT
#----------------------------------------------------------------------
echo "   INPUT rules .."

# Garbage the connection tracker cannot place: never useful.
$IPTABLES -A INPUT -m conntrack --ctstate INVALID -j DROP

# Loopback.
$IPTABLES -A INPUT -i lo -s $UNIVERSE -d $UNIVERSE -j ACCEPT

# Broadcasts on the cable-modem segment (Windows browsing, DHCP chatter
# of the neighbours) would only clutter the log.
$IPTABLES -A INPUT -i $EXTIF -m addrtype --dst-type BROADCAST -j DROP

# Something on the outside claiming a LAN source address: spoofed.
$IPTABLES -A INPUT -i $EXTIF -s $INTNET -j log-and-reject

# Something on the inside NOT using a LAN source address: misconfigured
# host or spoofing, either way not ours.
$IPTABLES -A INPUT -i $INTIF ! -s $INTNET -j log-and-reject

# The LAN may talk to the gateway.
$IPTABLES -A INPUT -i $INTIF -s $INTNET -d $UNIVERSE -j ACCEPT

# Replies to what the gateway itself started.
$IPTABLES -A INPUT -i $EXTIF -d $EXTIP -m state --state ESTABLISHED,RELATED -j ACCEPT

# Let the outside ping us, a few per second, and deliver the ICMP errors
# path-MTU discovery depends on.
$IPTABLES -A INPUT -i $EXTIF -d $EXTIP -p icmp --icmp-type echo-request \
	-m limit --limit 5/second -j ACCEPT
$IPTABLES -A INPUT -i $EXTIF -p icmp --icmp-type fragmentation-needed -j ACCEPT
$IPTABLES -A INPUT -i $EXTIF -p icmp --icmp-type time-exceeded -j ACCEPT

# Mail servers ask identd (113) before accepting mail; a quick reset
# instead of a silent drop saves each of them a 30 second timeout.
$IPTABLES -A INPUT -i $EXTIF -p tcp --dport 113 -j REJECT --reject-with tcp-reset

# Everything else.
$IPTABLES -A INPUT -s $UNIVERSE -d $UNIVERSE -j log-and-reject

#----------------------------------------------------------------------
# OUTPUT
#----------------------------------------------------------------------
echo "   OUTPUT rules .."

# Stray ICMP errors about connections conntrack never saw would leak
# untranslated internal addresses.
$IPTABLES -A OUTPUT -p icmp -m state --state INVALID -j DROP

$IPTABLES -A OUTPUT -o lo -s $UNIVERSE -d $UNIVERSE -j ACCEPT
$IPTABLES -A OUTPUT -o $INTIF -s $INTIP -d $INTNET -j ACCEPT
$IPTABLES -A OUTPUT -o $INTIF -s $EXTIP -d $INTNET -j ACCEPT

# A LAN destination on the external wire means a routing mistake.
$IPTABLES -A OUTPUT -o $EXTIF -d $INTNET -j log-and-reject

$IPTABLES -A OUTPUT -o $EXTIF -s $EXTIP -d $UNIVERSE -j ACCEPT

$IPTABLES -A OUTPUT -s $UNIVERSE -d $UNIVERSE -j log-and-reject

#----------------------------------------------------------------------
# FORWARD
#----------------------------------------------------------------------
echo "   FORWARD rules .."

$IPTABLES -A FORWARD -i $EXTIF -o $INTIF -m state --state ESTABLISHED,RELATED -j ACCEPT
$IPTABLES -A FORWARD -i $INTIF -o $EXTIF -s $INTNET -j ACCEPT
$IPTABLES -A FORWARD -j log-and-reject

#----------------------------------------------------------------------
# NAT.  The address is fixed, so plain SNAT: unlike MASQUERADE it does
# not have to look the address up for every new connection.
#----------------------------------------------------------------------
echo "   NAT: SNAT $INTNET to $EXTIP on $EXTIF .."
$IPTABLES -t nat -A POSTROUTING -o $EXTIF -s $INTNET -j SNAT --to $EXTIP

echo "stronger.sh $FWVER done."
