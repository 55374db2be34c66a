"""Reviewing held mail as a postmaster does: messages held by the real proxy over SMTP (smtplib),
then `thugate quarantine list` with each filter, `show` (text and JSON) of a message whose
Subject and attachment name carry terminal escape sequences, the audit rows that viewing and
exporting write, `audit --verify` against a store tampered with by sqlite3, and `check` against
a corrupted chunk."""

import base64
import hashlib
import json
import os
import pty
import re
import select
import sqlite3
import subprocess
import time
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.policy import SMTP

import pytest

from conftest import BINARY, held_messages, quarantine_cli
from test_quarantine import encrypted_zip, send

USER = __import__("pwd").getpwuid(os.geteuid()).pw_name

# What a hostile sender puts in text a reviewer's terminal shows: clear the screen, an OSC 8
# hyperlink (ST-terminated), a C1 CSI (U+009B) colour, C1 NEL, a bidi override, a window title.
NASTY = "\x1b[2J\x1b]8;;http://evil.test/\x1b\\Báo cáo\x1b]8;;\x1b\\ \x9b31m\x85\u202equý IV\x1b]0;owned\x07"
FORBIDDEN_TEXT = ["\x1b", "\x9b", "\x85", "\x9d", "\u202e", "\x07", "[2J", "]8;;", "evil.test", "31m", "owned", "0;"]


