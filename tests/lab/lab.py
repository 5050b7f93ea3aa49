"""masqc lab: the topology harness.

Builds a throwaway network of namespaces joined by veth pairs, so that a
compiled ruleset can be loaded into a gateway namespace and judged with real
traffic.  Nothing is added to the host's root namespace: every veth pair is
created inside a lab namespace with its peer placed directly in another lab
namespace (`ip -n A link add X type veth peer name Y netns B`), and no lab
namespace has a route to the host or beyond.

                      outside world                 |        inside
                                                    |
  out2 198.51.100.50 --- rtr 198.51.100.1           |
                         rtr 203.0.113.1            |
                          |                         |
   [swout bridge] --------+--- out1  203.0.113.50   |
        |     +--- evil 203.0.113.66 (attacker)     |
        |                                           |
   gw EXTIF 203.0.113.7/24 (eth0 / ppp0 ...)        |
   gw INTIF 192.168.0.1/24 (eth1) --- [swlan bridge] --- lan1 192.168.0.10
        |                                     +--- lan2 192.168.0.20
        |                                     +--- lan3 192.168.0.21
        |                                     +--- lan4 192.168.0.30
   gw LAN2IF 192.168.1.1/24 (eth2) -- [swlanb bridge] -- lanb1 192.168.1.10

Outside hosts route only to the outside networks (default via rtr); rtr knows
nothing about 192.168.0.0/16, so traffic that leaves the gateway without being
masqueraded cannot be answered.  Only `evil` has a route to the LAN via the
gateway: it plays the attacker who tries to reach inside addresses directly or
to spoof them.

The lab is dual-stack.  IPv6 has no masquerading: the provider (rtr) routes
the LAN prefixes to the gateway, as ip6-basic.sh assumes, so every outside
host can address LAN hosts and only the ruleset keeps them out:

  segment   prefix               gw           hosts
  swout     2001:db8:ff::/64     ::7 (ext)    rtr ::1, out1 ::50, evil ::66
  out2      2001:db8:fe::/64     -            rtr ::1, out2 ::50
  swlan     2001:db8:1::/64      ::1 (int)    lan1 ::10, lan2 ::20, lan3 ::21, lan4 ::30
  swlanb    2001:db8:2::/64      ::1 (lanb)   lanb1 ::10

rtr: 2001:db8:1::/64 and 2001:db8:2::/64 via 2001:db8:ff::7; the IPv6 MTU of
rtr's link to out2 is 1280, so a large packet towards out2 makes rtr send
ICMPv6 packet-too-big (path MTU discovery through the gateway).  DAD is off
everywhere (addresses are usable at once), the bridges do no multicast
snooping and carry no addresses of their own, and hosts ignore redirects, so
the path is always the same.

The process talks to the namespaces in two ways: `ip netns exec` for tools
(nft, iptables-restore, curl, the FTP server), and setns(2) on the calling
thread for sockets (a socket stays in the namespace it was created in), so the
probes' clients and servers are plain Python sockets in one process.
"""

import atexit
import contextlib
import ctypes
import os
import signal
import subprocess
import threading

CLONE_NEWNET = 0x40000000
PREFIX = "mqlab"
NETNS_DIR = "/run/netns"

_libc = ctypes.CDLL(None, use_errno=True)


class LabError(Exception):
    """The lab itself could not do what was asked (not a probe failure)."""


