#!/usr/bin/env python3
"""Two thugate binaries under the same load, alternating, in one run: the small-message run
of proxy_load.py (50 connections, 2 KiB, 10 s, no rules, dedicated CPUs) and 100 messages of
5 MiB, three rounds each. For "no lower than before" comparisons of one change.

    Benchmarks/proxy_side_by_side.py LOADER NAME=BINARY NAME=BINARY

LOADER is a release `thugate-load`; each BINARY a release `thugate` left in its own checkout's
.build (it finds Config/ from there). Prints a Markdown table; progress goes to stderr."""
import statistics
import sys
import tempfile

from proxy_load import Sink, ThuGate, load


def main():
    loader = sys.argv[1]
    binaries = dict(arg.split("=", 1) for arg in sys.argv[2:])
    small = {name: [] for name in binaries}
    big = {name: [] for name in binaries}
    with tempfile.TemporaryDirectory() as work:
        sink = Sink(0)
        try:
            for round_ in range(3):
                for runs, size, messages, seconds in [(small, 2048, 0, 10), (big, 5 * 1024 * 1024, 100, 600)]:
                    for name, binary in binaries.items():
                        gateway = ThuGate(binary, sink.port, work, 1)
                        result = load(loader, gateway.port, 50, seconds, size, messages=messages, cpu=0)
                        assert gateway.stop() == 0
                        runs[name].append(result)
                        print(f"{name} round {round_} {size} B: {result['messages_per_second']:.1f}/s", file=sys.stderr, flush=True)
        finally:
            sink.stop()
    print("| binary | 2 KiB messages/s (3 runs) | median | p50 ms | p99 ms | 5 MiB messages/s (3 runs) | failures |")
    print("|---|---|---|---|---|---|---|")
    for name in binaries:
        runs = small[name]
        print(f"| {name} | {', '.join(format(r['messages_per_second'], '.0f') for r in runs)} "
              f"| {statistics.median(r['messages_per_second'] for r in runs):.0f} "
              f"| {statistics.median(r['p50_ms'] for r in runs):.2f} | {statistics.median(r['p99_ms'] for r in runs):.2f} "
              f"| {', '.join(format(r['messages_per_second'], '.1f') for r in big[name])} "
              f"| {sum(r['failures'] for r in runs + big[name])} |")


if __name__ == "__main__":
    main()
