#!/usr/bin/env python3
"""`thugate quarantine` review commands on a large store, on the real binary.

    THUGATE_BIN=.build/release/thugate Benchmarks/quarantine_review.py [--messages 100000] \\
        [--connections 20] [--work DIR] [--reuse] [--runs 5]

1. Fill: `thugate serve` holds `--messages` messages sent over SMTP by `--connections` clients
   (smtplib), each one inspected (libclamav included) and held by the proxy in its store:
   ZipCrypto archives (`encrypted-archive`, the default policy), one in 20 with the EICAR test
   file (`virus`) and one in 20 with a program (`executable`), both set to `quarantine`. Senders
   and recipients come from three agencies and outside; each message has its own Subject and
   Message-ID. 50 messages are then deleted for one recipient with `thugate quarantine delete`.
   `--reuse` keeps the store of an earlier run in `--work` and skips this step.
2. Times: each `list`, `show`, `audit` and `check` command `--runs` times as a whole process
   (start, open the store read-only, read, for show also the audit row, print to a pipe); the
   median and the number of rows printed.

Prints Markdown for Benchmarks/RESULTS.md."""
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
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from quarantine_hold import listening_port  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BINARY = Path(os.environ.get("THUGATE_BIN", ROOT / ".build" / "release" / "thugate"))

AGENCIES = """
[[agency]]
id = "quangninh"
name = "UBND tỉnh Quảng Ninh"
domains = ["quangninh.gov.vn", "*.quangninh.gov.vn"]

[[agency]]
id = "quan4"
name = "UBND Quận 4"
domains = ["tphcm.gov.vn"]
local_part_suffixes = [".q4"]
addresses = ["q4@tphcm.gov.vn"]

[[agency]]
id = "dongnai"
name = "UBND tỉnh Đồng Nai"
domains = ["dongnai.gov.vn"]
"""

SENDERS = [
    ("Văn thư <vanthu@quangninh.gov.vn>", "vanthu@quangninh.gov.vn"),
    ("Kế Toán <ke.toan.q4@tphcm.gov.vn>", "ke.toan.q4@tphcm.gov.vn"),
    ("Phòng TC <tc@dongnai.gov.vn>", "tc@dongnai.gov.vn"),
    ("Đối tác <doitac@example.com>", "doitac@example.com"),
]
RECIPIENTS = [
    ["lanhdao@quangninh.gov.vn"],
    ["q4@tphcm.gov.vn", "ketoan@hl.quangninh.gov.vn"],
    ["vanphong@dongnai.gov.vn"],
    ["lanhdao@quangninh.gov.vn", "an.q4@tphcm.gov.vn", "ban@example.com"],
]
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def log(text):
    print(text, file=sys.stderr, flush=True)


