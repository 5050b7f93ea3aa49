"""masqc lab: probes.

A probe sends real traffic between lab namespaces and reports what it *saw*,
as an observation dict:

    {"outcome": "open" | "rst" | "icmp-port-unreachable" | ... | "drop",
     "source": "203.0.113.7",   # client address as the server saw it
     "served_by": "lan2",       # which host's server answered
     "detail": "..."}           # human-readable evidence

Outcomes are exact.  "rst" versus "icmp-port-unreachable" cannot be told
apart by errno (Linux maps both to ECONNREFUSED on a TCP socket), so every
probe keeps a packet socket (AF_PACKET) open in the client's namespace and
classifies by what actually came back on the wire: a TCP RST from the peer, an
ICMP error quoting our own packet (type/code), a SYN-ACK, or nothing within
the timeout ("drop").  A probe that cannot run raises ProbeError: it fails
loudly and never passes by default.

Every probe but ftp and irc-dcc also speaks IPv6 (p["family"] == "ipv6"):
the same roles resolve to their IPv6 addresses, captures listen for
ETH_P_IPV6 and refusals are ICMPv6 ("icmp6-admin-prohibited", ...).  The
ndisc probe sends a neighbour solicitation itself, to show that neighbour
discovery passes the gateway's rules.
"""

import errno
import os
import random
import selectors
import socket
import struct
import threading
import time

from lab import addr_of, in_netns, HOSTS

ETH_P_IP = 0x0800
ETH_P_IPV6 = 0x86DD
PACKET_OUTGOING = 4
IPPROTO_ICMPV6 = 58

ICMP_UNREACH_CODES = {
    0: "net-unreachable", 1: "host-unreachable", 2: "prot-unreachable",
    3: "port-unreachable", 4: "frag-needed", 9: "net-prohibited",
    10: "host-prohibited", 13: "admin-prohibited",
}


# ICMPv6 destination-unreachable (type 1) codes, RFC 4443 (ip6tables:
# icmp6-no-route, icmp6-adm-prohibited, icmp6-addr-unreachable,
# icmp6-port-unreachable), and the other errors by type.
ICMP6_UNREACH_CODES = {
    0: "no-route", 1: "admin-prohibited", 2: "beyond-scope",
    3: "addr-unreachable", 4: "port-unreachable", 5: "policy-fail",
    6: "reject-route",
}
ICMP6_ERRORS = {2: "packet-too-big", 3: "time-exceeded", 4: "parameter-problem"}


class ProbeError(Exception):
    """The probe could not run (harness problem); reported as a failure."""


def family_of(p):
    return p.get("family", "ipv4")


def af_of(family):
    return socket.AF_INET6 if family == "ipv6" else socket.AF_INET


def icmp_name(t, c, family="ipv4"):
    if family == "ipv6":
        if t == 1:
            return "icmp6-" + ICMP6_UNREACH_CODES.get(c, "unreachable-code-%d" % c)
        if t in ICMP6_ERRORS:
            return "icmp6-" + ICMP6_ERRORS[t]
        return "icmp6-type-%d-code-%d" % (t, c)
    if t == 3:
        return "icmp-" + ICMP_UNREACH_CODES.get(c, "unreachable-code-%d" % c)
    if t == 11:
        return "icmp-time-exceeded"
    return "icmp-type-%d-code-%d" % (t, c)


# -- packet parsing ----------------------------------------------------------

def ip_str(b):
    return socket.inet_ntoa(b)


def ip6_str(b):
    return socket.inet_ntop(socket.AF_INET6, b)


def hostport(addr, port):
    """addr:port, with an IPv6 address in brackets."""
    if port is None:
        return ("[%s]" if ":" in addr else "%s") % addr
    return ("[%s]:%d" if ":" in addr else "%s:%d") % (addr, port)


def parse_packet(data):
    """An IPv4 or IPv6 packet as a dict (see parse_ip / parse_ip6)."""
    if data and data[0] >> 4 == 6:
        return parse_ip6(data)
    return parse_ip(data)


def parse_ip(data):
    """Parse an IPv4 packet into a dict; tolerant of truncation (ICMP quotes)."""
    if len(data) < 20 or data[0] >> 4 != 4:
        return None
    ihl = (data[0] & 15) * 4
    p = {"family": "ipv4", "proto": data[9], "src": ip_str(data[12:16]),
         "dst": ip_str(data[16:20]), "raw": data}
    l4 = data[ihl:]
    if p["proto"] in (6, 17):
        _parse_ports(p, l4)
    elif p["proto"] == 1 and len(l4) >= 4:
        p["type"], p["code"] = l4[0], l4[1]
        if p["type"] in (0, 8) and len(l4) >= 8:
            p["id"], p["seq"] = struct.unpack("!HH", l4[4:8])
            p["payload"] = l4[8:]
        elif p["type"] in (3, 4, 5, 11, 12) and len(l4) >= 8:
            p["inner"] = parse_ip(l4[8:])
    return p


