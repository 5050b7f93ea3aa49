#!/bin/sh
#
# legacy-pitfall-full-range.sh -- lab-owned script.
# legacy-semantics.md section 3, pitfalls 11 and 18 (0:65535).
#
#  - "-p tcp ! 0:65535" matches only fragments on 2.2 (the full range
#    matches any port, the inversion nothing -- except fragments, where a
#    full-range test succeeds even inverted).  Translators that drop the
#    port test turn it into "deny all TCP".
#  - "-p udp ... 0:65535 ACCEPT" must stay a UDP-only rule: TCP and ICMP
#    to the external address fall through to the DENY below it.
#
IPCHAINS=ipchains
EXTIF=eth0
EXTIP=203.0.113.7

echo "1" > /proc/sys/net/ipv4/ip_forward

$IPCHAINS -P input ACCEPT
$IPCHAINS -P output ACCEPT
$IPCHAINS -P forward DENY

$IPCHAINS -A input -p tcp -s 0.0.0.0/0 ! 0:65535 -j DENY
$IPCHAINS -A input -i $EXTIF -p udp -s 0.0.0.0/0 -d $EXTIP/32 0:65535 -j ACCEPT
$IPCHAINS -A input -i $EXTIF -d $EXTIP/32 -j DENY

$IPCHAINS -A forward -i $EXTIF -s 192.168.0.0/24 -j MASQ
