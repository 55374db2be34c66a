#!/usr/bin/env python3
"""Quarantine store benchmark and durability loop, on the real binary over SMTP.

    THUGATE_BIN=.build/release/thugate Benchmarks/quarantine_hold.py [--kill-rounds 200] \\
        [--messages 2000] [--connections 20] [--notices] [--store sqlite|postgresql|both]

1. Durability: `--kill-rounds` times, start `thugate serve`, send one message the default policy
   holds (a ZipCrypto archive made by zip), SIGKILL the gateway the moment the client has read its
   250, and start again on the same store. At the end every message a client heard 250 for must be
   in the store (`thugate quarantine list --format json`) with the sha256 of what was sent.
2. Throughput: `--messages` held messages over `--connections` connections into one store:
   messages/s and the client's wait for the reply to the final dot (p50/p99: the inspection plus
   the hold transaction), then `list` and `show --raw` times on that store. With `--notices` every
   hold also writes two outbox rows (the officer, the recipients' agency) in its transaction, and
   the gateway's notice service sends them meanwhile (into the Maildir upstream).

`--store postgresql` runs both on a throw-away PostgreSQL 15 cluster (Tests/EndToEnd/pgcluster.py,
a Unix socket, fsync on as PostgreSQL's default) as `[store] backend = "postgresql"`; `both` runs
SQLite, then PostgreSQL, in one run, side by side.

Prints Markdown for Benchmarks/RESULTS.md; every process is stopped at the end."""
import argparse
import hashlib
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "Tests" / "EndToEnd"))
from pgcluster import PostgresCluster  # noqa: E402

BINARY = Path(os.environ.get("THUGATE_BIN", ROOT / ".build" / "release" / "thugate"))


def log(text):
    print(text, file=sys.stderr, flush=True)

def listening_port(proc) -> int:
    """The port `thugate serve` (started with `--listen 127.0.0.1:0`, its log on a pipe) says it
    listens on; then its log is drained in the background. Kills it if it never says."""
    deadline = time.time() + 60
    lines = []
    port = None
    while time.time() < deadline and port is None:
        line = proc.stderr.readline().decode(errors="replace")
        lines.append(line)
        m = re.search(r"listening on [0-9.]+:(\d+)", line)
        if m:
            port = int(m.group(1))
    if port is None:
        proc.kill()
        raise RuntimeError("thugate did not start:\n" + "".join(lines))
    threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()
    return port



def held_message(work: Path, n: int) -> bytes:
    payload = work / f"so-lieu-{n}.txt"
    payload.write_bytes(b"so lieu %d\n" % n + os.urandom(2000))
    archive = work / f"a-{n}.zip"
    subprocess.run(["zip", "-q", "-j", "-P", "matkhau", str(archive), str(payload)], check=True)
    msg = EmailMessage()
    msg["From"] = "vanthu@quangninh.gov.vn"
    msg["To"] = "lanhdao@quangninh.gov.vn"
    msg["Subject"] = f"Ho so {n}"
    msg.set_content("Kinh gui.\n")
    msg.add_attachment(archive.read_bytes(), maintype="application", subtype="zip", filename="a.zip")
    return msg.as_bytes(policy=SMTP)


NOTICES = """
[notify]
templates = "{root}/Config/notices"
key_file = "{directory}/notice.key"
[notify.encrypted_archive]
to = ["officer", "recipient_agency"]
mode = "immediate"
[[agency]]
id = "quangninh"
name = "UBND tinh Quang Ninh"
domains = ["quangninh.gov.vn"]
officer = ["antoan@quangninh.gov.vn"]
notify = ["vanthu-tonghop@quangninh.gov.vn"]
"""


def store_section(cluster):
    """The [store] lines of a gateway on `cluster` (nil: the SQLite file)."""
    if cluster is None:
        return ""
    return (f'[store]\nbackend = "postgresql"\nhost = "{cluster.socket_directory}"\nport = {cluster.port}\n'
            f'database = "thugate"\nuser = "thugate"\n')