def parse_ip6(data):
    """Parse an IPv6 packet the same way.  Extension headers are skipped;
    a non-first fragment has no transport header to parse."""
    if len(data) < 40 or data[0] >> 4 != 6:
        return None
    p = {"family": "ipv6", "src": ip6_str(data[8:24]), "dst": ip6_str(data[24:40]),
         "hlim": data[7], "raw": data}
    nh, off = data[6], 40
    while nh in (0, 43, 44, 60) and len(data) >= off + 8:
        if nh == 44:
            later = struct.unpack("!H", data[off + 2:off + 4])[0] >> 3
            nh, off = data[off], off + 8
            if later:
                p["proto"], p["fragment"] = nh, True
                return p
            continue
        nh, off = data[off], off + (data[off + 1] + 1) * 8
    p["proto"] = nh
    l4 = data[off:]
    if nh in (6, 17):
        _parse_ports(p, l4)
    elif nh == IPPROTO_ICMPV6 and len(l4) >= 4:
        p["type"], p["code"] = l4[0], l4[1]
        if p["type"] in (128, 129) and len(l4) >= 8:
            p["id"], p["seq"] = struct.unpack("!HH", l4[4:8])
            p["payload"] = l4[8:]
        elif p["type"] < 128 and len(l4) >= 8:
            p["inner"] = parse_ip6(l4[8:])
            if p["type"] == 2:
                p["mtu"] = struct.unpack("!I", l4[4:8])[0]
        elif p["type"] in (135, 136) and len(l4) >= 24:
            p["target"] = ip6_str(l4[8:24])
    return p


def _parse_ports(p, l4):
    """TCP or UDP header (and payload) into p."""
    if p["proto"] == 6 and len(l4) >= 4:
        p["sport"], p["dport"] = struct.unpack("!HH", l4[:4])
        if len(l4) >= 14:
            p["seq"] = struct.unpack("!I", l4[4:8])[0]
            p["flags"] = l4[13]
            doff = (l4[12] >> 4) * 4
            p["mss"] = _tcp_mss(l4[20:doff])
            p["payload"] = l4[doff:]
    elif p["proto"] == 17 and len(l4) >= 4:
        p["sport"], p["dport"] = struct.unpack("!HH", l4[:4])
        p["payload"] = l4[8:]


def _tcp_mss(opts):
    i = 0
    while i < len(opts):
        kind = opts[i]
        if kind == 0:
            break
        if kind == 1:
            i += 1
            continue
        if i + 1 >= len(opts):
            break
        ln = opts[i + 1]
        if kind == 2 and ln == 4:
            return struct.unpack("!H", opts[i + 2:i + 4])[0]
        i += max(ln, 2)
    return None


class Sniffer:
    """Packet socket on every interface of one namespace (incoming only), for
    IPv4 or IPv6 packets.

    Opened before a probe, drained after it: the kernel queues what arrived in
    between, so no thread is needed.
    """

    def __init__(self, topo, role, family="ipv4"):
        with in_netns(topo.ns(role)):
            self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(
                ETH_P_IPV6 if family == "ipv6" else ETH_P_IP))
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.sock.setblocking(False)

    def drain(self):
        out = []
        while True:
            try:
                data, addr = self.sock.recvfrom(65535)
            except BlockingIOError:
                break
            if addr[2] == PACKET_OUTGOING:
                continue
            p = parse_packet(data)
            if p:
                p["ifname"] = addr[0]
                out.append(p)
        return out

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


# -- services -----------------------------------------------------------------

