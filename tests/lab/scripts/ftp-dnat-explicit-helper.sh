#!/bin/sh
#
# ftp-dnat-explicit-helper.sh -- lab-owned script (not a HOWTO example).
#
# An FTP server on the LAN (192.168.0.30) published on the gateway's
# external address, with the FTP helper attached ONLY by an explicit raw
# table rule that matches the public destination address -- no modprobe
# with ports=, so nothing else attaches the helper.  In iptables the raw
# table runs before DNAT, so `-d $EXTIP` matches; a translation must keep
# that order (the helper must be set after conntrack, before dstnat).
#
IPTABLES=iptables
EXTIF=eth0
INTIF=eth1
EXTIP=203.0.113.7
INTNET=192.168.0.0/24
FTPSERVER=192.168.0.30

$IPTABLES -P INPUT ACCEPT
$IPTABLES -P OUTPUT ACCEPT
$IPTABLES -P FORWARD DROP
$IPTABLES -F
$IPTABLES -t nat -F
$IPTABLES -t raw -F

$IPTABLES -t raw -A PREROUTING -i $EXTIF -p tcp -d $EXTIP --dport 21 -j CT --helper ftp

$IPTABLES -A FORWARD -m state --state ESTABLISHED,RELATED -j ACCEPT
$IPTABLES -A FORWARD -i $INTIF -o $EXTIF -s $INTNET -j ACCEPT
$IPTABLES -A FORWARD -i $EXTIF -o $INTIF -d $FTPSERVER -p tcp --dport 21 \
	-m state --state NEW -j ACCEPT

$IPTABLES -t nat -A PREROUTING -i $EXTIF -d $EXTIP -p tcp --dport 21 \
	-j DNAT --to-destination $FTPSERVER
$IPTABLES -t nat -A POSTROUTING -o $EXTIF -s $INTNET -j MASQUERADE
