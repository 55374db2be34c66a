"""The verdict log behind `thugate report`: every message the real proxy finishes (delivered,
refused, held, deferred) is counted in the store's daily roll-ups, written off the reply path and
flushed on shutdown. Read here with Python's sqlite3, as an independent reader of the file."""
import smtplib
import sqlite3
import time
from datetime import datetime, timedelta, timezone

from conftest import held_messages
from samples import EICAR
from test_quarantine import held_message
from test_text import raw_message, tcvn3, TEXT

HANOI = timezone(timedelta(hours=7))


def send(gateway, data, sender="vanthu@quangninh.gov.vn", rcpt="lanhdao@quangninh.gov.vn"):
    with smtplib.SMTP("127.0.0.1", gateway.port, timeout=60) as client:
        client.ehlo("client.test")
        client.mail(sender)
        client.rcpt(rcpt)
        code, _ = client.data(data)
        return code


def rollups(path):
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return {(day, direction, agency, rule, outcome): (messages, size)
                for day, direction, agency, rule, outcome, messages, size in db.execute("SELECT * FROM daily_counts")}


def test_every_finished_message_is_counted_by_local_day_rule_and_outcome(gateway_factory, upstream, tmp_path):
    gateway = gateway_factory(f"smtp://127.0.0.1:{upstream.port}")
    clean = b"From: a@example.vn\r\nTo: b@quangninh.gov.vn\r\nSubject: hi\r\n\r\nXin chao.\r\n"
    virus = b"From: a@example.vn\r\nSubject: x\r\n\r\n" + EICAR + b"\r\n"
    before = datetime.now(HANOI).strftime("%Y-%m-%d")
    assert send(gateway, clean) == 250
    assert send(gateway, clean) == 250
    assert send(gateway, virus, sender="spam@bad.example") == 554
    assert send(gateway, held_message(tmp_path)) == 250
    assert send(gateway, raw_message(tcvn3(TEXT))) == 250
    # Counted off the reply path, in batches; SIGTERM writes what is left before the gateway exits.
    assert gateway.terminate() == 0, gateway.log_lines
    after = datetime.now(HANOI).strftime("%Y-%m-%d")
    counts = rollups(gateway.tmp / "var" / "quarantine" / "quarantine.sqlite")
    days = {key[0] for key in counts}
    assert days <= {before, after} and days
    total = {}
    for (day, direction, agency, rule, outcome), (messages, _) in counts.items():
        if agency == "*":
            total[(rule, outcome)] = total.get((rule, outcome), 0) + messages
    assert total[("*", "delivered")] == 3
    assert total[("*", "refused")] == 1 and total[("virus", "refused")] == 1
    assert total[("*", "held")] == 1 and total[("encrypted-archive", "held")] == 1
    assert total[("tcvn-conversion", "delivered")] == 1
    assert sum(n for (rule, outcome), n in total.items() if rule == "*") == 5
    # No agency is configured: every message is under "" as well as "*", each once.
    assert sum(m for (d, _, agency, rule, _), (m, _) in counts.items() if agency == "" and rule == "*") == 5
    with sqlite3.connect(f"file:{gateway.tmp / 'var' / 'quarantine' / 'quarantine.sqlite'}?mode=ro", uri=True) as db:
        assert db.execute("SELECT sender, messages FROM daily_senders WHERE outcome = 'refused'").fetchall() == [
            ("spam@bad.example", 1)]
        held_ids = [row[0] for row in db.execute("SELECT held_id FROM verdicts WHERE outcome = 'held'")]
    assert held_ids == [held_messages(gateway.config_path)[0]["id"]]


def test_counts_are_written_while_the_gateway_runs(gateway_factory, upstream):
    gateway = gateway_factory(f"smtp://127.0.0.1:{upstream.port}")
    assert send(gateway, b"Subject: a\r\n\r\nb\r\n") == 250
    path = gateway.tmp / "var" / "quarantine" / "quarantine.sqlite"
    deadline = time.time() + 10
    while time.time() < deadline:
        if sum(m for (_, _, agency, rule, _), (m, _) in rollups(path).items() if agency == "*" and rule == "*") == 1:
            break
        time.sleep(0.1)
    else:
        raise AssertionError("the delivered message was not counted within 10 s")
