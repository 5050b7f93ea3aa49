"""masqc lab: scenario files, backends, running and judging.

A scenario (TOML, see docs/lab.md) names a ruleset from rulesets/, extra -D
values, the gateway's interface names and a list of probes with the outcome
each must have.  Each scenario runs once per backend, every time in a fresh
topology:

    nft              masqc compile -t nft       -> nft -f (both families)  (gw ns)
    iptables-legacy  masqc compile -t iptables  -> iptables-legacy-restore
                     masqc compile -t ip6tables -> ip6tables-legacy-restore
    iptables-nft     the same                   -> iptables-nft-restore,
                                                   ip6tables-nft-restore
    apply            masqc apply SCRIPT (netlink, one transaction) in the gw
                     ns, state in a per-run temporary directory; then
                     masqc diff SCRIPT must exit 0 (running == compiled)
    apply-legacy     masqc apply --backend iptables-legacy SCRIPT (libiptc,
                     one commit per table), the same way; then masqc diff
    none             nothing loaded (lab self-test of the topology)

The iptables backends load each family's output only if it has tables
(ipt_loads): an IPv4-only script loads nothing into ip6tables, an
ip6tables-only script nothing into iptables.

Every probe x backend is judged against the scenario's expectation, and the
observations of all backends are compared with each other.
"""

import itertools
import os
import shlex
import tempfile
import tomllib

import lab
import probes
from lab import LabError, Topology, addr_of
from probes import ProbeError

HERE = os.path.dirname(os.path.abspath(__file__))
TOP_SRCDIR = os.path.normpath(os.path.join(HERE, "..", ".."))
ALL_BACKENDS = ("nft", "iptables-legacy", "iptables-nft")
# "original": not masqc at all -- the script itself, run unchanged with sh in
# the gateway namespace against iptables-legacy (modprobe/lsmod/depmod are
# no-ops).  Opt-in (--backend original), to check a scenario's expectations
# against what the script really does on this kernel.  Note: since Linux 6.0
# `modprobe ip_conntrack_ftp` no longer attaches helpers, so helper probes
# of scripts without explicit CT --helper rules fail there by design.
# "apply": the same nft ruleset, installed by `masqc apply` over netlink
# instead of `nft -f`, then checked with `masqc diff` (issue 5 item 7).  It
# joins every scenario that runs on "nft" (after it), unless the scenario
# says `apply = false`; APPLY_DEFAULT is what a scenario without the key gets.
# "apply-legacy": the same for the iptables rules, installed by `masqc apply
# --backend iptables-legacy` (libiptc) instead of iptables-legacy-restore;
# it joins every scenario that runs on "iptables-legacy", after it, on the
# same `apply` key.
APPLY_DEFAULT = True
APPLY_BACKENDS = {"apply": ("nft", []),
                  "apply-legacy": ("iptables-legacy", ["--backend", "iptables-legacy"])}
KNOWN_BACKENDS = ALL_BACKENDS + tuple(APPLY_BACKENDS) + ("none", "original")

ICMP4_OUTCOMES = tuple("icmp-" + n for n in probes.ICMP_UNREACH_CODES.values())
ICMP6_OUTCOMES = tuple("icmp6-" + n for n in probes.ICMP6_UNREACH_CODES.values()) + \
    ("icmp6-packet-too-big",)
KINDS = {
    # kind: (required keys, optional keys, valid outcomes)
    "tcp": (("from", "to", "port", "expect"),
            ("name", "family", "source", "served_by", "served_port", "mss_max",
             "timeout", "todo", "demo"),
            ("open", "rst", "drop") + ICMP4_OUTCOMES + ICMP6_OUTCOMES),
    "udp": (("from", "to", "port", "expect"),
            ("name", "family", "source", "served_by", "served_port", "size",
             "sport", "timeout", "todo", "demo"),
            ("reply", "drop") + ICMP4_OUTCOMES + ICMP6_OUTCOMES),
    "ping": (("from", "to", "expect"),
             ("name", "family", "source", "timeout", "todo", "demo"),
             ("reply", "drop") + ICMP4_OUTCOMES + ICMP6_OUTCOMES),
    "inject": (("from", "to", "watch", "expect"),
               ("name", "family", "source", "port", "proto", "tcp_flags", "icmp_type",
                "icmp_code", "timeout", "todo"),
               ("arrives", "dropped")),
    "ndisc": (("from", "to", "expect"),
              ("name", "family", "timeout", "todo"),
              ("reply", "drop")),
    "ftp": (("from", "to", "mode", "expect"),
            ("name", "server", "extended", "timeout", "todo", "demo"),
            ("ok", "fail")),
    "irc-dcc": (("from", "expect"),
                ("name", "server", "peer", "port", "dcc_address", "timeout", "todo"),
                ("ok", "fail")),
}
DEFAULT_TIMEOUT = {"tcp": 2.0, "udp": 2.0, "ping": 2.0, "inject": 1.0,
                   "ndisc": 1.0, "ftp": 5.0, "irc-dcc": 3.0}
