#!/bin/sh
#
# portfw-dnat.sh -- masquerading gateway that forwards ports to LAN servers
#
# Scenario: static external address 203.0.113.7 on eth0, LAN
# 192.168.0.0/24 on eth1.  Two machines on the LAN offer services to the
# Internet through the gateway's single public address:
#
#   203.0.113.7:8080/tcp         -> 192.168.0.20:80      (web server)
#   203.0.113.7:6000-6010/tcp+udp -> 192.168.0.21 (same ports, game server)
#
# Port forwarding with iptables takes two rules per service: a DNAT in
# nat PREROUTING that rewrites the destination, and an ACCEPT in FORWARD
# for the rewritten packet (FORWARD sees the *internal* address and port).
#
# LAN clients that type the public address reach the web server too:
# their request is DNATed and additionally SNATed to the gateway, or the
# server would answer them directly and the client would drop the reply.
#
# Revision history:
#   1.2  2005-05-21  game server range added (tcp and udp)
#   1.1  2004-08-03  LAN clients may use the public address ("hairpin")
#   1.0  2004-07-29  web server forward
#
FWVER=1.2

echo "Loading portfw-dnat.sh version $FWVER .."

IPTABLES=iptables
MODPROBE=modprobe
LSMOD=lsmod

EXTIF=eth0
INTIF=eth1
EXTIP=203.0.113.7
INTIP=192.168.0.1
INTNET=192.168.0.0/24

# The servers behind the gateway.
WEBSERVER=192.168.0.20
WEBPORT_OUTSIDE=8080
WEBPORT_INSIDE=80

GAMESERVER=192.168.0.21
GAMEPORTS=6000:6010

echo "   $EXTIP:$WEBPORT_OUTSIDE -> $WEBSERVER:$WEBPORT_INSIDE"
echo "   $EXTIP:$GAMEPORTS -> $GAMESERVER"

# NAT needs the nat table and the tracker; the kernel usually autoloads
# both, this just avoids the first-packet race on slow boxes.
for MOD in ip_tables iptable_nat ip_conntrack; do
	if [ -z "`$LSMOD | grep \"^$MOD \"`" ]; then
		$MODPROBE $MOD
	fi
done

echo 1 > /proc/sys/net/ipv4/ip_forward

echo "   Flushing old rules .."
$IPTABLES -P INPUT ACCEPT
$IPTABLES -P OUTPUT ACCEPT
$IPTABLES -P FORWARD DROP
$IPTABLES -F
$IPTABLES -t nat -F
$IPTABLES -X

#----------------------------------------------------------------------
# FORWARD: the usual masquerading pair first ...
#----------------------------------------------------------------------
$IPTABLES -A FORWARD -m state --state ESTABLISHED,RELATED -j ACCEPT
$IPTABLES -A FORWARD -i $INTIF -o $EXTIF -s $INTNET -j ACCEPT

# ... then the forwarded services.  Only NEW is needed here: the rule
# above carries the rest of each connection.  The conntrack match makes
# sure only packets that really went through our DNAT are let in; a
# packet addressed straight to 192.168.0.20 from outside is not.
echo "   FWD: allowing the forwarded services .."
$IPTABLES -A FORWARD -i $EXTIF -o $INTIF -p tcp -d $WEBSERVER --dport $WEBPORT_INSIDE \
	-m state --state NEW -m conntrack --ctstate DNAT \
	-m comment --comment "web server (public port 8080)" -j ACCEPT

for PROTO in tcp udp; do
	$IPTABLES -A FORWARD -i $EXTIF -o $INTIF -p $PROTO -d $GAMESERVER \
		--dport $GAMEPORTS -m state --state NEW -j ACCEPT
done

# Hairpin: LAN -> public address -> LAN server.
$IPTABLES -A FORWARD -i $INTIF -o $INTIF -s $INTNET -d $WEBSERVER -p tcp \
	--dport $WEBPORT_INSIDE -m state --state NEW -j ACCEPT

$IPTABLES -A FORWARD -j LOG --log-prefix "portfw FWD drop: " --log-level warning

#----------------------------------------------------------------------
# nat PREROUTING: rewrite the destination.
#----------------------------------------------------------------------
echo "   NAT: port forwards .."
$IPTABLES -t nat -A PREROUTING -i $EXTIF -p tcp -d $EXTIP --dport $WEBPORT_OUTSIDE \
	-j DNAT --to-destination $WEBSERVER:$WEBPORT_INSIDE

# Same from the LAN side, for the hairpin case.
$IPTABLES -t nat -A PREROUTING -i $INTIF -p tcp -d $EXTIP --dport $WEBPORT_OUTSIDE \
	-j DNAT --to-destination $WEBSERVER:$WEBPORT_INSIDE

# No port in --to: the destination port is kept, so 6005 goes to 6005.
$IPTABLES -t nat -A PREROUTING -i $EXTIF -p tcp -d $EXTIP --dport $GAMEPORTS \
	-j DNAT --to $GAMESERVER
$IPTABLES -t nat -A PREROUTING -i $EXTIF -p udp -d $EXTIP --dport $GAMEPORTS \
	-j DNAT --to $GAMESERVER

#----------------------------------------------------------------------
# nat POSTROUTING
#----------------------------------------------------------------------
# Hairpin: make the web server answer through us.
$IPTABLES -t nat -A POSTROUTING -o $INTIF -s $INTNET -d $WEBSERVER -p tcp \
	--dport $WEBPORT_INSIDE -j SNAT --to-source $INTIP

echo "   NAT: masquerading $INTNET on $EXTIF .."
$IPTABLES -t nat -A POSTROUTING -o $EXTIF -s $INTNET -j MASQUERADE

echo "portfw-dnat.sh $FWVER done."
