#!/usr/bin/env python3
"""Proxy throughput with the state-secret rule on and off, side by side in one run (issue 12):
the messages of the secrecy corpus (Benchmarks/secrecy-eval/make_corpus.py), split into those
without documents (Subject and bodies only) and those with a document attached, sent over SMTP
through `thugate serve` into Postfix's smtp-sink, with the shipped policy (rule on) and with the
rule's policy keys set to "off".

    python3 Benchmarks/secrecy_proxy.py --bin .build/release/thugate --corpus /tmp/secrecy-corpus \\
        [--rules state_secret,secrecy_unchecked] [--seconds 10] [--connections 8] [--rounds 3]

A refused message (the rule on a stamped one) is a finished transaction like a delivered one;
the table counts both and gives the median of the rounds, p50/p99 latency per message and
ThuGate's CPU per message and peak RSS. The client is Python's smtplib in threads: on the text
messages it may be what limits the rate (its own CPU is given). Everything listens on 127.0.0.1;
every process is stopped at the end.
"""
import argparse
import json
import os
import re
import smtplib
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from proxy_compare import cpu_seconds  # noqa: E402
from proxy_load import ROOT, Sink, ThuGate, log, peak_rss_mb  # noqa: E402

TEXT_FORMATS = {"subject", "text-plain", "text-html"}


def start_gateway(binary, sink_port, workdir, rules_off):
    """proxy_load.ThuGate with this benchmark's configuration (its `rules` switch only knows
    "none" and "all")."""
    config = Path(workdir) / "bench.toml"
    text = ("[server]\nmax_connections_per_ip = 1000\n"
            f'spool_directory = "{workdir}/spool"\n'
            f'[scan]\nsignatures = "{ROOT}/Config/signatures"\ntemporary_directory = "/dev/shm/thugate-secrecy-bench"\n'
            + ("[policy]\n" + "".join(f'{rule} = "off"\n' for rule in rules_off) if rules_off else "")
            + f'[quarantine]\ndatabase = "{workdir}/quarantine.sqlite"\n[log]\nlevel = "info"\n')
    gateway = ThuGate.__new__(ThuGate)
    gateway.log_path = Path(workdir) / "thugate.log"
    config.write_text(text)
    gateway.proc = subprocess.Popen([binary, "serve", "--config", str(config), "--listen", "127.0.0.1:0",
                                     "--upstream", f"smtp://127.0.0.1:{sink_port}"],
                                    stdout=subprocess.DEVNULL, stderr=open(gateway.log_path, "wb"), cwd=workdir)
    deadline = time.time() + 30
    while time.time() < deadline:
        m = re.search(r"listening on [0-9.]+:(\d+)", gateway.log_path.read_text(errors="replace"))
        if m:
            gateway.port = int(m.group(1))
            return gateway
        if gateway.proc.poll() is not None:
            raise RuntimeError("thugate exited: " + gateway.log_path.read_text(errors="replace")[-500:])
        time.sleep(0.05)
    raise RuntimeError("thugate did not start")


