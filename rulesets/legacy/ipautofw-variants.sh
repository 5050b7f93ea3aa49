#!/bin/sh
#
# rc.firewall -- Linux 2.0.36 gateway with the ipautofw patch
# (ipautofw-2.0.0.diff, CONFIG_IP_MASQUERADE_IPAUTOFW).
#
# The LAN is masqueraded through eth0.  Three auto-forwarded ranges, each a
# different flavour of entry:
#   - RealAudio: UDP 6970-7170 to whoever last opened TCP 7070, without
#     the 15 s window (-u): the range stays with that host;
#   - X sessions, as in the ipautofw README: TCP 6000-6100 to whoever last
#     used telnet, insecure (-i keeps the host when the window closes; the
#     tool says "-i cannot be specified with a control port" and adds the
#     entry anyway);
#   - CU-SeeMe: UDP 7648-7652 to the video box until another LAN host
#     uses the control port (-h together with -c).
#
# Revision history:
#   0.3  1998-03-02  CU-SeeMe for the video box
#   0.2  1997-11-15  X over telnet
#   0.1  1997-08-20  RealAudio
#
IPFWADM=/sbin/ipfwadm
IPAUTOFW=/usr/local/sbin/ipautofw
INTNET=192.168.0.0/24

echo "Enabling IP forwarding..."
echo 1 > /proc/sys/net/ipv4/ip_forward

echo "Masquerading $INTNET..."
$IPFWADM -F -f
$IPFWADM -F -p deny
$IPFWADM -F -a m -W eth0 -S $INTNET -D 0.0.0.0/0

echo "Auto-forwarding..."
$IPAUTOFW -F
$IPAUTOFW -A -r udp 6970 7170 -c tcp 7070 -u
$IPAUTOFW -A -r tcp 6000 6100 -c tcp 23 -i
$IPAUTOFW -A -r udp 7648 7652 -h 192.168.0.21 -c udp 7648
