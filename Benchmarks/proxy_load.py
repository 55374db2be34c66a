#!/usr/bin/env python3
"""End-to-end load benchmark: the same load sent straight to Postfix's smtp-sink and through
ThuGate (no rules) into the same sink, in one run. Reports messages/s, p50/p99 latency, peak RSS
and the ratio, as Markdown, for Benchmarks/RESULTS.md.

    Benchmarks/proxy_load.py [--connections 50] [--seconds 10] [--big-messages 200]

Two placements are measured. "dedicated": the load generator and the sink share CPU 0 and
ThuGate has CPU 1, as a gateway has its own machine in production (the direct run keeps the
load generator and sink on CPU 0 too). "shared": nothing pinned, all three processes compete
for both cores, so ThuGate's CPU is taken from the load generator and the sink.

Everything listens on 127.0.0.1; every process is stopped at the end."""
import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def peak_rss_mb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def wait_port(port, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def log(text):
    print(text, file=sys.stderr, flush=True)


def pinned(cpu):
    return ["taskset", "-c", str(cpu)] if cpu is not None else []


class Sink:
    def __init__(self, cpu=None):
        self.port = free_port()
        # -u nobody: smtp-sink drops root privileges after binding, as its manual asks.
        args = pinned(cpu) + ["smtp-sink"] + (["-u", "nobody"] if os.geteuid() == 0 else []) + [f"127.0.0.1:{self.port}", "1024"]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)


class ThuGate:
    def __init__(self, binary, sink_port, workdir, cpu=None, rules=False, policy_overrides=None):
        config = Path(workdir) / "bench.toml"
        # "No rules" measures the proxy itself; rules=True is the shipped policy with every check on
        # (MIME parse, libclamav, libmagic, archive headers, attachment size, TCVN 6909 text), scanning with the
        # project's own test signatures.
        # Every rule the shipped configuration names, so that a rule added later is off too.
        shipped = tomllib.loads((ROOT / "Config" / "thugate.toml").read_text())["policy"]
        rule_names = [key for key, value in shipped.items() if value in ("reject", "tempfail", "quarantine", "tag", "off")]
        policy = (f'[scan]\nsignatures = "{ROOT}/Config/signatures"\ntemporary_directory = "/dev/shm/thugate-bench"\n' if rules
                  else "[policy]\n" + "".join(f'{name} = "off"\n' for name in rule_names) + "[text]\nnormalize = false\n")
        # Some rules set otherwise ({"state_secret": "off"}), on top of the shipped policy.
        if rules and policy_overrides:
            policy += "[policy]\n" + "".join(f'{name} = "{value}"\n' for name, value in policy_overrides.items())
        config.write_text(f"""[server]
max_connections_per_ip = 1000
spool_directory = "{workdir}/spool"
{policy}[log]
level = "info"
""")
        self.log_path = Path(workdir) / "thugate.log"
        self.proc = subprocess.Popen(pinned(cpu) + [binary, "serve", "--config", str(config), "--listen", "127.0.0.1:0",
                                      "--upstream", f"smtp://127.0.0.1:{sink_port}"],
                                     stdout=subprocess.DEVNULL, stderr=open(self.log_path, "wb"), cwd=workdir)
        deadline = time.time() + 30
        while time.time() < deadline:
            m = re.search(r"listening on [0-9.]+:(\d+)", self.log_path.read_text(errors="replace"))
            if m:
                self.port = int(m.group(1))
                return
            time.sleep(0.05)
        raise RuntimeError("thugate did not start")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(60)


