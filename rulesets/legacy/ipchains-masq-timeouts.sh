#!/bin/sh
#
# rc.firewall-timeouts -- masquerading timeouts on a Linux 2.2 gateway.
#
# Scenario: eth0 external, eth1 LAN 192.168.0.0/24 masqueraded.  Users
# complained that idle telnet sessions died after 15 minutes (the 2.2
# default), so TCP masquerade entries now live 2 hours; 10 s after a FIN;
# UDP entries 160 s.  A later tweak lowers only the UDP timeout (ICQ
# clients send keep-alives every 30 s); a 0 keeps the current value.
#
# Revision history:
#   1.1  2000-11-11  UDP timeout lowered to 60 s, the others kept (0)
#   1.0  2000-07-07  first version
#
IPCHAINS=/sbin/ipchains
EXTIF=eth0
INTNET=192.168.0.0/24

echo "1" > /proc/sys/net/ipv4/ip_forward

echo "   setting default timers.."
$IPCHAINS -M -S 7200 10 160
$IPCHAINS -M -S 0 0 60

$IPCHAINS -P forward DENY
$IPCHAINS -F forward
$IPCHAINS -A forward -i $EXTIF -s $INTNET -j MASQ