class Gateway:
    def __init__(self, directory: Path, store: Path, notices=False, cluster=None):
        directory.mkdir(parents=True, exist_ok=True)
        self.config = directory / "thugate.toml"
        self.config.write_text(
            f'[server]\nspool_directory = "{directory}/spool"\npid_file = "{directory}/thugate.pid"\nhostname = "bench.test"\n'
            f'[scan]\nsignatures = "{ROOT}/Config/signatures"\ntemporary_directory = "{directory}/tmp"\n'
            f'crash_journal = "{directory}/scan-crashes"\n'
            f'[quarantine]\ndatabase = "{store}"\n[log]\nlevel = "notice"\n[management]\nlisten = ""\n'
            + store_section(cluster)
            + (NOTICES.format(root=ROOT, directory=directory) if notices else ""))
        self.proc = subprocess.Popen(
            [str(BINARY), "serve", "--config", str(self.config), "--listen", "127.0.0.1:0",
             "--upstream", f"maildir:{directory}/mail"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.port = listening_port(self.proc)

    def send(self, data: bytes):
        with smtplib.SMTP("127.0.0.1", self.port, timeout=120) as client:
            client.ehlo("bench.test")
            client.mail("vanthu@quangninh.gov.vn")
            client.rcpt("lanhdao@quangninh.gov.vn")
            code, text = client.data(data)
            return code, text.decode(errors="replace")

    def stop(self, kill=False):
        if self.proc.poll() is None:
            self.proc.kill() if kill else self.proc.terminate()
            self.proc.wait(30)


def held(config: Path):
    out = subprocess.run([str(BINARY), "quarantine", "list", "--format", "json", "--config", str(config)],
                         capture_output=True, check=True).stdout.decode()
    return [json.loads(line) for line in out.splitlines()]


def kill_loop(work: Path, rounds: int, cluster=None):
    store = work / "kill" / "quarantine.sqlite"
    expected = {}
    started = time.time()
    for n in range(rounds):
        gateway = Gateway(work / "kill" / f"gw{n}", store, cluster=cluster)
        data = held_message(work, n)
        code, text = gateway.send(data)
        gateway.stop(kill=True)
        if code != 250:
            raise SystemExit(f"round {n}: {code} {text}")
        expected[text.rstrip().rsplit(" ", 1)[1]] = hashlib.sha256(data).hexdigest()
    found = {m["id"]: m["sha256"] for m in held(work / "kill" / f"gw{rounds - 1}" / "thugate.toml")}
    missing = [i for i in expected if i not in found]
    wrong = [i for i in expected if i in found and found[i] != expected[i]]
    return {"rounds": rounds, "seconds": time.time() - started, "missing": len(missing), "wrong_sha256": len(wrong),
            "stored": len(found)}


def throughput(work: Path, messages: int, connections: int, notices=False, cluster=None):
    store = work / "load" / "quarantine.sqlite"
    gateway = Gateway(work / "load" / "gw", store, notices=notices, cluster=cluster)
    bodies = [held_message(work, 100_000 + i) for i in range(50)]
    latencies = []
    failures = []
    lock = threading.Lock()
    per = messages // connections

    def worker(c):
        with smtplib.SMTP("127.0.0.1", gateway.port, timeout=120) as client:
            client.ehlo("bench.test")
            for i in range(per):
                data = bodies[(c * per + i) % len(bodies)]
                client.mail("vanthu@quangninh.gov.vn")
                client.rcpt("lanhdao@quangninh.gov.vn")
                t0 = time.perf_counter()
                code, text = client.data(data)
                elapsed = time.perf_counter() - t0
                with lock:
                    (latencies if code == 250 else failures).append(elapsed if code == 250 else (code, text))

    started = time.time()
    threads = [threading.Thread(target=worker, args=(c,)) for c in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.time() - started
    list_times = []
    for _ in range(5):
        t0 = time.perf_counter()
        rows = held(gateway.config)
        list_times.append(time.perf_counter() - t0)
    show_times = []
    for row in rows[:20]:
        t0 = time.perf_counter()
        subprocess.run([str(BINARY), "quarantine", "show", row["id"], "--raw", "--config", str(gateway.config)],
                       capture_output=True, check=True)
        show_times.append(time.perf_counter() - t0)
    sent = 0
    if notices:
        # Every notice sent (the service works beside the holds): how long the outbox took to drain.
        deadline = time.time() + 300
        while time.time() < deadline:
            out = subprocess.run([str(BINARY), "notify", "list", "--pending", "--format", "json", "--config", str(gateway.config)],
                                 capture_output=True, check=True).stdout
            if not out.strip():
                break
            time.sleep(0.2)
        sent = len(subprocess.run([str(BINARY), "notify", "list", "--sent", "--format", "json", "--config", str(gateway.config)],
                                  capture_output=True, check=True).stdout.splitlines())
    drained = time.time() - started
    gateway.stop()
    latencies.sort()
    return {
        "messages": len(latencies), "failures": len(failures), "seconds": seconds,
        "per_second": len(latencies) / seconds,
        "p50_ms": 1000 * latencies[len(latencies) // 2], "p99_ms": 1000 * latencies[int(len(latencies) * 0.99) - 1],
        "list_ms": 1000 * statistics.median(list_times), "listed": len(rows),
        "show_raw_ms": 1000 * statistics.median(show_times),
        "store_mb": (sum(p.stat().st_size for p in store.parent.iterdir()) if cluster is None
                     else int(cluster.psql("SELECT pg_database_size('thugate')"))) / 1e6,
        "notices_sent": sent, "drained_seconds": drained,
    }


def run(work: Path, args, cluster):
    name = "PostgreSQL 15" if cluster else "SQLite"
    log(f"{name}: kill loop: {args.kill_rounds} rounds")
    k = kill_loop(work / name, args.kill_rounds, cluster)
    if cluster:
        # The load starts on an empty database, as SQLite's on a new file.
        cluster.psql("DROP DATABASE thugate")
        cluster.psql("CREATE DATABASE thugate")
    log(f"{name}: hold load: {args.messages} messages over {args.connections} connections")
    t = throughput(work / name, args.messages, args.connections, notices=args.notices, cluster=cluster)
    return name, k, t


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kill-rounds", type=int, default=200)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--notices", action="store_true", help="two outbox rows per hold, sent meanwhile")
    parser.add_argument("--store", choices=["sqlite", "postgresql", "both"], default="sqlite")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="thugate-quarantine-") as tmp:
        work = Path(tmp)
        if args.store in ("sqlite", "both"):
            results.append(run(work, args, None))
        if args.store in ("postgresql", "both"):
            cluster = PostgresCluster(fsync=True)
            try:
                results.append(run(work, args, cluster))
            finally:
                cluster.cleanup()
    print(f"binary: `{BINARY}`\n")
    print("| store | SIGKILL right after 250: rounds | stored | missing | sha256 differs | seconds |")
    print("|---|---|---|---|---|---|")
    for name, k, _ in results:
        print(f"| {name} | {k['rounds']} | {k['stored']} | {k['missing']} | {k['wrong_sha256']} | {k['seconds']:.1f} |")
    print("\n| store | held messages | connections | failures | messages/s | p50 ms | p99 ms | `list` (all, json) ms "
          "| `show --raw` ms | store MB |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, _, t in results:
        print(f"| {name} | {t['messages']} | {args.connections} | {t['failures']} | {t['per_second']:.0f} | {t['p50_ms']:.1f} "
              f"| {t['p99_ms']:.1f} | {t['list_ms']:.0f} ({t['listed']} rows) | {t['show_raw_ms']:.0f} | {t['store_mb']:.1f} |")
        if args.notices:
            print(f"\n{name}: notices sent: {t['notices_sent']} (of {2 * t['messages']}), outbox drained "
                  f"{t['drained_seconds']:.1f} s after the first message")
    if any(k["missing"] or k["wrong_sha256"] or t["failures"] for _, k, t in results):
        sys.exit(1)


if __name__ == "__main__":
    main()
