#!/bin/sh
# tests: a run-time value (address of eth0 from the ifconfig idiom) reaching a -d match with no -D -> error suggesting -D EXTIP=...
IPTABLES=iptables
EXTIF=eth0

EXTIP="`ifconfig $EXTIF | awk '/inet / { sub(/addr:/, "", $2); print $2; exit }'`"

$IPTABLES -P INPUT DROP
$IPTABLES -A INPUT -i $EXTIF -d $EXTIP -p tcp --dport 80 -j ACCEPT
