#!/usr/bin/env python3
"""bench/gen.py -- generate a benchmark ruleset of N rules, twice.

    bench/gen.py N OUTDIR   writes OUTDIR/rules-N.sh    (a shell script of
                                                         $IPTABLES calls)
                                   OUTDIR/rules-N.save  (the same rules as an
                                                         iptables-save dump)

The mix follows docs/performance.md: addresses and networks, ports and port
ranges, conntrack state, multiport, LOG, REJECT, user chains and jumps to
them, DNAT port forwards, SNAT and MASQUERADE, in- and out-interfaces.  The
seed is fixed (it depends on N only), so every run builds the same files.
The script names the interfaces through variables, as real rc.firewall
scripts do, so the compiler's shell evaluation is part of what is measured.
"""

import os
import random
import sys

EXTIF, INTIF, DMZIF = "eth0", "eth1", "eth2"
EXTIP = "203.0.113.7"


def addr(r):
    """A host or a network, in the ranges a gateway would see."""
    kind = r.random()
    if kind < 0.5:
        return "10.%d.%d.%d" % (r.randrange(256), r.randrange(256), r.randrange(1, 255))
    if kind < 0.8:
        return "192.168.%d.0/24" % r.randrange(256)
    plen = r.choice([16, 20, 24])
    third = 0 if plen == 16 else (r.randrange(16) * 16 if plen == 20 else r.randrange(256))
    return "172.%d.%d.0/%d" % (r.randrange(16, 32), third, plen)


def port(r):
    return r.choice([22, 25, 53, 80, 110, 143, 443, 993, 995, 3306, 5432, 8080]) if r.random() < 0.5 \
        else r.randrange(1024, 65000)


def port_or_range(r):
    if r.random() < 0.2:
        lo = r.randrange(1024, 60000)
        return "%d:%d" % (lo, lo + r.randrange(1, 2000))
    return str(port(r))


