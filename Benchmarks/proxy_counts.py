#!/usr/bin/env python3
"""Runtime calls and system calls per message through ThuGate, for builds side by side: heap
objects (swift_allocObject, malloc), task hops (swift_task_switch, swift_task_enqueueGlobal),
continuations resumed, and system calls. Counted with uprobes and tracepoints (`perf stat`), so
unlike CPU time they do not depend on how busy the machine is. Needs root (perf probe).

    Benchmarks/proxy_counts.py base=OLD/.build/release/thugate new=.build/release/thugate [--rules] [--seconds 4]

Same sink and load generator as `proxy_load.py` (20 connections, 2048-byte messages, after a 1 s
warm-up); uprobes slow ThuGate down, so only the counts are reported, never a rate."""
import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from proxy_load import ROOT, Sink, ThuGate, load  # noqa: E402

SWIFT_LIB = Path(subprocess.run(["swift", "-print-target-info"], capture_output=True, text=True, check=True).stdout
                 .split('"runtimeResourcePath": "')[1].split('"')[0]) / "linux"
PROBES = [("libswift_Concurrency.so", "swift_task_switch"), ("libswift_Concurrency.so", "swift_task_enqueueGlobal"),
          ("libswift_Concurrency.so", "swift_continuation_throwingResume"), ("libswiftCore.so", "swift_allocObject")]
EVENTS = [f"probe_{Path(lib).stem}:{name}" for lib, name in PROBES] + ["probe_libc:malloc", "raw_syscalls:sys_enter"]


def add_probes():
    for lib, name in PROBES:
        subprocess.run(["perf", "probe", "-q", "-x", str(SWIFT_LIB / lib), name], capture_output=True)
    libc = subprocess.run(["sh", "-c", "ldconfig -p | awk '/libc.so.6 .*x86-64/ {print $NF; exit}'"], capture_output=True,
                          text=True).stdout.strip() or "/lib/x86_64-linux-gnu/libc.so.6"
    subprocess.run(["perf", "probe", "-q", "-x", libc, "malloc"], capture_output=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("builds", nargs="+", help="name=path of a thugate binary")
    parser.add_argument("--rules", action="store_true", help="every check on (default: no rules)")
    parser.add_argument("--seconds", type=float, default=4)
    args = parser.parse_args()
    # Absolute: ThuGate runs in a temporary directory.
    builds = {name: str(Path(path).resolve()) for name, path in (b.split("=", 1) for b in args.builds)}
    loader = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT, check=True, capture_output=True,
                            text=True).stdout.strip() + "/thugate"  # `thugate bench --smtp`
    add_probes()
    rows = {}
    with tempfile.TemporaryDirectory() as work:
        sink = Sink(0)
        try:
            for name, binary in builds.items():
                gateway = ThuGate(binary, sink.port, work, 1, rules=args.rules)
                load(loader, gateway.port, 20, 1, 2048, cpu=0)
                perf = subprocess.Popen(["perf", "stat", "-x,", "-e", ",".join(EVENTS), "-p", str(gateway.proc.pid)],
                                        stderr=subprocess.PIPE, text=True)
                r = load(loader, gateway.port, 20, args.seconds, 2048, cpu=0)
                perf.send_signal(2)
                err = perf.communicate()[1]
                gateway.stop()
                counts = {}
                for line in err.splitlines():
                    fields = line.split(",")
                    if len(fields) > 2 and fields[0].strip().isdigit():
                        counts[fields[2]] = int(fields[0])
                rows[name] = (r["messages"], counts)
        finally:
            sink.stop()
    names = list(rows)
    print(f"{'every check on' if args.rules else 'No rules'}; 20 connections, 2048-byte messages, {args.seconds:.0f} s.\n")
    print("| per message | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for event in EVENTS:
        print(f"| {event.split(':')[-1]} | " + " | ".join("%.1f" % (rows[n][1].get(event, 0) / rows[n][0]) for n in names) + " |")
    print("| messages counted | " + " | ".join(str(rows[n][0]) for n in names) + " |")


if __name__ == "__main__":
    main()
