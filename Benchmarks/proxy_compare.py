#!/usr/bin/env python3
"""Proxy throughput of two builds side by side, in one run: the working tree and an earlier
commit (default: the parent of HEAD). Same load generator, same sink, same machine, same CPU
placement as `proxy_load.py`'s dedicated run (generator and sink on CPU 0, ThuGate on CPU 1).

    Benchmarks/proxy_compare.py [--base REV] [--rounds 3] [--seconds 10] [--connections 50]

Each round runs both builds one after the other, with no rules and with every check on, so a
slow minute of the machine hits both; the table gives the median of the rounds and every
round's figure. The base commit is built in a git worktree under .build-compare/ (release).
Everything listens on 127.0.0.1; every process is stopped at the end."""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from proxy_load import ROOT, Sink, ThuGate, load, log, peak_rss_mb  # noqa: E402


def cpu_seconds(pid):
    """User plus system CPU time of a process so far (/proc/PID/stat fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def release_binaries(tree):
    """The tree's release thugate, and the load generator: this tree's `thugate bench --smtp`
    (the same one for every build compared; an older tree may not have `bench`)."""
    # Build output goes to stderr with the progress: stdout is the Markdown table.
    subprocess.run(["swift", "build", "-c", "release", "--product", "thugate"], cwd=tree, check=True, stdout=sys.stderr)
    bin_dir = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=tree, check=True,
                             capture_output=True, text=True).stdout.strip()
    if tree != ROOT:
        return f"{bin_dir}/thugate", release_binaries(ROOT)[1]
    return f"{bin_dir}/thugate", f"{bin_dir}/thugate"


def base_tree(rev):
    commit = subprocess.run(["git", "rev-parse", "--verify", f"{rev}^{{commit}}"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout.strip()
    tree = ROOT / ".build-compare" / "base"
    if not (tree / ".git").exists():
        tree.parent.mkdir(exist_ok=True)
        subprocess.run(["git", "worktree", "add", "--detach", str(tree), commit], cwd=ROOT, check=True)
    subprocess.run(["git", "checkout", "--quiet", "--detach", commit], cwd=tree, check=True)
    return tree, commit


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", default="HEAD~1", help="the commit to compare with (default HEAD~1)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--no-rules-only", action="store_true", help="skip the runs with every check on")
    args = parser.parse_args()

    tree, commit = base_tree(args.base)
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, check=True, capture_output=True,
                          text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, check=True,
                           capture_output=True, text=True).stdout.strip()
    log(f"building the base {commit[:10]} (release) ...")
    base_binary, _ = release_binaries(tree)
    log("building the working tree (release) ...")
    binary, loader = release_binaries(ROOT)
    builds = [(f"base {commit[:10]}", base_binary), (f"this tree {head}{' + changes' if dirty else ''}", binary)]

    results = {(name, rules): [] for name, _ in builds for rules in (False, True)}
    with tempfile.TemporaryDirectory() as work:
        sink = Sink(0)
        try:
            for round_ in range(1, args.rounds + 1):
                for rules in (False,) if args.no_rules_only else (False, True):
                    for name, path in builds:
                        gateway = ThuGate(path, sink.port, work, 1, rules=rules)
                        log(f"round {round_}: {name}, {'every check on' if rules else 'no rules'} ...")
                        r = load(loader, gateway.port, args.connections, args.seconds, args.size, cpu=0)
                        r["rss_mb"] = peak_rss_mb(gateway.proc.pid)
                        # ThuGate's own CPU per message (start-up and warm-up included, the same for both).
                        r["cpu_us"] = cpu_seconds(gateway.proc.pid) * 1e6 / max(r["messages"], 1)
                        if gateway.stop() != 0:
                            raise RuntimeError(f"{name} did not stop cleanly")
                        if r["failures"]:
                            raise RuntimeError(f"{name}: {r['failures']} messages failed")
                        results[(name, rules)].append(r)
        finally:
            sink.stop()

    print(f"{args.rounds} rounds; {args.connections} connections; {args.size}-byte messages for {args.seconds:.0f} s "
          "after a 1 s warm-up; load generator and smtp-sink on CPU 0, ThuGate on CPU 1.\n")
    print("| build | rules | messages/s (median) | every round | ThuGate CPU µs/message (median) | p50 ms | p99 ms | peak RSS |")
    print("|---|---|---|---|---|---|---|---|")
    medians = {}
    measured = (False,) if args.no_rules_only else (False, True)
    for rules in measured:
        for name, _ in builds:
            runs = results[(name, rules)]
            rate = statistics.median(r["messages_per_second"] for r in runs)
            medians[(name, rules)] = rate
            print(f"| {name} | {'every check on' if rules else 'none'} | {rate:.0f} "
                  f"| {', '.join('%.0f' % r['messages_per_second'] for r in runs)} "
                  f"| {statistics.median(r['cpu_us'] for r in runs):.0f} "
                  f"| {statistics.median(r['p50_ms'] for r in runs):.2f} "
                  f"| {statistics.median(r['p99_ms'] for r in runs):.2f} "
                  f"| {max(r['rss_mb'] for r in runs):.1f} MB |")
    (base_name, _), (new_name, _) = builds
    for rules in measured:
        ratio = medians[(new_name, rules)] / medians[(base_name, rules)]
        print(f"\n{'Every check on' if rules else 'No rules'}: this tree / base = **{ratio:.0%}**.", end="")
    print()


if __name__ == "__main__":
    main()
