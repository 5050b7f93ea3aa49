#!/bin/sh
# tests: unknown target with a typo (-j ACCPET) -> error with "did you mean 'ACCEPT'?"
IPTABLES=iptables
INTIF=eth1

$IPTABLES -P INPUT DROP
$IPTABLES -A INPUT -i lo -j ACCEPT
$IPTABLES -A INPUT -i $INTIF -s 192.168.0.0/24 -j ACCPET