# kinds that only exist in one family
ONLY_FAMILY = {"ndisc": "ipv6", "ftp": "ipv4", "irc-dcc": "ipv4"}
# what must be equal between backends
COMPARED = ("outcome", "source", "served_by", "served_port", "dcc_address")


class ScenarioError(Exception):
    pass


def _fail(path, msg):
    raise ScenarioError("%s: %s" % (path, msg))


def load_scenario(path):
    try:
        with open(path, "rb") as f:
            sc = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise ScenarioError("%s: %s" % (path, e))
    known = {"description", "ruleset", "defines", "args", "backends", "gateway",
             "probe", "closed", "family", "apply"}
    for k in sc:
        if k not in known:
            _fail(path, "unknown key %r (known: %s)" % (k, ", ".join(sorted(known))))
    sc["path"] = os.path.abspath(path)
    sc["name"] = os.path.splitext(os.path.basename(path))[0]
    sc.setdefault("description", "")
    sc.setdefault("defines", {})
    sc.setdefault("args", [])
    sc.setdefault("backends", list(ALL_BACKENDS))
    for b in sc["backends"]:
        if b not in KNOWN_BACKENDS:
            _fail(path, "unknown backend %r (known: %s)" % (b, ", ".join(KNOWN_BACKENDS)))
    if "ruleset" not in sc and sc["backends"] != ["none"]:
        _fail(path, "no ruleset given (only a backends = [\"none\"] scenario may omit it)")
    sc.setdefault("apply", APPLY_DEFAULT)
    if not isinstance(sc["apply"], bool):
        _fail(path, "apply must be true or false, not %r" % (sc["apply"],))
    for ab, (base, _) in APPLY_BACKENDS.items():
        if sc["apply"] and base in sc["backends"] and ab not in sc["backends"]:
            i = sc["backends"].index(base)
            sc["backends"] = sc["backends"][:i + 1] + [ab] + sc["backends"][i + 1:]
    sc.setdefault("family", "ipv4")
    if sc["family"] not in lab.FAMILIES:
        _fail(path, "family must be one of %s, not %r" % (", ".join(lab.FAMILIES), sc["family"]))
    sc.setdefault("closed", [])
    for c in sc["closed"]:
        proto, _, port = str(c).partition("/")
        if proto not in ("tcp", "udp") or not port.isdigit():
            _fail(path, "closed: entries look like \"tcp/9\" or \"udp/9\", not %r" % c)
    gw = sc.setdefault("gateway", {})
    for k in gw:
        if k not in ("ext_if", "int_if", "lanb_if", "ext_mtu", "sysctl"):
            _fail(path, "[gateway]: unknown key %r" % k)
    probes_ = sc.setdefault("probe", [])
    if not probes_:
        _fail(path, "no [[probe]] given")
    for i, p in enumerate(probes_):
        where = "probe #%d%s" % (i + 1, " (%s)" % p["name"] if "name" in p else "")
        kind = p.get("kind")
        if kind not in KINDS:
            _fail(path, "%s: kind must be one of %s, not %r" % (where, ", ".join(KINDS), kind))
        req, opt, outcomes = KINDS[kind]
        for k in req:
            if k not in p:
                _fail(path, "%s: missing %r" % (where, k))
        for k in p:
            if k not in req and k not in opt and k != "kind":
                _fail(path, "%s: unknown key %r for kind %s (allowed: %s)" % (
                    where, k, kind, ", ".join(req + opt)))
        if kind in ONLY_FAMILY:
            if p.get("family", ONLY_FAMILY[kind]) != ONLY_FAMILY[kind]:
                _fail(path, "%s: kind %s is %s only" % (where, kind, ONLY_FAMILY[kind]))
            p["family"] = ONLY_FAMILY[kind]
        fam = p.setdefault("family", sc["family"])
        if fam not in lab.FAMILIES:
            _fail(path, "%s: family must be one of %s, not %r" % (
                where, ", ".join(lab.FAMILIES), fam))
        icmp_bad = ICMP4_OUTCOMES if fam == "ipv6" else ICMP6_OUTCOMES
        if p["expect"] not in outcomes or p["expect"] in icmp_bad:
            _fail(path, "%s: expect must be one of %s, not %r%s" % (
                where, ", ".join(o for o in outcomes if o not in icmp_bad), p["expect"],
                "" if p["expect"] not in icmp_bad else
                " (this probe is IPv6: ICMPv6 refusals are icmp6-...)" if fam == "ipv6" else
                " (an ICMPv6 refusal needs family = \"ipv6\")"))
        if "size" in p and (not isinstance(p["size"], int) or not 20 <= p["size"] <= 65000):
            _fail(path, "%s: size must be a number of bytes (20..65000), not %r" % (
                where, p["size"]))
        for k in ("from", "to", "source", "watch", "server", "peer", "dcc_address"):
            if k in p:
                try:
                    addr_of(p[k], fam)
                except LabError as e:
                    _fail(path, "%s: %s: %s" % (where, k, e))
        for k in ("from", "watch", "server", "peer", "served_by"):
            if k in p and p[k] not in lab.HOSTS and p[k] != "gw":
                _fail(path, "%s: %s must be a host (%s or gw), not %r" % (
                    where, k, ", ".join(lab.HOSTS), p[k]))
        p.setdefault("name", describe(p))
    return sc


