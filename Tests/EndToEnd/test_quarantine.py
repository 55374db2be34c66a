"""Held mail in the quarantine store, seen as a postmaster sees it: messages held by the real proxy
over SMTP (an encrypted archive, which the default policy holds), then read back with the real
`thugate quarantine` command while the gateway runs, or after it was killed."""

import hashlib
import os
import smtplib
import stat
import subprocess
from email.message import EmailMessage
from email.policy import SMTP

import pytest

from conftest import BINARY, findings_text, held_messages, held_raw, quarantine_cli


def encrypted_zip(tmp_path, payload: bytes) -> bytes:
    """A ZipCrypto archive made by Info-ZIP's zip, the way a sender makes one."""
    work = tmp_path / f"zip-{hashlib.sha256(payload).hexdigest()[:12]}"
    work.mkdir()
    (work / "so-lieu.txt").write_bytes(payload)
    subprocess.run(["zip", "-q", "-j", "-P", "matkhau", str(work / "a.zip"), str(work / "so-lieu.txt")], check=True)
    return (work / "a.zip").read_bytes()


def held_message(tmp_path, subject="Hồ sơ", payload=b"so lieu\n", extra_body="Kính gửi.\n") -> bytes:
    msg = EmailMessage()
    msg["From"] = "Văn thư <vanthu@quangninh.gov.vn>"
    msg["To"] = "lanhdao@quangninh.gov.vn"
    msg["Subject"] = subject
    msg["Message-ID"] = "<ho-so-1@quangninh.gov.vn>"
    msg.set_content(extra_body)
    msg.add_attachment(encrypted_zip(tmp_path, payload), maintype="application", subtype="zip", filename="a.zip")
    return msg.as_bytes(policy=SMTP)


def send(gateway, data, recipients=("lanhdao@quangninh.gov.vn",)):
    with smtplib.SMTP("127.0.0.1", gateway.port, timeout=120) as client:
        client.ehlo("client.test")
        client.mail("vanthu@quangninh.gov.vn")
        for rcpt in recipients:
            client.rcpt(rcpt)
        code, text = client.data(data)
        return code, text.decode("utf-8", "replace")


@pytest.fixture
def proxy(gateway_factory, upstream):
    # The upstream in the configuration too: `release` sends through [upstream] url.
    url = f"smtp://127.0.0.1:{upstream.port}"
    return gateway_factory(url, upstream={"url": url})


def test_held_mail_is_listed_and_shown_byte_identical(proxy, upstream, tmp_path):
    small = held_message(tmp_path, payload=b"mot\n")
    # Past the memory threshold (a spool file) and over several 256 KiB chunks; lines that start
    # with a dot (dot-stuffed on the wire) and 8-bit text must come back exactly.
    body = "".join(f".dòng {i} của văn bản\n" for i in range(40000))
    large = held_message(tmp_path, subject="Văn bản lớn", payload=os.urandom(200_000), extra_body=body)
    assert len(large) > 1_000_000
    replies = [send(proxy, data, recipients=("lanhdao@quangninh.gov.vn", "vanthu2@quangninh.gov.vn")) for data in (small, large)]
    for code, text in replies:
        assert code == 250 and "Held for review as " in text, (code, text)
    assert upstream.messages == []

    held = held_messages(proxy.config_path)
    assert len(held) == 2
    newest, oldest = held
    assert list(newest)[0] == "id"
    # Each reply names the id the message is held under.
    assert replies[1][1].rstrip().endswith(newest["id"]) and replies[0][1].rstrip().endswith(oldest["id"])
    assert newest["id"] > oldest["id"], "ids are time-ordered"
    for message, data in ((newest, large), (oldest, small)):
        assert message["size"] == len(data)
        assert message["sha256"] == hashlib.sha256(data).hexdigest()
        assert held_raw(proxy.config_path, message["id"]) == data
        assert message["sender"] == "<vanthu@quangninh.gov.vn>"
        assert [(r["address"], r["state"]) for r in message["recipients"]] == [
            ("<lanhdao@quangninh.gov.vn>", "held"), ("<vanthu2@quangninh.gov.vn>", "held")]
        assert message["from"] == "Văn thư <vanthu@quangninh.gov.vn>"
        assert message["message_id"] == "<ho-so-1@quangninh.gov.vn>"
        assert message["category"] == "archive" and message["action"] == "quarantine"
        assert "encrypted-archive(2): a.zip" in findings_text(message)
        assert message["client_address"] == "127.0.0.1" and message["helo"] == "client.test"
    assert newest["subject"] == "Văn bản lớn" and oldest["subject"] == "Hồ sơ"

    assert [m["id"] for m in held_messages_limited(proxy, 1)] == [newest["id"]]
    table = quarantine_cli(proxy.config_path, "list").stdout.decode()
    assert table.splitlines()[0].split() == ["ID", "RECEIVED", "FROM", "TO", "SIZE", "RULE", "SUBJECT"]
    assert newest["id"] in table and "<lanhdao@quangninh.gov.vn> +1" in table and "Văn bản lớn" in table


