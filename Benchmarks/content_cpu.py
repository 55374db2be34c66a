#!/usr/bin/env python3
"""CPU of content inspection per message, the way issue 14 measured it: `thugate scan` over 300
medium messages (Benchmarks/medium_message.py, each with bytes of its own) and over messages
with a 5 MiB attachment that is no archive, under `perf record -e task-clock` (software clock:
this machine's VMs have no hardware counters). Prints ms of CPU per message for the gateway's
threads and for the PDF helpers apart, MB/s per core on the large attachments (the CPU of a
2 KB message subtracted: start-up, signatures), and the libraries the gateway's time goes to.

    swift build -c release --product thugate && swift build -c release --product thugate-pdftext
    python3 Benchmarks/content_cpu.py [--thugate PATH] [--work DIR] [--count 300]

Needs linux-perf (Debian: apt-get install linux-perf).
"""
import argparse
import collections
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RATE = 4000


def corpus(work, count):
    medium = work / "medium"
    if not medium.exists() or len(list(medium.glob("*.eml"))) < count:
        print(f"writing {count} medium messages to {medium} ...", file=sys.stderr)
        subprocess.run([sys.executable, ROOT / "Benchmarks" / "medium_message.py", "--count", str(count), "--out", medium],
                       check=True)
    large = work / "large"
    for kind in ("binary", "text"):
        if not (large / f"large-{kind}.eml").exists():
            subprocess.run([sys.executable, ROOT / "Benchmarks" / "medium_message.py", "--large", kind, "--out", large],
                           check=True)
    # The same large message five times in one run (libclamav's cache is off in ThuGate), and a
    # 2 KB message for what a run costs with no content.
    for kind in ("binary", "text"):
        folder = work / f"large-{kind}"
        folder.mkdir(exist_ok=True)
        for i in range(5):
            target = folder / f"{i}.eml"
            if not target.exists():
                shutil.copy(large / f"large-{kind}.eml", target)
    small = work / "small"
    small.mkdir(exist_ok=True)
    (small / "0.eml").write_bytes(b"From: a@b.vn\r\nTo: c@d.vn\r\nSubject: x\r\n\r\n" + b"Kinh gui\r\n" * 200)
    return medium, work / "large-binary", work / "large-text", small


def profile(thugate, folder, data):
    """Samples per process name and, for the gateway's threads, per library."""
    subprocess.run(["perf", "record", "-q", "-e", "task-clock", "-F", str(RATE), "-o", data, thugate, "scan", "--format", "json",
                    folder], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out = subprocess.run(["perf", "report", "-i", data, "--sort", "comm,dso", "-F", "sample,comm,dso", "--stdio"],
                         check=True, capture_output=True, text=True).stdout
    helper, gateway, libraries = 0, 0, collections.Counter()
    for line in out.splitlines():
        fields = line.split()
        if not fields or line.startswith("#") or not fields[0].isdigit():
            continue
        samples, comm, dso = int(fields[0]), fields[1], fields[-1]
        if comm == "thugate-pdftext":
            helper += samples
        else:
            gateway += samples
            libraries[dso] += samples
    return gateway / RATE * 1000, helper / RATE * 1000, libraries


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--thugate", help="the thugate binary (default: the release build)")
    parser.add_argument("--work", help="where the messages are kept between runs (default: a temporary directory)")
    parser.add_argument("--count", type=int, default=300)
    args = parser.parse_args()
    thugate = args.thugate or str(Path(subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT,
                                                      check=True, capture_output=True, text=True).stdout.strip()) / "thugate")
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(args.work) if args.work else Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        medium, binary, text, small = corpus(work, args.count)
        count = len(list(medium.glob("*.eml")))
        gateway, helper, libraries = profile(thugate, medium, work / "medium.data")
        print(f"| {count} medium messages | ms CPU per message |\n|---|---:|")
        print(f"| gateway (parse, libclamav, libmagic, archive headers, text, rules) | {gateway / count:.2f} |")
        print(f"| PDF helpers (thugate-pdftext, poppler) | {helper / count:.2f} |")
        print(f"| total | {(gateway + helper) / count:.2f} |\n")
        total = sum(libraries.values())
        print("| where the gateway's time goes (medium) | share |\n|---|---:|")
        for name, samples in libraries.most_common(8):
            print(f"| {name} | {100 * samples / total:.1f} % |")
        base, _, _ = profile(thugate, small, work / "small.data")
        print("\n| 5 MiB attachment, no archive | ms CPU per message | MB/s per core |\n|---|---:|---:|")
        for name, folder in (("random bytes (application/octet-stream)", binary), ("UTF-8 text (text/plain)", text)):
            spent, _, _ = profile(thugate, folder, work / "large.data")
            per = (spent - base) / 5
            print(f"| {name} | {per:.0f} | {5 * 1.048576 / (per / 1000):.0f} |")


if __name__ == "__main__":
    main()
