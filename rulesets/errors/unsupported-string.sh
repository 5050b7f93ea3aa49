#!/bin/sh
# tests: unsupported match (-m string, no faithful nftables form) -> located "not supported" error
IPTABLES=iptables
INTIF=eth1

# Block a file-sharing client by a string in its handshake.
$IPTABLES -A FORWARD -i $INTIF -p tcp -m string --string foo --algo bm -j DROP
$IPTABLES -A FORWARD -i $INTIF -j ACCEPT
