"""`thugate report --mail-to` as a postmaster runs it beside a running gateway: the real proxy
handles mail over SMTP, the CLI queues the report (one outbox row per address) and the gateway's
notice service sends it through the real upstream (aiosmtpd), where the tests read it as a mail
reader would: one mail per address, the table as its text, the HTML file attached byte for byte
as `--format html -o` writes it, the notice headers and a MAC that verifies. A bad address is
refused with nothing queued; a store from before the report column still lists its notices."""
import email
import json
import re
import sqlite3
import subprocess
import time
from datetime import datetime, timedelta, timezone
from email.policy import default as default_policy

from conftest import BINARY, held_messages, quarantine_cli
from samples import EICAR
from test_notifications import notices, send, start, wait_until
from test_quarantine import held_message
from test_report import report

HANOI = timezone(timedelta(hours=7))
CLEAN = b"From: a@example.vn\r\nTo: lanhdao@quangninh.gov.vn\r\nSubject: hi\r\n\r\nXin chao.\r\n"
VIRUS = b"From: a@example.vn\r\nSubject: x\r\n\r\n" + EICAR + b"\r\n"


def this_month():
    now = datetime.now(HANOI)
    return now.strftime("%Y-%m")


def without_generated_time(text):
    """The report with its generation time (the only thing two runs may differ in) blanked."""
    text = re.sub(r'(<span class="en">Generated</span>: )[^<]*?( ·)', r"\1-\2", text, count=1)
    return re.sub(r"^(Generated: ).*$", r"\1-", text, count=1, flags=re.M)


def report_mails(upstream):
    out = []
    for m in upstream.messages:
        parsed = email.message_from_bytes(m["content"], policy=default_policy)
        if str(parsed["Message-ID"]).startswith("<report."):
            out.append((m, parsed))
    return out


def days(first, last):
    """The period that has both instants, in Vietnam's days, and its label: this month, or the two
    days of a run across a month's end."""
    if first.strftime("%Y-%m") == last.strftime("%Y-%m"):
        return ["--period", first.strftime("%Y-%m")], first.strftime("%Y-%m")
    a, b = first.strftime("%Y-%m-%d"), last.strftime("%Y-%m-%d")
    return ["--from", a, "--to", b], f"{a}..{b}"


def handled(config, period):
    result = report(config, *period, "--format", "json")
    return json.loads(result.stdout)["totals"]["handled"] if result.returncode == 0 else -1


