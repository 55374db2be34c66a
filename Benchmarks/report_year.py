#!/usr/bin/env python3
"""How long `thugate report` takes on a year of roll-ups: fills a real store through the SQLite
verdict log (`thugate-reportbench --store`: a year of synthetic mail, one transaction a day, and
held mail with decisions), then times the real CLI (a whole process: start, open read-only, read,
render, write) for each form and breakdown over the year, a half year, a quarter and a month.

    THUGATE_BIN=.build/release/thugate REPORTBENCH=.build/release/thugate-reportbench \
        python3 Benchmarks/report_year.py [--per-day 3000] [--agencies 30] [--runs 5]
"""
import argparse
import os
import sqlite3
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--per-day", type=int, default=3000)
    parser.add_argument("--agencies", type=int, default=30)
    parser.add_argument("--rules", type=int, default=12)
    parser.add_argument("--held", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    binary = os.environ.get("THUGATE_BIN", str(ROOT / ".build/release/thugate"))
    bench = os.environ.get("REPORTBENCH", str(ROOT / ".build/release/thugate-reportbench"))
    with tempfile.TemporaryDirectory() as work:
        store = Path(work) / "quarantine.sqlite"
        started = time.monotonic()
        fill = subprocess.run([bench, "--store", str(store), "--days", "365", "--per-day", str(args.per_day),
                               "--agencies", str(args.agencies), "--rules", str(args.rules), "--held", str(args.held)],
                              check=True, capture_output=True, text=True)
        print(fill.stdout.strip(), f"(whole fill {time.monotonic() - started:.0f} s)")
        with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as db:
            rollups = db.execute("SELECT COUNT(*) FROM daily_counts").fetchone()[0]
            senders = db.execute("SELECT COUNT(*) FROM daily_senders").fetchone()[0]
        print(f"store: {store.stat().st_size / 1e6:.0f} MB, {rollups} daily_counts rows, {senders} daily_senders rows")
        config = Path(work) / "thugate.toml"
        lines = [f'[quarantine]\ndatabase = "{store}"\n']
        for i in range(args.agencies):
            lines.append(f'[[agency]]\nid = "agency{i}"\nname = "Sở ban ngành số {i + 1}"\ndomains = ["a{i}.gov.vn"]\n')
        config.write_text("\n".join(lines))
        print()
        print("| period | form | --by | min ms | median ms | output KiB |")
        print("|---|---|---|---|---|---|")
        cases = [(["--from", "2026-01-01", "--to", "2026-12-31"], "year")]
        cases += [(["--period", p], p) for p in ("2026-H2", "2026-Q4", "2026-11")]
        for period, name in cases:
            for form, by in [("table", "day"), ("table", "agency"), ("csv", "day"), ("json", "day"), ("html", "day"),
                             ("html", "agency")]:
                if name != "year" and (form, by) not in [("table", "day"), ("html", "day")]:
                    continue
                times = []
                size = 0
                for _ in range(args.runs):
                    started = time.monotonic()
                    result = subprocess.run([binary, "report", "--config", str(config), *period, "--format", form, "--by", by],
                                            capture_output=True, check=True)
                    times.append((time.monotonic() - started) * 1000)
                    size = len(result.stdout)
                print(f"| {name} | {form} | {by} | {min(times):.0f} | {statistics.median(times):.0f} | {size / 1024:.0f} |")


if __name__ == "__main__":
    main()
