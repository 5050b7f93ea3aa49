#!/usr/bin/env python3
"""masqc lab command line.

    masqlab.py run [options] [SCENARIO.toml ...]   run scenarios (default: all)
    masqlab.py list                                list scenarios and probes
    masqlab.py check [SCENARIO.toml ...]           validate scenario files only
    masqlab.py sweep                               delete stale lab namespaces

Run options:
    --tap                TAP output (one test point per probe x backend, plus
                         one "backends agree" point per scenario)
    --backend B          only this backend (repeatable): nft, apply (masqc
                         apply + masqc diff), iptables-legacy, apply-legacy
                         (the same with --backend iptables-legacy), iptables-nft,
                         none, original (the script itself, with
                         iptables-legacy / ip6tables-legacy)
    --masqc PATH         compiler to use (default: $MASQC, then src/masqc)
    --rulesets DIR       where scenario rulesets live (default: rulesets/)
    --rules-dir DIR      do not compile: load DIR/<scenario>.nft and
                         DIR/<scenario>.ipt / .ip6t (iptables / ip6tables
                         restore text; hand-written reference rulesets)
    --timeout-scale X    multiply every probe timeout by X
    --keep DIR           keep compiled/loaded rulesets and logs in DIR
    -j, --jobs N         run N scenario x backend topologies at once
                         (default: $MASQLAB_JOBS, else 4; they mostly wait
                         for timeouts); output order does not change
    -v                   print every observation, also for passing probes
"""

import concurrent.futures
import glob
import os
import shutil
import sys

sys.dont_write_bytecode = True    # keep the source tree clean (distcheck)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import lab                              # noqa: E402
import scenario                         # noqa: E402

SCENARIO_DIR = os.path.join(scenario.HERE, "scenarios")


def all_scenarios():
    return sorted(glob.glob(os.path.join(SCENARIO_DIR, "*.toml")))


def failure_lines(r):
    lines = []
    if r.error:
        lines.append("expected: %s" % scenario.expectation_text(r.p))
        lines.append("seen:     nothing - %s" % r.error)
    else:
        lines.append("expected: %s" % scenario.expectation_text(r.p))
        lines.append("seen:     %s" % scenario.observation_text(r.obs))
        for prob in r.problems:
            lines.append("mismatch: %s" % prob)
        if r.obs.get("detail"):
            lines.append("evidence: %s" % r.obs["detail"])
    for a in r.artefacts:
        if a:
            lines.append("ruleset:  %s" % a)
    lines.append("scenario: %s" % r.sc["path"])
    # multi-line evidence (tool stderr) stays inside the TAP comment
    return [part for line in lines for part in line.splitlines()]


