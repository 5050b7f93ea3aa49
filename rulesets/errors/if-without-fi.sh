#!/bin/sh
# tests: shell syntax error, "if" without its "fi" -> error at end of file pointing back at the "if"
IPTABLES=iptables
MODPROBE=modprobe

if [ -z "`lsmod | grep ^ip_conntrack_ftp`" ]; then
	$MODPROBE ip_conntrack_ftp

$IPTABLES -P FORWARD DROP
$IPTABLES -A FORWARD -m state --state ESTABLISHED,RELATED -j ACCEPT
$IPTABLES -t nat -A POSTROUTING -o eth0 -j MASQUERADE
