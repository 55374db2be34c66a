"""The life cycle of held mail, driven as a postmaster and an officer drive it: categories and legal
hold from the configuration, the two-person release, a release killed mid-send and settled by
hand, purge, the import of the old Maildir quarantine, release into a maildir: upstream. Mail is held
by the real proxy over SMTP; every action goes through the real `thugate quarantine` binary."""

import hashlib
import json
import os
import pwd
import re
import signal
import sqlite3
import subprocess
import time

import pytest

from conftest import BINARY, held_messages, held_raw, quarantine_cli
from test_quarantine import RECIPIENTS, audit_chain_intact, held_message, send, states


def cli(config_path, *args, sudo_user=None, check=True):
    """`thugate quarantine ARGS` as root through sudo by `sudo_user` (SUDO_USER is believed only
    when the effective user is root, as sudo sets it), or as the OS user when None."""
    env = {k: v for k, v in os.environ.items() if k != "SUDO_USER"}
    if sudo_user:
        env["SUDO_USER"] = sudo_user
    result = subprocess.run([str(BINARY), "quarantine", *args, "--config", str(config_path)],
                            capture_output=True, timeout=60, env=env)
    if check:
        assert result.returncode == 0, (result.returncode, result.stderr.decode(errors="replace"))
    return result


def store_path(gateway):
    return gateway.tmp / "var" / "quarantine" / "quarantine.sqlite"


@pytest.fixture
def proxy(gateway_factory, upstream):
    url = f"smtp://127.0.0.1:{upstream.port}"
    return gateway_factory(url, upstream={"url": url})


@pytest.fixture
def secret_proxy(gateway_factory, upstream):
    """The state-secret rule comes in a later release: here the configuration files encrypted
    archives under that category, which puts them under legal hold and needs two people."""
    url = f"smtp://127.0.0.1:{upstream.port}"
    sections = {"quarantine": {}, "quarantine.categories": {"encrypted-archive": "state-secret"}}
    return gateway_factory(url, upstream={"url": url}, sections=sections)


def test_the_category_decides_expiry_legal_hold_and_force(proxy, secret_proxy, tmp_path):
    assert send(proxy, held_message(tmp_path, payload=b"thuong\n"))[0] == 250
    [plain] = held_messages(proxy.config_path)
    assert plain["category"] == "archive" and plain["legal_hold"] is False
    received = time.mktime(time.strptime(plain["received"][:19], "%Y-%m-%dT%H:%M:%S"))
    expires = time.mktime(time.strptime(plain["expires"][:19], "%Y-%m-%dT%H:%M:%S"))
    assert expires - received == 30 * 86400
    # An archive is not an officer's category: released without --force.
    cli(proxy.config_path, "release", plain["id"], "--reason", "nham")

    assert send(secret_proxy, held_message(tmp_path, payload=b"mat\n"))[0] == 250
    [secret] = held_messages(secret_proxy.config_path)
    assert secret["category"] == "state-secret" and secret["legal_hold"] is True
    refused = cli(secret_proxy.config_path, "release", secret["id"], "--reason", "x", check=False)
    assert refused.returncode == 77 and b"state-secret" in refused.stderr and b"needs --force" in refused.stderr

    # Lifting the legal hold is an officer's action, audited.
    lifted = cli(secret_proxy.config_path, "lift-hold", secret["id"], "--reason", "da bao cao", sudo_user="antoan")
    assert b"legal hold lifted" in lifted.stderr
    assert held_messages(secret_proxy.config_path)[0]["legal_hold"] is False
    again = cli(secret_proxy.config_path, "lift-hold", secret["id"], "--reason", "lan nua")
    assert b"not under legal hold; nothing changed" in again.stderr
    assert audit_chain_intact(store_path(secret_proxy)) == ["hold", "lift-hold"]