class Ruleset:
    def __init__(self, n):
        self.n = n
        self.r = random.Random(20260101 + n)
        nchains = max(4, n // 400)
        self.chains = ["svc_%03d" % i for i in range(nchains)]
        # (table, chain, args with shell variables, args with literals)
        self.rules = []

    def add(self, table, chain, args):
        lit = args.replace("$EXTIF", EXTIF).replace("$INTIF", INTIF) \
                  .replace("$DMZIF", DMZIF).replace("$EXTIP", EXTIP)
        self.rules.append((table, chain, args, lit))

    def filter_rule(self):
        r = self.r
        chain = r.choice(["INPUT", "FORWARD", "FORWARD"] + self.chains)
        proto = r.choice(["tcp", "tcp", "tcp", "udp"])
        k = r.random()
        iface = ""
        if chain == "INPUT":
            iface = "-i $EXTIF "
        elif chain == "FORWARD":
            iface = r.choice(["-i $EXTIF -o $INTIF ", "-i $INTIF -o $EXTIF ", "-i $EXTIF -o $DMZIF "])
        if k < 0.30:
            self.add("filter", chain, "%s-p %s -s %s --dport %s -j ACCEPT"
                     % (iface, proto, addr(r), port_or_range(r)))
        elif k < 0.42:
            ports = sorted({port(r) for _ in range(r.randrange(2, 6))})
            self.add("filter", chain, "%s-p %s -m multiport --dports %s -j ACCEPT"
                     % (iface, proto, ",".join(map(str, ports))))
        elif k < 0.52:
            self.add("filter", chain, "%s-m state --state ESTABLISHED,RELATED -j ACCEPT" % iface)
        elif k < 0.62:
            self.add("filter", chain, '%s-p %s -d %s --dport %s -j LOG --log-prefix "drop-%d: " --log-level 4'
                     % (iface, proto, addr(r), port(r), r.randrange(1000)))
        elif k < 0.72:
            self.add("filter", chain, "%s-p tcp -s %s --dport %s -j REJECT --reject-with tcp-reset"
                     % (iface, addr(r), port(r)))
        elif k < 0.80 and chain in ("INPUT", "FORWARD"):
            self.add("filter", chain, "%s-p %s --dport %s -j %s"
                     % (iface, proto, port(r), r.choice(self.chains)))
        elif k < 0.90:
            self.add("filter", chain, "%s-s %s -d %s -j DROP" % (iface, addr(r), addr(r)))
        else:
            self.add("filter", chain, "%s-p icmp --icmp-type echo-request -s %s -j ACCEPT"
                     % (iface, addr(r)))

    def nat_rule(self):
        r = self.r
        k = r.random()
        if k < 0.7:
            p = port(r)
            self.add("nat", "PREROUTING", "-i $EXTIF -p tcp -d $EXTIP --dport %d -j DNAT --to-destination 192.168.%d.%d:%d"
                     % (p, r.randrange(256), r.randrange(1, 255), r.choice([p, port(r)])))
        elif k < 0.85:
            self.add("nat", "POSTROUTING", "-o $EXTIF -s 192.168.%d.0/24 -j SNAT --to-source $EXTIP"
                     % r.randrange(256))
        else:
            self.add("nat", "POSTROUTING", "-o $EXTIF -s 10.%d.0.0/16 -j MASQUERADE" % r.randrange(256))

    def build(self):
        # The fixed head every gateway script has: loopback, state,
        # masquerading; then the generated bulk.
        self.add("filter", "INPUT", "-i lo -j ACCEPT")
        self.add("filter", "INPUT", "-m state --state ESTABLISHED,RELATED -j ACCEPT")
        self.add("nat", "POSTROUTING", "-o $EXTIF -j MASQUERADE")
        while len(self.rules) < self.n:
            if self.r.random() < 0.15:
                self.nat_rule()
            else:
                self.filter_rule()

    def script(self):
        out = ["#!/bin/sh",
               "# generated by bench/gen.py: %d rules" % self.n,
               "IPTABLES=iptables",
               "EXTIF=%s" % EXTIF, "INTIF=%s" % INTIF, "DMZIF=%s" % DMZIF,
               "EXTIP=%s" % EXTIP,
               "$IPTABLES -P INPUT DROP",
               "$IPTABLES -P FORWARD DROP",
               "$IPTABLES -P OUTPUT ACCEPT"]
        out += ["$IPTABLES -N %s" % c for c in self.chains]
        for table, chain, args, _ in self.rules:
            t = "" if table == "filter" else "-t %s " % table
            out.append("$IPTABLES %s-A %s %s" % (t, chain, args))
        return "\n".join(out) + "\n"

    def dump(self):
        out = ["# generated by bench/gen.py: %d rules" % self.n, "*filter",
               ":INPUT DROP [0:0]", ":FORWARD DROP [0:0]", ":OUTPUT ACCEPT [0:0]"]
        out += [":%s - [0:0]" % c for c in self.chains]
        out += ["-A %s %s" % (c, lit) for t, c, _, lit in self.rules if t == "filter"]
        out += ["COMMIT", "*nat", ":PREROUTING ACCEPT [0:0]", ":INPUT ACCEPT [0:0]",
                ":OUTPUT ACCEPT [0:0]", ":POSTROUTING ACCEPT [0:0]"]
        out += ["-A %s %s" % (c, lit) for t, c, _, lit in self.rules if t == "nat"]
        out.append("COMMIT")
        return "\n".join(out) + "\n"


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: gen.py N OUTDIR")
    n, outdir = int(sys.argv[1]), sys.argv[2]
    os.makedirs(outdir, exist_ok=True)
    rs = Ruleset(n)
    rs.build()
    with open(os.path.join(outdir, "rules-%d.sh" % n), "w") as f:
        f.write(rs.script())
    with open(os.path.join(outdir, "rules-%d.save" % n), "w") as f:
        f.write(rs.dump())


if __name__ == "__main__":
    main()