def assert_safe(out: bytes):
    text = out.decode("utf-8")
    bad = [c for c in text if (ord(c) < 0x20 and c != "\n") or 0x7F <= ord(c) < 0xA0 or c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"]
    assert not bad, repr(bad)
    for needle in FORBIDDEN_TEXT:
        assert needle not in text, (needle, text)


def store_path(gateway):
    return gateway.tmp / "var" / "quarantine" / "quarantine.sqlite"


def tamper(gateway, sql, *args):
    db = sqlite3.connect(store_path(gateway), isolation_level=None, timeout=30)
    try:
        db.execute(sql, args)
    finally:
        db.close()


def message(tmp_path, subject="Hồ sơ", sender="Văn thư <vanthu@quangninh.gov.vn>", body="Kính gửi.\n",
            attachment_name="a.zip", declared=("application", "zip"), extra=None):
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "lanhdao@quangninh.gov.vn"
    msg["Cc"] = "Kế toán <ketoan@quangninh.gov.vn>"
    msg["Reply-To"] = "traloi@quangninh.gov.vn"
    msg["Date"] = "Tue, 01 Dec 2026 09:30:00 +0700"
    msg["Subject"] = subject
    msg["Message-ID"] = "<review-1@quangninh.gov.vn>"
    msg.set_content(body)
    payload = encrypted_zip(tmp_path, (subject + attachment_name).encode() + os.urandom(8))
    msg.add_attachment(payload, maintype=declared[0], subtype=declared[1], filename=attachment_name)
    for maintype, subtype, name, data in extra or []:
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg.as_bytes(policy=SMTP), payload


@pytest.fixture
def proxy(gateway_factory, upstream):
    url = f"smtp://127.0.0.1:{upstream.port}"
    # virus and executable held too, so the store has several rules and categories.
    return gateway_factory(url, upstream={"url": url}, sections={"policy": {"virus": "quarantine", "executable": "quarantine"}})


def test_show_prints_headers_the_mime_tree_and_a_preview_and_no_escape_sequence(proxy, tmp_path):
    encoded = "=?utf-8?b?" + base64.b64encode(NASTY.encode()).decode() + "?="
    data, payload = message(tmp_path, subject="placeholder", body="Kính gửi \x1b[2Jđồng chí.\nDòng hai \u202eđảo.\n",
                            attachment_name="\x1b[31mhoa-don\u202efdp.zip", declared=("application", "pdf"))
    data = data.replace(b"Subject: placeholder", b"Subject: " + encoded.encode())
    assert send(proxy, data)[0] == 250
    [held] = held_messages(proxy.config_path)

    shown = quarantine_cli(proxy.config_path, "show", held["id"][:12])
    assert_safe(shown.stdout)
    text = shown.stdout.decode()
    # The decoded headers, each once.
    for name, value in [("From", "Văn thư <vanthu@quangninh.gov.vn>"), ("To", "lanhdao@quangninh.gov.vn"),
                        ("Cc", "Kế toán <ketoan@quangninh.gov.vn>"), ("Reply-To", "traloi@quangninh.gov.vn"),
                        ("Date", "Tue, 01 Dec 2026 09:30:00 +0700"), ("Subject", "Báo cáo quý IV"),
                        ("Message-ID", "<review-1@quangninh.gov.vn>")]:
        assert re.search(rf"^\s+{re.escape(name)}\s+{re.escape(value)}$", text, re.M), (name, text)
    # The MIME tree: the attachment declared a PDF, libmagic says zip; its decoded size; its name safe.
    row = next(line for line in text.splitlines() if line.strip().startswith("2 "))
    assert "application/pdf" in row and "application/zip" in row and str(len(payload)) in row, row
    assert "hoa-donfdp.zip" in row
    assert re.search(r"^\s+1\s+text/plain; charset=utf-8\s+\S+\s+\d+", text, re.M), text
    # Findings with their part; the recipients; the audit trail with this very view in it.
    assert re.search(r"encrypted-archive\s+part 2 \"hoa-donfdp.zip\" application/pdf: ", text), text
    assert re.search(r"<lanhdao@quangninh.gov.vn>\s+held", text)
    assert re.search(rf"\d+\s+\S+ \S+\s+view\s+by {USER}: show$", text, re.M), text
    # The preview: decoded text, its lines kept, nothing else.
    assert "  | Kính gửi đồng chí." in text and "  | Dòng hai đảo." in text

    as_json = quarantine_cli(proxy.config_path, "show", held["id"], "--format", "json")
    assert_safe(as_json.stdout)
    shown_json = json.loads(as_json.stdout)
    assert list(shown_json)[0] == "id" and shown_json["id"] == held["id"]
    assert shown_json["subject"] == "Báo cáo quý IV"
    assert {h["name"]: h["value"] for h in shown_json["headers"]}["Subject"] == "Báo cáo quý IV"
    part = next(p for p in shown_json["parts"] if p["path"] == "2")
    assert (part["type"], part["real_type"], part["size"], part["name"]) == ("application/pdf", "application/zip", len(payload), "hoa-donfdp.zip")
    assert shown_json["previews"][0]["text"].startswith("Kính gửi đồng chí.\nDòng hai đảo.")
    assert [a["action"] for a in shown_json["audit"]] == ["hold", "view", "view"]
    assert shown_json["notices"] == []
    assert [r["state"] for r in shown_json["recipient_states"]] == ["held"]

    # `list` (table and json) is made safe too.
    for args in (("list",), ("list", "--format", "json")):
        out = quarantine_cli(proxy.config_path, *args).stdout
        assert_safe(out)
        assert "Báo cáo quý IV" in out.decode()


def test_viewing_and_exporting_are_audited_and_mirrored_to_the_log(proxy, tmp_path):
    data, _ = message(tmp_path)
    assert send(proxy, data)[0] == 250
    [held] = held_messages(proxy.config_path)
    mid = held["id"]
    # The hold row, mirrored by the gateway once committed.
    assert proxy.wait_for_log(lambda line: f"audit 1 hold {mid} by " in line), proxy.log_lines

    shown = quarantine_cli(proxy.config_path, "show", mid)
    assert f"audit 2 view {mid} by {USER}: show" in shown.stderr.decode()
    raw = quarantine_cli(proxy.config_path, "show", mid, "--raw")
    assert raw.stdout == data
    assert f"audit 3 view {mid} by {USER}: raw" in raw.stderr.decode()
    target = tmp_path / "out.eml"
    exported = quarantine_cli(proxy.config_path, "export", mid, "-o", str(target))
    assert target.read_bytes() == data
    assert f"audit 4 export {mid} by {USER}: to {target}" in exported.stderr.decode()

    trail = [json.loads(line) for line in quarantine_cli(proxy.config_path, "audit", mid[:10], "--format", "json").stdout.splitlines()]
    assert [(row["seq"], row["action"], row["detail"]) for row in trail][1:] == [(2, "view", "show"), (3, "view", "raw"), (4, "export", f"to {target}")]
    assert list(trail[0])[0] == "seq" and all(row["actor"] == USER and row["message_id"] == mid for row in trail[1:])
    table = quarantine_cli(proxy.config_path, "audit").stdout.decode()
    assert table.splitlines()[0].split() == ["SEQ", "TIME", "ACTOR", "ACTION", "MESSAGE", "DETAIL"]
    assert len(table.splitlines()) == 5

    # A view that cannot be recorded is not shown: another process holds the write lock.
    locker = sqlite3.connect(store_path(proxy), isolation_level=None)
    try:
        locker.execute("BEGIN IMMEDIATE")
        blocked = quarantine_cli(proxy.config_path, "show", mid, check=False)
        assert blocked.returncode == 75 and blocked.stdout == b"", blocked
        [line] = blocked.stderr.decode().splitlines()
        assert line.startswith(f"thugate: {mid} not shown: its view could not be written to the audit log: ") and "busy" in line, line
        blocked = quarantine_cli(proxy.config_path, "export", mid, "-o", str(tmp_path / "blocked.eml"), check=False)
        assert blocked.returncode == 75 and not (tmp_path / "blocked.eml").exists()
        assert f"{mid} not exported" in blocked.stderr.decode()
    finally:
        locker.rollback()
        locker.close()
    assert [row["action"] for row in map(json.loads, quarantine_cli(proxy.config_path, "audit", mid, "--format", "json").stdout.splitlines())] == [
        "hold", "view", "view", "export"]


def test_audit_verify_detects_a_changed_and_a_removed_row(proxy, tmp_path):
    ids = []
    for n in range(3):
        data, _ = message(tmp_path, subject=f"Hồ sơ {n}")
        assert send(proxy, data)[0] == 250
    ids = [m["id"] for m in held_messages(proxy.config_path)]
    quarantine_cli(proxy.config_path, "show", ids[0])
    ok = quarantine_cli(proxy.config_path, "audit", "--verify")
    assert ok.stdout.decode() == "audit log: 4 rows, the chain is whole\n"
    assert json.loads(quarantine_cli(proxy.config_path, "audit", "--verify", "--format", "json").stdout) == {"ok": True, "rows": 4}

    [original] = sqlite3.connect(store_path(proxy)).execute("SELECT detail FROM audit WHERE seq = 2").fetchone()
    tamper(proxy, "UPDATE audit SET detail = ? WHERE seq = 2", "nothing happened")
    changed = quarantine_cli(proxy.config_path, "audit", "--verify", check=False)
    assert changed.returncode == 76 and changed.stdout == b""
    assert changed.stderr.decode().strip() == "thugate: the audit log is broken at row 2: row 2 was changed: its hash does not match its fields"
    tamper(proxy, "UPDATE audit SET detail = ? WHERE seq = 2", original)
    assert quarantine_cli(proxy.config_path, "audit", "--verify").returncode == 0

    tamper(proxy, "DELETE FROM audit WHERE seq = 3")
    removed = quarantine_cli(proxy.config_path, "audit", "--verify", "--format", "json", check=False)
    assert removed.returncode == 76
    assert json.loads(removed.stdout)["kind"] == "removed"
    assert "row 3 is missing (removed)" in removed.stderr.decode()

    # The last row removed leaves no gap; its message's hold row is missing all the same.
    tamper(proxy, "DELETE FROM audit WHERE seq >= 3")
    tail = quarantine_cli(proxy.config_path, "audit", "--verify", check=False)
    assert tail.returncode == 76 and "the hold row of message" in tail.stderr.decode(), tail.stderr


def test_check_names_a_message_whose_chunk_was_changed(proxy, tmp_path):
    for n in range(2):
        data, _ = message(tmp_path, subject=f"Kiểm tra {n}")
        assert send(proxy, data)[0] == 250
    newest, oldest = held_messages(proxy.config_path)
    clean = quarantine_cli(proxy.config_path, "check")
    assert clean.stdout.decode().splitlines()[0] == "integrity check: ok"
    assert clean.stdout.decode().splitlines()[-1].startswith("2 messages, ") and "every chunk matches" in clean.stdout.decode()

    tamper(proxy, "UPDATE chunks SET data = zeroblob(length(data)) WHERE message_id = ? AND seq = 0", oldest["id"])
    damaged = quarantine_cli(proxy.config_path, "check", check=False)
    assert damaged.returncode == 74
    lines = damaged.stdout.decode().splitlines()
    assert f"{oldest['id']}: chunk 0 does not match its sha256" in lines
    assert not any(line.startswith(newest["id"]) for line in lines)
    assert lines[-1].endswith("1 damaged")
    # Reading the damaged message says so too (and prints nothing).
    raw = quarantine_cli(proxy.config_path, "show", oldest["id"], "--raw", check=False)
    assert raw.returncode == 74 and raw.stdout == b""


AGENCIES = """
[[agency]]
id = "quangninh"
name = "UBND tỉnh Quảng Ninh"
domains = ["quangninh.gov.vn"]

[[agency]]
id = "quan4"
name = "UBND Quận 4"
domains = ["tphcm.gov.vn"]
local_part_suffixes = [".q4"]
addresses = ["q4@tphcm.gov.vn"]

[[agency]]
id = "tphcm"
name = "UBND TP. Hồ Chí Minh"
domains = ["tphcm.gov.vn"]
"""

EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def send_as(gateway, data, sender, recipients):
    import smtplib
    with smtplib.SMTP("127.0.0.1", gateway.port, timeout=120) as client:
        client.ehlo("client.test")
        client.mail(sender)
        for rcpt in recipients:
            client.rcpt(rcpt)
        code, text = client.data(data)
        return code, text.decode()


def test_list_filters(proxy, tmp_path):
    start = datetime.now(timezone.utc) - timedelta(seconds=2)
    sent = {}
    # a: Quảng Ninh to Quảng Ninh, encrypted archive. b: from Quận 4 (a suffix address), a virus.
    # c: from outside to the Quận 4 office mailbox and to someone at tphcm.gov.vn, an executable.
    a, _ = message(tmp_path, subject="Thư A", sender="Văn thư <vanthu@quangninh.gov.vn>")
    b, _ = message(tmp_path, subject="Thư B", sender="Kế Toán <ke.toan.q4@tphcm.gov.vn>", extra=[("text", "plain", "eicar.txt", EICAR)])
    c, _ = message(tmp_path, subject="Thư C", sender="ĐỐI TÁC <doitac@example.com>",
                   extra=[("application", "octet-stream", "setup.exe", b"MZ" + b"\0" * 200)])
    for key, data, sender, rcpts in [("a", a, "vanthu@quangninh.gov.vn", ["lanhdao@quangninh.gov.vn"]),
                                     ("b", b, "ke.toan.q4@tphcm.gov.vn", ["lanhdao@quangninh.gov.vn"]),
                                     ("c", c, "doitac@example.com", ["q4@tphcm.gov.vn", "vanphong@tphcm.gov.vn"])]:
        code, text = send_as(proxy, data, sender, rcpts)
        assert code == 250 and "Held for review as " in text, (key, code, text)
        sent[text.rstrip().rsplit(" ", 1)[1]] = key
    with open(proxy.config_path, "a") as config:
        config.write(AGENCIES)
    everything = held_messages(proxy.config_path)
    assert [sent[m["id"]] for m in everything] == ["c", "b", "a"]
    by_key = {sent[m["id"]]: m for m in everything}
    assert by_key["b"]["category"] == "virus" and by_key["c"]["category"] == "executable"

    def listed(*args):
        out = quarantine_cli(proxy.config_path, "list", "--format", "json", *args).stdout.decode()
        rows = [json.loads(line) for line in out.splitlines()]
        assert all(list(row)[0] == "id" for row in rows)
        return "".join(sent[row["id"]] for row in rows)

    today = datetime.now().astimezone().date()
    assert listed("--since", "1h") == "cba"
    assert listed("--since", "30m", "--until", "1m") == ""
    assert listed("--since", start.strftime("%Y-%m-%dT%H:%M:%SZ")) == "cba"
    assert listed("--since", (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S+00:00")) == ""
    assert listed("--since", today.isoformat(), "--until", today.isoformat()) == "cba"
    assert listed("--since", "2024-02-29", "--until", "2024-02-29T23:59:59+07:00") == ""
    assert listed("--until", (today - timedelta(days=1)).isoformat()) == ""
    assert listed("--rule", "virus") == "b"
    assert listed("--rule", "encrypted-archive") == "cba"
    # The category is the deciding rule's ([quarantine.categories]): encrypted-archive is `archive`.
    assert listed("--category", "executable") == "c"
    assert listed("--category", "archive") == "a"
    assert listed("--category", "encrypted-archive") == ""
    assert listed("--from", "KE.TOAN") == "b"
    assert listed("--from", "đối tác") == "c"
    assert listed("--from", "văn thư") == "a"
    assert listed("--to", "TPHCM.gov") == "c"
    assert listed("--to", "lanhdao") == "ba"
    assert listed("--agency", "quan4") == "cb"
    assert listed("--agency", "tphcm") == "c"
    assert listed("--agency", "quangninh") == "ba"
    assert listed("--agency", "quan4", "--category", "virus") == "b"
    assert listed("--limit", "2") == "cb"
    assert listed("--state", "held") == "cba"
    assert listed("--state", "deleted") == ""
    deleted = quarantine_cli(proxy.config_path, "delete", by_key["c"]["id"], "--to", "q4@tphcm.gov.vn", "--reason", "rac")
    # Actions are mirrored to the log as views are.
    assert re.search(rf"audit \d+ delete {by_key['c']['id']} by {USER}: <q4@tphcm.gov.vn>; reason: rac", deleted.stderr.decode()), deleted.stderr
    assert listed("--state", "deleted") == "c"
    assert listed("--state", "held") == "cba"

    for args, needle in [(("--since", "7x"), "--since 7x: expected a duration"),
                         (("--until", "2026-13-01"), "--until 2026-13-01"),
                         (("--since", "2026-02-29"), "--since 2026-02-29"), (("--since", "2026-11-01T25:00"), "--since 2026-11-01T25:00"),
                         (("--state", "gone"), "--state gone: expected one of held, releasing, released, failed, deleted"),
                         (("--agency", "nowhere"), "--agency nowhere: no such agency in the configuration (known: quangninh, quan4, tphcm)"),
                         (("--limit", "0"), "--limit 0"), (("--limit", "abc"), "--limit abc"),
                         (("--since", "1h", "--until", "2h"), "--since is not before --until"),
                         (("--from", " "), "--from must not be empty")]:
        bad = quarantine_cli(proxy.config_path, "list", *args, check=False)
        assert bad.returncode == 64 and bad.stdout == b"", (args, bad)
        lines = bad.stderr.decode().strip().splitlines()
        assert len(lines) == 1 and needle in lines[0], (args, lines)


def run_on_a_terminal(args, env):
    """Runs the CLI with its standard output on a pseudo-terminal; returns what it wrote there."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen([str(BINARY), *args], stdout=follower, stderr=subprocess.PIPE, env=env)
    os.close(follower)
    out = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 30)
        if not ready:
            break
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    proc.wait(30)
    os.close(leader)
    assert proc.returncode == 0, proc.stderr.read()
    return out


def test_the_table_is_coloured_on_a_terminal_only_and_never_with_no_color(proxy, tmp_path):
    data, _ = message(tmp_path, subject="Màu")
    assert send(proxy, data)[0] == 250
    args = ["quarantine", "list", "--config", str(proxy.config_path)]
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env["TERM"] = "xterm"
    coloured = run_on_a_terminal(args, env)
    assert b"\x1b[1m" in coloured and b"\x1b[33m" in coloured
    plain = run_on_a_terminal(args, {**env, "NO_COLOR": "1"})
    assert b"\x1b" not in plain and "Màu".encode() in plain
    piped = subprocess.run([str(BINARY), *args], capture_output=True, env=env, timeout=60)
    assert b"\x1b" not in piped.stdout
    # Aligned: every column starts at the same place on every line.
    lines = plain.decode().replace("\r\n", "\n").splitlines()
    header, row = lines[0], lines[1]
    assert re.match(r"\d{4}-\d\d-\d\d ", row[header.index("RECEIVED"):])
    assert row[header.index("FROM")] == "<" and row[header.index("SIZE"):].split()[0].isdigit()