def test_a_state_secret_release_needs_a_second_person(secret_proxy, upstream, tmp_path):
    data = held_message(tmp_path, payload=b"tuyet mat\n")
    assert send(secret_proxy, data, recipients=RECIPIENTS[:2])[0] == 250
    [held] = held_messages(secret_proxy.config_path)
    config = secret_proxy.config_path

    requested = cli(config, "release", held["id"], "--force", "--to", RECIPIENTS[1], "--reason", "van ban mat da giai mat",
                    sudo_user="alice")
    assert b"requested by alice (as root)" in requested.stderr
    assert b"NOTHING WAS SENT and the recipients stay held" in requested.stderr
    assert f"approve {held['id']}".encode() in requested.stderr
    time.sleep(0.3)
    assert upstream.messages == []
    assert set(states(config, held["id"]).values()) == {"held"}
    pending = cli(config, "release", held["id"], "--force", "--reason", "lai", sudo_user="bob")
    assert b"already awaits approval; nothing sent" in pending.stderr

    # The same person, whatever the OS account, is refused with its own exit code.
    same = cli(config, "approve", held["id"], "--reason", "toi dong y", sudo_user="alice", check=False)
    assert same.returncode == 67, same
    assert b"alice requested this release and cannot also approve it" in same.stderr
    assert upstream.messages == []

    approved = cli(config, "approve", held["id"], "--reason", "dong y", sudo_user="bob")
    assert b"approved by bob (as root)" in approved.stderr
    assert f"released to <{RECIPIENTS[1]}>: 250".encode() in approved.stderr
    upstream.wait_for_messages(1)
    [delivered] = upstream.messages
    assert delivered["rcpt_tos"] == [RECIPIENTS[1]]
    header, rest = delivered["content"].split(b"\r\n", 1)
    assert rest == data and header.startswith(f"X-ThuGate-Released: {held['id']} by bob (as root) ".encode())
    assert states(config, held["id"]) == {f"<{RECIPIENTS[0]}>": "held", f"<{RECIPIENTS[1]}>": "released"}
    assert audit_chain_intact(store_path(secret_proxy)) == ["hold", "release-request", "approve", "release-claim", "release"]

    nothing = cli(config, "approve", "zzzzzzzz", "--reason", "x", sudo_user="bob", check=False)
    assert nothing.returncode == 66


