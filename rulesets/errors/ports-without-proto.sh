#!/bin/sh
# tests: --dport without -p tcp/udp -> error explaining that ports need a protocol
IPTABLES=iptables
EXTIF=eth0

$IPTABLES -P INPUT DROP
$IPTABLES -A INPUT -i $EXTIF --dport 22 -j ACCEPT
