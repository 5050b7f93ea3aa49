#!/bin/sh
# tests: DROP policy on a nat chain (-t nat -P POSTROUTING DROP), which the kernel refuses -> error
IPTABLES=iptables

$IPTABLES -t nat -F
$IPTABLES -t nat -P POSTROUTING DROP
$IPTABLES -t nat -A POSTROUTING -o eth0 -s 192.168.0.0/24 -j MASQUERADE