def held_messages_limited(gateway, limit):
    import json
    out = quarantine_cli(gateway.config_path, "list", "--format", "json", "--limit", str(limit)).stdout.decode()
    return [json.loads(line) for line in out.splitlines()]


def test_ids_may_be_shortened_and_errors_have_their_own_exit_codes(proxy, tmp_path):
    for i in range(2):
        assert send(proxy, held_message(tmp_path, payload=b"so %d\n" % i))[0] == 250
    a, b = held_messages(proxy.config_path)
    common = os.path.commonprefix([a["id"], b["id"]])
    unique = a["id"][: len(common) + 1]
    assert held_raw(proxy.config_path, unique) == held_raw(proxy.config_path, a["id"])

    ambiguous = quarantine_cli(proxy.config_path, "show", common, "--raw", check=False)
    assert ambiguous.returncode == 65 and ambiguous.stdout == b""
    assert len(ambiguous.stderr.decode().strip().splitlines()) == 1 and "more than one" in ambiguous.stderr.decode()
    missing = quarantine_cli(proxy.config_path, "show", "zzzzzzzzzzzz", "--raw", check=False)
    assert missing.returncode == 66 and missing.stdout == b""
    assert missing.stderr.decode().strip() == "thugate: no held message zzzzzzzzzzzz"

    config = proxy.tmp / "elsewhere.toml"
    config.write_text(f'[quarantine]\ndatabase = "{proxy.tmp}/nothing-here.sqlite"\n')

    unavailable = subprocess.run([str(BINARY), "quarantine", "list", "--config", str(config)], capture_output=True, timeout=60)
    assert unavailable.returncode == 69, unavailable
    assert len(unavailable.stderr.decode().strip().splitlines()) == 1
    assert not (proxy.tmp / "nothing-here.sqlite").exists(), "a read command must not create the store"


def test_export_writes_a_new_private_file_and_never_overwrites(proxy, tmp_path):
    data = held_message(tmp_path)
    assert send(proxy, data)[0] == 250
    [held] = held_messages(proxy.config_path)
    target = tmp_path / "held.eml"
    quarantine_cli(proxy.config_path, "export", held["id"][:14], "-o", str(target))
    assert target.read_bytes() == data
    assert stat.S_IMODE(target.stat().st_mode) == 0o600

    target.write_bytes(b"kept\n")
    again = quarantine_cli(proxy.config_path, "export", held["id"], "-o", str(target), check=False)
    assert again.returncode == 73 and target.read_bytes() == b"kept\n"