def test_a_release_killed_mid_send_is_shown_and_settled_by_hand(proxy, upstream, tmp_path):
    data = held_message(tmp_path, payload=b"bi ngat\n")
    assert send(proxy, data, recipients=RECIPIENTS[:2])[0] == 250
    [held] = held_messages(proxy.config_path)
    config = proxy.config_path
    # The upstream takes its time over the final dot; the release is killed meanwhile.
    upstream.data_delay = 3
    release = subprocess.Popen([str(BINARY), "quarantine", "release", held["id"], "--reason", "thu", "--config", str(config)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 20
    while time.time() < deadline and set(states(config, held["id"]).values()) != {"releasing"}:
        time.sleep(0.05)
    time.sleep(0.5)
    release.send_signal(signal.SIGKILL)
    release.wait(10)
    upstream.data_delay = 0
    assert set(states(config, held["id"]).values()) == {"releasing"}

    listed = cli(config, "list")
    assert listed.stderr.decode().count("releasing for ") == 2, listed.stderr
    assert b"check the upstream's log, then `thugate quarantine resolve" in listed.stderr
    shown = cli(config, "show", held["id"]).stdout.decode()
    assert f"<{RECIPIENTS[0]}> releasing since " in shown and "if no release is running" in shown
    [row] = [m for m in held_messages(config) if m["id"] == held["id"]]
    assert all(r["state"] == "releasing" and r["changed"] for r in row["recipients"])

    # Never sent again by itself.
    again = cli(config, "release", held["id"], "--reason", "lai")
    assert b"nothing sent" in again.stderr

    # After the upstream's log: the first was taken, the second was not.
    cli(config, "resolve", held["id"], "released", "--to", RECIPIENTS[0], "--reason", "upstream log: queued as 4AB")
    cli(config, "resolve", held["id"], "held", "--to", RECIPIENTS[1], "--reason", "not in the upstream log")
    assert states(config, held["id"]) == {f"<{RECIPIENTS[0]}>": "released", f"<{RECIPIENTS[1]}>": "held"}
    none = cli(config, "resolve", held["id"], "held", "--reason", "x")
    assert b"is releasing; nothing changed" in none.stderr
    bad = cli(config, "resolve", held["id"], "deleted", "--reason", "x", check=False)
    assert bad.returncode == 64

    released = cli(config, "release", held["id"], "--reason", "lan hai")
    assert f"released to <{RECIPIENTS[1]}>: 250".encode() in released.stderr and RECIPIENTS[0].encode() not in released.stderr
    # (The killed release's own DATA may still land at the upstream after its delay: that is the
    # copy the upstream's log shows.)
    deadline = time.time() + 10
    while time.time() < deadline and not any(m["rcpt_tos"] == [RECIPIENTS[1]] for m in upstream.messages):
        time.sleep(0.05)
    assert [m["rcpt_tos"] for m in upstream.messages if m["rcpt_tos"] != RECIPIENTS[:2]] == [[RECIPIENTS[1]]]
    actions = audit_chain_intact(store_path(proxy))
    # `show` above is audited as a view.
    assert actions == ["hold", "release-claim", "view", "resolve", "resolve", "release-claim", "release"], actions


def test_purge_removes_the_bytes_of_decided_and_expired_mail(proxy, upstream, tmp_path):
    config = proxy.config_path
    ids = []
    for i in range(5):
        assert send(proxy, held_message(tmp_path, payload=b"so %d\n" % i + os.urandom(300_000)))[0] == 250
        ids.append(held_messages(config)[0]["id"])
    released, deleted, expired, legal, kept = ids
    cli(config, "release", released, "--reason", "nham")
    cli(config, "delete", deleted, "--reason", "rac")
    # As if its retention had passed; the next one is also under legal hold.
    db = sqlite3.connect(store_path(proxy))
    db.execute("UPDATE messages SET expires_at = 1000 WHERE id IN (?, ?)", (expired, legal))
    db.execute("UPDATE messages SET legal_hold = 1 WHERE id = ?", (legal,))
    db.commit()
    db.close()

    # Decided mail 30 days old is not there yet; expired held mail is.
    dry = cli(config, "purge", "--dry-run")
    assert [line.split()[0] for line in dry.stdout.decode().splitlines()] == [expired]
    dry = cli(config, "purge", "--dry-run", "--older-than", "0h")
    listed = {line.split()[0]: line for line in dry.stdout.decode().splitlines()}
    assert set(listed) == {released, deleted, expired}, dry.stdout
    assert "expired" in listed[expired] and listed[released].endswith("decided")
    assert b"would purge 3 messages" in dry.stderr and b"nothing changed" in dry.stderr
    assert all(m["purged"] is None for m in held_messages(config))

    pages_before, _ = pages(proxy)
    purged = cli(config, "purge", "--older-than", "0h")
    assert b"purged 3 messages" in purged.stderr, purged.stderr
    assert b"given back to the file system" in purged.stderr
    after = {m["id"]: m for m in held_messages(config)}
    assert {i for i, m in after.items() if m["purged"]} == {released, deleted, expired}
    assert [r["state"] for r in after[expired]["recipients"]] == ["deleted"]
    # The freed pages went back to the file system (auto_vacuum = INCREMENTAL on a new store).
    pages_after, free_after = pages(proxy)
    assert pages_after * 4096 < pages_before * 4096 - 1_000_000 and free_after == 0, (pages_before, pages_after)
    again = cli(config, "purge", "--older-than", "0h")
    assert b"purged 0 messages" in again.stderr

    for args in (("show", released, "--raw"), ("export", deleted, "-o", str(tmp_path / "x.eml")), ("release", expired, "--reason", "x")):
        refused = cli(config, *args, check=False)
        assert refused.returncode == 68, (args, refused)
        assert b"was purged at " in refused.stderr and b"original bytes are gone" in refused.stderr
        assert refused.stdout == b""
    assert not (tmp_path / "x.eml").exists()
    shown = cli(config, "show", released).stdout.decode()
    assert re.search(r"^purged +\S", shown, re.M) and "\nfindings\n" in shown
    for message_id in (legal, kept):
        assert hashlib.sha256(held_raw(config, message_id)).hexdigest() == after[message_id]["sha256"]

    db = sqlite3.connect(f"file:{store_path(proxy)}?mode=ro", uri=True)
    rows = db.execute("SELECT message_id, detail FROM audit WHERE action = 'purge' ORDER BY seq").fetchall()
    chunks = db.execute("SELECT DISTINCT message_id FROM chunks").fetchall()
    db.close()
    assert sorted(r[0] for r in rows) == sorted([released, deleted, expired])
    assert {c[0] for c in chunks} == {legal, kept}
    audit_chain_intact(store_path(proxy))


def pages(gateway):
    """The store's size in pages and its free pages, as SQLite counts them (WAL included)."""
    db = sqlite3.connect(f"file:{store_path(gateway)}?mode=ro", uri=True)
    try:
        return db.execute("PRAGMA page_count").fetchone()[0], db.execute("PRAGMA freelist_count").fetchone()[0]
    finally:
        db.close()


def sanitized(text):
    """HeaderText.sanitized as the old sink used it: control characters as spaces, and text with
    non-ASCII as RFC 2047 B words in UTF-8 of at most 45 bytes each, one per folded line
    (EncodedWords.encode, then `split(" ").joined("\\r\\n ")`)."""
    import base64
    text = "".join(" " if ord(c) < 0x20 or ord(c) == 0x7F else c for c in text)
    if all(0x20 <= ord(c) < 0x7F for c in text) and "=?" not in text:
        return text
    words, chunk = [], b""
    for c in text:
        if len(chunk) + len(c.encode()) > 45:
            words.append("=?UTF-8?B?" + base64.b64encode(chunk).decode() + "?=")
            chunk = b""
        chunk += c.encode()
    if chunk:
        words.append("=?UTF-8?B?" + base64.b64encode(chunk).decode() + "?=")
    return "\r\n ".join(words)


def old_quarantine_file(findings, sender, recipients, queue_id, helo, address, node, date):
    """What the Maildir quarantine of earlier versions wrote above a held message
    (`AddedHeaders.held` before commit 660960e): the findings, the envelope, then ThuGate's
    Received field (ReceivedHeader.field), each value through HeaderText.sanitized."""
    findings, sender, to = sanitized(findings), sanitized(sender), sanitized(", ".join(recipients))
    received = f"Received: from {helo} ([{address}])\r\n\tby {node} (ThuGate) with ESMTP id {queue_id}"
    if len(recipients) == 1:
        received += f"\r\n\tfor {recipients[0]}"
    received += f"; {date}\r\n"
    return (f"X-ThuGate-Quarantine: {findings}\r\n"
            f"X-ThuGate-Envelope-From: {sender}\r\n"
            f"X-ThuGate-Envelope-To: {to}\r\n" + received).encode()


def test_the_old_maildir_quarantine_is_imported_once(proxy, tmp_path):
    old = tmp_path / "old-quarantine"
    for sub in ("tmp", "new", "cur"):
        (old / sub).mkdir(parents=True)
    originals = {}
    # Named as the old Maildir writer named files: time.Mmicro Pprocess Qcounter_QUEUEID.host
    layout = [
        ("new", "1764547200.M123456P4242Q1_0A1B2C3D4E5F.thugate.test", "0A1B2C3D4E5F", [f"<{RECIPIENTS[0]}>"],
         "encrypted-archive(2): a.zip: encrypted (ZipCrypto)", b"mot\n"),
        ("cur", "1764547300.M5P4242Q2_0A1B2C3D4E60.thugate.test:2,S", "0A1B2C3D4E60", [f"<{r}>" for r in RECIPIENTS],
         "archive-limit(2): a.zip: too many members; virus(2): a.zip/x: Eicar-Signature", b"hai\n"),
        ("new", "1764547350.M77P4242Q3_0A1B2C3D4E61.thugate.test", "0A1B2C3D4E61", [f"<{RECIPIENTS[2]}>"],
         "encrypted-archive(2): tài liệu mật; bản cuối cùng của phòng hành chính.zip: encrypted (WinZip AES)", b"ba\n"),
    ]
    for folder, name, queue_id, recipients, findings, payload in layout:
        data = held_message(tmp_path, payload=payload)
        header = old_quarantine_file(findings, "<vanthu@quangninh.gov.vn>", recipients, queue_id, "client.test",
                                     "192.0.2.10", "thugate.quangninh.gov.vn", "Mon, 1 Dec 2025 07:00:00 +0700")
        (old / folder / name).write_bytes(header + data)
        originals[queue_id] = data
    (old / "new" / "1764547400.M1P1Q3_BAD.thugate.test").write_bytes(b"From: someone\r\n\r\nnot a held file\r\n")
    (old / "tmp" / "1764547500.M1P1Q4_HALF.thugate.test").write_bytes(b"X-ThuGate-Quarantine: ")

    first = cli(proxy.config_path, "import-maildir", str(old), check=False)
    assert first.returncode == 65, first
    err = first.stderr.decode()
    assert "4 files in" in err and "3 imported, 0 imported before, 1 skipped as bad" in err, err
    assert "1764547400.M1P1Q3_BAD.thugate.test: not a ThuGate quarantine file" in err
    assert "1 unfinished files in tmp/ not looked at" in err

    held = {m["queue_id"]: m for m in held_messages(proxy.config_path)}
    assert set(held) == set(originals)
    one, two, three = held["0A1B2C3D4E5F"], held["0A1B2C3D4E60"], held["0A1B2C3D4E61"]
    for queue_id, message in held.items():
        assert held_raw(proxy.config_path, message["id"]) == originals[queue_id], "the original bytes, unchanged"
        assert message["sha256"] == hashlib.sha256(originals[queue_id]).hexdigest()
        assert message["sender"] == "<vanthu@quangninh.gov.vn>"
        assert message["helo"] == "client.test" and message["client_address"] == "192.0.2.10"
        assert message["node"] == "thugate.quangninh.gov.vn"
        assert message["received"].startswith("2025-12-01T00:00:00")
        assert message["subject"] == "Hồ sơ" and message["message_id"] == "<ho-so-1@quangninh.gov.vn>"
    assert [r["address"] for r in two["recipients"]] == [f"<{r}>" for r in RECIPIENTS]
    assert [(f["rule"], f["part"], f["detail"]) for f in two["findings"]] == [
        ("archive-limit", "2", "a.zip: too many members"), ("virus", "2", "a.zip/x: Eicar-Signature")]
    assert [(f["rule"], f["part"], f["detail"]) for f in three["findings"]] == [
        ("encrypted-archive", "2", "tài liệu mật; bản cuối cùng của phòng hành chính.zip: encrypted (WinZip AES)")]
    assert one["category"] == "archive" and two["category"] == "archive"
    # A virus among its findings: releasing it is an officer's call.
    assert cli(proxy.config_path, "release", two["id"], "--reason", "x", check=False).returncode == 77

    second = cli(proxy.config_path, "import-maildir", str(old), check=False)
    assert "0 imported, 3 imported before, 1 skipped as bad" in second.stderr.decode()
    (old / "new" / "1764547400.M1P1Q3_BAD.thugate.test").unlink()
    # Moved to cur/ by a reader since (a new name suffix): still the same file.
    os.rename(old / "new" / layout[0][1], old / "cur" / (layout[0][1] + ":2,S"))
    third = cli(proxy.config_path, "import-maildir", str(old))
    assert "0 imported, 3 imported before, 0 skipped as bad" in third.stderr.decode()
    assert len(held_messages(proxy.config_path)) == 3
    # held_messages lists; viewing (show) is audited as `view`.
    assert [a for a in audit_chain_intact(store_path(proxy)) if a != "view"] == ["import", "import", "import"]

    missing = cli(proxy.config_path, "import-maildir", str(tmp_path / "nowhere"), check=False)
    assert missing.returncode == 66 and b"is not a Maildir" in missing.stderr


def test_release_into_a_maildir_upstream(gateway_factory, upstream, tmp_path):
    mailbox = tmp_path / "mailbox"
    gateway = gateway_factory(f"smtp://127.0.0.1:{upstream.port}", upstream={"url": f"maildir:{mailbox}"})
    data = held_message(tmp_path, payload=b"hop thu\n")
    assert send(gateway, data, recipients=RECIPIENTS[:2])[0] == 250
    [held] = held_messages(gateway.config_path)
    released = cli(gateway.config_path, "release", held["id"], "--reason", "nham")
    # One line per recipient (the audit rows mirrored to stderr say it again, under thugate.audit).
    said = [line for line in released.stderr.decode().splitlines() if "thugate.audit" not in line]
    assert sum(line.count(": 250 2.0.0") for line in said) == 2, released.stderr
    [delivered] = list((mailbox / "new").iterdir())
    header, rest = delivered.read_bytes().split(b"\r\n", 1)
    assert header.startswith(f"X-ThuGate-Released: {held['id']} by {pwd.getpwuid(os.geteuid()).pw_name} ".encode())
    assert rest == data
    assert set(states(gateway.config_path, held["id"]).values()) == {"released"}


def test_a_missing_spool_directory_is_named_on_release(proxy, upstream, tmp_path):
    body = "".join(f"dòng {i}\n" for i in range(40000))
    data = held_message(tmp_path, payload=os.urandom(100_000), extra_body=body)
    assert send(proxy, data)[0] == 250
    [held] = held_messages(proxy.config_path)
    config = proxy.config_path.read_text().replace(f'spool_directory = "{proxy.tmp / "spool"}"',
                                                   f'spool_directory = "{tmp_path / "no-such-spool"}"')
    assert "no-such-spool" in config
    proxy.config_path.write_text(config)
    refused = cli(proxy.config_path, "release", held["id"], "--reason", "x", check=False)
    assert refused.returncode == 73, refused
    err = refused.stderr.decode()
    assert "cannot spool" in err and "spool_directory" in err and "no-such-spool" in err and "stays held" in err
    assert "quarantine store" not in err
    assert set(states(proxy.config_path, held["id"]).values()) == {"held"}
    assert upstream.messages == []
