#!/bin/sh
# tests: unknown option typo (--dprot 22 for --dport 22) -> error with "did you mean '--dport'?"
IPTABLES=iptables
EXTIF=eth0

$IPTABLES -P INPUT DROP
$IPTABLES -A INPUT -m state --state ESTABLISHED,RELATED -j ACCEPT
$IPTABLES -A INPUT -i $EXTIF -p tcp --dprot 22 -j ACCEPT
