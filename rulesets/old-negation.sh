#!/bin/sh
#
# old-negation.sh -- a 2001 gateway script written for iptables 1.2
#
# masqc-oracle: skip iptables 1.8 rejects the 1.2-era "-s ! ADDR" negation placement ("Bad argument"), so the script cannot be run as written
#
# Scenario: the simple masquerading gateway (eth0 outside, eth1 LAN
# 192.168.0.0/24) as written in 2001, when iptables 1.2 put the "!"
# *after* the option: "-s ! 192.168.0.0/24".  iptables 1.4 deprecated
# that spelling and current versions refuse it, so scripts of that age
# stop working on a new box even though they mean something perfectly
# clear.  masqc reads both spellings.
#
# The second spoofing rule uses the modern "! -s" spelling, as an admin
# who touched the script later would have written it.
#
# Revision history:
#   0.3  2001-09-30  anti-spoofing on the LAN side
#   0.2  2001-07-14  FTP helpers
#   0.1  2001-06-02  first version (iptables 1.2.2, kernel 2.4.5)
#

IPTABLES=iptables
MODPROBE=modprobe

EXTIF=eth0
INTIF=eth1
INTNET=192.168.0.0/24

echo "Setting up masquerading (iptables 1.2 style) .."

$MODPROBE ip_tables
$MODPROBE ip_conntrack_ftp
$MODPROBE ip_nat_ftp

echo 1 > /proc/sys/net/ipv4/ip_forward

$IPTABLES -P FORWARD DROP
$IPTABLES -F FORWARD
$IPTABLES -t nat -F

# Anything from the LAN side that does not carry a LAN source address
# is spoofed (or a misconfigured box): log it and drop it.  Old spelling.
$IPTABLES -A FORWARD -i $INTIF -s ! $INTNET -j LOG --log-prefix "spoofed from LAN: "
# Same test, new spelling, for the drop itself.
$IPTABLES -A FORWARD -i $INTIF ! -s $INTNET -j DROP

$IPTABLES -A FORWARD -i $EXTIF -o $INTIF -m state --state ESTABLISHED,RELATED -j ACCEPT
$IPTABLES -A FORWARD -i $INTIF -o $EXTIF -j ACCEPT

$IPTABLES -t nat -A POSTROUTING -o $EXTIF -j MASQUERADE

echo "done."