def test_a_message_is_in_the_store_after_a_sigkill_right_after_its_250(gateway_factory, upstream, tmp_path):
    """The 250 is sent only after the commit: killing the gateway the moment the client read it
    loses nothing, 200 times in a row."""
    store = tmp_path / "store" / "quarantine.sqlite"
    sections = {"quarantine": {"database": str(store)}}
    sent = []
    for round in range(200):
        gateway = gateway_factory(f"smtp://127.0.0.1:{upstream.port}", sections=sections)
        data = held_message(tmp_path, payload=b"vong %d\n" % round + os.urandom(3000))
        code, text = send(gateway, data)
        gateway.proc.kill()
        assert code == 250, (code, text)
        gateway.proc.wait(10)
        sent.append((text.rstrip().rsplit(" ", 1)[1], hashlib.sha256(data).hexdigest()))
    config = tmp_path / "reader.toml"
    config.write_text(f'[quarantine]\ndatabase = "{store}"\n')
    held = {m["id"]: m["sha256"] for m in held_messages(config)}
    assert held == dict(sent)


def test_terminal_escapes_in_held_headers_are_never_printed(proxy, tmp_path):
    """The Subject and From are the sender's: an encoded or raw escape sequence in them (set the
    window title, clear the screen, a bidi override) reaches no terminal through the CLI."""
    import base64
    nasty = "\x1b]0;owned\x07\x1b[2J\u202eBáo cáo\x9b31m"
    encoded = "=?utf-8?b?" + base64.b64encode(nasty.encode()).decode() + "?="
    data = held_message(tmp_path, subject="placeholder").replace(b"Subject: placeholder", b"Subject: " + encoded.encode())
    data = data.replace(b"From: ", b"From: \x1b[31m", 1)
    assert send(proxy, data)[0] == 250
    [held] = held_messages(proxy.config_path)
    # The whole of each sequence goes, not only its ESC: no "[2J" or "0;owned" is left behind.
    assert held["subject"] == "Báo cáo"
    assert "[31m" not in held["from"] and "vanthu@quangninh.gov.vn" in held["from"]
    outputs = [
        quarantine_cli(proxy.config_path, "list").stdout,
        quarantine_cli(proxy.config_path, "list", "--format", "json").stdout,
        quarantine_cli(proxy.config_path, "show", held["id"]).stdout,
    ]
    for out in outputs:
        text = out.decode()
        assert not any(ord(c) < 0x20 and c != "\n" or 0x7F <= ord(c) < 0xA0 or c == "\u202e" for c in text), repr(text)
        assert "Báo cáo" in text
    # The original bytes are still exactly what was sent: only what is printed is made safe.
    assert held_raw(proxy.config_path, held["id"]) == data


def test_a_store_locked_by_another_process_is_reported_busy(proxy, tmp_path):
    """Another process holding the store exclusively (here SQLite's own exclusive locking mode):
    the read command waits its busy timeout, then says so in one line and exits 75."""
    import sqlite3
    assert send(proxy, held_message(tmp_path))[0] == 250
    assert proxy.terminate() == 0
    [held] = held_messages(proxy.config_path)
    locker = sqlite3.connect(proxy.tmp / "var" / "quarantine" / "quarantine.sqlite", isolation_level=None)
    try:
        locker.execute("PRAGMA locking_mode=EXCLUSIVE")
        locker.execute("BEGIN EXCLUSIVE")
        locker.execute("COMMIT")
        busy = quarantine_cli(proxy.config_path, "show", held["id"], "--raw", check=False)
        assert busy.returncode == 75 and busy.stdout == b""
        assert busy.stderr.decode().strip().endswith("is busy (locked by another process); try again")
    finally:
        locker.close()
    assert held_raw(proxy.config_path, held["id"]) != b""


RECIPIENTS = ("lanhdao@quangninh.gov.vn", "vanthu2@quangninh.gov.vn", "ketoan@quangninh.gov.vn")


def states(config_path, message_id):
    [held] = [m for m in held_messages(config_path) if m["id"] == message_id]
    return {r["address"]: r["state"] for r in held["recipients"]}


def audit_chain_intact(store_path):
    """Every audit row names the hash of the row before it (the full check is `audit --verify`)."""
    import sqlite3
    db = sqlite3.connect(f"file:{store_path}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT seq, action, previous_hash, hash FROM audit ORDER BY seq").fetchall()
    finally:
        db.close()
    previous = "0" * 64
    for seq, action, previous_hash, digest in rows:
        assert previous_hash == previous, (seq, action)
        previous = digest
    return [action for _, action, _, _ in rows]


