"""`thugate report` as a postmaster runs it: the real proxy handles mail over SMTP (delivered,
refused, held, a legacy-encoding conversion), a held message is deleted with the real CLI, then
the report of this month, read from the store, counts exactly that, in JSON, CSV and HTML."""
import csv
import io
import json
import sqlite3
import smtplib
import subprocess
from datetime import datetime, timedelta, timezone

from conftest import BINARY, held_messages, quarantine_cli
from samples import EICAR
from test_quarantine import held_message
from test_text import TEXT, raw_message, tcvn3

HANOI = timezone(timedelta(hours=7))
AGENCIES = [
    {"id": "quangninh", "name": "UBND tỉnh Quảng Ninh", "domains": ["quangninh.gov.vn"]},
    {"id": "quan4", "name": "UBND Quận 4 <&>", "domains": ["tphcm.gov.vn"], "local_part_suffixes": [".q4"]},
]


def send(gateway, data, sender="vanthu@quangninh.gov.vn", rcpt="lanhdao@quangninh.gov.vn"):
    with smtplib.SMTP("127.0.0.1", gateway.port, timeout=60) as client:
        client.ehlo("client.test")
        client.mail(sender)
        client.rcpt(rcpt)
        code, _ = client.data(data)
        return code


def report(config, *args):
    return subprocess.run([str(BINARY), "report", "--config", str(config), *args], capture_output=True, timeout=60)


def test_report_of_this_month_counts_what_the_proxy_did(gateway_factory, upstream, tmp_path):
    gateway = gateway_factory(f"smtp://127.0.0.1:{upstream.port}", sections={"agency": AGENCIES})
    clean = b"From: a@example.vn\r\nTo: b@quangninh.gov.vn\r\nSubject: hi\r\n\r\nXin chao.\r\n"
    virus = b"From: a@example.vn\r\nSubject: x\r\n\r\n" + EICAR + b"\r\n"
    first = datetime.now(HANOI)
    assert send(gateway, clean) == 250
    assert send(gateway, clean, sender="a@example.com") == 250
    assert send(gateway, virus, sender="spam@bad.example") == 554
    assert send(gateway, virus, sender="spam@bad.example", rcpt="ketoan.q4@tphcm.gov.vn") == 554
    assert send(gateway, held_message(tmp_path)) == 250
    assert send(gateway, raw_message(tcvn3(TEXT))) == 250
    # SIGTERM writes the last batch of counts before the gateway exits.
    assert gateway.terminate() == 0, gateway.log_lines
    last = datetime.now(HANOI)
    held = held_messages(gateway.config_path)
    assert len(held) == 1
    quarantine_cli(gateway.config_path, "delete", held[0]["id"], "--reason", "not needed")

    # This month, in Vietnam's days (a run across midnight at a month's end uses the two days).
    if first.strftime("%Y-%m") == last.strftime("%Y-%m"):
        period = ["--period", first.strftime("%Y-%m")]
    else:
        period = ["--from", first.strftime("%Y-%m-%d"), "--to", last.strftime("%Y-%m-%d")]
    result = report(gateway.config_path, *period, "--format", "json")
    assert result.returncode == 0, result.stderr.decode()
    data = json.loads(result.stdout)
    assert list(data) == ["period", "generated", "by", "totals", "directions", "breakdown", "conversions",
                          "top_refused_senders", "decisions"]
    assert data["totals"]["handled"] == 6
    assert (data["totals"]["delivered"], data["totals"]["refused"], data["totals"]["held"], data["totals"]["tempfailed"]) == (3, 2, 1, 0)
    assert data["totals"]["bytes"] > 0
    assert data["conversions"]["handled"] == 1 and data["conversions"]["delivered"] == 1
    assert data["top_refused_senders"] == [{"sender": "spam@bad.example", "messages": 2}]
    days = {row["key"]: row for row in data["breakdown"]}
    assert first.strftime("%Y-%m-%d") in days and last.strftime("%Y-%m-%d") in days
    assert sum(row["handled"] for row in data["breakdown"]) == 6
    directions = {row["direction"]: row["handled"] for row in data["directions"]}
    # From outside to Quảng Ninh: in; from Quảng Ninh to Quảng Ninh: internal; spam to Quận 4: in.
    assert directions["in"] == 3 and directions["internal"] == 3 and directions["out"] == 0
    decisions = data["decisions"]
    assert (decisions["recipients"], decisions["deleted"], decisions["released"], decisions["pending"]) == (1, 1, 0, 0)
    assert decisions["median_seconds_to_decision"] is not None and decisions["median_seconds_to_decision"] >= 0

    by_agency = json.loads(report(gateway.config_path, *period, "--format", "json", "--by", "agency").stdout)
    agencies = {row["key"]: (row["name"], row["handled"], row["refused"]) for row in by_agency["breakdown"]}
    assert agencies == {"quangninh": ("UBND tỉnh Quảng Ninh", 5, 1), "quan4": ("UBND Quận 4 <&>", 1, 1)}

    # CSV: one RFC 4180 table, the same totals.
    result = report(gateway.config_path, *period, "--format", "csv", "--by", "rule")
    assert result.returncode == 0, result.stderr.decode()
    assert b"\r\n" in result.stdout
    rows = list(csv.reader(io.StringIO(result.stdout.decode(), newline="")))
    assert rows[0] == ["section", "key", "name", "measure", "value"]
    assert all(len(row) == 5 for row in rows)
    values = {(s, k, m): v for s, k, _, m, v in rows[1:]}
    assert values[("total", "*", "handled")] == "6"
    assert values[("rule", "virus", "refused")] == "2"
    assert values[("rule", "encrypted-archive", "held")] == "1"

    # HTML with -o: a new file, never replaced.
    out = tmp_path / "bao-cao.html"
    result = report(gateway.config_path, *period, "--format", "html", "-o", str(out))
    assert result.returncode == 0, result.stderr.decode()
    html = out.read_text(encoding="utf-8")
    assert out.stat().st_mode & 0o777 == 0o600, "a report names senders: for its owner only"
    assert html.startswith("<!DOCTYPE html>") and "<script" not in html and "http" not in html
    assert "UBND Quận 4 &lt;&amp;&gt;" in html and "spam@bad.example" in html
    result = report(gateway.config_path, *period, "--format", "table", "-o", str(out))
    assert result.returncode == 73 and "exists" in result.stderr.decode()
    assert out.read_text(encoding="utf-8") == html

    table = report(gateway.config_path, *period).stdout.decode()
    assert "total" in table and "spam@bad.example" in table