class Services:
    """Banner servers for the probes, in every namespace that needs them.

    TCP: on accept, the server writes "MQLAB <role> <peer-ip> <peer-port>
    <local-ip> <local-port>\\n" and closes: the client learns who answered
    and which address the server saw.  UDP: the reply echoes the same plus the
    client's nonce.  One selector thread serves all sockets of a topology
    (sockets keep their namespace, so one thread can serve them all).  IPv6
    servers are separate sockets (IPV6_V6ONLY) on the same ports.
    """

    def __init__(self, topo):
        self.topo = topo
        self.sel = selectors.DefaultSelector()
        self.socks = []
        self.stop = False
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _socket(self, role, family, kind):
        with in_netns(self.topo.ns(role)):
            s = socket.socket(af_of(family), kind)
        if family == "ipv6":
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        return s

    def add_tcp(self, role, port, family="ipv4"):
        s = self._socket(role, family, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("::" if family == "ipv6" else "0.0.0.0", port))
        except OSError as e:
            s.close()
            raise ProbeError("cannot listen on %s tcp/%d (%s): %s" % (role, port, family, e))
        s.listen(64)
        s.setblocking(False)
        self.socks.append(s)
        self.sel.register(s, selectors.EVENT_READ, ("tcp", role))

    def add_udp(self, role, port, family="ipv4"):
        s = self._socket(role, family, socket.SOCK_DGRAM)
        # learn the local address each datagram was sent to
        if family == "ipv6":
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVPKTINFO, 1)
        else:
            s.setsockopt(socket.IPPROTO_IP, 8, 1)   # IP_PKTINFO
        try:
            s.bind(("::" if family == "ipv6" else "0.0.0.0", port))
        except OSError as e:
            s.close()
            raise ProbeError("cannot listen on %s udp/%d (%s): %s" % (role, port, family, e))
        s.setblocking(False)
        self.socks.append(s)
        self.sel.register(s, selectors.EVENT_READ, ("udp", role))

    def _loop(self):
        while not self.stop:
            for key, _ in self.sel.select(timeout=0.2):
                kind, role = key.data
                s = key.fileobj
                try:
                    if kind == "tcp":
                        c, peer = s.accept()
                        loc = c.getsockname()
                        c.setblocking(True)
                        c.settimeout(1)
                        c.sendall(("MQLAB %s %s %d %s %d\n" %
                                   (role, peer[0], peer[1], loc[0], loc[1])).encode())
                        c.close()
                    else:
                        data, anc, _, peer = s.recvmsg(2048, 256)
                        local = "?"
                        for lvl, typ, d in anc:
                            if lvl == socket.IPPROTO_IP and typ == 8:
                                local = ip_str(d[8:12])
                            elif lvl == socket.IPPROTO_IPV6 and typ == socket.IPV6_PKTINFO:
                                local = ip6_str(d[:16])
                        msg = "MQLAB %s %s %d %s %d %s" % (
                            role, peer[0], peer[1], local, s.getsockname()[1],
                            data.decode(errors="replace"))
                        s.sendto(msg.encode(), peer)
                except OSError:
                    pass

    def close(self):
        self.stop = True
        self.thread.join(timeout=2)
        for s in self.socks:
            s.close()


def parse_banner(text):
    f = text.split()
    if len(f) < 6 or f[0] != "MQLAB":
        return None
    return {"served_by": f[1], "source": f[2], "source_port": int(f[3]),
            "local": f[4], "served_port": int(f[5]), "rest": " ".join(f[6:])}


# -- helpers -------------------------------------------------------------------

def host_addr(role, family="ipv4"):
    """Client bind address: a lab host binds its own address; gw lets the
    routing decide (it has several)."""
    if role in HOSTS:
        return addr_of(role, family)
    return "::" if family == "ipv6" else "0.0.0.0"


def icmp_evidence(p):
    v6 = p["family"] == "ipv6"
    text = "ICMP%s type %d code %d from %s" % ("v6" if v6 else "", p["type"], p["code"], p["src"])
    if "mtu" in p:
        text += " (mtu %d)" % p["mtu"]
    return text


def classify_reply(pkts, proto, dst, dport, sport, synack_ok=True):
    """What came back for our packet (proto, ->dst:dport from sport)?"""
    for p in pkts:
        if p.get("inner"):
            q = p["inner"]
            if q["proto"] == proto and q["dst"] == dst and \
                    q.get("dport") == dport and q.get("sport") == sport:
                return icmp_name(p["type"], p["code"], p["family"]), icmp_evidence(p)
    for p in pkts:
        if proto == 6 and p["proto"] == 6 and p["src"] == dst and \
                p.get("sport") == dport and p.get("dport") == sport and "flags" in p:
            if p["flags"] & 0x04:
                return "rst", "TCP RST from %s" % hostport(dst, dport)
            if p["flags"] & 0x12 == 0x12 and synack_ok:
                return "open", "SYN-ACK from %s" % hostport(dst, dport)
    return None, None


def _nonce():
    return "%016x" % random.getrandbits(64)


def _wait(sock, sn, deadline, on_data, on_pkts):
    """Wait until `deadline` for an answer on `sock` (on_data(data, peer)
    returns True when it is the one) or for the capture `sn` to show that
    none will come (on_pkts(packets so far) returns True, e.g. for an ICMP
    error quoting our packet), whichever is first -- so a refusal costs
    milliseconds, not the whole timeout.  Returns the packets captured."""
    pkts = []
    sock.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(sock, selectors.EVENT_READ, "sock")
    if sn:
        sel.register(sn.sock, selectors.EVENT_READ, "sniff")
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return pkts
            for key, _ in sel.select(left):
                if key.data == "sniff":
                    pkts += sn.drain()
                    if on_pkts(pkts):
                        return pkts
                    continue
                try:
                    data, peer = sock.recvfrom(2048)
                except BlockingIOError:
                    continue
                except OSError:
                    return pkts      # an ICMP error; classified from the capture
                if on_data(data, peer):
                    return pkts
    finally:
        sel.close()


# -- probes --------------------------------------------------------------------

def probe_tcp(topo, p, timeout):
    family = family_of(p)
    src, dst, port = p["from"], addr_of(p["to"], family), int(p["port"])
    obs = {}
    # at the target (a lab host): the SYN as it arrived, for its MSS option
    tsn = Sniffer(topo, p["to"], family) if p["to"] in HOSTS else None
    try:
        obs = _probe_tcp(topo, p, timeout, src, dst, port, tsn)
    finally:
        if tsn:
            tsn.close()
    return obs


