"""The quarantine under load and under failure, through the real binary: the proxy holds 2,000
messages over 20 connections while the CLI lists and shows in a loop and 50 releases and deletes
run; and a failure inside the hold transaction gives the client 451, never 250, and leaves nothing.
The store is checked afterwards with Python's sqlite3, an independent reader of the file."""
import hashlib
import json
import random
import smtplib
import sqlite3
import subprocess
import threading
import time

from conftest import BINARY
from test_quarantine import encrypted_zip

SENDERS = 20
PER_SENDER = 100
RELEASES = 25
DELETES = 25


def message(archive: bytes, n: int) -> bytes:
    # Built by hand (one archive for all, a body of its own each): the email package would take
    # longer than the gateway.
    import base64
    attachment = base64.encodebytes(archive).replace(b"\n", b"\r\n")
    return (b"From: Van thu <vanthu@quangninh.gov.vn>\r\nTo: lanhdao@quangninh.gov.vn\r\n"
            b"Subject: Ho so %d\r\nMessage-ID: <load-%d@quangninh.gov.vn>\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n"
            b"Kinh gui %d.\r\n--b\r\nContent-Type: application/zip; name=\"a.zip\"\r\n"
            b"Content-Transfer-Encoding: base64\r\n\r\n" % (n, n, n) + attachment + b"--b--\r\n")


def cli(config, *args):
    return subprocess.run([str(BINARY), "quarantine", *args, "--config", str(config)], capture_output=True, timeout=120)


def test_holds_list_show_release_and_delete_run_together(gateway_factory, upstream, tmp_path):
    url = f"smtp://127.0.0.1:{upstream.port}"
    gateway = gateway_factory(url, upstream={"url": url}, server={"max_connections_per_ip": 50})
    config = gateway.config_path
    archive = encrypted_zip(tmp_path, b"so lieu\n")
    sent = {}            # message id -> sha256 of what the client sent
    failures = []
    lock = threading.Lock()
    senders_done = threading.Event()

    def sender(index):
        try:
            with smtplib.SMTP("127.0.0.1", gateway.port, timeout=120) as client:
                client.ehlo("client.test")
                for k in range(PER_SENDER):
                    data = message(archive, index * PER_SENDER + k)
                    client.mail("vanthu@quangninh.gov.vn")
                    client.rcpt("lanhdao@quangninh.gov.vn")
                    code, text = client.data(data)
                    text = text.decode()
                    if code != 250 or "Held for review as " not in text:
                        failures.append(("smtp", code, text))
                        return
                    with lock:
                        sent[text.rstrip().rsplit(" ", 1)[1]] = hashlib.sha256(data).hexdigest()
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            failures.append(("smtp", repr(error)))

    cli_runs = {"list": 0, "show": 0}

    def reader():
        while not senders_done.is_set():
            listed = cli(config, "list", "--format", "json", "--limit", "50")
            if listed.returncode != 0:
                failures.append(("list", listed.returncode, listed.stderr))
                return
            cli_runs["list"] += 1
            ids = [json.loads(line)["id"] for line in listed.stdout.decode().splitlines()]
            if ids:
                shown = cli(config, "show", random.choice(ids), "--raw")
                if shown.returncode != 0:
                    failures.append(("show", shown.returncode, shown.stderr))
                    return
                cli_runs["show"] += 1

    decided = {"release": [], "delete": []}

    def reviewer():
        actions = ["release"] * RELEASES + ["delete"] * DELETES
        random.shuffle(actions)
        for action in actions:
            while True:
                with lock:
                    free = [i for i in sent if i not in decided["release"] and i not in decided["delete"]]
                if len(free) > 10 or senders_done.is_set():
                    break
                time.sleep(0.05)
            target = random.choice(free)
            result = cli(config, action, target, "--reason", "kiem tra tai")
            if result.returncode != 0:
                failures.append((action, result.returncode, result.stderr))
                return
            decided[action].append(target)

    threads = [threading.Thread(target=sender, args=(i,)) for i in range(SENDERS)]
    helpers = [threading.Thread(target=reader), threading.Thread(target=reader), threading.Thread(target=reviewer)]
    for thread in threads + helpers:
        thread.start()
    for thread in threads:
        thread.join(600)
    senders_done.set()
    for thread in helpers:
        thread.join(600)
    assert failures == [], failures[:5]
    assert len(sent) == SENDERS * PER_SENDER
    assert len(decided["release"]) == RELEASES and len(decided["delete"]) == DELETES
    assert cli_runs["list"] > 0 and cli_runs["show"] > 0

    # Each released message reached the upstream exactly once, nothing else did.
    upstream.wait_for_messages(RELEASES, timeout=30)
    time.sleep(0.5)
    ids = [m["content"].split(b"\r\n", 1)[0].split(b" ")[1].decode() for m in upstream.messages]
    assert sorted(ids) == sorted(decided["release"])

    store = gateway.tmp / "var" / "quarantine" / "quarantine.sqlite"
    gateway.terminate()
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as db:
        states = dict(db.execute("SELECT message_id, state FROM recipients"))
        assert {i for i, s in states.items() if s == "released"} == set(decided["release"])
        assert {i for i, s in states.items() if s == "deleted"} == set(decided["delete"])
        assert sum(1 for s in states.values() if s == "held") == len(sent) - RELEASES - DELETES
        stored = dict(db.execute("SELECT id, sha256 FROM messages"))
        assert stored == sent
        digests = {}
        for message_id, data, chunk_hash in db.execute("SELECT message_id, data, sha256 FROM chunks ORDER BY message_id, seq"):
            assert hashlib.sha256(data).hexdigest() == chunk_hash
            digests.setdefault(message_id, hashlib.sha256()).update(data)
        assert {i: h.hexdigest() for i, h in digests.items()} == sent


def test_a_failure_inside_the_hold_transaction_gives_451_and_keeps_nothing(gateway_factory, upstream, tmp_path):
    """A trigger makes the hold's last insert (its audit row) fail inside the transaction, as a
    full disk or a broken file would: the client hears 451, not 250, and no row of the message
    stays. Without the trigger the same message is held."""
    gateway = gateway_factory(f"smtp://127.0.0.1:{upstream.port}")
    store = gateway.tmp / "var" / "quarantine" / "quarantine.sqlite"
    with sqlite3.connect(store) as db:
        db.execute("CREATE TRIGGER injected BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'injected failure'); END")
    data = message(encrypted_zip(tmp_path, b"so lieu\n"), 1)
    code, text = send(gateway, data)
    assert code == 451 and text.startswith(b"4.7.0"), (code, text)
    with sqlite3.connect(store) as db:
        for table in ("messages", "recipients", "chunks", "findings", "audit"):
            assert db.execute(f"SELECT COUNT(*) FROM {table}").fetchone() == (0,), table
        db.execute("DROP TRIGGER injected")
    code, text = send(gateway, data)
    assert code == 250 and b"Held for review as " in text, (code, text)
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as db:
        assert db.execute("SELECT sha256 FROM messages").fetchall() == [(hashlib.sha256(data).hexdigest(),)]


def send(gateway, data):
    with smtplib.SMTP("127.0.0.1", gateway.port, timeout=60) as client:
        client.ehlo("client.test")
        client.mail("vanthu@quangninh.gov.vn")
        client.rcpt("lanhdao@quangninh.gov.vn")
        return client.data(data)