def describe(p):
    k = p["kind"]
    v6 = " (IPv6)" if p.get("family") == "ipv6" else ""
    if k in ("tcp", "udp"):
        return "%s -> %s %s/%s%s" % (p["from"], p["to"], k, p["port"], v6)
    if k == "ping":
        return "%s -> %s icmp%s echo" % (p["from"], p["to"], "v6" if v6 else "")
    if k == "ndisc":
        return "%s -> %s neighbour solicitation" % (p["from"], p["to"])
    if k == "inject":
        what = "%s/%s" % (p.get("proto", "tcp"), p.get("port"))
        if p.get("proto") == "icmp":
            what = "icmp type %s" % p.get("icmp_type") + (
                " code %s" % p["icmp_code"] if "icmp_code" in p else "")
        return "%s -> %s %s%s forged from %s, watched at %s%s" % (
            p["from"], p["to"], what,
            " [%s]" % p["tcp_flags"] if "tcp_flags" in p else "",
            p.get("source", p["from"]), p["watch"], v6)
    if k == "ftp":
        return "%s -> %s ftp %s" % (p["from"], p["to"], p["mode"])
    return "%s -> %s irc dcc to %s" % (p["from"], p.get("server", "out2"), p.get("peer", "out1"))


def expectation_text(p):
    parts = [p["expect"]]
    for k in ("source", "served_by", "served_port", "dcc_address"):
        if k in p and not (p["kind"] == "inject" and k == "source"):
            v = p[k]
            parts.append("%s %s" % (k.replace("_", " "),
                                    v if k == "served_port" else "%s (%s)" % (
                                        v, addr_of(v, p.get("family", "ipv4")))
                                    if k != "served_by" else v))
    if "mss_max" in p:
        parts.append("SYN MSS <= %d at the server" % p["mss_max"])
    return ", ".join(parts)


def observation_text(o):
    parts = [o.get("outcome", "?")]
    for k in ("source", "served_by", "served_port", "dcc_address", "syn_mss"):
        if k in o:
            parts.append("%s %s" % (k.replace("_", " "), o[k]))
    return ", ".join(parts)


def judge(p, o):
    """Return a list of mismatches (empty = pass)."""
    bad = []
    if o.get("outcome") != p["expect"]:
        bad.append("outcome %s, expected %s" % (o.get("outcome"), p["expect"]))
        return bad
    if "source" in p and p["kind"] != "inject":
        want = addr_of(p["source"], p.get("family", "ipv4"))
        if lab.canon(o.get("source")) != want:
            bad.append("source seen %s, expected %s (%s)" % (o.get("source"), want, p["source"]))
    if "served_by" in p and o.get("served_by") != p["served_by"]:
        bad.append("answered by %s, expected %s" % (o.get("served_by"), p["served_by"]))
    if "served_port" in p and o.get("served_port") != int(p["served_port"]):
        bad.append("answered on port %s, expected %s" % (o.get("served_port"), p["served_port"]))
    if "dcc_address" in p and o.get("dcc_address") != addr_of(p["dcc_address"]):
        bad.append("DCC address %s, expected %s (%s)" % (
            o.get("dcc_address"), addr_of(p["dcc_address"]), p["dcc_address"]))
    if "mss_max" in p:
        if o.get("syn_mss") is None:
            bad.append("no SYN MSS captured at the server")
        elif o["syn_mss"] > int(p["mss_max"]):
            bad.append("SYN MSS %d at the server, expected <= %d" % (o["syn_mss"], p["mss_max"]))
    return bad


# -- compiling and loading -------------------------------------------------------