def _probe_tcp(topo, p, timeout, src, dst, port, tsn):
    obs = {}
    family = family_of(p)
    with Sniffer(topo, src, family) as sn:
        with in_netns(topo.ns(src)):
            s = socket.socket(af_of(family), socket.SOCK_STREAM)
        try:
            s.bind((host_addr(src, family), 0))
            sport = s.getsockname()[1]
            s.settimeout(timeout)
            err = None
            t0 = time.monotonic()
            try:
                s.connect((dst, port))
            except socket.timeout:
                err = "timeout"
            except OSError as e:
                err = errno.errorcode.get(e.errno, str(e.errno))
            if err is None:
                data = b""
                s.settimeout(max(0.2, timeout - (time.monotonic() - t0)))
                try:
                    while not data.endswith(b"\n"):
                        chunk = s.recv(512)
                        if not chunk:
                            break
                        data += chunk
                except OSError as e:
                    return {"outcome": "broken",
                            "detail": "connected, then %s while reading the banner" % e}
                b = parse_banner(data.decode(errors="replace"))
                if not b:
                    return {"outcome": "broken",
                            "detail": "connected but no banner (got %r)" % data[:80]}
                obs = {"outcome": "open", "source": b["source"],
                       "served_by": b["served_by"], "served_port": b["served_port"],
                       "detail": "connected; %s answered on port %d and saw %s" % (
                           b["served_by"], b["served_port"],
                           hostport(b["source"], b["source_port"]))}
        finally:
            s.close()
        time.sleep(0.02)
        pkts = sn.drain()
    if obs:
        if tsn:
            syn = [q for q in tsn.drain() if q["proto"] == 6 and q.get("dport") == port
                   and q.get("flags", 0) & 0x12 == 0x02]
            if syn and syn[0].get("mss") is not None:
                obs["syn_mss"] = syn[0]["mss"]
        return obs
    kind, why = classify_reply(pkts, 6, dst, port, sport)
    if kind and kind != "open":
        return {"outcome": kind, "detail": "%s (connect: %s)" % (why, err)}
    if err == "timeout":
        return {"outcome": "drop",
                "detail": "no answer within %.1f s" % timeout}
    raise ProbeError("connect failed with %s but no RST or ICMP error was "
                     "captured for it" % err)


def probe_udp(topo, p, timeout):
    """A datagram with a nonce; the server echoes it.  `size` pads the
    payload to that many bytes (path MTU probes: a router on the way answers
    packet-too-big / frag-needed instead).  `sport` sends from that source
    port instead of an ephemeral one (two probes of one flow)."""
    family = family_of(p)
    src, dst, port = p["from"], addr_of(p["to"], family), int(p["port"])
    nonce = _nonce()
    payload = nonce.encode()
    if p.get("size"):
        payload += b" " + b"x" * max(0, int(p["size"]) - len(payload) - 1)
    with Sniffer(topo, src, family) as sn:
        with in_netns(topo.ns(src)):
            s = socket.socket(af_of(family), socket.SOCK_DGRAM)
        try:
            if p.get("sport"):
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((host_addr(src, family), int(p.get("sport", 0))))
            sport = s.getsockname()[1]
            s.settimeout(timeout)
            try:
                s.sendto(payload, (dst, port))
            except OSError as e:
                raise ProbeError("cannot send %d bytes to %s udp/%d: %s" % (
                    len(payload), dst, port, e))
            reply = []

            def answer(data, peer):
                b = parse_banner(data.decode(errors="replace"))
                if b and b["rest"].split(" ")[0] == nonce:
                    reply.append((b, peer))
                return bool(reply)
            pkts = _wait(s, sn, time.monotonic() + timeout, answer,
                         lambda pk: classify_reply(pk, 17, dst, port, sport)[0])
            reply = reply[0] if reply else None
        finally:
            s.close()
        time.sleep(0.02)
        pkts += sn.drain()
    if reply:
        b, peer = reply
        return {"outcome": "reply", "source": b["source"], "served_by": b["served_by"],
                "served_port": b["served_port"],
                "detail": "reply from %s; %s answered on port %d and saw %s" % (
                    hostport(peer[0], peer[1]), b["served_by"], b["served_port"],
                    hostport(b["source"], b["source_port"]))}
    kind, why = classify_reply(pkts, 17, dst, port, sport)
    if kind:
        return {"outcome": kind, "detail": why}
    return {"outcome": "drop", "detail": "no answer within %.1f s" % timeout}


