#!/bin/sh
# Lab script (not a golden): ipmasqadm autofw with a UDP control port, and a
# static UDP range to 192.168.0.21.  In 2.2 every packet that went through
# ip_fw_masquerade updated the autofw entries -- also the replies of a
# forwarded connection (they needed MASQ).  An outside client sending from
# port 7070 to the static range gets a reply from 192.168.0.21 to port
# 7070: that reply records 192.168.0.21 as the host of the dynamic range.
echo "1" > /proc/sys/net/ipv4/ip_forward
ipchains -P forward DENY
ipchains -A forward -i eth0 -s 192.168.0.0/24 -j MASQ
ipmasqadm autofw -A -r udp 6970 7170 -c udp 7070
ipmasqadm autofw -A -r udp 5000 5010 -h 192.168.0.21