def cmd_run(args):
    tap = False
    verbose = False
    kw = {"backends": []}
    keep = None
    jobs = int(os.environ.get("MASQLAB_JOBS", "4"))
    files = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--tap":
            tap = True
        elif a == "-v":
            verbose = True
        elif a in ("--backend", "--masqc", "--rulesets", "--rules-dir",
                   "--timeout-scale", "--keep", "-j", "--jobs"):
            if i + 1 >= len(args):
                sys.exit("masqlab: %s needs a value" % a)
            v = args[i + 1]
            i += 1
            if a == "--backend":
                if v not in scenario.KNOWN_BACKENDS:
                    sys.exit("masqlab: unknown backend %r" % v)
                kw["backends"].append(v)
            elif a == "--timeout-scale":
                kw["timeout_scale"] = float(v)
            elif a == "--keep":
                keep = v
            elif a in ("-j", "--jobs"):
                if not v.isdigit() or int(v) < 1:
                    sys.exit("masqlab: %s needs a number >= 1" % a)
                jobs = int(v)
            else:
                kw[a[2:].replace("-", "_")] = v
        elif a.startswith("-"):
            sys.exit("masqlab: unknown option %s\n%s" % (a, __doc__))
        else:
            files.append(a)
        i += 1
    files = files or all_scenarios()
    scs = []
    for f in files:
        try:
            scs.append(scenario.load_scenario(f))
        except scenario.ScenarioError as e:
            if tap:
                print("1..1\nnot ok 1 - scenario file is valid\n# %s" % e)
                return 1
            sys.exit("masqlab: %s" % e)

    ok, why = lab.netns_supported()
    if not ok:
        if tap:
            print("1..0 # SKIP lab needs root and network namespaces (%s)" % why)
            return 0
        sys.exit("masqlab: cannot run the lab: %s" % why)
    swept = lab.sweep_stale()
    if swept:
        print("# swept %d stale lab namespace(s)" % len(swept), file=sys.stderr)

    if keep:
        os.makedirs(keep, exist_ok=True)
        kw["workdir"] = os.path.abspath(keep)
    opts = scenario.Options(**kw)
    if not opts.backends:
        opts.backends = None

    plan = 0
    for sc in scs:
        n = len(scenario.backends_for(sc, opts))
        plan += n * len(sc["probe"]) + (1 if n > 1 else 0)
    if tap:
        print("1..%d" % plan, flush=True)
    counter = [0, 0]

    def emit(r):
        counter[0] += 1
        name = "%s [%s] %s" % (r.sc["name"], r.backend, r.p["name"])
        todo = r.p.get("todo")
        suffix = " # TODO %s" % todo if todo else ""
        if not r.ok and not todo:
            counter[1] += 1
        if tap:
            print("%s %d - %s%s" % ("ok" if r.ok else "not ok", counter[0], name, suffix))
            if not r.ok or verbose:
                for line in (failure_lines(r) if not r.ok else
                             ["seen: %s" % scenario.observation_text(r.obs),
                              "evidence: %s" % r.obs.get("detail", "")]):
                    print("#   " + line)
        else:
            mark = "PASS" if r.ok else ("TODO" if todo else "FAIL")
            print("%s  %s" % (mark, name))
            if not r.ok or verbose:
                for line in (failure_lines(r) if not r.ok else
                             ["seen: %s" % scenario.observation_text(r.obs),
                              "evidence: %s" % r.obs.get("detail", "")]):
                    print("      " + line)
        sys.stdout.flush()

    # Scenario x backend runs are independent (each has its own topology)
    # and mostly wait for timeouts, so they run `jobs` at a time; results
    # are reported in scenario order, so TAP numbering never changes.
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs))
    lab.install_signal_handlers()
    try:
        pending = []
        for sc in scs:
            pending.append((sc, [(b, pool.submit(scenario.run_backend, sc, b, comp, opts,
                                                 opts.workdir, "%s-%s" % (sc["name"], b)))
                                 for b, comp in scenario.compile_scenario(sc, opts)]))
        for sc, runs in pending:
            results = {}
            for b, fut in runs:
                results[b] = fut.result()
                for r in results[b]:
                    emit(r)
            disagree = scenario.agreement(sc, results)
            n = len(runs)
            if n > 1:
                counter[0] += 1
                name = "%s: all backends agree" % sc["name"]
                todo_only = disagree and all(d.startswith("(TODO) ") for d in disagree)
                if disagree and not todo_only:
                    counter[1] += 1
                if todo_only:
                    name += " # TODO disagreements only on TODO probes"
                if tap:
                    print("%s %d - %s" % ("not ok" if disagree else "ok", counter[0], name))
                    for d in disagree:
                        print("#   " + d.replace("\n", "\n#   "))
                else:
                    print("%s  %s" % ("FAIL" if disagree else "PASS", name))
                    for d in disagree:
                        print("      " + d)
    except lab.Interrupted as e:
        print("# interrupted (%s); lab namespaces removed" % e, file=sys.stderr)
        return 130
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
        lab._destroy_all()
        sys.stdout.flush()
        if keep or counter[1]:
            print("# artefacts kept in %s" % opts.workdir, file=sys.stderr)
        else:
            shutil.rmtree(opts.workdir, ignore_errors=True)
    if not tap:
        print("%d checks, %d failed" % (counter[0], counter[1]))
    return 1 if counter[1] else 0


def cmd_list(args):
    for f in args or all_scenarios():
        sc = scenario.load_scenario(f)
        print("%s  (%s; %s)" % (sc["name"], sc.get("ruleset", "no ruleset"),
                                ", ".join(sc["backends"])))
        if sc["description"]:
            print("    " + sc["description"].strip().replace("\n", "\n    "))
        for p in sc["probe"]:
            print("    - %s: %s" % (p["name"], scenario.expectation_text(p)))
    return 0


def cmd_check(args):
    bad = 0
    for f in args or all_scenarios():
        try:
            scenario.load_scenario(f)
            print("ok   %s" % f)
        except scenario.ScenarioError as e:
            print("FAIL %s" % e)
            bad += 1
    return 1 if bad else 0


def main(argv):
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    cmd, rest = argv[0], argv[1:]
    if cmd == "run":
        return cmd_run(rest)
    if cmd == "list":
        return cmd_list(rest)
    if cmd == "check":
        return cmd_check(rest)
    if cmd == "sweep":
        for n in lab.sweep_stale():
            print("deleted %s" % n)
        return 0
    sys.exit("masqlab: unknown command %r\n%s" % (cmd, __doc__))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