def test_release_to_one_of_three_recipients_delivers_exactly_one_copy(proxy, upstream, tmp_path):
    """Held by the real proxy for three recipients; `release --to` one of them sends exactly one
    copy through the upstream, byte-identical to the original but for the one added header; the
    other two stay held until deleted; a second release of the same recipient sends nothing."""
    data = held_message(tmp_path, payload=b"phat hanh\n")
    code, text = send(proxy, data, recipients=RECIPIENTS)
    assert code == 250 and "Held for review as " in text, (code, text)
    [held] = held_messages(proxy.config_path)
    assert upstream.messages == []

    released = quarantine_cli(proxy.config_path, "release", held["id"][:14], "--to", RECIPIENTS[1], "--reason", "nham lan")
    assert b"released to <vanthu2@quangninh.gov.vn>: 250" in released.stderr, released.stderr
    upstream.wait_for_messages(1)
    [delivered] = upstream.messages
    assert delivered["rcpt_tos"] == [RECIPIENTS[1]]
    assert delivered["mail_from"] == "vanthu@quangninh.gov.vn"
    content = delivered["content"]
    header, rest = content.split(b"\r\n", 1)
    assert rest == data, "the original bytes, unchanged, after the one added header"
    user = __import__("pwd").getpwuid(os.geteuid()).pw_name
    assert header.startswith(b"X-ThuGate-Released: " + held["id"].encode() + b" by " + user.encode() + b" "), header
    assert states(proxy.config_path, held["id"]) == {
        "<lanhdao@quangninh.gov.vn>": "held", "<vanthu2@quangninh.gov.vn>": "released", "<ketoan@quangninh.gov.vn>": "held"}

    again = quarantine_cli(proxy.config_path, "release", held["id"], "--to", RECIPIENTS[1], "--reason", "lan nua")
    assert b"nothing sent" in again.stderr
    import time
    time.sleep(0.5)
    assert len(upstream.messages) == 1, "a released recipient is never delivered twice"

    quarantine_cli(proxy.config_path, "delete", held["id"], "--reason", "rac")
    assert states(proxy.config_path, held["id"]) == {
        "<lanhdao@quangninh.gov.vn>": "deleted", "<vanthu2@quangninh.gov.vn>": "released", "<ketoan@quangninh.gov.vn>": "deleted"}
    # Deleted recipients are not released any more.
    quarantine_cli(proxy.config_path, "release", held["id"], "--reason", "sau khi xoa")
    time.sleep(0.5)
    assert len(upstream.messages) == 1
    assert held_raw(proxy.config_path, held["id"]) == data, "the bytes stay until a purge"

    unknown = quarantine_cli(proxy.config_path, "delete", held["id"], "--to", "ai@khac.vn", "--reason", "x", check=False)
    assert unknown.returncode == 64
    actions = audit_chain_intact(proxy.tmp / "var" / "quarantine" / "quarantine.sqlite")
    # `show --raw` above is a view, audited too.
    assert actions == ["hold", "release-claim", "release", "delete", "view"], actions


def test_an_upstream_refusal_leaves_the_recipient_held_and_says_so(proxy, upstream, tmp_path):
    data = held_message(tmp_path, payload=b"tam hoan\n")
    assert send(proxy, data, recipients=RECIPIENTS[:2])[0] == 250
    [held] = held_messages(proxy.config_path)
    upstream.refuse_recipients[RECIPIENTS[0]] = "450 4.2.1 Mailbox busy"
    upstream.refuse_recipients[RECIPIENTS[1]] = "550 5.1.1 No such user"
    refused = quarantine_cli(proxy.config_path, "release", held["id"], "--reason", "thu", check=False)
    assert refused.returncode == 70, refused
    assert b"still held: 450 4.2.1 Mailbox busy" in refused.stderr and b"failed: 550 5.1.1 No such user" in refused.stderr
    assert upstream.messages == []
    assert states(proxy.config_path, held["id"]) == {"<lanhdao@quangninh.gov.vn>": "held", "<vanthu2@quangninh.gov.vn>": "failed"}
    upstream.refuse_recipients.clear()
    quarantine_cli(proxy.config_path, "release", held["id"], "--reason", "lan hai")
    upstream.wait_for_messages(1)
    assert upstream.messages[0]["rcpt_tos"] == [RECIPIENTS[0]]