def test_a_report_mailed_to_two_addresses_arrives_once_each_with_the_html_file(gateway_factory, upstream, tmp_path):
    gateway = start(gateway_factory, upstream.port, tmp_path)
    first = datetime.now(HANOI)
    assert send(gateway, CLEAN)[0] == 250
    assert send(gateway, CLEAN, sender="a@example.com")[0] == 250
    assert send(gateway, VIRUS, sender="spam@bad.example")[0] == 554
    assert send(gateway, held_message(tmp_path))[0] == 250
    period, label = days(first, datetime.now(HANOI))
    # The verdict log's counts are written every second: wait for them (not for time).
    assert wait_until(lambda: handled(gateway.config_path, period) == 4), gateway.log_lines

    result = report(
        gateway.config_path, *period, "--mail-to", "antoan@quangninh.gov.vn",
        "--mail-to", "lanhdao@quangninh.gov.vn", "--mail-to", "ANTOAN@quangninh.gov.vn",
    )
    assert result.returncode == 0, result.stderr.decode()
    stderr = result.stderr.decode()
    # The table as today on standard output, and one line saying what was queued and who sends it.
    assert "total" in result.stdout.decode()
    ids = re.findall(r"notice ([0-9a-z]{18}) to <([^>]+)>", stderr)
    assert [to for _, to in ids] == ["antoan@quangninh.gov.vn", "lanhdao@quangninh.gov.vn"], stderr
    assert "running gateway" in stderr and "thugate notify list" in stderr
    html_file = tmp_path / "bao-cao.html"
    assert report(gateway.config_path, *period, "--format", "html", "-o", str(html_file)).returncode == 0
    table = report(gateway.config_path, *period).stdout.decode()

    assert wait_until(lambda: len(report_mails(upstream)) >= 2), gateway.log_lines
    time.sleep(1.5)  # a second copy would have come by now
    mails = report_mails(upstream)
    assert sorted(m["rcpt_tos"][0] for m, _ in mails) == ["antoan@quangninh.gov.vn", "lanhdao@quangninh.gov.vn"]
    expected_html = without_generated_time(html_file.read_text(encoding="utf-8"))
    assert '<span class="en">Generated</span>: - ·' in expected_html  # the one line blanked
    for m, parsed in mails:
        raw = m["content"]
        assert m["mail_from"] == "<>"
        header = raw.split(b"\r\n\r\n", 1)[0]
        assert all(b < 0x80 for b in header)
        assert parsed["Auto-Submitted"] == "auto-generated"
        assert parsed["From"] == "ThuGate <thugate@quangninh.gov.vn>"
        assert parsed["To"].addresses[0].addr_spec == m["rcpt_tos"][0]
        assert str(parsed["Subject"]) == f"Báo cáo sử dụng thư điện tử {label} / E-mail usage report {label}"
        assert re.search(r"\+0700$", parsed["Date"])
        [notice_id] = [i for i, to in ids if to == m["rcpt_tos"][0]]
        assert parsed["Message-ID"] == f"<report.{notice_id}@thugate.test>"
        assert parsed["X-ThuGate-Notice"].startswith(f"v=1; id=report.{notice_id}; t=")
        assert parsed.get_content_type() == "multipart/mixed"
        parts = list(parsed.iter_parts())
        assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
        text = parts[0].get_content().replace("\r\n", "\n")
        assert without_generated_time(table) in without_generated_time(text)
        attachment = parts[1]
        assert attachment.get_content_disposition() == "attachment"
        assert attachment.get_filename() == f"bao-cao-{label}.html"
        data = attachment.get_payload(decode=True)
        # The file, byte for byte, but for when it was generated (a second earlier or later).
        assert without_generated_time(data.decode("utf-8")) == expected_html
        assert data.startswith(b"<!DOCTYPE html>") and b"spam@bad.example" in data

    # The MAC verifies: the mail passing through the gateway again is recognised as its own.
    m, _ = mails[0]
    assert send(gateway, m["content"], sender="", recipients=("antoan@quangninh.gov.vn",))[0] == 250
    assert gateway.wait_for_log(lambda line: "ThuGate's own notice report." in line and "MAC verified" in line)

    listed = [n for n in notices(gateway.config_path) if n["kind"] == "report"]
    assert len(listed) == 2 and {n["state"] for n in listed} == {"sent"}
    assert {n["rule"] for n in listed} == {"report"} and {n["mode"] for n in listed} == {"immediate"}
    assert all(n["mail_id"].startswith("<report.") and n["digest"] is None for n in listed)
    assert {n["kind"] for n in notices(gateway.config_path)} == {"report", "event"}
    table_list = subprocess_notify_table(gateway.config_path)
    assert "KIND" in table_list and "report" in table_list


