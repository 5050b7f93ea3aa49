#!/bin/sh
#
# legacy-pitfall-portfw-needs-masq.sh -- lab-owned script.
# ipmasqadm(8): "All in-firewall forwarding takes place by
# reverse-masquerading so you must create firewall rules that must match
# desired forwarding as-is the connection had been outgoing".
#
# Two port forwards; only 192.168.0.20 has a MASQ rule.  Connections to
# 8081 (-> 192.168.0.30) do reach the server -- the incoming side skips
# the forward chain -- but its answers hit the DENY policy: the
# connection never completes.
#
IPCHAINS=ipchains
IPMASQADM=ipmasqadm
EXTIF=eth0
EXTIP=203.0.113.7

echo "1" > /proc/sys/net/ipv4/ip_forward

$IPCHAINS -P input ACCEPT
$IPCHAINS -P output ACCEPT
$IPCHAINS -P forward DENY
$IPCHAINS -A forward -i $EXTIF -s 192.168.0.20/32 -j MASQ

$IPMASQADM portfw -f
$IPMASQADM portfw -a -P tcp -L $EXTIP 8080 -R 192.168.0.20 80
$IPMASQADM portfw -a -P tcp -L $EXTIP 8081 -R 192.168.0.30 80