def send(port, messages, connections, seconds):
    """`connections` threads, each on its own SMTP connection, sending `messages` round-robin for
    `seconds`: finished transactions (delivered + refused), per-message latencies."""
    stop = time.monotonic() + seconds
    latencies, counts, lock = [], {"delivered": 0, "refused": 0, "failed": 0}, threading.Lock()

    def worker(offset):
        client = smtplib.SMTP("127.0.0.1", port, timeout=120)
        i = offset
        while time.monotonic() < stop:
            data = messages[i % len(messages)]
            i += connections
            started = time.monotonic()
            outcome = "delivered"
            try:
                client.sendmail("van.thu@stttt.quangninh.gov.vn", ["phong.cntt@sonv.quangninh.gov.vn"], data)
            except (smtplib.SMTPDataError, smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused):
                outcome = "refused"
                client.rset()
            except (smtplib.SMTPException, OSError):
                outcome = "failed"
                client = smtplib.SMTP("127.0.0.1", port, timeout=120)
            with lock:
                counts[outcome] += 1
                latencies.append(time.monotonic() - started)
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            pass

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(connections)]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return counts, latencies, time.monotonic() - began


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))] if values else float("nan")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin", required=True)
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--rules", default="state_secret,secrecy_unchecked",
                        help="[policy] keys set to \"off\" for the rule-off runs")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    args.bin = os.path.abspath(args.bin)
    rules = [r for r in args.rules.split(",") if r]
    shipped = tomllib.loads((ROOT / "Config" / "thugate.toml").read_text())["policy"]
    unknown = [r for r in rules if r not in shipped]
    if unknown:
        raise SystemExit(f"secrecy_proxy: {', '.join(unknown)}: not a [policy] key of Config/thugate.toml in this build")
    with open(os.path.join(args.corpus, "labels.jsonl"), encoding="utf-8") as f:
        labels = [json.loads(line) for line in f if line.strip()]
    sets = {"without documents": [], "with a document": []}
    for label in labels:
        with open(os.path.join(args.corpus, label["file"]), "rb") as f:
            data = f.read()
        sets["without documents" if label["format"] in TEXT_FORMATS else "with a document"].append(data)
    results = {}
    with tempfile.TemporaryDirectory(prefix="secrecy-proxy-") as work:
        sink = Sink()
        try:
            for round_number in range(1, args.rounds + 1):
                # Alternate which goes first, so a warming or a busier minute does not favour one.
                order = [("on", []), ("off", rules)]
                for state, off in (order if round_number % 2 else order[::-1]):
                    directory = os.path.join(work, f"r{round_number}-{state}")
                    os.makedirs(directory)
                    gateway = start_gateway(args.bin, sink.port, directory, off)
                    try:
                        for name, messages in sets.items():
                            cpu_before = cpu_seconds(gateway.proc.pid)
                            client_before = time.process_time()
                            counts, latencies, wall = send(gateway.port, messages, args.connections, args.seconds)
                            cpu = cpu_seconds(gateway.proc.pid) - cpu_before
                            finished = counts["delivered"] + counts["refused"]
                            results.setdefault((name, state), []).append({
                                "rate": finished / wall, "counts": counts, "p50": percentile(latencies, 0.5) * 1000,
                                "p99": percentile(latencies, 0.99) * 1000, "cpu_us": cpu / max(finished, 1) * 1e6,
                                "client_cpu": (time.process_time() - client_before) / wall,
                                "rss": peak_rss_mb(gateway.proc.pid)})
                            log(f"secrecy_proxy: round {round_number}, rule {state}, {name}: {finished / wall:.1f} messages/s "
                                f"({counts})")
                    finally:
                        gateway.stop()
        finally:
            sink.stop()
    off_keys = ", ".join(f'`{r} = "off"`' for r in rules)
    print(f"{args.connections} connections, {args.seconds:g} s per run, {args.rounds} rounds (rule on and off one after the "
          f"other in each round, alternating which first); rule off = {off_keys}.\n")
    print("| messages | rule | messages/s (median) | every round | delivered / refused (last) | ThuGate CPU µs/message | "
          "p50 ms | p99 ms | peak RSS MB | client CPU |")
    print("|---|---|---:|---|---|---:|---:|---:|---:|---:|")
    for name in sets:
        for state in ("off", "on"):
            runs = results[(name, state)]
            median = statistics.median(r["rate"] for r in runs)
            last = runs[-1]
            every = ", ".join("%.1f" % r["rate"] for r in runs)
            print(f"| {name} ({len(sets[name])}) | {state} | {median:.1f} | {every} | "
                  f"{last['counts']['delivered']} / {last['counts']['refused']} | {statistics.median(r['cpu_us'] for r in runs):.0f} | "
                  f"{statistics.median(r['p50'] for r in runs):.1f} | {statistics.median(r['p99'] for r in runs):.1f} | "
                  f"{max(r['rss'] for r in runs):.1f} | {statistics.median(r['client_cpu'] for r in runs):.0%} |")


if __name__ == "__main__":
    main()