def find_masqc():
    m = os.environ.get("MASQC")
    if m:
        return m
    for cand in (os.path.join(TOP_SRCDIR, "src", "masqc"),
                 os.path.join(os.getcwd(), "src", "masqc")):
        if os.access(cand, os.X_OK):
            return cand
    return None


def read_args_file(path):
    """NAME.args: masqc arguments, one per line ('-D NAME=V' may share a line)."""
    out = []
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            out += shlex.split(line) if line.startswith("-D ") else [line]
    return out


def ruleset_path(sc, opts):
    """rulesets/NAME, or a path relative to the scenario file when it starts
    with ./ or ../ (lab-owned scripts in tests/lab/scripts/)."""
    r = sc["ruleset"]
    if r.startswith("./") or r.startswith("../"):
        return os.path.normpath(os.path.join(os.path.dirname(sc["path"]), r))
    return os.path.join(opts.rulesets, r)


class Compiled:
    """What one backend loads: `path` (nft: both families; iptables: the
    IPv4 restore text) and `path6` (iptables only: the ip6tables restore
    text).  Either iptables file is None when the script has no rules for
    that family."""

    def __init__(self, path=None, error=None, argv=None, sysctl=None, path6=None,
                 apply_argv=None):
        self.path, self.error, self.argv = path, error, argv
        self.sysctl = sysctl        # masqc --sysctl-out fragment, if any
        self.path6 = path6
        # apply backend: [masqc, OPTIONS..., SCRIPT]; "apply"/"diff" go
        # in after masqc
        self.apply_argv = apply_argv

    def files(self):
        return [f for f in (self.path, self.path6) if f]


def sysctl_fragment(path):
    """[(key, value)] of masqc's sysctl.d fragment.

    Only net.* keys: they are per network namespace.  Anything else would
    change the host, so it is refused (LabError) before anything runs."""
    out = []
    with open(path) as f:
        lines = [ln.strip() for ln in f]
    for ln in lines:
        if not ln or ln.startswith("#") or ln.startswith(";"):
            continue
        key, sep, value = ln.partition("=")
        key, value = key.strip().lstrip("-"), value.strip()
        if not sep or not key.startswith("net."):
            raise LabError("%s: refusing sysctl line %r (only net.* keys are "
                           "namespace-local)" % (path, ln))
        out.append((key, value))
    return out


def apply_sysctls(topo, path):
    """Apply masqc's sysctl.d fragment in the gateway namespace.
    Globs (net.ipv4.conf.*.rp_filter) expand inside the namespace."""
    import glob as globmod
    applied = []
    for key, value in sysctl_fragment(path):
        with lab.in_netns(topo.ns("gw")):
            files = globmod.glob("/proc/sys/" + key.replace(".", "/"))
            if not files:
                raise LabError("%s: sysctl %s does not exist in the gateway "
                               "namespace" % (path, key))
            for fn in files:
                with open(fn, "w") as fh:
                    fh.write(value)
        applied.append("%s = %s" % (key, value))
    return applied


TARGET_EXT = {"nft": "nft", "iptables": "ipt", "ip6tables": "ip6t"}


def masqc_options(sc, script):
    """NAME.args, the scenario's args, then -D for each define: what every
    masqc command of a scenario gets (compile, apply, diff)."""
    argv = read_args_file(os.path.splitext(script)[0] + ".args")
    argv += list(sc["args"])
    for k, v in sc["defines"].items():
        argv += ["-D", "%s=%s" % (k, v)]
    return argv


def compile_rules(sc, target, opts, workdir):
    """Compile the scenario's ruleset for target 'nft', 'iptables' or
    'ip6tables'."""
    ext = TARGET_EXT[target]
    if opts.rules_dir:
        path = os.path.join(opts.rules_dir, "%s.%s" % (sc["name"], ext))
        if not os.path.exists(path):
            return Compiled(error="no prepared ruleset %s" % path)
        return Compiled(path=path, argv=["(prepared)", path])
    masqc = opts.masqc or find_masqc()
    if not masqc:
        return Compiled(error="masqc not found (build it, or set MASQC=/path/to/masqc)")
    script = ruleset_path(sc, opts)
    if not os.path.exists(script):
        return Compiled(error="ruleset %s does not exist" % script)
    argv = [masqc, "compile", "-t", target] + masqc_options(sc, script)
    out = os.path.join(workdir, "%s.%s" % (sc["name"], ext))
    sysctl = out + ".sysctl"
    argv += ["--sysctl-out", sysctl, "-o", out, script]
    r = lab.run(argv, check=False, timeout=60)
    with open(out + ".stderr", "w") as f:
        f.write(r.stderr)
    if r.returncode != 0 or not os.path.exists(out):
        return Compiled(error="`%s` failed (exit %d):\n%s" % (
            " ".join(shlex.quote(a) for a in argv), r.returncode, r.stderr.strip()),
            argv=argv)
    return Compiled(path=out, argv=argv,
                    sysctl=sysctl if os.path.exists(sysctl) else None)


