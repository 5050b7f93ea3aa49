#!/bin/sh
# tests: an empty command list where sh wants one (a stub left in a script):
# sh refuses the script; masqc says where, and drops the line as with any
# syntax error (the rules of the other lines still compile, but the whole
# compile fails)
IPTABLES=iptables

$IPTABLES -A INPUT -i lo -j ACCEPT
if [ -n "$EXTIP" ]; then
	# filled in later
fi
for port in 22 80; do
done
$IPTABLES -A INPUT -j DROP
