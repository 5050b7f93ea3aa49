#!/bin/sh
# tests: jump to a user chain that is never created (-N missing) -> error naming the chain
IPTABLES=iptables
EXTIF=eth0

$IPTABLES -F
$IPTABLES -X
$IPTABLES -A INPUT -i lo -j ACCEPT
$IPTABLES -A INPUT -i $EXTIF -j block-outsiders