def ipt_tables(path):
    """The tables an iptables-restore text loads, as (name, helpers_only):
    helpers_only when the table holds nothing but masqc's conntrack-helper
    block (`-j CT --helper` rules after the "# conntrack helpers" comment,
    builtin chains with ACCEPT policies).  masqc writes that block for every
    family, since modprobe'd helpers were family-independent."""
    tables = []
    helpers = False
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("*"):
                tables.append([line[1:], True])
                helpers = False
            elif line.startswith("# conntrack helpers"):
                helpers = True
            elif not line or line.startswith("#") or line == "COMMIT" or not tables:
                continue
            elif line.startswith("-A ") and helpers and " -j CT --helper " in line:
                continue
            elif line.startswith(":") and line.split()[1:2] == ["ACCEPT"]:
                continue
            else:
                tables[-1][1] = False
                helpers = False
    return [tuple(t) for t in tables]


def ipt_loads(path, family):
    """Load this family's restore text?  IPv4: whenever it has a table (as
    always).  IPv6: only if it has more than the helper block -- an
    IPv4-only script needs nothing in ip6tables.  This mirrors the nft
    backend, which writes helpers into `table ip6` only when the script has
    IPv6 rules."""
    tables = ipt_tables(path)
    if family == "ipv4":
        return bool(tables)
    return any(not helpers_only for _, helpers_only in tables)


def compile_backend(sc, backend, opts, workdir, cache):
    """Compiled files for one backend (cache: target -> Compiled, shared by
    the backends of a scenario).  iptables backends get both families'
    restore texts, each kept only if it loads something; with --rules-dir,
    NAME.ipt and NAME.ip6t (at least one of them)."""
    def get(target):
        if target not in cache:
            cache[target] = compile_rules(sc, target, opts, workdir)
        return cache[target]
    if backend == "nft":
        return get("nft")
    if backend == "apply":
        return compile_apply(sc, opts, get("nft"), [])
    c4, c6 = get("iptables"), get("ip6tables")
    if backend == "apply-legacy":
        if opts.rules_dir or c4.error:
            return compile_apply(sc, opts, c4, APPLY_BACKENDS[backend][1])
        if c6.error:
            return c6
        return compile_apply(sc, opts, Compiled(path=c4.path, argv=c4.argv,
                                                sysctl=c4.sysctl or c6.sysctl),
                             APPLY_BACKENDS[backend][1])
    if opts.rules_dir:
        if c4.error and c6.error:
            return Compiled(error="%s (and no %s.ip6t)" % (c4.error, sc["name"]))
        return Compiled(path=c4.path, path6=c6.path, argv=c4.argv or c6.argv)
    for c in (c4, c6):
        if c.error:
            return c
    return Compiled(path=c4.path if ipt_loads(c4.path, "ipv4") else None,
                    path6=c6.path if ipt_loads(c6.path, "ipv6") else None,
                    argv=c4.argv, sysctl=c4.sysctl or c6.sysctl)


def compile_apply(sc, opts, comp, backend_args):
    """The apply backends: the compile they mirror (nft, or iptables for
    apply-legacy; shared with that backend) must have succeeded -- a script
    masqc refuses cannot be applied either, and its sysctl fragment is what
    apply will write, checked before it runs -- plus the argv apply and
    diff take (backend_args: --backend ...)."""
    if opts.rules_dir:
        return Compiled(error="the apply backends compile the script themselves; "
                        "they cannot load prepared rulesets (--rules-dir)")
    if comp.error:
        return comp
    script = os.path.abspath(ruleset_path(sc, opts))
    masqc = os.path.abspath(comp.argv[0])
    return Compiled(path=comp.path, argv=comp.argv, sysctl=comp.sysctl,
                    apply_argv=[masqc] + backend_args + masqc_options(sc, script) + [script])


# --wait: the legacy xtables lock is a file, shared by every namespace on
# the host, so topologies loading rules at the same time must wait for it,
# not fail (iptables-nft accepts and ignores it).  Never a bare `-w FILE`:
# -w takes an optional argument, and the restore tools would read FILE as
# the seconds and the rules from stdin.
LOADERS = {
    "nft": (["nft", "-f"], ["nft", "list", "ruleset"]),
    "iptables-legacy": (["iptables-legacy-restore", "--wait=30"], ["iptables-legacy-save"]),
    "iptables-nft": (["iptables-nft-restore", "--wait=30"], ["iptables-nft-save"]),
}
LOADERS6 = {
    "iptables-legacy": (["ip6tables-legacy-restore", "--wait=30"], ["ip6tables-legacy-save"]),
    "iptables-nft": (["ip6tables-nft-restore", "--wait=30"], ["ip6tables-nft-save"]),
}


