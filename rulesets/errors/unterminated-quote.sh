#!/bin/sh
# tests: shell syntax error, unterminated double quote (the closing " of the log prefix is missing)
IPTABLES=iptables

$IPTABLES -A INPUT -i lo -j ACCEPT
$IPTABLES -A INPUT -j LOG --log-prefix "dropped: 
$IPTABLES -A INPUT -j DROP
