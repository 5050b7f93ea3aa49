#!/bin/sh
#
# mss-clamp.sh -- masquerading over PPPoE DSL, with MSS clamping
#
# Scenario: the DSL modem is bridged; pppd runs PPPoE over eth0 and the
# Internet address sits on ppp0.  The LAN NICs are eth1 (and any other
# ethN added later): every ethN carries LAN traffic, ppp0 is the world.
#
# Why clamp: PPPoE costs 8 bytes, so the link MTU is 1492.  LAN hosts
# think 1500 and announce an MSS of 1460.  A server that then sends full
# 1500 byte packets needs the "fragmentation needed" ICMP to get back to
# it; far too many sites filter that ICMP, and the symptom is pages that
# start loading and then hang.  Rewriting the MSS option of every SYN we
# forward to fit ppp0's MTU makes the problem go away.
#
# While we are in the mangle table: keep interactive traffic snappy on
# the slow upstream (TOS for ssh, DSCP EF for the VoIP phone, and a mark
# for small packets so a tc shaper can put bare ACKs first).
#
# Revision history:
#   1.3  2005-08-09  small-packet mark for the tc script
#   1.2  2005-02-14  VoIP phone gets DSCP EF
#   1.1  2004-05-01  any ethN is a LAN interface
#   1.0  2004-04-18  PPPoE + clamp
#
FWVER=1.3

echo "Loading mss-clamp.sh version $FWVER .."

IPTABLES=iptables
MODPROBE=modprobe
LSMOD=lsmod

EXTIF="ppp0"
INTIF="eth1"
LANIFS="eth+"
INTNET="192.168.0.0/24"
VOIPPHONE="192.168.0.40"

echo "   External interface: $EXTIF (PPPoE)"
echo "   LAN interfaces:     $LANIFS"

for MOD in ip_tables ip_conntrack iptable_nat iptable_mangle ipt_TCPMSS; do
	if [ -z "`$LSMOD | grep ^$MOD`" ]; then
		echo "   loading $MOD"
		$MODPROBE $MOD
	fi
done

echo 1 > /proc/sys/net/ipv4/ip_forward
# ppp0's address changes on every reconnect.
echo 1 > /proc/sys/net/ipv4/ip_dynaddr

echo "   Flushing .."
$IPTABLES -P INPUT DROP
$IPTABLES -P OUTPUT ACCEPT
$IPTABLES -P FORWARD DROP
$IPTABLES -F
$IPTABLES -X
$IPTABLES -t nat -F
$IPTABLES -t mangle -F

#----------------------------------------------------------------------
# The clamp.  First in FORWARD so no ACCEPT above it can skip it; only
# SYNs carry the MSS option (SYN set, RST clear: SYN and SYN/ACK).
#----------------------------------------------------------------------
echo "   Clamping MSS to the path MTU on forwarded SYNs .."
$IPTABLES -I FORWARD 1 -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu

#----------------------------------------------------------------------
# INPUT
#----------------------------------------------------------------------
$IPTABLES -A INPUT -i lo -j ACCEPT
$IPTABLES -A INPUT -i $LANIFS -s $INTNET -j ACCEPT
$IPTABLES -A INPUT -i $EXTIF -m state --state ESTABLISHED,RELATED -j ACCEPT
# Anything on ppp0 that was not started by us is dropped without a word;
# REJECT would only tell a scanner that somebody is home.
$IPTABLES -A INPUT -i $EXTIF -j DROP

#----------------------------------------------------------------------
# FORWARD (after the clamp)
#----------------------------------------------------------------------
$IPTABLES -A FORWARD -i $EXTIF -o $LANIFS -m state --state ESTABLISHED,RELATED -j ACCEPT
$IPTABLES -A FORWARD -i $LANIFS -o $EXTIF -s $INTNET -j ACCEPT
$IPTABLES -A FORWARD -j LOG --log-prefix "dsl FWD drop: " --log-level info

#----------------------------------------------------------------------
# mangle: priorities for the upstream shaper.
#----------------------------------------------------------------------
echo "   mangle: TOS/DSCP and marks for the shaper .."

# Interactive ssh: low delay.  Bulk scp uses the same port, but typing
# lag is what people notice.
$IPTABLES -t mangle -A PREROUTING -i $INTIF -p tcp --dport 22 -j TOS --set-tos Minimize-Delay

# The VoIP phone: expedited forwarding on the way out.
$IPTABLES -t mangle -A PREROUTING -i $INTIF -s $VOIPPHONE -p udp -j DSCP --set-dscp-class EF

# Small TCP packets (bare ACKs, keystrokes) get mark 1; tc puts mark 1
# into its fastest class.  Everything leaving ppp0 with mark 1 or with
# the EF code point is counted for the daily report.
$IPTABLES -t mangle -A PREROUTING -i $INTIF -p tcp -m length --length 0:128 -j MARK --set-mark 1
$IPTABLES -t mangle -A POSTROUTING -o $EXTIF -m mark --mark 1 -j ACCEPT
$IPTABLES -t mangle -A POSTROUTING -o $EXTIF -m dscp --dscp-class EF -j ACCEPT

#----------------------------------------------------------------------
# NAT: the address of ppp0 changes, so MASQUERADE (it also forgets all
# connections when ppp0 goes down, which is what we want here).
#----------------------------------------------------------------------
echo "   NAT: masquerading on $EXTIF .."
$IPTABLES -t nat -A POSTROUTING -o $EXTIF -s $INTNET -j MASQUERADE

echo "mss-clamp.sh $FWVER done."