def subprocess_notify_table(config):
    result = subprocess.run([str(BINARY), "notify", "list", "--config", str(config)], capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout.decode()


def test_a_report_queued_while_no_gateway_runs_waits_and_is_sent_at_its_start(gateway_factory, upstream, tmp_path):
    store = tmp_path / "store.sqlite"
    first = start(gateway_factory, upstream.port, tmp_path, store=store)
    period = this_month()
    assert send(first, CLEAN)[0] == 250
    assert first.terminate() == 0
    result = report(first.config_path, "--period", period, "--mail-to", "antoan@quangninh.gov.vn")
    assert result.returncode == 0, result.stderr.decode()
    time.sleep(0.5)
    assert report_mails(upstream) == []
    [waiting] = notices(first.config_path, "--pending")
    assert waiting["kind"] == "report" and waiting["attempts"] == 0

    second = start(gateway_factory, upstream.port, tmp_path, store=store)
    assert wait_until(lambda: len(report_mails(upstream)) == 1), second.log_lines
    [sent] = notices(second.config_path)
    assert sent["state"] == "sent" and sent["kind"] == "report"


def test_a_bad_address_is_refused_in_one_line_and_nothing_is_queued(gateway_factory, upstream, tmp_path):
    gateway = start(gateway_factory, upstream.port, tmp_path)
    assert send(gateway, CLEAN)[0] == 250
    for hostile in ("antoan@quangninh.gov.vn\r\nBcc: victim@example.com", "<antoan@quangninh.gov.vn>", "antoan",
                    "a@b@quangninh.gov.vn", "a b@quangninh.gov.vn", ""):
        result = report(gateway.config_path, "--period", this_month(), "--mail-to", "lanhdao@quangninh.gov.vn",
                        "--mail-to", hostile)
        assert result.returncode == 64, (hostile, result.returncode, result.stderr)
        lines = result.stderr.decode().splitlines()
        assert len(lines) == 1 and "not an address" in lines[0] and "nothing queued" in lines[0], lines
        assert "\r" not in result.stderr.decode() and result.stdout == b""
    assert [n for n in notices(gateway.config_path) if n["kind"] == "report"] == []


def test_a_store_from_before_the_report_column_lists_and_shows_its_notices(gateway_factory, upstream, tmp_path):
    store = tmp_path / "store.sqlite"
    gateway = start(gateway_factory, upstream.port, tmp_path, store=store, to=("officer",))
    assert send(gateway, held_message(tmp_path))[0] == 250
    assert wait_until(lambda: len(upstream.messages) >= 1)
    assert gateway.terminate() == 0
    # The store as the previous version left it: no report column, no record of its migration.
    with sqlite3.connect(store) as db:
        db.execute("ALTER TABLE notices DROP COLUMN report")
        db.execute("DELETE FROM grdb_migrations WHERE identifier = 'v7-report-mail'")
    assert "report" not in [row[1] for row in sqlite3.connect(store).execute("PRAGMA table_info(notices)")]
    [notice] = notices(gateway.config_path)
    assert notice["kind"] == "event" and notice["state"] == "sent"
    [held] = held_messages(gateway.config_path)
    shown = quarantine_cli(gateway.config_path, "show", held["id"]).stdout.decode()
    assert held["id"] in shown and "encrypted-archive" in shown
    assert re.search(r"^ +antoan@quangninh\.gov\.vn officer immediate sent ", shown, re.M), shown
    # Opened for writing (a report mailed), the store gets the column; the old row is unchanged.
    result = report(gateway.config_path, "--period", this_month(), "--mail-to", "antoan@quangninh.gov.vn")
    assert result.returncode == 0, result.stderr.decode()
    assert "report" in [row[1] for row in sqlite3.connect(store).execute("PRAGMA table_info(notices)")]
    kinds = [(n["kind"], n["state"]) for n in notices(gateway.config_path)]
    assert kinds == [("report", "pending"), ("event", "sent")]


def test_a_configuration_that_notifies_no_one_warns_that_the_report_waits(gateway_factory, upstream, tmp_path):
    # No agencies and no addresses in [notify]: `thugate serve` runs no notice service.
    gateway = gateway_factory(f"smtp://127.0.0.1:{upstream.port}")
    assert send(gateway, CLEAN)[0] == 250
    result = report(gateway.config_path, "--period", this_month(), "--mail-to", "antoan@quangninh.gov.vn")
    assert result.returncode == 0, result.stderr.decode()
    stderr = result.stderr.decode()
    assert "queued the report" in stderr and "warning" in stderr and "waits in the outbox" in stderr, stderr
    time.sleep(1)
    assert report_mails(upstream) == []
    [waiting] = notices(gateway.config_path)
    assert waiting["kind"] == "report" and waiting["state"] == "pending"
