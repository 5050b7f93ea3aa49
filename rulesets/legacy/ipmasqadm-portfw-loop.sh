#!/bin/sh
#
# rc.portfw-range -- forward a range of ports from a Linux 2.2 gateway to
# one internal host with ipmasqadm portfw in a while loop.
#
# Scenario: TCP 6000-6010 of the external address 203.0.113.7 go to the
# same ports of 192.168.0.21; the LAN is masqueraded (which also
# masquerades the forwarded connections' answers, as portfw requires).
#
# Revision history:
#   1.1  2001-04-02  bash arithmetic instead of expr
#   1.0  2000-06-19  first version
#
IPCHAINS=/sbin/ipchains
IPMASQADM=/usr/sbin/ipmasqadm

EXTIF="eth0"
EXTIP="203.0.113.7"
INTNET="192.168.0.0/24"

echo "1" > /proc/sys/net/ipv4/ip_forward

$IPCHAINS -P forward DENY
$IPCHAINS -F forward
$IPCHAINS -A forward -i $EXTIF -s $INTNET -j MASQ

$IPMASQADM portfw -f
port=6000
while [ $port -le 6010 ]
  do
    $IPMASQADM portfw -a -P tcp -L $EXTIP $port -R 192.168.0.21 $port
    port=$((port+1))
done
