#!/bin/sh
# Input of tests/netlink-equiv.sh: one rule per IR construct the nft
# backends write, beyond what the rulesets/ scenarios use, so that the
# netlink batch is compared with `nft -f` for each of them.
IPT=iptables
$IPT -N cov
$IPT -A cov -s 10.0.0.0/8 -d 192.168.1.128/25 -j RETURN
$IPT -A cov -s 10.1.2.0/23 -j ACCEPT
$IPT -A cov -m iprange --src-range 10.0.0.5-10.0.0.9 -j ACCEPT
$IPT -A cov -m iprange ! --dst-range 10.0.0.5-10.0.0.9 -j ACCEPT
$IPT -A cov -s 10.0.0.1,10.0.0.2,172.16.0.0/12 -j ACCEPT
$IPT -A cov -i eth+ -o ppp0 -j ACCEPT
$IPT -A cov ! -i eth1 -j DROP
$IPT -A cov -p tcp --sport 1024:65535 --dport 22 -j ACCEPT
$IPT -A cov -p tcp --sport 80 --dport 8080 -j ACCEPT
$IPT -A cov -p udp ! --dport 1000:2000 -j ACCEPT
$IPT -A cov -p tcp -m multiport --dports 21,22,8000:8080 -j ACCEPT
$IPT -A cov -p udp -m multiport ! --dports 53,123 -j ACCEPT
$IPT -A cov -p tcp -m multiport --ports 25,587 -j ACCEPT
$IPT -A cov -p tcp --tcp-flags SYN,RST,ACK,FIN SYN -j ACCEPT
$IPT -A cov -p tcp ! --syn -m state --state NEW -j DROP
$IPT -A cov -p tcp --tcp-option 8 -j ACCEPT
$IPT -A cov -p icmp --icmp-type echo-request -j ACCEPT
$IPT -A cov -p icmp --icmp-type 3/4 -j ACCEPT
$IPT -A cov -p icmp ! --icmp-type 3/4 -j ACCEPT
$IPT -A cov -f -j DROP
$IPT -A cov -m state --state INVALID,UNTRACKED -j DROP
$IPT -A cov -m conntrack ! --ctstate NEW -j ACCEPT
$IPT -A cov -m conntrack --ctstate DNAT -j ACCEPT
$IPT -A cov -m conntrack --ctstatus ASSURED,CONFIRMED -j ACCEPT
$IPT -A cov -m conntrack --ctdir REPLY -j ACCEPT
$IPT -A cov -m limit --limit 3/hour --limit-burst 7 -j LOG --log-prefix "cov " --log-level 7 --log-tcp-sequence --log-ip-options --log-uid
$IPT -A cov -j LOG --log-tcp-options --log-tcp-sequence --log-ip-options --log-uid --log-macdecode
$IPT -A cov -m mac --mac-source 00:11:22:33:44:55 -j ACCEPT
$IPT -A cov -m mark --mark 0x10/0xff -j ACCEPT
$IPT -A cov -m mark ! --mark 0x2 -j ACCEPT
$IPT -A cov -m connmark --mark 0x1 -j ACCEPT
$IPT -A cov -m tos --tos 0x10 -j ACCEPT
$IPT -A cov -m dscp --dscp 0x0a -j ACCEPT
$IPT -A cov -m length --length 100:200 -j ACCEPT
$IPT -A cov -m length ! --length 64 -j ACCEPT
$IPT -A cov -m ttl --ttl-lt 5 -j DROP
$IPT -A cov -m ttl ! --ttl-eq 64 -j ACCEPT
$IPT -A cov -m comment --comment "a \"quoted\" comment" -j ACCEPT
$IPT -A cov -m addrtype --dst-type LOCAL,BROADCAST -j ACCEPT
$IPT -A cov -m addrtype --src-type LOCAL --limit-iface-in -j ACCEPT
$IPT -A cov -m pkttype --pkt-type broadcast -j DROP
$IPT -A cov -m helper --helper ftp -j ACCEPT
$IPT -A cov -p tcp -m tcpmss --mss 1000:1500 -j ACCEPT
$IPT -A cov -p tcp -j REJECT --reject-with tcp-reset
$IPT -A cov -j REJECT --reject-with icmp-host-prohibited
$IPT -A cov -j REJECT
$IPT -A OUTPUT -m owner --uid-owner 1000 -j ACCEPT
$IPT -A OUTPUT -m owner --gid-owner 100-200 -j ACCEPT
$IPT -A OUTPUT -m owner --socket-exists -j ACCEPT
$IPT -A INPUT -j cov
$IPT -A FORWARD -g cov
$IPT -t mangle -A PREROUTING -j MARK --set-mark 0x5
$IPT -t mangle -A PREROUTING -j MARK --set-xmark 0x5/0xff
$IPT -t mangle -A PREROUTING -j MARK --or-mark 0x100
$IPT -t mangle -A PREROUTING -j MARK --and-mark 0xff
$IPT -t mangle -A PREROUTING -j CONNMARK --save-mark
$IPT -t mangle -A PREROUTING -j CONNMARK --restore-mark
$IPT -t mangle -A PREROUTING -j CONNMARK --set-mark 0x3
$IPT -t mangle -A PREROUTING -j DSCP --set-dscp 0x12
$IPT -t mangle -A PREROUTING -j TOS --set-tos 0x08/0xff
$IPT -t mangle -A PREROUTING -j TTL --ttl-set 64
$IPT -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1400
$IPT -t raw -A PREROUTING -i lo -j NOTRACK
$IPT -t raw -A OUTPUT -p udp --dport 69 -j CT --helper tftp
$IPT -A INPUT -j NFLOG --nflog-group 3 --nflog-prefix nfl --nflog-threshold 4
$IPT -t nat -A PREROUTING -p tcp --dport 80 -j REDIRECT --to-ports 3128
$IPT -t nat -A PREROUTING -p tcp --dport 81 -j REDIRECT --to-ports 3128-3130
$IPT -t nat -A PREROUTING -p tcp --dport 2222 -j DNAT --to-destination 192.168.0.10:22
$IPT -t nat -A PREROUTING -p tcp --dport 5000 -j DNAT --to-destination 192.168.0.10-192.168.0.12:6000-6010
$IPT -t nat -A PREROUTING -d 203.0.113.9 -j DNAT --to-destination 192.168.0.9
$IPT -t nat -A POSTROUTING -o eth0 -p tcp -j MASQUERADE --to-ports 1024-2048 --random
$IPT -t nat -A POSTROUTING -o eth1 -j SNAT --to-source 203.0.113.1-203.0.113.4 --persistent
$IPT -t nat -A POSTROUTING -o eth2 -j MASQUERADE
ip6tables -A INPUT -s 2001:db8::/32 -p ipv6-icmp --icmpv6-type 128 -j ACCEPT
ip6tables -A INPUT -s 2001:db8:1::/57 -d 2001:db8::1 -j ACCEPT
ip6tables -A INPUT -s 2001:db8::1,2001:db8::2 -j ACCEPT
ip6tables -A INPUT -p tcp -m multiport --dports 22,80 -j ACCEPT
ip6tables -A INPUT -m hl --hl-eq 255 -j ACCEPT
ip6tables -A INPUT -m length --length 100:200 -j ACCEPT
ip6tables -A INPUT -m dscp --dscp 0x0a -j ACCEPT
ip6tables -A INPUT -j REJECT --reject-with icmp6-adm-prohibited
ip6tables -t mangle -A PREROUTING -j HL --hl-set 64
ip6tables -t mangle -A PREROUTING -j DSCP --set-dscp 0x12
ip6tables -t nat -A PREROUTING -p tcp --dport 2222 -j DNAT --to-destination [2001:db8::10]:22
