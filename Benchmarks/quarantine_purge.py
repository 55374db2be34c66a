#!/usr/bin/env python3
"""Quarantine life-cycle benchmark on the real binary: import of the old Maildir quarantine, then a
purge while the gateway holds mail.

    THUGATE_BIN=.build/release/thugate Benchmarks/quarantine_purge.py [--files 5000] [--size 20000]

1. Import: `--files` files in the old Maildir quarantine's layout (X-ThuGate-Quarantine,
   -Envelope-From, -Envelope-To, ThuGate's Received field, then the message), dated a year ago, so
   they are past their 30-day expiry: `thugate quarantine import-maildir` time, files/s.
2. Purge under load: `thugate serve` on the same store while 4 SMTP connections send messages the
   default policy holds (a ZipCrypto archive); the client's wait for the reply to the final dot
   (which includes the hold transaction) is measured for some seconds before the purge and while
   `thugate quarantine purge` removes the imported bodies and gives the space back. A purge that
   held the write lock long would show as a long wait here.

Prints Markdown for Benchmarks/RESULTS.md; every process is stopped at the end."""
import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from quarantine_hold import BINARY, Gateway, held_message, log  # noqa: E402


def old_file(n: int, size: int) -> bytes:
    body = (b"Kinh gui. " * (size // 10 + 1))[:size]
    message = (f"From: vanthu@quangninh.gov.vn\r\nTo: lanhdao@quangninh.gov.vn\r\nSubject: Ho so {n}\r\n"
               f"Message-ID: <{n}@quangninh.gov.vn>\r\n\r\n").encode() + body + b"\r\n"
    header = (f"X-ThuGate-Quarantine: encrypted-archive(2): a{n}.zip: encrypted (ZipCrypto)\r\n"
              f"X-ThuGate-Envelope-From: <vanthu@quangninh.gov.vn>\r\n"
              f"X-ThuGate-Envelope-To: <lanhdao@quangninh.gov.vn>\r\n"
              f"Received: from client.test ([192.0.2.10])\r\n\tby thugate.test (ThuGate) with ESMTP id Q{n:011d}\r\n"
              f"\tfor <lanhdao@quangninh.gov.vn>; Mon, 1 Dec 2025 07:00:00 +0700\r\n").encode()
    return header + message


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))] if values else float("nan")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=5000)
    parser.add_argument("--size", type=int, default=20000)
    parser.add_argument("--baseline-seconds", type=float, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="thugate-purge-") as tmp:
        work = Path(tmp)
        maildir = work / "old"
        for sub in ("tmp", "new", "cur"):
            (maildir / sub).mkdir(parents=True)
        for n in range(args.files):
            (maildir / "new" / f"1764547200.M{n}P1Q{n}_Q{n:011d}.thugate.test").write_bytes(old_file(n, args.size))
        store = work / "store" / "quarantine.sqlite"
        gateway = Gateway(work / "gw", store)
        log(f"import: {args.files} files")
        t0 = time.perf_counter()
        subprocess.run([str(BINARY), "quarantine", "import-maildir", str(maildir), "--config", str(gateway.config)],
                       check=True, capture_output=True)
        import_seconds = time.perf_counter() - t0

        bodies = [held_message(work, i) for i in range(20)]
        phase = {"name": "before"}
        waits = {"before": [], "during": [], "after": []}
        stop = threading.Event()
        lock = threading.Lock()

        def sender(c):
            import smtplib
            with smtplib.SMTP("127.0.0.1", gateway.port, timeout=120) as client:
                client.ehlo("bench.test")
                i = 0
                while not stop.is_set():
                    client.mail("vanthu@quangninh.gov.vn")
                    client.rcpt("lanhdao@quangninh.gov.vn")
                    name = phase["name"]
                    started = time.perf_counter()
                    code, _ = client.data(bodies[(c + i) % len(bodies)])
                    elapsed = time.perf_counter() - started
                    if code != 250:
                        raise SystemExit(f"hold answered {code}")
                    with lock:
                        waits[name].append(elapsed)
                    i += 1

        threads = [threading.Thread(target=sender, args=(c,), daemon=True) for c in range(4)]
        for t in threads:
            t.start()
        time.sleep(args.baseline_seconds)
        phase["name"] = "during"
        log("purge")
        t0 = time.perf_counter()
        purge = subprocess.run([str(BINARY), "quarantine", "purge", "--config", str(gateway.config)],
                               check=True, capture_output=True)
        purge_seconds = time.perf_counter() - t0
        phase["name"] = "after"
        time.sleep(1)
        stop.set()
        for t in threads:
            t.join(30)
        gateway.stop()
        store_bytes = store.stat().st_size
        report = purge.stderr.decode().strip().splitlines()
    print(f"binary: `{BINARY}`; {args.files} imported files of {args.size} bytes each\n")
    print("| import-maildir s | files/s | purge s | messages/s purged | purge says |")
    print("|---|---|---|---|---|")
    print(f"| {import_seconds:.1f} | {args.files / import_seconds:.0f} | {purge_seconds:.1f} | {args.files / purge_seconds:.0f} "
          f"| {'; '.join(line.removeprefix('thugate: ') for line in report[-2:])} |\n")
    print("| hold wait (reply to the final dot) | messages | p50 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|")
    for name in ("before", "during"):
        w = waits[name]
        print(f"| {name} the purge | {len(w)} | {1000 * percentile(w, 0.5):.1f} | {1000 * percentile(w, 0.99):.1f} "
              f"| {1000 * max(w):.1f} |")
    print(f"\nstore file after the purge: {store_bytes / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