def run(argv, check=True, input=None, timeout=30):
    """Run a command, capture output, raise LabError with stderr on failure
    (also when it does not finish within `timeout` seconds)."""
    try:
        p = subprocess.run(argv, input=input, capture_output=True, text=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        raise LabError("command did not finish within %d s: %s" % (timeout, " ".join(argv)))
    if check and p.returncode != 0:
        raise LabError("command failed (exit %d): %s\n%s" %
                       (p.returncode, " ".join(argv),
                        (p.stderr or p.stdout).strip()))
    return p


def _setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise LabError("setns: %s" % os.strerror(e))


@contextlib.contextmanager
def in_netns(name):
    """Switch *this thread* into namespace `name` for the with-block.

    Sockets created inside stay in that namespace after we switch back.
    """
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        fd = os.open(os.path.join(NETNS_DIR, name), os.O_RDONLY)
        try:
            _setns(fd)
        finally:
            os.close(fd)
        try:
            yield
        finally:
            _setns(home)
    finally:
        os.close(home)


def netns_socket(ns, *args):
    import socket
    with in_netns(ns):
        return socket.socket(*args)


def netns_list():
    p = run(["ip", "netns", "list"], check=False)
    return [line.split()[0] for line in p.stdout.splitlines() if line.strip()]


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale():
    """Delete namespaces left by lab runs whose process is gone.

    Names are PREFIX + owner pid + '-' + role, so a namespace whose owner is
    dead is ours and stale.  Processes still running inside it (an FTP server
    of a killed run) are stopped first, or they would keep it alive.
    """
    swept = []
    for name in netns_list():
        if not name.startswith(PREFIX):
            continue
        owner = name[len(PREFIX):].split("-", 1)[0]
        if not owner.isdigit() or _pid_alive(int(owner)):
            continue
        p = run(["ip", "netns", "pids", name], check=False)
        for pid in p.stdout.split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
        run(["ip", "netns", "del", name], check=False)
        swept.append(name)
    return swept


# Host addressing.  Roles are the names scenario files use.
FAMILIES = ("ipv4", "ipv6")
GW_EXT = "203.0.113.7"
GW_EXT6 = "2001:db8:ff::7"
HOSTS = {
    # role: (segment, address/prefix, default gateway)
    "lan1": ("lan", "192.168.0.10/24", "192.168.0.1"),
    "lan2": ("lan", "192.168.0.20/24", "192.168.0.1"),
    "lan3": ("lan", "192.168.0.21/24", "192.168.0.1"),
    "lan4": ("lan", "192.168.0.30/24", "192.168.0.1"),
    "lanb1": ("lanb", "192.168.1.10/24", "192.168.1.1"),
    "out1": ("out", "203.0.113.50/24", "203.0.113.1"),
    "evil": ("out", "203.0.113.66/24", "203.0.113.1"),
    "out2": ("out2", "198.51.100.50/24", "198.51.100.1"),
}
# Symbolic addresses usable in scenarios besides the host roles.
SYMBOLS = {
    "gw.ext": GW_EXT,
    "gw.int": "192.168.0.1",
    "gw.lanb": "192.168.1.1",
    "rtr": "203.0.113.1",
    "rtr.out2": "198.51.100.1",
}
# IPv6: the same roles, documentation prefixes (see the module docstring).
HOSTS6 = {
    # role: (address/prefix, default gateway)
    "lan1": ("2001:db8:1::10/64", "2001:db8:1::1"),
    "lan2": ("2001:db8:1::20/64", "2001:db8:1::1"),
    "lan3": ("2001:db8:1::21/64", "2001:db8:1::1"),
    "lan4": ("2001:db8:1::30/64", "2001:db8:1::1"),
    "lanb1": ("2001:db8:2::10/64", "2001:db8:2::1"),
    "out1": ("2001:db8:ff::50/64", "2001:db8:ff::1"),
    "evil": ("2001:db8:ff::66/64", "2001:db8:ff::1"),
    "out2": ("2001:db8:fe::50/64", "2001:db8:fe::1"),
}
SYMBOLS6 = {
    "gw.ext": GW_EXT6,
    "gw.int": "2001:db8:1::1",
    "gw.lanb": "2001:db8:2::1",
    "rtr": "2001:db8:ff::1",
    "rtr.out2": "2001:db8:fe::1",
}
# the prefixes rtr routes to the gateway ("the provider routes them to us")
ROUTED6 = ("2001:db8:1::/64", "2001:db8:2::/64")
OUT2_MTU6 = 1280
HOST_NAMES = {
    "lan1": "LAN host 192.168.0.10",
    "lan2": "lan host 2 (192.168.0.20)",
    "lan3": "lan host 3 (192.168.0.21)",
    "lan4": "lan host 4 (192.168.0.30)",
    "lanb1": "second-LAN host 192.168.1.10",
    "out1": "outside host 203.0.113.50",
    "out2": "outside host 198.51.100.50 (behind the ISP router)",
    "evil": "attacker 203.0.113.66",
    "gw": "the gateway",
}


def _literal(text):
    import ipaddress
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def canon(addr):
    """An address in one canonical text form (IPv6 compressed), so that the
    banner's view and a scenario's expectation compare equal."""
    a = _literal(addr) if isinstance(addr, str) else None
    return a.compressed if a else addr


def addr_of(role, family="ipv4"):
    """Address of a role or symbol in `family`; a literal address passes
    through (it must belong to that family)."""
    hosts, symbols = (HOSTS6, SYMBOLS6) if family == "ipv6" else (
        {r: (a,) for r, (_, a, _) in HOSTS.items()}, SYMBOLS)
    if family not in FAMILIES:
        raise LabError("unknown address family %r (%s)" % (family, ", ".join(FAMILIES)))
    if role in hosts:
        return hosts[role][0].split("/")[0]
    if role in symbols:
        return symbols[role]
    if role == "gw":
        return GW_EXT6 if family == "ipv6" else GW_EXT
    lit = _literal(role)
    if lit is not None:
        want = 6 if family == "ipv6" else 4
        if lit.version != want:
            raise LabError("%s is an IPv%d address, but the probe is %s%s" % (
                role, lit.version, family,
                "" if want == 6 else " (set family = \"ipv6\")"))
        return lit.compressed
    raise LabError("unknown host or address %r (hosts: %s; symbols: %s)" %
                   (role, ", ".join(sorted(HOSTS) + ["gw"]),
                    ", ".join(sorted(SYMBOLS))))


def role_of_addr(addr):
    addr = canon(addr)
    for role, (_, a, _) in HOSTS.items():
        if a.split("/")[0] == addr:
            return role
    for role, (a, _) in HOSTS6.items():
        if a.split("/")[0] == addr:
            return role
    for table in (SYMBOLS, SYMBOLS6):
        for sym, a in table.items():
            if a == addr:
                return sym
    return addr


class Topology:
    """One throwaway lab network.  Use as a context manager."""

    _live = []          # topologies to tear down on exit/signal
    _lock = threading.Lock()

    def __init__(self, ext_if="eth0", int_if="eth1", lanb_if="eth2",
                 ext_mtu=None, gw_sysctl=None, tag="t"):
        self.ifs = {"ext": ext_if, "int": int_if, "lanb": lanb_if}
        for k, v in self.ifs.items():
            if not v or len(v) > 15 or "/" in v or " " in v:
                raise LabError("bad gateway interface name for %s: %r" % (k, v))
        if len(set(self.ifs.values())) != 3:
            raise LabError("gateway interface names must differ: %r" % self.ifs)
        self.ext_mtu = ext_mtu
        self.gw_sysctl = dict(gw_sysctl or {})
        self.base = "%s%d-%s" % (PREFIX, os.getpid(), tag)
        self.procs = []
        self.up = False

    def ns(self, role):
        return "%s-%s" % (self.base, role)

    # -- life cycle ---------------------------------------------------------

    def __enter__(self):
        install_signal_handlers()
        with Topology._lock:
            Topology._live.append(self)
        try:
            self._build()
        except BaseException:
            self.destroy()
            raise
        return self

    def __exit__(self, *exc):
        self.destroy()
        return False

    def roles(self):
        return ["gw", "rtr", "swlan", "swlanb", "swout"] + list(HOSTS)

    def _build(self):
        batch = "".join("netns add %s\n" % self.ns(r) for r in self.roles())
        # usually milliseconds; slow only when many namespaces are being
        # created and torn down at once (parallel runs, other labs)
        run(["ip", "-b", "-"], input=batch, timeout=120)
        switches = ("swlan", "swlanb", "swout")
        # IPv6 defaults before any interface exists (conf/default is copied
        # into each new one): no DAD, so addresses work at once and no probe
        # waits a second for them; no redirects taken, so a path never
        # changes between probes; switches are plain wires without IPv6.
        for r in self.roles():
            for conf in ("all", "default"):
                if r in switches:
                    self.sysctl(r, "net/ipv6/conf/%s/disable_ipv6" % conf, "1")
                    continue
                self.sysctl(r, "net/ipv6/conf/%s/accept_dad" % conf, "0")
                self.sysctl(r, "net/ipv6/conf/%s/accept_redirects" % conf, "0")
        cmds = {r: [] for r in self.roles()}
        for r in self.roles():
            cmds[r].append("link set lo up")
        # switches: one bridge each.  No multicast snooping: neighbour
        # discovery uses multicast, and a bridge that learned groups from
        # MLD reports sent before a port came up would not forward them.
        for sw in switches:
            cmds[sw] += ["link add br0 type bridge mcast_snooping 0", "link set br0 up"]

        def wire(a, a_if, b, b_if, bridge=False):
            cmds[a].append("link add %s type veth peer name %s netns %s" %
                           (a_if, b_if, self.ns(b)))
            cmds[a].append("link set %s up" % a_if)
            later[b].append("link set %s up" % b_if)
            if bridge:
                later[b].append("link set %s master br0" % b_if)

        later = {r: [] for r in self.roles()}
        gw = self.ifs
        wire("gw", gw["ext"], "swout", "p-gw", bridge=True)
        wire("gw", gw["int"], "swlan", "p-gw", bridge=True)
        wire("gw", gw["lanb"], "swlanb", "p-gw", bridge=True)
        wire("rtr", "eth0", "swout", "p-rtr", bridge=True)
        wire("rtr", "eth1", "out2", "eth0")
        seg_switch = {"lan": "swlan", "lanb": "swlanb", "out": "swout"}
        for role, (seg, _, _) in HOSTS.items():
            if seg in seg_switch:
                wire(role, "eth0", seg_switch[seg], "p-" + role, bridge=True)
        cmds["gw"] += ["addr add 203.0.113.7/24 dev %s" % gw["ext"],
                       "addr add 192.168.0.1/24 dev %s" % gw["int"],
                       "addr add 192.168.1.1/24 dev %s" % gw["lanb"]]
        if self.ext_mtu:
            cmds["gw"].append("link set %s mtu %d" % (gw["ext"], self.ext_mtu))
        cmds["rtr"] += ["addr add 203.0.113.1/24 dev eth0",
                        "addr add 198.51.100.1/24 dev eth1"]
        for role, (seg, addr, _) in HOSTS.items():
            later[role].append("addr add %s dev eth0" % addr)
        # IPv6 (nodad as well: the sysctl covers link-local addresses)
        for name, iface in (("gw.ext", gw["ext"]), ("gw.int", gw["int"]),
                            ("gw.lanb", gw["lanb"])):
            cmds["gw"].append("addr add %s/64 dev %s nodad" % (SYMBOLS6[name], iface))
        cmds["rtr"] += ["addr add %s/64 dev eth0 nodad" % SYMBOLS6["rtr"],
                        "addr add %s/64 dev eth1 nodad" % SYMBOLS6["rtr.out2"]]
        for role, (addr, _) in HOSTS6.items():
            later[role].append("addr add %s dev eth0 nodad" % addr)
        # routes after addresses (a gateway must be on-link)
        routes = {"gw": ["route add default via 203.0.113.1",
                         "route add ::/0 via %s" % SYMBOLS6["rtr"]],
                  "rtr": ["route add %s via %s" % (pfx, GW_EXT6) for pfx in ROUTED6]}
        for role, (_, _, dflt) in HOSTS.items():
            routes[role] = ["route add default via %s" % dflt,
                            "route add ::/0 via %s" % HOSTS6[role][1]]
        # the attacker knows the LAN is behind the gateway
        routes["evil"].append("route add 192.168.0.0/16 via %s" % GW_EXT)
        for phase in (cmds, later, routes):
            for r, lines in phase.items():
                if lines:
                    run(["ip", "-n", self.ns(r), "-b", "-"],
                        input="\n".join(lines) + "\n")
        # forwarding only where a router is: the gateway and the ISP router.
        # rp_filter off on the gateway so that anti-spoofing is the
        # ruleset's job (the host's defaults may be inherited otherwise).
        self.sysctl("gw", "net/ipv4/ip_forward", "1")
        self.sysctl("rtr", "net/ipv4/ip_forward", "1")
        self.sysctl("gw", "net/ipv6/conf/all/forwarding", "1")
        self.sysctl("rtr", "net/ipv6/conf/all/forwarding", "1")
        self.sysctl("rtr", "net/ipv6/conf/eth1/mtu", str(OUT2_MTU6))
        for conf in ("all", "default") + tuple(gw.values()):
            self.sysctl("gw", "net/ipv4/conf/%s/rp_filter" % conf, "0")
        for k, v in self.gw_sysctl.items():
            self.sysctl("gw", k.replace(".", "/"), str(v))
        self.up = True

    def sysctl(self, role, key, value):
        with in_netns(self.ns(role)):
            with open("/proc/sys/" + key, "w") as f:
                f.write(value)

    def spawn(self, role, argv, **kw):
        """Start a long-running process inside a namespace; killed on teardown."""
        p = subprocess.Popen(["ip", "netns", "exec", self.ns(role)] + argv,
                             start_new_session=True, **kw)
        self.procs.append(p)
        return p

    def exec(self, role, argv, check=True, timeout=30, input=None):
        return run(["ip", "netns", "exec", self.ns(role)] + argv, check=check,
                   timeout=timeout, input=input)

    def destroy(self):
        for p in self.procs:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
        self.procs = []
        try:
            mine = [n for n in netns_list() if n.startswith(self.base + "-")]
            if mine:
                run(["ip", "-b", "-"], check=False, timeout=120,
                    input="".join("netns del %s\n" % n for n in mine))
            # a second pass for anything `ip -b` stopped at
            for n in netns_list():
                if n.startswith(self.base + "-"):
                    run(["ip", "netns", "del", n], check=False)
        except LabError:
            pass        # left for sweep_stale (at the next run, or by hand)
        with Topology._lock:
            if self in Topology._live:
                Topology._live.remove(self)
        self.up = False


def _destroy_all():
    for t in list(Topology._live):
        try:
            t.destroy()
        except Exception:
            pass


class Interrupted(BaseException):
    pass


_handlers_installed = False


def install_signal_handlers():
    """Turn SIGTERM/SIGHUP/SIGINT into an exception so finally-blocks run."""
    global _handlers_installed
    if _handlers_installed or threading.current_thread() is not threading.main_thread():
        return
    _handlers_installed = True

    def handler(signum, frame):
        raise Interrupted("signal %d" % signum)
    for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(s, handler)
    atexit.register(_destroy_all)


def netns_supported():
    """(ok, reason): can this process create network namespaces?"""
    if os.geteuid() != 0:
        return False, "not root"
    for tool in ("ip",):
        if run(["sh", "-c", "command -v %s" % tool], check=False).returncode:
            return False, "%s not installed" % tool
    name = "%s%d-probe" % (PREFIX, os.getpid())
    p = run(["ip", "netns", "add", name], check=False)
    if p.returncode != 0:
        return False, "cannot create a network namespace: %s" % p.stderr.strip()
    run(["ip", "netns", "del", name], check=False)
    return True, ""
