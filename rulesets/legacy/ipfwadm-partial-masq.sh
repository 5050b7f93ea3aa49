#!/bin/sh
#
# rc.firewall-partial -- a Linux 2.0 gateway that masquerades only two
# chosen hosts of the LAN.
#
# Scenario: eth0 external (203.0.113.7), eth1 LAN 192.168.0.0/24.  Only
# 192.168.0.20 and 192.168.0.21 (netmask written out, as in the old
# examples) may go out.  ipfwadm accepts any unique prefix of a policy,
# hence "-p d" and "-a m".
#
# Revision history:
#   1.1  1998-10-19  second host
#   1.0  1998-04-02  first version
#
IPFWADM=ipfwadm
EXTIF=eth0

echo "1" > /proc/sys/net/ipv4/ip_forward

$IPFWADM -F -f
$IPFWADM -F -p d
$IPFWADM -F -a m -W $EXTIF -S 192.168.0.20/255.255.255.255 -D 0.0.0.0/0
$IPFWADM -F -a m -W $EXTIF -S 192.168.0.21/32 -D 0.0.0.0/0
