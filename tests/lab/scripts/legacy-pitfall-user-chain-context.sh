#!/bin/sh
#
# legacy-pitfall-user-chain-context.sh -- lab-owned script.
# legacy-semantics.md section 2 (RETURN, user chains) and pitfall 2.
#
# One user chain "notelnet" is called from input and from forward.  Its
# "-i eth0" means the incoming interface when reached from input and the
# outgoing interface when reached from forward (2.2 passes the calling
# chain's interface down).  So telnet is refused both INTO the gateway
# from outside and OUT of the LAN to the Internet, while the LAN may still
# telnet to the gateway itself.
#
IPCHAINS=ipchains
EXTIF=eth0
INTNET=192.168.0.0/24

echo "1" > /proc/sys/net/ipv4/ip_forward

$IPCHAINS -P input ACCEPT
$IPCHAINS -P output ACCEPT
$IPCHAINS -P forward DENY
$IPCHAINS -N notelnet

$IPCHAINS -A notelnet -i $EXTIF -p tcp -d 0.0.0.0/0 telnet -j DENY
$IPCHAINS -A notelnet -j RETURN

$IPCHAINS -A input -j notelnet
$IPCHAINS -A forward -j notelnet
$IPCHAINS -A forward -i $EXTIF -s $INTNET -j MASQ
