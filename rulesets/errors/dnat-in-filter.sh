#!/bin/sh
# tests: DNAT in the filter table (forgot "-t nat", used FORWARD) -> error: DNAT is only valid in nat PREROUTING/OUTPUT
IPTABLES=iptables
EXTIF=eth0
INTIF=eth1

$IPTABLES -A FORWARD -i $EXTIF -o $INTIF -p tcp --dport 80 -j ACCEPT
$IPTABLES -A FORWARD -i $EXTIF -p tcp --dport 80 -j DNAT --to-destination 192.168.0.20:80