def _csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def probe_ping(topo, p, timeout):
    """ICMP (or ICMPv6) echo; the source seen is taken from a capture at the
    target."""
    family = family_of(p)
    v6 = family == "ipv6"
    src, dst = p["from"], addr_of(p["to"], family)
    target = p.get("to") if p.get("to") in HOSTS else None
    nonce = _nonce().encode()
    ident, seq = random.randrange(1, 65535), random.randrange(1, 65535)
    # ICMPv6: echo request 128 / reply 129, the kernel computes the checksum
    # (RFC 3542); an ICMPv6 raw socket delivers no IP header.
    req, rep_ = (128, 129) if v6 else (8, 0)
    icmp = IPPROTO_ICMPV6 if v6 else 1
    body = struct.pack("!BBHHH", req, 0, 0, ident, seq) + nonce
    if not v6:
        body = body[:2] + struct.pack("!H", _csum(body)) + body[4:]
    tsn = Sniffer(topo, target, family) if target else None
    try:
        with Sniffer(topo, src, family) as sn:
            with in_netns(topo.ns(src)):
                s = socket.socket(af_of(family), socket.SOCK_RAW, icmp)
            try:
                if src in HOSTS:
                    s.bind((addr_of(src, family), 0))
                s.sendto(body, (dst, 0))
                got = []

                def answer(data, peer):
                    if v6:
                        if len(data) >= 8 and data[0] == rep_ and data[8:].startswith(nonce):
                            got.append({"src": peer[0]})
                    else:
                        q = parse_ip(data)
                        if q and q["proto"] == 1 and q.get("type") == rep_ and \
                                q.get("payload", b"").startswith(nonce):
                            got.append(q)
                    return bool(got)
                pkts = _wait(s, sn, time.monotonic() + timeout, answer,
                             lambda pk: _echo_error(pk, icmp, req, dst, seq))
                got = got[0] if got else None
            finally:
                s.close()
            time.sleep(0.02)
            pkts += sn.drain()
        seen = None
        if tsn:
            for q in tsn.drain():
                if q["proto"] == icmp and q.get("type") == req and \
                        q.get("payload", b"").startswith(nonce):
                    seen = q["src"]
    finally:
        if tsn:
            tsn.close()
    if got:
        obs = {"outcome": "reply", "detail": "echo reply from %s" % got["src"]}
        if seen:
            obs["source"] = seen
            obs["detail"] += "; the target saw the request come from %s" % seen
        return obs
    q = _echo_error(pkts, icmp, req, dst, seq)
    if q:
        return {"outcome": icmp_name(q["type"], q["code"], family),
                "detail": icmp_evidence(q)}
    return {"outcome": "drop", "detail": "no echo reply within %.1f s" % timeout}


def _echo_error(pkts, icmp, req, dst, seq):
    """The ICMP error quoting our echo request, if one came back."""
    for q in pkts:
        inner = q.get("inner")
        if inner and inner["proto"] == icmp and inner["dst"] == dst and \
                inner.get("type") == req and inner.get("seq") == seq:
            return q
    return None


TCP_FLAG_LETTERS = {"F": 0x01, "S": 0x02, "R": 0x04, "P": 0x08,
                    "A": 0x10, "U": 0x20, "E": 0x40, "C": 0x80}


def tcp_flag_bits(letters):
    """'SF' -> 0x03: the TCP flags an inject probe sets (default a plain SYN)."""
    bits = 0
    for ch in letters.upper():
        if ch not in TCP_FLAG_LETTERS:
            raise ProbeError("inject: unknown TCP flag %r in tcp_flags (use %s)"
                             % (ch, "".join(TCP_FLAG_LETTERS)))
        bits |= TCP_FLAG_LETTERS[ch]
    return bits