def test_bad_periods_and_a_missing_store_say_so(tmp_path):
    config = tmp_path / "thugate.toml"
    config.write_text('[quarantine]\ndatabase = "none/quarantine.sqlite"\n')
    for args, message in [
        (["--period", "2026-13"], '--period "2026-13": expected YYYY-MM'),
        (["--period", "2026-Q5"], "YYYY-Qn (a quarter, n from 1 to 4)"),
        (["--from", "2026-02-30", "--to", "2026-03-01"], '--from "2026-02-30": expected a date YYYY-MM-DD'),
        (["--from", "2026-10-15", "--to", "2026-10-01"], "--from 2026-10-15 is after --to 2026-10-01"),
        (["--from", "2026-10-15"], "--from needs --to"),
        (["--period", "2026-11", "--from", "2026-10-15", "--to", "2026-10-16"], "either --period or --from and --to"),
        ([], "say which days"),
    ]:
        result = report(config, *args)
        assert result.returncode == 64, (args, result.returncode, result.stderr)
        assert message in result.stderr.decode(), (args, result.stderr)
    result = report(config, "--period", "2026-11")
    assert result.returncode == 69 and "no such file" in result.stderr.decode()


def test_a_store_from_before_the_verdict_log_says_so(gateway_factory, upstream, tmp_path):
    gateway = gateway_factory(f"smtp://127.0.0.1:{upstream.port}")
    assert gateway.terminate() == 0
    store = gateway.tmp / "var" / "quarantine" / "quarantine.sqlite"
    # The schema as it was before the verdict log's migration.
    with sqlite3.connect(store) as db:
        db.execute("DROP TABLE daily_counts")
        db.execute("DROP TABLE daily_senders")
        db.execute("DELETE FROM grdb_migrations WHERE identifier = 'v4-verdicts'")
    result = report(gateway.config_path, "--period", "2026-11")
    assert result.returncode == 69
    assert "has no verdict log yet" in result.stderr.decode(), result.stderr