def sized_message(path, size):
    """A plain message of about `size` bytes (76-character lines), as the old thugate-load made."""
    text = "From: load@quangninh.gov.vn\r\nTo: sink@quangninh.gov.vn\r\nSubject: load test\r\n\r\n"
    line = "x" * 76 + "\r\n"
    text += line * max(0, (size - len(text)) // len(line))
    path.write_text(text)
    return path


def load(loader, port, connections, seconds, size, messages=0, cpu=None, message_file=None):
    """`thugate bench --smtp` (the `loader` is the thugate binary): connections kept open for the
    whole run, as thugate-load did; --messages N in all, or --seconds after a 1 s warm-up."""
    with tempfile.TemporaryDirectory() as work:
        corpus = message_file or sized_message(Path(work) / "message.eml", size)
        args = pinned(cpu) + [loader, "bench", "--smtp", f"127.0.0.1:{port}", "--corpus", str(corpus),
                              "--connections", str(connections), "--per-connection", "100000000", "--format", "json"]
        args += ["--messages", str(messages)] if messages else ["--duration", str(seconds), "--warm-up", "1"]
        out = subprocess.run(args, capture_output=True, text=True, check=True, timeout=seconds + 600)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--big-messages", type=int, default=200, help="5 MB messages in the big run")
    parser.add_argument("--huge-messages", type=int, default=100, help="20 MB messages in the huge run")
    parser.add_argument("--small-only", action="store_true", help="only the small-message runs, dedicated CPUs")
    args = parser.parse_args()

    log("building release binaries ...")
    subprocess.run(["swift", "build", "-c", "release", "--product", "thugate"], cwd=ROOT, check=True)
    bin_dir = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout.strip()
    # The load generator is `thugate bench --smtp`.
    binary = loader = f"{bin_dir}/thugate"

    print(f"Machine: {os.cpu_count()} cores; {args.connections} connections; {args.size}-byte messages for "
          f"{args.seconds:.0f} s after a 1 s warm-up; 5 MB run: {args.big_messages} messages; "
          f"20 MB run: {args.huge_messages} messages.\n")
    for placement in ["dedicated"] if args.small_only else ["dedicated", "shared"]:
        cpus = (0, 1) if placement == "dedicated" else (None, None)
        rows, ratio, lines, measured = run(binary, loader, args, *cpus)
        print(f"### {placement} CPUs\n")
        print("| run | messages | failures | messages/s | p50 ms | p99 ms | peak RSS |")
        print("|---|---|---|---|---|---|---|")
        for name, r, process in rows:
            print(f"| {name} | {r['messages']} | {r['failures']} | {r['messages_per_second']:.0f} "
                  f"| {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['rss_mb']:.1f} MB ({process}) |")
        checked = next(r for name, r, _ in rows if name == "through ThuGate, all checks on")
        bare = next(r for name, r, _ in rows if name == "through ThuGate")
        print(f"\nAll checks on / no rules: **{checked['messages_per_second'] / bare['messages_per_second']:.0%}**. "
              f"Throughput through ThuGate / direct: **{ratio:.0%}**. "
              f"ThuGate logged {lines} `result=sent` lines (measured {measured} plus warm-up).\n")


def run(binary, loader, args, load_cpu, gateway_cpu):
    rows = []
    with tempfile.TemporaryDirectory() as work:
        sink = Sink(load_cpu)
        try:
            log(f"direct (cpu {load_cpu}) ...")
            direct = load(loader, sink.port, args.connections, args.seconds, args.size, cpu=load_cpu)
            direct["rss_mb"] = peak_rss_mb(sink.proc.pid)
            rows.append(("direct to smtp-sink", direct, "smtp-sink"))

            gateway = ThuGate(binary, sink.port, work, gateway_cpu)
            log("through ThuGate ...")
            through = load(loader, gateway.port, args.connections, args.seconds, args.size, cpu=load_cpu)
            through["rss_mb"] = peak_rss_mb(gateway.proc.pid)
            assert gateway.stop() == 0
            lines = sum(1 for line in open(gateway.log_path, errors="replace") if "result=sent" in line)
            rows.append(("through ThuGate", through, "thugate"))

            gateway = ThuGate(binary, sink.port, work, gateway_cpu, rules=True)
            log("through ThuGate with the default rules (every message parsed) ...")
            ruled = load(loader, gateway.port, args.connections, args.seconds, args.size, cpu=load_cpu)
            ruled["rss_mb"] = peak_rss_mb(gateway.proc.pid)
            assert gateway.stop() == 0
            rows.append(("through ThuGate, all checks on", ruled, "thugate"))
            ruled_ratio = ruled["messages_per_second"] / through["messages_per_second"]
            log(f"all checks on / no rules: {ruled_ratio:.0%}")
            if args.small_only:
                return rows, through["messages_per_second"] / direct["messages_per_second"], lines, through["messages"]

            # The same 50 connections with big messages: peak RSS must not follow message size.
            for megabytes, count, rules in [(5, args.big_messages, False), (20, args.huge_messages, False),
                                            (5, args.big_messages, True)]:
                gateway = ThuGate(binary, sink.port, work, gateway_cpu, rules=rules)
                log(f"through ThuGate, {count} messages of {megabytes} MB, rules {'on' if rules else 'off'} ...")
                big = load(loader, gateway.port, args.connections, 600, megabytes * 1024 * 1024, messages=count,
                           cpu=load_cpu)
                big["rss_mb"] = peak_rss_mb(gateway.proc.pid)
                assert gateway.stop() == 0
                rows.append((f"through ThuGate, {megabytes} MB messages" + (", all checks on" if rules else ""), big, "thugate"))
        finally:
            sink.stop()
    return rows, through["messages_per_second"] / direct["messages_per_second"], lines, through["messages"]


if __name__ == "__main__":
    main()