def probe_inject(topo, p, timeout):
    """Send one crafted packet (raw socket, any source address, e.g. a spoofed
    internal one) and watch whether it arrives at host `watch`.

    outcome: "arrives" (with the addresses it arrived with) or "dropped".
    IPv6: an AF_INET6 IPPROTO_RAW socket takes the whole IPv6 header too.
    """
    family = family_of(p)
    v6 = family == "ipv6"
    proto = p.get("proto", "tcp")
    if proto in ("tcp", "udp") and "port" not in p:
        raise ProbeError("inject: a %s packet needs a port" % proto)
    if proto == "icmp" and ("icmp_type" not in p or v6):
        raise ProbeError("inject: an icmp packet needs icmp_type (IPv4 only)")
    src_role, dst, port = p["from"], addr_of(p["to"], family), int(p.get("port", 0))
    forged = addr_of(p.get("source", src_role), family)
    watch = p["watch"]
    sport = random.randrange(20000, 60000)
    nonce = random.getrandbits(32)
    if proto == "tcp":
        l4 = struct.pack("!HHIIBBHHH", sport, port, nonce, 0, 5 << 4,
                         tcp_flag_bits(p.get("tcp_flags", "S")), 64240, 0, 0)
        pnum = 6
    elif proto == "udp":
        payload = ("MQLAB-INJECT %08x" % nonce).encode()
        l4 = struct.pack("!HHHH", sport, port, 8 + len(payload), 0) + payload
        pnum = 17
    elif proto == "icmp":
        # any type and code; the nonce travels in the data, which ICMP
        # errors and NAT leave alone
        payload = ("MQLAB-INJECT %08x" % nonce).encode()
        l4 = struct.pack("!BBHI", int(p["icmp_type"]), int(p.get("icmp_code", 0)), 0,
                         nonce) + payload
        l4 = l4[:2] + struct.pack("!H", _csum(l4) or 0xffff) + l4[4:]
        pnum = 1
    else:
        raise ProbeError("inject: proto must be tcp, udp or icmp, not %r" % proto)
    if v6:
        a_src = socket.inet_pton(socket.AF_INET6, forged)
        a_dst = socket.inet_pton(socket.AF_INET6, dst)
        pseudo = a_src + a_dst + struct.pack("!I3xB", len(l4), pnum)
    else:
        pseudo = socket.inet_aton(forged) + socket.inet_aton(dst) + \
            struct.pack("!BBH", 0, pnum, len(l4))
    if pnum != 1:
        c = _csum(pseudo + l4)
        off = 16 if pnum == 6 else 6
        l4 = l4[:off] + struct.pack("!H", c or 0xffff) + l4[off + 2:]
    if v6:
        iph = struct.pack("!IHBB16s16s", 6 << 28, len(l4), pnum, 64, a_src, a_dst)
    else:
        iph = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4),
                          random.getrandbits(16), 0, 64, pnum, 0,
                          socket.inet_aton(forged), socket.inet_aton(dst))
        iph = iph[:10] + struct.pack("!H", _csum(iph)) + iph[12:]
    with Sniffer(topo, watch, family) as wsn:
        with in_netns(topo.ns(src_role)):
            s = socket.socket(af_of(family), socket.SOCK_RAW, socket.IPPROTO_RAW)
        try:
            s.sendto(iph + l4, (dst, 0))
        except OSError as e:
            s.close()
            raise ProbeError("inject: cannot send from %s: %s" % (src_role, e))

        # Match on the nonce only: NAT may rewrite addresses and ports on the
        # way (a hairpin SNAT turns the forged source into the gateway's
        # address).  Waiting stops as soon as it arrived.
        def ours(q):
            if q["proto"] != pnum:
                return False
            if pnum == 6:
                return q.get("seq") == nonce
            if pnum == 1:
                return ("MQLAB-INJECT %08x" % nonce).encode() in q.get("raw", b"")
            return q.get("payload", b"").endswith(("%08x" % nonce).encode())
        try:
            pkts = _wait(s, wsn, time.monotonic() + timeout, lambda d, a: False,
                         lambda pk: any(ours(q) for q in pk))
        finally:
            s.close()
        pkts += wsn.drain()
    hits = [q for q in pkts if ours(q)]
    if hits:
        q = hits[0]
        return {"outcome": "arrives", "arrived_src": q["src"], "arrived_dst": q["dst"],
                "arrived_port": q.get("dport"),
                "detail": "the %s packet forged from %s arrived at %s as %s -> %s" % (
                    proto, forged, watch, hostport(q["src"], q.get("sport")),
                    hostport(q["dst"], q.get("dport")))}
    return {"outcome": "dropped",
            "detail": "nothing from %s reached %s within %.1f s" % (forged, watch, timeout)}


def _ndisc_path(topo, role, dst):
    """(interface, source address) `role` would use towards `dst`."""
    r = topo.exec(role, ["ip", "-6", "-o", "route", "get", dst], check=False)
    f = r.stdout.split()
    if r.returncode != 0 or "dev" not in f:
        raise ProbeError("ndisc: %s has no route to %s: %s" % (
            role, dst, (r.stderr or r.stdout).strip()))
    dev = f[f.index("dev") + 1]
    src = f[f.index("src") + 1] if "src" in f else None
    if src is None:
        raise ProbeError("ndisc: %s has no source address towards %s" % (role, dst))
    return dev, src


def probe_ndisc(topo, p, timeout):
    """Neighbour discovery: `from` asks who has `to` (an address on one of
    its links) with a neighbour solicitation -- to the solicited-node
    multicast group, hop limit 255, with its link-layer address, exactly as
    the kernel would -- and waits for the neighbour advertisement.

    Under a DROP input policy this answers only if the ruleset accepts ND
    (ICMPv6 types 135/136); without ND there is no IPv6 on the link at all.
    """
    src, dst = p["from"], addr_of(p["to"], "ipv6")
    dev, saddr = _ndisc_path(topo, src, dst)
    with in_netns(topo.ns(src)):
        ifindex = socket.if_nametoindex(dev)
        ps = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
        s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, IPPROTO_ICMPV6)
    try:
        ps.bind((dev, 0))
        mac = ps.getsockname()[4]
    finally:
        ps.close()
    try:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 255)
        s.bind((saddr, 0))
        target = socket.inet_pton(socket.AF_INET6, dst)
        group = socket.inet_ntop(socket.AF_INET6, bytes.fromhex("ff02" + "00" * 9 + "01ff") +
                                 target[13:])
        ns = struct.pack("!BBHI", 135, 0, 0, 0) + target + bytes([1, 1]) + mac[:6]
        s.sendto(ns, (group, 0, 0, ifindex))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            s.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                data, peer = s.recvfrom(2048)
            except socket.timeout:
                break
            if len(data) >= 24 and data[0] == 136 and data[8:24] == target:
                return {"outcome": "reply",
                        "detail": "neighbour advertisement for %s from %s (solicited "
                                  "from %s on %s)" % (dst, peer[0], saddr, dev)}
    finally:
        s.close()
    return {"outcome": "drop",
            "detail": "no neighbour advertisement for %s within %.1f s (solicited from "
                      "%s on %s)" % (dst, timeout, saddr, dev)}