def run_original(topo, sc, opts, workdir, tag):
    shim = os.path.join(workdir, "shim")
    os.makedirs(shim, exist_ok=True)
    # --wait: the host-wide xtables lock (see LOADERS)
    tools = {"iptables": "exec iptables-legacy --wait=30 \"$@\"",
             "ip6tables": "exec ip6tables-legacy --wait=30 \"$@\"",
             "iptables-save": "exec iptables-legacy-save \"$@\"",
             "ip6tables-save": "exec ip6tables-legacy-save \"$@\"",
             "iptables-restore": "exec iptables-legacy-restore --wait=30 \"$@\"",
             "ip6tables-restore": "exec ip6tables-legacy-restore --wait=30 \"$@\"",
             "modprobe": "exit 0", "insmod": "exit 0", "depmod": "exit 0",
             "lsmod": "exit 0"}
    for name, body in tools.items():
        with open(os.path.join(shim, name), "w") as f:
            f.write("#!/bin/sh\n%s\n" % body)
        os.chmod(os.path.join(shim, name), 0o755)
    script = ruleset_path(sc, opts)
    margs = read_args_file(os.path.splitext(script)[0] + ".args") + list(sc["args"])
    pos = [margs[i + 1] for i, a in enumerate(margs[:-1]) if a == "--arg"]
    if script.endswith(".rules"):       # an iptables-save dump
        r = topo.exec("gw", ["iptables-legacy-restore", "--wait=30", script], check=False)
    else:
        r = topo.exec("gw", ["env", "PATH=%s:%s" % (shim, os.environ.get("PATH", "")),
                         "sh", "-c", 'cd "$1" && shift && exec sh "$@"', "sh",
                             os.path.dirname(script), script] + pos, check=False)
    with open(os.path.join(workdir, "%s.script-output.txt" % tag), "w") as f:
        f.write(r.stdout + r.stderr)
    if r.returncode != 0:
        raise LabError("running %s in the gateway namespace failed (exit %d):\n%s" % (
            script, r.returncode, (r.stderr or r.stdout).strip()[-800:]))
    dump = os.path.join(workdir, "%s.loaded.txt" % tag)
    with open(dump, "w") as f:
        for save in ("iptables-legacy-save", "ip6tables-legacy-save"):
            f.write("# %s\n%s" % (save, topo.exec("gw", [save], check=False).stdout))
    return dump


def load_rules(topo, backend, path, workdir, tag, path6=None):
    """Load `path` (and for iptables backends `path6`, the ip6tables text)
    in the gateway namespace; returns the listing the kernel gives back."""
    steps = []
    if path:
        steps.append((LOADERS[backend], path))
    if path6:
        if backend not in LOADERS6:
            raise LabError("backend %s has no IPv6 loader for %s" % (backend, path6))
        steps.append((LOADERS6[backend], path6))
    listing = ""
    for (load, show), f in steps:
        r = topo.exec("gw", load + [f], check=False)
        if r.returncode != 0:
            raise LabError("loading %s with `%s` in the gateway namespace failed:\n%s" % (
                f, " ".join(load), (r.stderr or r.stdout).strip()))
        out = topo.exec("gw", show, check=False).stdout
        listing += ("# %s\n%s" % (" ".join(show), out)) if len(steps) > 1 else out
    dump = os.path.join(workdir, "%s.loaded.txt" % tag)
    with open(dump, "w") as f:
        f.write(listing or "# nothing loaded: no rules for either family\n")
    return dump


def masqc_complaint(r):
    """What a failed masqc apply/diff said, without its notes: standard
    output (diff's differences) and each error with its source lines."""
    keep, take = [], 0
    for line in r.stderr.splitlines():
        if ": error:" in line or line.startswith("masqc:"):
            take = 3                # the message, the source line, the caret
        if take:
            keep.append(line)
            take -= 1
    text = (r.stdout.strip() + "\n" + "\n".join(keep)).strip()
    return (text or r.stderr.strip())[-1500:]


