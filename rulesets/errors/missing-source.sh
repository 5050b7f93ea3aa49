#!/bin/sh
# tests: "." of a file that does not exist -> error with the path and the including line
IPTABLES=iptables

# Site-specific settings (EXTIF, INTIF, ...) live in a separate file.
. ./firewall.conf

$IPTABLES -t nat -A POSTROUTING -o $EXTIF -j MASQUERADE