# -- FTP (python3-pyftpdlib server, curl client) ---------------------------------

def _python_with(module):
    import subprocess
    import sys
    for py in (sys.executable, "/usr/bin/python3"):
        if os.path.exists(py) and subprocess.run(
                [py, "-c", "import " + module], capture_output=True).returncode == 0:
            return py
    return None


def ftp_server(topo, role, workdir):
    """Start (once per topology and host) an anonymous pyftpdlib server on
    tcp/21 serving one file with random content; return (path, content)."""
    cache = topo.__dict__.setdefault("ftp_servers", {})
    if role in cache:
        return cache[role]
    py = _python_with("pyftpdlib")
    if not py:
        raise ProbeError("cannot run the FTP probe: python3-pyftpdlib is not "
                         "installed (apt-get install python3-pyftpdlib)")
    # per topology: several may run at once, each with its own file content
    d = os.path.join(workdir, "ftp-%s-%s" % (topo.base, role))
    os.makedirs(d, exist_ok=True)
    content = "masqc lab %s\n" % _nonce()
    with open(os.path.join(d, "lab.txt"), "w") as f:
        f.write(content)
    log = open(os.path.join(workdir, "ftp-%s-%s.log" % (topo.base, role)), "a")
    topo.spawn(role, [py, "-m", "pyftpdlib", "-i", addr_of(role), "-p", "21",
                      "-d", d], stdout=log, stderr=log)
    deadline = time.monotonic() + 5
    while True:
        with in_netns(topo.ns(role)):
            s = socket.socket()
        s.settimeout(0.5)
        try:
            s.connect((addr_of(role), 21))
            if s.recv(64).startswith(b"220"):
                break
        except OSError:
            pass
        finally:
            s.close()
        if time.monotonic() > deadline:
            raise ProbeError("the FTP server on %s did not start (see %s)" %
                             (role, log.name))
        time.sleep(0.05)
    cache[role] = ("lab.txt", content)
    return cache[role]


def probe_ftp(topo, p, timeout, workdir):
    src, server = p["from"], p.get("server", p["to"])
    mode = p.get("mode", "passive")
    if mode not in ("active", "passive"):
        raise ProbeError("ftp: mode must be active or passive, not %r" % mode)
    name, content = ftp_server(topo, server, workdir)
    url = "ftp://%s/%s" % (addr_of(p["to"]), name)
    argv = ["curl", "-sS", "-v", "--max-time", "%g" % timeout, "-o", "-"]
    if mode == "active":
        argv += ["-P", "-"]
        if not p.get("extended", False):
            argv.append("--disable-eprt")
    elif not p.get("extended", False):
        argv.append("--disable-epsv")
    r = topo.exec(src, argv + [url], check=False, timeout=timeout + 5)
    if r.returncode == 0 and r.stdout == content:
        return {"outcome": "ok", "detail": "%s FTP download of %s succeeded" % (mode, url)}
    if r.returncode == 0:
        return {"outcome": "fail", "detail": "downloaded wrong content %r" % r.stdout[:60]}
    err = r.stderr.splitlines()
    said = [x[2:] for x in err if x.startswith("< ") and x[2:3] in "45"]
    last = [x for x in err if x.startswith("curl:")]
    return {"outcome": "fail", "detail": "%s FTP download of %s failed: curl exit %d: %s%s" % (
        mode, url, r.returncode, (last or ["?"])[-1][:160],
        "; the server said: %s" % " / ".join(said[-2:]) if said else "")}


# -- IRC DCC (tiny IRC server and clients written for the test) -------------------

class TinyIrcd:
    """Enough IRC for DCC: NICK registers and gets 001; PRIVMSG is relayed to
    the named nick with a ':nick!user@host' prefix."""

    def __init__(self, topo, role, port):
        with in_netns(topo.ns(role)):
            self.ls = socket.socket()
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind(("0.0.0.0", port))
        self.ls.listen(8)
        self.stop = False
        self.nicks = {}
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        sel = selectors.DefaultSelector()
        sel.register(self.ls, selectors.EVENT_READ, None)
        bufs = {}
        while not self.stop:
            for key, _ in sel.select(timeout=0.1):
                if key.data is None:
                    c, _ = self.ls.accept()
                    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    bufs[c] = [b"", None]
                    sel.register(c, selectors.EVENT_READ, "c")
                    continue
                c = key.fileobj
                try:
                    data = c.recv(4096)
                except OSError:
                    data = b""
                if not data:
                    sel.unregister(c)
                    c.close()
                    continue
                bufs[c][0] += data
                while b"\n" in bufs[c][0]:
                    line, bufs[c][0] = bufs[c][0].split(b"\n", 1)
                    self._line(c, bufs[c], line.rstrip(b"\r"))
        for c in bufs:
            c.close()
        self.ls.close()

    def _line(self, c, st, line):
        parts = line.split(b" ", 2)
        if parts[0] == b"NICK" and len(parts) > 1:
            st[1] = parts[1]
            self.nicks[parts[1]] = c
            c.sendall(b":irc.lab 001 " + parts[1] + b" :Welcome to the masqc lab\r\n")
        elif parts[0] == b"PRIVMSG" and len(parts) == 3 and parts[1] in self.nicks:
            self.nicks[parts[1]].sendall(b":" + (st[1] or b"?") + b"!u@lab PRIVMSG " +
                                         parts[1] + b" " + parts[2] + b"\r\n")

    def close(self):
        self.stop = True
        self.thread.join(timeout=2)