def apply_rules(topo, backend, comp, workdir, tag):
    """The apply backends: `masqc apply` in the gateway namespace, then
    `masqc diff`, which must find the running ruleset equal to the compiled
    one (exit 0); any other exit fails the run.  masqc keeps its state
    (generations, lock) in a fresh directory under the work directory:
    never the host's /var/lib/masqc or /run/masqc.  apply writes the
    script's sysctls itself, so the fragment is checked first (net.* only)
    and read back afterwards.  Returns the artefact paths."""
    frag = sysctl_fragment(comp.sysctl) if comp.sysctl else []
    state = tempfile.mkdtemp(prefix="%s.masqc-state-" % tag, dir=workdir)
    env = ["env", "MASQC_STATE_DIR=%s" % os.path.join(state, "lib"),
           "MASQC_RUN_DIR=%s" % os.path.join(state, "run")]
    masqc, rest = comp.apply_argv[0], comp.apply_argv[1:]
    arte = []
    for cmd in ("apply", "diff"):
        argv = env + [masqc, cmd] + rest
        r = topo.exec("gw", argv, check=False, timeout=60)
        log = os.path.join(workdir, "%s.%s.txt" % (tag, cmd))
        with open(log, "w") as f:
            f.write("$ %s\n%s%s(exit %d)\n" % (" ".join(shlex.quote(a) for a in argv),
                                             r.stdout, r.stderr, r.returncode))
        arte.append(log)
        if r.returncode != 0:
            what = ("`masqc apply` in the gateway namespace failed" if cmd == "apply" else
                    "`masqc diff` after `masqc apply`: the running ruleset is not the "
                    "compiled one")
            raise LabError("%s (exit %d; see %s):\n%s" % (
                what, r.returncode, log, masqc_complaint(r)))
    import glob as globmod
    with lab.in_netns(topo.ns("gw")):
        for key, value in frag:
            for fn in globmod.glob("/proc/sys/" + key.replace(".", "/")):
                with open(fn) as fh:
                    got = fh.read().split()
                if got != value.split():
                    raise LabError("after `masqc apply`, %s is %s, expected %s" % (
                        fn[len("/proc/sys/"):].replace("/", "."), " ".join(got), value))
    dump = os.path.join(workdir, "%s.loaded.txt" % tag)
    with open(dump, "w") as f:
        if backend == "apply-legacy":
            for save in ("iptables-legacy-save", "ip6tables-legacy-save"):
                f.write("# %s\n%s" % (save, topo.exec("gw", [save], check=False).stdout))
        else:
            f.write(topo.exec("gw", ["nft", "list", "ruleset"], check=False).stdout)
    return arte + [dump]


def load_compiled(topo, backend, comp, workdir, tag):
    """Sysctls, then rules, of a Compiled; returns the artefact paths."""
    if backend in APPLY_BACKENDS:
        return apply_rules(topo, backend, comp, workdir, tag)
    arte = []
    if comp.sysctl:
        apply_sysctls(topo, comp.sysctl)
        arte.append(comp.sysctl)
    arte.append(load_rules(topo, backend, comp.path, workdir, tag, comp.path6))
    return arte


# -- running --------------------------------------------------------------------

def service_families(sc):
    """Address families the servers listen in: those the probes use."""
    fams = {p.get("family", "ipv4") for p in sc["probe"]
            if p["kind"] in ("tcp", "udp", "inject")}
    return [f for f in lab.FAMILIES if f in fams]


def service_ports(sc):
    """Every host and the gateway listen on every port a probe uses, so a
    probe reaching the wrong place is answered, not silently refused."""
    tcp, udp = set(), set()
    for p in sc["probe"]:
        if p["kind"] in ("tcp", "udp"):
            s = tcp if p["kind"] == "tcp" else udp
            s.add(int(p["port"]))
            if "served_port" in p:
                s.add(int(p["served_port"]))
        if p["kind"] == "inject" and "port" in p:
            (tcp if p.get("proto", "tcp") == "tcp" else udp).add(int(p["port"]))
    for c in sc["closed"]:
        proto, _, port = c.partition("/")
        (tcp if proto == "tcp" else udp).discard(int(port))
    return tcp, udp


def run_probe(topo, p, workdir, scale):
    t = float(p.get("timeout", DEFAULT_TIMEOUT[p["kind"]])) * scale
    k = p["kind"]
    if k == "tcp":
        return probes.probe_tcp(topo, p, t)
    if k == "udp":
        return probes.probe_udp(topo, p, t)
    if k == "ping":
        return probes.probe_ping(topo, p, t)
    if k == "inject":
        return probes.probe_inject(topo, p, t)
    if k == "ndisc":
        return probes.probe_ndisc(topo, p, t)
    if k == "ftp":
        return probes.probe_ftp(topo, p, t, workdir)
    return probes.probe_irc_dcc(topo, p, t)


class Result:
    def __init__(self, sc, backend, p, obs=None, problems=None, error=None, artefacts=None):
        self.sc, self.backend, self.p = sc, backend, p
        self.obs = obs or {}
        self.problems = problems or []
        self.error = error
        self.artefacts = artefacts or []

    @property
    def ok(self):
        return not self.error and not self.problems