def template(work: Path, n: int):
    """A message with SUBJECT-HERE / MSGID-HERE placeholders, its envelope."""
    payload = work / f"so-lieu-{n}.txt"
    payload.write_bytes(b"so lieu %d\n" % n + os.urandom(1500))
    archive = work / f"a-{n}.zip"
    subprocess.run(["zip", "-q", "-j", "-P", "matkhau", str(archive), str(payload)], check=True)
    header_from, sender = SENDERS[n % len(SENDERS)]
    recipients = RECIPIENTS[(n // len(SENDERS)) % len(RECIPIENTS)]
    msg = EmailMessage()
    msg["From"] = header_from
    msg["To"] = ", ".join(recipients)
    msg["Subject"] = "SUBJECT-HERE"
    msg["Message-ID"] = "<MSGID-HERE@bench.test>"
    msg.set_content("Kính gửi.\nĐề nghị xem tệp đính kèm.\n")
    msg.add_attachment(archive.read_bytes(), maintype="application", subtype="zip", filename="ho-so.zip")
    if n % 20 == 7:
        msg.add_attachment(EICAR, maintype="text", subtype="plain", filename="eicar.txt")
    elif n % 20 == 13:
        msg.add_attachment(b"MZ" + os.urandom(600), maintype="application", subtype="octet-stream", filename="setup.exe")
    return msg.as_bytes(policy=SMTP), sender, recipients


class Gateway:
    def __init__(self, directory: Path, store: Path):
        directory.mkdir(parents=True, exist_ok=True)
        self.config = directory / "thugate.toml"
        self.config.write_text(
            f'[server]\nspool_directory = "{directory}/spool"\npid_file = "{directory}/thugate.pid"\nhostname = "bench.test"\n'
            f'[scan]\nsignatures = "{ROOT}/Config/signatures"\ntemporary_directory = "{directory}/tmp"\n'
            f'crash_journal = "{directory}/scan-crashes"\n'
            f'[policy]\nvirus = "quarantine"\nexecutable = "quarantine"\n'
            f'[quarantine]\ndatabase = "{store}"\n[log]\nlevel = "notice"\n' + AGENCIES)
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            [str(BINARY), "serve", "--config", str(self.config), "--listen", "127.0.0.1:0",
             "--upstream", f"maildir:{self.config.parent}/mail"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.port = listening_port(self.proc)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(60)


def cli(config, *args, check=True):
    return subprocess.run([str(BINARY), "quarantine", *args, "--config", str(config)], capture_output=True, check=check)


def fill(work: Path, gateway: Gateway, messages: int, connections: int):
    templates = [template(work, n) for n in range(80)]
    gateway.start()
    failures = []
    counter = iter(range(messages))
    lock = threading.Lock()

    def worker():
        with smtplib.SMTP("127.0.0.1", gateway.port, timeout=300) as client:
            client.ehlo("bench.test")
            while True:
                with lock:
                    n = next(counter, None)
                if n is None:
                    return
                data, sender, recipients = templates[n % len(templates)]
                data = data.replace(b"SUBJECT-HERE", f"Ho so so {n}".encode()).replace(b"MSGID-HERE", f"m{n}".encode())
                client.mail(sender)
                for rcpt in recipients:
                    client.rcpt(rcpt)
                code, text = client.data(data)
                if code != 250:
                    with lock:
                        failures.append((code, text))
                if n % 10000 == 0:
                    log(f"fill: {n} sent")

    started = time.time()
    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.time() - started
    gateway.stop()
    if failures:
        raise SystemExit(f"{len(failures)} messages not held, e.g. {failures[0]}")
    rows = [json.loads(line) for line in cli(gateway.config, "list", "--format", "json", "--category", "encrypted-archive",
                                              "--limit", "200").stdout.splitlines()]
    for row in rows[::4][:50]:
        cli(gateway.config, "delete", row["id"], "--to", row["recipients"][0]["address"], "--reason", "benchmark")
    return seconds


def timed(config, runs, *args):
    times = []
    out = b""
    for _ in range(runs):
        t0 = time.perf_counter()
        result = cli(config, *args, check=False)
        times.append(time.perf_counter() - t0)
        if result.returncode != 0:
            raise SystemExit(f"{args}: exit {result.returncode}: {result.stderr.decode()}")
        out = result.stdout
    return 1000 * statistics.median(times), out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--work", type=Path)
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="thugate-review-"))
    work.mkdir(parents=True, exist_ok=True)
    store = work / "store" / "quarantine.sqlite"
    gateway = Gateway(work / "gw", store)
    if not (args.reuse and store.exists()):
        seconds = fill(work, gateway, args.messages, args.connections)
        log(f"fill: {args.messages} held in {seconds:.0f} s ({args.messages / seconds:.0f}/s)")
    config = gateway.config
    newest = json.loads(cli(config, "list", "--format", "json", "--limit", "1").stdout)
    middle = json.loads(cli(config, "list", "--format", "json", "--since", "7d", "--limit", "50000").stdout.splitlines()[-1])
    held = len(cli(config, "list", "--format", "json").stdout.splitlines())
    store_mb = sum(p.stat().st_size for p in store.parent.iterdir()) / 1e6
    cases = [
        ("list (all, json)", ["list", "--format", "json"]),
        ("list (all, table)", ["list"]),
        ("list --limit 50", ["list", "--limit", "50"]),
        ("list --since 1h --limit 50", ["list", "--since", "1h", "--limit", "50"]),
        ("list --rule virus", ["list", "--rule", "virus"]),
        ("list --rule virus --limit 50", ["list", "--rule", "virus", "--limit", "50"]),
        ("list --category executable --limit 50", ["list", "--category", "executable", "--limit", "50"]),
        ("list --state deleted", ["list", "--state", "deleted"]),
        ("list --state held --limit 50", ["list", "--state", "held", "--limit", "50"]),
        ("list --from ke.toan --limit 50", ["list", "--from", "ke.toan", "--limit", "50"]),
        ("list --from 'đối tác' --limit 50 (not ASCII)", ["list", "--from", "đối tác", "--limit", "50"]),
        ("list --from nobody-at-all (no match: every row)", ["list", "--from", "nobody-at-all"]),
        ("list --to an.q4 --limit 50", ["list", "--to", "an.q4", "--limit", "50"]),
        ("list --agency quan4 --limit 50", ["list", "--agency", "quan4", "--limit", "50"]),
        ("list --agency dongnai (all)", ["list", "--agency", "dongnai", "--format", "json"]),
        ("show ID (newest)", ["show", newest["id"]]),
        ("show ID (the 50,000th newest)", ["show", middle["id"]]),
        ("show ID --format json", ["show", middle["id"], "--format", "json"]),
        ("show ID --raw", ["show", middle["id"], "--raw"]),
        ("audit ID", ["audit", middle["id"]]),
        ("audit --verify (whole chain)", ["audit", "--verify"]),
    ]
    print(f"Store: {held} held messages, {store_mb:.0f} MB. Each command {args.runs} times, median, whole process.\n")
    print("| command | ms (median) | rows printed |")
    print("|---|---|---|")
    for name, command in cases:
        ms, out = timed(config, args.runs, *command)
        rows = len(out.splitlines())
        if command[0] == "list" and "json" not in command:
            rows -= 1  # the header line
        shown = rows if command[0] == "list" else "-"
        print(f"| `{name}` | {ms:.0f} | {shown} |", flush=True)
    ms, out = timed(config, 1, "check")
    print(f"| `check` ({held} messages, {store_mb:.0f} MB) | {ms:.0f} | - |")


if __name__ == "__main__":
    main()