def _irc_register(topo, role, addr, port, nick, timeout):
    with in_netns(topo.ns(role)):
        s = socket.socket()
    s.settimeout(timeout)
    if role in HOSTS:
        s.bind((addr_of(role), 0))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.connect((addr, port))
    s.sendall(b"NICK " + nick + b"\r\n")
    buf = b""
    while b" 001 " not in buf:
        d = s.recv(1024)
        if not d:
            raise OSError("IRC server closed the connection during registration")
        buf += d
    return s


def probe_irc_dcc(topo, p, timeout):
    """lan client offers a DCC SEND to an outside peer through the gateway.

    The offer carries the client's own address as an integer (the kernel's
    nf_conntrack_irc ignores offers whose address is neither end of the IRC
    connection).  The peer reports the address it received (the nf_nat_irc
    helper rewrites it to the masquerading address) and then fetches the file
    from that address and port (through the expectation the helper created).
    """
    client, server = p["from"], p.get("server", "out2")
    peer = p.get("peer", "out1")
    port = int(p.get("port", 6667))
    srv_addr = addr_of(server)
    content = ("DCC-%s\n" % _nonce()).encode()
    ircd = TinyIrcd(topo, server, port)
    socks = []
    try:
        with in_netns(topo.ns(client)):
            dl = socket.socket()
        socks.append(dl)
        dl.bind((addr_of(client), 0))
        dl.listen(1)
        dl.settimeout(timeout)
        dcc_port = dl.getsockname()[1]

        def serve_file():
            try:
                c, _ = dl.accept()
                c.sendall(content)
                c.close()
            except OSError:
                pass
        th = threading.Thread(target=serve_file, daemon=True)
        th.start()
        try:
            bob = _irc_register(topo, peer, srv_addr, port, b"bob", timeout)
        except OSError as e:
            raise ProbeError("the outside peer %s could not register with the IRC "
                             "server on %s: %s" % (peer, server, e))
        socks.append(bob)
        try:
            alice = _irc_register(topo, client, srv_addr, port, b"alice", timeout)
        except OSError as e:
            return {"outcome": "fail",
                    "detail": "%s could not reach the IRC server %s:%d: %s" % (
                        client, srv_addr, port, e)}
        socks.append(alice)
        ip_int = struct.unpack("!I", socket.inet_aton(addr_of(client)))[0]
        time.sleep(0.05)   # keep the PRIVMSG at the start of its own segment
        alice.sendall(b"PRIVMSG bob :\x01DCC SEND lab.txt %d %d %d\x01\r\n" %
                      (ip_int, dcc_port, len(content)))
        buf = b""
        bob.settimeout(timeout)
        try:
            while b"DCC SEND" not in buf or not buf.endswith(b"\n"):
                d = bob.recv(1024)
                if not d:
                    break
                buf += d
        except socket.timeout:
            pass
        line = [x for x in buf.split(b"\n") if b"DCC SEND" in x]
        if not line:
            return {"outcome": "fail", "detail": "the peer never received the DCC offer"}
        f = line[0].split(b"\x01")[1].split()
        try:
            got_ip = socket.inet_ntoa(struct.pack("!I", int(f[3])))
            got_port = int(f[4])
        except (IndexError, ValueError):
            return {"outcome": "fail", "detail": "garbled DCC offer %r" % line[0]}
        obs = {"dcc_address": got_ip, "dcc_port": got_port}
        with in_netns(topo.ns(peer)):
            d = socket.socket()
        socks.append(d)
        d.settimeout(timeout)
        try:
            d.connect((got_ip, got_port))
            data = b""
            while len(data) < len(content):
                chunk = d.recv(1024)
                if not chunk:
                    break
                data += chunk
        except OSError as e:
            obs.update(outcome="fail", detail="the peer got a DCC offer for %s:%d "
                       "but could not fetch the file: %s" % (got_ip, got_port, e))
            return obs
        if data != content:
            obs.update(outcome="fail", detail="DCC transfer from %s:%d returned %r" % (
                got_ip, got_port, data[:40]))
            return obs
        obs.update(outcome="ok", detail="the peer received a DCC offer for %s:%d and "
                   "fetched the file through it" % (got_ip, got_port))
        return obs
    finally:
        for s in socks:
            s.close()
        ircd.close()