_TOPO_SEQ = itertools.count(1)


def run_backend(sc, backend, compiled, opts, workdir, tag):
    """Run all probes of one scenario on one backend; returns [Result]."""
    gw = sc["gateway"]
    results = []
    arte = []
    if compiled is not None and compiled.error:
        return [Result(sc, backend, p, error="cannot run: " + compiled.error)
                for p in sc["probe"]]
    if compiled is not None:
        arte += compiled.files()
    try:
        # the namespace tag must be unique among topologies alive at once
        # (backends and scenarios may run in parallel): a sequence number
        with Topology(ext_if=gw.get("ext_if", "eth0"), int_if=gw.get("int_if", "eth1"),
                      lanb_if=gw.get("lanb_if", "eth2"), ext_mtu=gw.get("ext_mtu"),
                      gw_sysctl=gw.get("sysctl"),
                      tag="%d-%s" % (next(_TOPO_SEQ), tag[:20])) as topo:
            if backend == "original":
                arte.append(run_original(topo, sc, opts, workdir, tag))
            elif backend != "none":
                arte += load_compiled(topo, backend, compiled, workdir, tag)
            svc = probes.Services(topo)
            try:
                tcp, udp = service_ports(sc)
                for fam in service_families(sc):
                    for role in list(lab.HOSTS) + ["gw"]:
                        for port in sorted(tcp):
                            svc.add_tcp(role, port, fam)
                        for port in sorted(udp):
                            svc.add_udp(role, port, fam)
                for p in sc["probe"]:
                    try:
                        o = run_probe(topo, p, workdir, opts.timeout_scale)
                        results.append(Result(sc, backend, p, obs=o, problems=judge(p, o),
                                              artefacts=arte))
                    except (ProbeError, LabError, OSError) as e:
                        results.append(Result(sc, backend, p, error="probe could not run: %s" % e,
                                              artefacts=arte))
            finally:
                svc.close()
    except (LabError, ProbeError, OSError) as e:
        done = {id(r.p) for r in results}
        for p in sc["probe"]:
            if id(p) not in done:
                results.append(Result(sc, backend, p, error=str(e), artefacts=arte))
    return results


def backends_for(sc, opts):
    """The scenario's backends, or those asked for on the command line (a
    scenario without a ruleset only ever runs on "none")."""
    if not opts.backends:
        # apply needs the script itself, not a prepared ruleset
        return [b for b in sc["backends"] if not (opts.rules_dir and b in APPLY_BACKENDS)]
    if "ruleset" not in sc:
        return [b for b in sc["backends"] if b in opts.backends]
    return [b for b in opts.backends if b != "none"]


def compile_scenario(sc, opts):
    """[(backend, Compiled or None)] for the scenario's backends, compiled
    once per target."""
    cache = {}
    return [(b, None if b in ("none", "original") else
             compile_backend(sc, b, opts, opts.workdir, cache))
            for b in backends_for(sc, opts)]


def agreement(sc, all_results):
    """Disagreements between the backends' observations, one line per probe."""
    disagreements = []
    if len(all_results) > 1:
        names = list(all_results)
        for i, p in enumerate(sc["probe"]):
            sigs = {}
            for b in names:
                r = all_results[b][i]
                sig = "could not run" if r.error else \
                    observation_text({k: r.obs[k] for k in COMPARED if k in r.obs})
                sigs.setdefault(sig, []).append(b)
            if len(sigs) > 1:
                disagreements.append("%s%s: %s" % ("(TODO) " if p.get("todo") else "",
                                                   p["name"], "; ".join(
                    "%s saw %s" % ("+".join(bs), s) for s, bs in sigs.items())))
    return disagreements


def run_scenario(sc, opts, emit):
    """Run one scenario on its backends, one after the other; emit(Result)
    per probe x backend; returns (all results, agreement problems).
    (masqlab.py runs backends and scenarios in parallel with the same
    pieces: compile_scenario, run_backend, agreement.)"""
    all_results = {}
    for backend, comp in compile_scenario(sc, opts):
        res = run_backend(sc, backend, comp, opts, opts.workdir,
                          "%s-%s" % (sc["name"], backend))
        all_results[backend] = res
        for r in res:
            emit(r)
    return all_results, agreement(sc, all_results)


class Options:
    def __init__(self, **kw):
        self.masqc = None
        self.rules_dir = None
        self.rulesets = os.path.join(TOP_SRCDIR, "rulesets")
        self.backends = None
        self.timeout_scale = 1.0
        self.workdir = None
        self.__dict__.update(kw)
        if not self.workdir:
            self.workdir = tempfile.mkdtemp(prefix="masqlab-")
