#!/bin/sh
#
# simple-masq.sh -- first-light IP masquerading for a 2.4/2.6 gateway
#
# Scenario: one external NIC (eth0, address from the ISP), one internal
# NIC (eth1, 192.168.0.1/24).  Every host on the LAN may go out; nothing
# may come in unless it belongs to a connection a LAN host started.
#
# This is the "does masquerading work at all?" script.  Once the LAN can
# browse, move on to a stricter ruleset (see stronger.sh): the INPUT and
# OUTPUT chains are left wide open here on purpose so that a mistake in
# them cannot get in the way of testing the forwarding path.
#
# Revision history:
#   1.3  2004-02-11  load the FTP helpers only when lsmod says they are absent
#   1.2  2003-07-30  log what falls off the end of FORWARD
#   1.1  2002-11-02  interface names moved into variables
#   1.0  2002-10-19  first version
#
FWVER=1.3

echo "Loading simple-masq.sh version $FWVER .."

# Where the tools live.  Plain names: whatever comes first in $PATH.
IPTABLES=iptables
MODPROBE=modprobe
LSMOD=lsmod
DEPMOD=depmod
GREP=grep
AWK=awk

# The two sides of the gateway.  DSL/PPPoE users: EXTIF is ppp0.
EXTIF="eth0"
INTIF="eth1"
INTNET="192.168.0.0/24"

echo "   External interface: $EXTIF"
echo "   Internal interface: $INTIF ($INTNET)"

#----------------------------------------------------------------------
# Kernel modules.
#
# A kernel with the module autoloader would pull most of these in by
# itself; loading them here just makes the start-up order predictable.
# Each one is loaded only if lsmod does not already list it, so running
# the script twice is harmless.
#----------------------------------------------------------------------
echo "   Checking module dependencies .."
$DEPMOD -a

echo "   Loading modules:"

if [ -z "`$LSMOD | $GREP '^ip_tables ' | $AWK '{print $1}'`" ]; then
	echo "     ip_tables"
	$MODPROBE ip_tables
fi

if [ -z "`$LSMOD | $GREP '^ip_conntrack ' | $AWK '{print $1}'`" ]; then
	echo "     ip_conntrack"
	$MODPROBE ip_conntrack
fi

# Active-mode FTP opens a data connection from the server back to the
# client; without the helper that connection is neither RELATED nor
# translated, so "ls" hangs for the LAN clients.
if [ -z "`$LSMOD | $GREP '^ip_conntrack_ftp ' | $AWK '{print $1}'`" ]; then
	echo "     ip_conntrack_ftp"
	$MODPROBE ip_conntrack_ftp
fi

if [ -z "`$LSMOD | $GREP '^iptable_nat ' | $AWK '{print $1}'`" ]; then
	echo "     iptable_nat"
	$MODPROBE iptable_nat
fi

# Rewrites the PORT command inside the FTP control session so the
# server connects back to the gateway and not to a private address.
if [ -z "`$LSMOD | $GREP '^ip_nat_ftp ' | $AWK '{print $1}'`" ]; then
	echo "     ip_nat_ftp"
	$MODPROBE ip_nat_ftp
fi

#----------------------------------------------------------------------
# Routing.  Off by default on every distribution; nothing below does
# anything for the LAN without it.
#----------------------------------------------------------------------
echo "   Enabling IP forwarding .."
echo 1 > /proc/sys/net/ipv4/ip_forward

#----------------------------------------------------------------------
# Start from a clean slate.
#
# INPUT and OUTPUT stay ACCEPT (see the note at the top).  FORWARD is
# DROP: only what the rules below let through gets routed.  REJECT is
# not allowed as a policy, hence DROP.
#----------------------------------------------------------------------
echo "   Clearing old rules, FORWARD policy DROP .."
$IPTABLES -P INPUT ACCEPT
$IPTABLES -F INPUT
$IPTABLES -P OUTPUT ACCEPT
$IPTABLES -F OUTPUT
$IPTABLES -P FORWARD DROP
$IPTABLES -F FORWARD
$IPTABLES -t nat -F
$IPTABLES -X
$IPTABLES -Z

#----------------------------------------------------------------------
# Forwarding.
#----------------------------------------------------------------------
echo "   FWD: replies in, everything out .."

# Replies to connections the LAN opened (and the FTP data channels the
# helper marked RELATED) may come back in.
$IPTABLES -A FORWARD -i $EXTIF -o $INTIF -m state --state ESTABLISHED,RELATED -j ACCEPT

# The LAN may open anything towards the Internet.
$IPTABLES -A FORWARD -i $INTIF -o $EXTIF -s $INTNET -j ACCEPT

# Whatever is left would be dropped by the policy anyway; log it first
# so a broken setup is visible in syslog.
$IPTABLES -A FORWARD -j LOG --log-prefix "simple-masq FWD drop: "

#----------------------------------------------------------------------
# NAT.  MASQUERADE rather than SNAT because the ISP may change the
# address of $EXTIF under our feet.
#----------------------------------------------------------------------
echo "   NAT: masquerading $INTNET out of $EXTIF .."
$IPTABLES -t nat -A POSTROUTING -o $EXTIF -s $INTNET -j MASQUERADE

echo "simple-masq.sh $FWVER done."