def test_a_virus_hold_is_released_only_with_force(gateway_factory, upstream, tmp_path):
    eicar = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
    url = f"smtp://127.0.0.1:{upstream.port}"
    gateway = gateway_factory(url, upstream={"url": url}, sections={"policy": {"virus": "quarantine"}})
    msg = EmailMessage()
    msg["From"] = "vanthu@quangninh.gov.vn"
    msg["To"] = RECIPIENTS[0]
    msg["Subject"] = "Mau"
    msg.set_content("Test: " + eicar.decode() + "\n")
    data = msg.as_bytes(policy=SMTP)
    code, text = send(gateway, data)
    assert code == 250 and "Held for review as " in text, (code, text)
    [held] = held_messages(gateway.config_path)
    assert held["category"] == "virus"
    refused = quarantine_cli(gateway.config_path, "release", held["id"], "--reason", "x", check=False)
    assert refused.returncode == 77 and b"needs --force" in refused.stderr
    assert states(gateway.config_path, held["id"]) == {"<lanhdao@quangninh.gov.vn>": "held"}
    quarantine_cli(gateway.config_path, "release", held["id"], "--force", "--reason", "mau thu cua phong CNTT")
    upstream.wait_for_messages(1)
    assert upstream.messages[0]["content"].split(b"\r\n", 1)[1] == data


def test_an_unreachable_upstream_leaves_the_message_held(gateway_factory, upstream, tmp_path):
    """The upstream is down when the postmaster releases: nothing is marked released, the command
    says so and exits 70, and a release once it is back delivers the message."""
    import socket
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    url = f"smtp://127.0.0.1:{upstream.port}"
    gateway = gateway_factory(url, upstream={"url": f"smtp://127.0.0.1:{closed_port}", "connect_timeout": "2s"})
    data = held_message(tmp_path, payload=b"mat ket noi\n")
    assert send(gateway, data)[0] == 250
    [held] = held_messages(gateway.config_path)
    down = quarantine_cli(gateway.config_path, "release", held["id"], "--reason", "thu", check=False)
    assert down.returncode == 70, down
    assert b"still held" in down.stderr, down.stderr
    assert states(gateway.config_path, held["id"]) == {"<lanhdao@quangninh.gov.vn>": "held"}

    config = gateway.config_path.read_text().replace(f"127.0.0.1:{closed_port}", f"127.0.0.1:{upstream.port}")
    gateway.config_path.write_text(config)
    quarantine_cli(gateway.config_path, "release", held["id"], "--reason", "lan hai")
    upstream.wait_for_messages(1)
    assert upstream.messages[0]["content"].split(b"\r\n", 1)[1] == data


def test_a_large_message_is_released_byte_identical(proxy, upstream, tmp_path):
    """Past the memory threshold (the release spools it, as the proxy does), over several chunks,
    with dot-led lines and 8-bit text: what the upstream gets is the original after one header."""
    body = "".join(f".dòng {i} của văn bản\n" for i in range(40000))
    data = held_message(tmp_path, subject="Văn bản lớn", payload=os.urandom(200_000), extra_body=body)
    assert len(data) > 1_000_000
    assert send(proxy, data)[0] == 250
    [held] = held_messages(proxy.config_path)
    quarantine_cli(proxy.config_path, "release", held["id"], "--reason", "van ban that")
    upstream.wait_for_messages(1)
    [delivered] = upstream.messages
    header, rest = delivered["content"].split(b"\r\n", 1)
    assert header.startswith(b"X-ThuGate-Released: ") and rest == data
    assert "BODY=8BITMIME" in delivered["mail_options"]
