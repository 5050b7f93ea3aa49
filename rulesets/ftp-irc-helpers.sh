#!/bin/sh
#
# ftp-irc-helpers.sh -- masquerading with the FTP and IRC helpers, plus a
#                       port-forwarded FTP server on the LAN
#
# Scenario: eth0 outside (203.0.113.7), eth1 LAN 192.168.0.0/24.
#
#  - LAN users use active and passive FTP to servers on port 21 and to
#    the ISP's mirror that listens on 2121, and IRC with DCC file sends.
#  - The LAN's own FTP server 192.168.0.30 is published on the public
#    address, ports 21 and 2121.
#
# FTP and IRC put addresses and ports inside the payload.  The conntrack
# helpers read them (so the data connections are RELATED), the NAT
# helpers rewrite them (so the far end sees the public address).  A
# helper only watches the ports it is told about: hence ports=21,2121.
#
# Revision history:
#   1.3  2016-03-10  explicit helper assignment in raw: new kernels no
#                    longer attach helpers to a port by themselves
#   1.2  2005-04-22  FTP server on 2121 as well
#   1.1  2004-12-01  IRC DCC
#   1.0  2004-10-15  FTP server forward
#
FWVER=1.3

echo "Loading ftp-irc-helpers.sh version $FWVER .."

IPTABLES=iptables
MODPROBE=modprobe
LSMOD=lsmod

EXTIF=eth0
INTIF=eth1
EXTIP=203.0.113.7
INTNET=192.168.0.0/24

FTPSERVER=192.168.0.30
FTPPORTS="21,2121"
IRCPORTS="6667"

#----------------------------------------------------------------------
# Helpers.  The port list must be the same for the conntrack and the
# NAT half, or the NAT helper never sees the expectations.
#----------------------------------------------------------------------
echo "   Loading helper modules (FTP ports $FTPPORTS, IRC $IRCPORTS) .."
load_module() {
	if [ -z "`$LSMOD | grep \"^$1 \"`" ]; then
		echo "     $*"
		$MODPROBE "$@"
	else
		echo "     $1 already loaded"
	fi
}

load_module ip_tables
load_module iptable_nat
load_module ip_conntrack_ftp ports=$FTPPORTS
load_module ip_nat_ftp ports=$FTPPORTS
load_module ip_conntrack_irc
load_module ip_nat_irc

echo 1 > /proc/sys/net/ipv4/ip_forward

echo "   Flushing .."
$IPTABLES -P INPUT ACCEPT
$IPTABLES -P OUTPUT ACCEPT
$IPTABLES -P FORWARD DROP
$IPTABLES -F
$IPTABLES -X
for TABLE in nat raw; do
	$IPTABLES -t $TABLE -F
	$IPTABLES -t $TABLE -X
done

#----------------------------------------------------------------------
# raw: attach the helpers to the control connections explicitly.
#----------------------------------------------------------------------
$IPTABLES -t raw -A PREROUTING -i $INTIF -p tcp -m multiport --dports $FTPPORTS -j CT --helper ftp
$IPTABLES -t raw -A PREROUTING -i $EXTIF -p tcp -d $EXTIP -m multiport --dports $FTPPORTS \
	-j CT --helper ftp
$IPTABLES -t raw -A PREROUTING -i $INTIF -p tcp --dport $IRCPORTS -j CT --helper irc

#----------------------------------------------------------------------
# FORWARD
#----------------------------------------------------------------------
echo "   FORWARD rules .."
# RELATED covers the FTP data connections and IRC DCC the helpers saw.
$IPTABLES -A FORWARD -m state --state ESTABLISHED,RELATED -j ACCEPT
$IPTABLES -A FORWARD -i $INTIF -o $EXTIF -s $INTNET -j ACCEPT

# New control connections to our FTP server.
$IPTABLES -A FORWARD -i $EXTIF -o $INTIF -d $FTPSERVER -p tcp \
	-m multiport --dports $FTPPORTS -m state --state NEW -j ACCEPT

$IPTABLES -A FORWARD -j LOG --log-prefix "helpers FWD drop: "

#----------------------------------------------------------------------
# NAT
#----------------------------------------------------------------------
echo "   NAT: FTP server forward, masquerading .."
$IPTABLES -t nat -A PREROUTING -i $EXTIF -d $EXTIP -p tcp -m multiport --dports $FTPPORTS \
	-j DNAT --to-destination $FTPSERVER
$IPTABLES -t nat -A POSTROUTING -o $EXTIF -s $INTNET -j MASQUERADE

echo "ftp-irc-helpers.sh $FWVER done."
