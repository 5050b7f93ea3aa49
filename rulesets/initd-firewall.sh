#!/bin/sh
#
# initd-firewall.sh -- /etc/init.d/firewall for a masquerading gateway
#
# chkconfig: 2345 08 92
# description: masquerading firewall for the LAN on eth1
#
# Usage: firewall {start|stop|restart|status}
#
#   start    build the ruleset (the same as the rc.firewall scripts)
#   stop     flush everything and open all chains: the box becomes a
#            plain host again (forwarding off), for troubleshooting
#   restart  stop + start
#   status   list the rules currently loaded
#
# masqc compiles the "start" case unless told otherwise; initd-stop.sh
# shows how to get the "stop" case.
#
# Revision history:
#   1.2  2005-10-04  start logic moved into a function taking the
#                    interfaces, so restart does not re-run the script
#   1.1  2005-02-08  status
#   1.0  2004-12-20  first version
#

IPTABLES=iptables
MODPROBE=modprobe
LSMOD=lsmod

EXTIF=eth0
INTIF=eth1
INTNET=192.168.0.0/24

# firewall_start EXTIF INTIF INTNET
firewall_start() {
	local ext int net
	ext=$1
	int=$2
	net=$3

	echo "Starting firewall: masquerading $net ($int) out of $ext"

	for MOD in ip_tables ip_conntrack ip_conntrack_ftp iptable_nat ip_nat_ftp; do
		if [ -z "`$LSMOD | grep ^$MOD`" ]; then
			$MODPROBE $MOD
		fi
	done

	echo 1 > /proc/sys/net/ipv4/ip_forward

	$IPTABLES -P INPUT DROP
	$IPTABLES -P OUTPUT ACCEPT
	$IPTABLES -P FORWARD DROP
	$IPTABLES -F
	$IPTABLES -X
	$IPTABLES -t nat -F

	# The gateway itself: loopback, the LAN, replies, ssh from outside.
	$IPTABLES -A INPUT -i lo -j ACCEPT
	$IPTABLES -A INPUT -i $int -s $net -j ACCEPT
	$IPTABLES -A INPUT -m state --state ESTABLISHED,RELATED -j ACCEPT
	$IPTABLES -A INPUT -i $ext -p tcp --dport 22 --syn \
		-m limit --limit 4/minute --limit-burst 4 -j ACCEPT
	$IPTABLES -A INPUT -i $ext -p icmp --icmp-type echo-request -j ACCEPT
	$IPTABLES -A INPUT -i $ext -p icmp --icmp-type destination-unreachable -j ACCEPT

	# Forwarding: LAN out, replies back in.
	$IPTABLES -A FORWARD -i $ext -o $int -m state --state ESTABLISHED,RELATED -j ACCEPT
	$IPTABLES -A FORWARD -i $int -o $ext -s $net -j ACCEPT

	$IPTABLES -t nat -A POSTROUTING -o $ext -s $net -j MASQUERADE

	return 0
}

# firewall_stop: open everything and stop routing.
firewall_stop() {
	echo "Stopping firewall: flushing all rules, policies ACCEPT"
	echo 0 > /proc/sys/net/ipv4/ip_forward

	$IPTABLES -P INPUT ACCEPT
	$IPTABLES -P OUTPUT ACCEPT
	$IPTABLES -P FORWARD ACCEPT
	$IPTABLES -F
	$IPTABLES -X
	$IPTABLES -Z
	$IPTABLES -t nat -F
	$IPTABLES -t nat -X
}

case "$1" in
  start)
	firewall_start $EXTIF $INTIF $INTNET
	;;
  stop)
	firewall_stop
	;;
  restart|reload)
	firewall_stop
	firewall_start $EXTIF $INTIF $INTNET
	;;
  status)
	$IPTABLES -L -n -v
	$IPTABLES -t nat -L -n -v
	;;
  *)
	echo "Usage: $0 {start|stop|restart|status}"
	exit 1
	;;
esac

exit 0
