"""Notices through the outbox, as a postmaster sees them: a message held by the real proxy over
SMTP (an encrypted archive) writes notices in the hold's transaction; the gateway's notice service
sends them through the real upstream (aiosmtpd), which the tests read as a mail reader would.
Exactly once across a gateway killed while the upstream was down; never to a sender outside the
agencies; a notice passing through again is recognised, a forged copy of its header is not."""

import email
import json
import re
import smtplib
import subprocess
import time
from email.policy import default as default_policy

from conftest import BINARY, ROOT, held_messages, strip_trace
from test_quarantine import encrypted_zip, held_message

AGENCY = """
[[agency]]
id = "quangninh"
name = "UBND tỉnh Quảng Ninh"
domains = ["quangninh.gov.vn", "*.quangninh.gov.vn"]
officer = ["antoan@quangninh.gov.vn"]
notify = ["vanthu-tonghop@quangninh.gov.vn"]
"""


def notify_sections(to=("officer", "sender_agency"), mode="immediate", tmp=None, **extra):
    notify = {"retry": ["1s"], "templates": str(ROOT / "Config" / "notices"), "from": "thugate@quangninh.gov.vn"}
    if tmp is not None:
        # Shared by every gateway of a test: the restarted one reads the same key.
        notify["key_file"] = str(tmp / "notice.key")
    notify.update(extra)
    return {"notify": notify, "notify.encrypted_archive": {"to": list(to), "mode": mode}}


def start(gateway_factory, upstream_port, tmp_path, store=None, to=("officer", "sender_agency"), **extra):
    sections = notify_sections(to=to, tmp=tmp_path, **extra)
    if store is not None:
        sections["quarantine"] = {"database": str(store)}
    url = f"smtp://127.0.0.1:{upstream_port}"
    return gateway_factory(url, upstream={"url": url, "connect_timeout": "2s"}, sections=sections, raw=AGENCY)


def send(gateway, data, sender="vanthu@quangninh.gov.vn", recipients=("lanhdao@quangninh.gov.vn",)):
    with smtplib.SMTP("127.0.0.1", gateway.port, timeout=60) as client:
        client.ehlo("client.test")
        client.mail(sender)
        for rcpt in recipients:
            client.rcpt(rcpt)
        code, text = client.data(data)
        return code, text.decode("utf-8", "replace")


def notify_cli(config_path, *args, check=True):
    result = subprocess.run([str(BINARY), "notify", *args, "--config", str(config_path)], capture_output=True, timeout=60)
    if check:
        assert result.returncode == 0, (result.returncode, result.stderr.decode(errors="replace"))
    return result


def notices(config_path, *flags):
    out = notify_cli(config_path, "list", "--format", "json", *flags).stdout.decode()
    return [json.loads(line) for line in out.splitlines()]


def wait_until(predicate, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_a_hold_notifies_the_officer_and_the_sending_agency_without_its_content(gateway_factory, upstream, tmp_path):
    gateway = start(gateway_factory, upstream.port, tmp_path)
    data = held_message(tmp_path, subject="Hồ sơ dự toán 2027", payload=b"BI-MAT-NOI-DUNG\n", extra_body="Kinh gui NOI-DUNG-THU.\n")
    code, text = send(gateway, data)
    assert code == 250 and "Held for review" in text, text
    [held] = held_messages(gateway.config_path)
    assert wait_until(lambda: len(upstream.messages) >= 2), gateway.log_lines
    time.sleep(0.5)
    assert len(upstream.messages) == 2
    by_rcpt = {tuple(m["rcpt_tos"]): m for m in upstream.messages}
    assert set(by_rcpt) == {("antoan@quangninh.gov.vn",), ("vanthu-tonghop@quangninh.gov.vn",)}
    for m in upstream.messages:
        assert m["mail_from"] == "<>"  # nothing answers a notice
        raw = m["content"]
        parsed = email.message_from_bytes(raw, policy=default_policy)
        assert parsed["Auto-Submitted"] == "auto-generated"
        assert parsed["From"] == "ThuGate <thugate@quangninh.gov.vn>"
        assert re.fullmatch(r"<notice\.[0-9a-z]{18}@thugate\.test>", parsed["Message-ID"])
        assert re.search(r"\+0700$", parsed["Date"])
        assert parsed["X-ThuGate-Notice"].startswith("v=1; id=notice.")
        # Every header line is ASCII (RFC 2047 words for Vietnamese) and the Subject decodes.
        header = raw.split(b"\r\n\r\n", 1)[0]
        assert all(b < 0x80 for b in header)
        assert "Thư bị giữ lại" in str(parsed["Subject"]) and "encrypted-archive" in str(parsed["Subject"])
        body = parsed.get_content()
        assert held["id"] in body and f"thugate quarantine show {held['id']}" in body
        assert "Hồ sơ dự toán 2027" in body and "+07:00" in body and "a.zip" in body
        # Nothing of the held message: no attachment, none of its text, not its zip bytes.
        assert not parsed.is_multipart() and parsed.get_content_type() == "text/plain"
        for secret in (b"BI-MAT-NOI-DUNG", b"NOI-DUNG-THU", b"PK\x03\x04"):
            assert secret not in raw and secret.decode("latin-1") not in body
    listed = notices(gateway.config_path)
    assert {n["state"] for n in listed} == {"sent"} and {n["message_id"] for n in listed} == {held["id"]}
    assert {n["role"] for n in listed} == {"officer", "sender_agency"}
    assert notices(gateway.config_path, "--pending") == [] and notices(gateway.config_path, "--dead") == []


def test_notices_survive_a_kill_while_the_upstream_is_down_and_arrive_once(gateway_factory, upstream, tmp_path):
    store = tmp_path / "store.sqlite"
    # The main server takes the client's MAIL and RCPT (the proxy needs them) but cannot take mail
    # now: every notice gets 451 at its final dot.
    upstream.data_reply = "451 4.3.0 Try again later"
    down = start(gateway_factory, upstream.port, tmp_path, store=store, to=("officer",))
    assert send(down, held_message(tmp_path, payload=b"lan mot\n"))[0] == 250
    assert down.wait_for_log(lambda line: "outbox: notice" in line and "not sent" in line), down.log_lines
    [pending] = notices(down.config_path, "--pending")
    assert pending["attempts"] >= 1 and pending["last_reply"].startswith("451")
    down.kill()
    assert upstream.messages == []
    upstream.data_reply = None

    up = start(gateway_factory, upstream.port, tmp_path, store=store, to=("officer",))
    assert wait_until(lambda: len(upstream.messages) >= 1), up.log_lines
    time.sleep(2.5)  # three retry intervals: a second copy would have come
    assert len(upstream.messages) == 1
    assert upstream.messages[0]["rcpt_tos"] == ["antoan@quangninh.gov.vn"]
    [sent] = notices(up.config_path)
    assert sent["state"] == "sent" and sent["attempts"] >= 2 and sent["mail_id"].startswith("<notice.")
    # And again after a clean restart: nothing more goes out.
    up.terminate()
    again = start(gateway_factory, upstream.port, tmp_path, store=store, to=("officer",))
    time.sleep(1.5)
    assert len(upstream.messages) == 1
    again.terminate()


def test_a_sender_outside_the_agencies_or_a_forged_from_is_never_told(gateway_factory, upstream, tmp_path):
    gateway = start(gateway_factory, upstream.port, tmp_path, to=("sender", "sender_agency"))
    outside = held_message(tmp_path, payload=b"ngoai\n").replace(b"vanthu@quangninh.gov.vn", b"someone@example.com")
    assert send(gateway, outside, sender="someone@example.com")[0] == 250
    assert send(gateway, held_message(tmp_path, payload=b"rong\n"), sender="")[0] == 250
    # The envelope says the agency, the header From says someone else: not verified.
    forged, count = re.subn(rb"^From: [^\r\n]*\r\n", b"From: <boss@example.com>\r\n", held_message(tmp_path, payload=b"gia mao\n"), 1, re.M)
    assert count == 1
    assert send(gateway, forged)[0] == 250
    assert len(held_messages(gateway.config_path)) == 3
    time.sleep(1.5)
    assert upstream.messages == [] and notices(gateway.config_path) == []
    # The same rule for a verified agency sender does notify it and its agency.
    assert send(gateway, held_message(tmp_path, payload=b"that\n"))[0] == 250
    assert wait_until(lambda: len(upstream.messages) >= 2)
    assert sorted(m["rcpt_tos"][0] for m in upstream.messages) == ["vanthu-tonghop@quangninh.gov.vn", "vanthu@quangninh.gov.vn"]


def test_a_notice_passing_through_again_is_recognised_and_a_copied_header_is_not(gateway_factory, upstream, tmp_path):
    gateway = start(gateway_factory, upstream.port, tmp_path, to=("officer",))
    assert send(gateway, held_message(tmp_path, payload=b"goc\n"))[0] == 250
    assert wait_until(lambda: len(upstream.messages) >= 1)
    notice = upstream.messages[0]["content"]
    # The notice comes back through ThuGate (to the officer's mailbox on another server): relayed.
    code, text = send(gateway, notice, sender="", recipients=("antoan@quangninh.gov.vn",))
    assert code == 250 and "Held" not in text
    assert wait_until(lambda: len(upstream.messages) >= 2)
    assert strip_trace(upstream.messages[1]["content"])[1] == notice
    assert len(notices(gateway.config_path)) == 1
    assert gateway.wait_for_log(lambda line: "ThuGate's own notice notice." in line and "MAC verified" in line)
    assert not any("X-ThuGate-Notice header ignored" in line for line in gateway.log_lines)

    # Its header copied onto a message with an encrypted archive: held and notified as any other.
    header = re.search(rb"X-ThuGate-Notice: [^\r\n]+\r\n", notice).group(0)
    forged = header + held_message(tmp_path, payload=b"mao danh\n")
    code, text = send(gateway, forged)
    assert code == 250 and "Held for review" in text
    assert gateway.wait_for_log(lambda line: "X-ThuGate-Notice header ignored (not sent as a notice" in line)
    assert wait_until(lambda: len(notices(gateway.config_path)) == 2)

    # The notice itself sent again from <> to its officer, with a Subject of the sender's own
    # (state-secret text in a header nobody signed): not taken for a notice, inspected as any other.
    resubjected = notice.replace(b"\r\nSubject: ", b"\r\nSubject: TUYET MAT ", 1)
    code, text = send(gateway, resubjected, sender="", recipients=("antoan@quangninh.gov.vn",))
    assert gateway.wait_for_log(lambda line: "X-ThuGate-Notice header ignored (MAC does not verify)" in line)
    extra = b"X-Secret: TUYET MAT\r\n" + notice
    code, text = send(gateway, extra, sender="", recipients=("antoan@quangninh.gov.vn",))
    assert gateway.wait_for_log(lambda line: "X-ThuGate-Notice header ignored (unsigned field x-secret)" in line)


def test_a_refused_notice_is_dead_and_retry_sends_it(gateway_factory, upstream, tmp_path):
    upstream.refuse_recipients["antoan@quangninh.gov.vn"] = "550 5.1.1 No such user"
    gateway = start(gateway_factory, upstream.port, tmp_path, to=("officer",))
    assert send(gateway, held_message(tmp_path, payload=b"chet\n"))[0] == 250
    assert wait_until(lambda: len(notices(gateway.config_path, "--dead")) == 1), gateway.log_lines
    [dead] = notices(gateway.config_path, "--dead")
    assert dead["last_reply"].startswith("550 5.1.1") and dead["attempts"] == 1
    table = notify_cli(gateway.config_path, "list", "--dead").stdout.decode()
    assert dead["id"] in table and "dead" in table and "antoan@quangninh.gov.vn" in table

    del upstream.refuse_recipients["antoan@quangninh.gov.vn"]
    retried = notify_cli(gateway.config_path, "retry", dead["id"][:12])
    assert b"due again" in retried.stderr
    assert wait_until(lambda: notices(gateway.config_path)[0]["state"] == "sent"), gateway.log_lines
    assert len(upstream.messages) == 1
    missing = notify_cli(gateway.config_path, "retry", "zzzz", check=False)
    assert missing.returncode == 66


def test_a_refused_virus_notifies_through_the_verdict_log(gateway_factory, upstream, tmp_path):
    """Not held: the notice is written with the message's verdict log entry (the shipped rule for
    `virus`: the officer and the verified sender's agency, immediately)."""
    from email.message import EmailMessage
    from email.policy import SMTP
    from samples import EICAR
    sections = notify_sections(tmp=tmp_path)
    del sections["notify.encrypted_archive"]
    url = f"smtp://127.0.0.1:{upstream.port}"
    gateway = gateway_factory(url, upstream={"url": url}, sections=sections, raw=AGENCY)
    msg = EmailMessage()
    msg["From"] = "vanthu@quangninh.gov.vn"
    msg["To"] = "lanhdao@quangninh.gov.vn"
    msg["Subject"] = "Bảng lương"
    msg.set_content("Kinh gui.\n")
    msg.add_attachment(EICAR, maintype="application", subtype="octet-stream", filename="luong.exe.txt")
    with smtplib.SMTP("127.0.0.1", gateway.port, timeout=60) as client:
        client.ehlo("client.test")
        client.mail("vanthu@quangninh.gov.vn")
        client.rcpt("lanhdao@quangninh.gov.vn")
        code, text = client.data(msg.as_bytes(policy=SMTP))
        assert code == 554 and b"EICAR" in text, text
    assert wait_until(lambda: len(upstream.messages) >= 2), gateway.log_lines
    assert sorted(m["rcpt_tos"][0] for m in upstream.messages) == ["antoan@quangninh.gov.vn", "vanthu-tonghop@quangninh.gov.vn"]
    for m in upstream.messages:
        parsed = email.message_from_bytes(m["content"], policy=default_policy)
        assert "Message refused: virus" in str(parsed["Subject"])
        body = parsed.get_content()
        assert "ThuGate.Test.EICAR" in body and "Bảng lương" in body and "thugate quarantine show" not in body
        assert b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE" not in m["content"] and "EICAR-STANDARD" not in body
    listed = notices(gateway.config_path)
    assert {(n["outcome"], n["message_id"], n["state"]) for n in listed} == {("refused", None, "sent")}


def test_check_config_reads_the_templates_and_the_key(tmp_path):
    import shutil
    templates = tmp_path / "notices"
    shutil.copytree(ROOT / "Config" / "notices", templates)
    config = tmp_path / "thugate.toml"
    config.write_text(f'[notify]\ntemplates = "notices"\nkey_file = "notice.key"\n' + AGENCY)
    check = lambda: subprocess.run([str(BINARY), "check-config", "--config", str(config)], capture_output=True, text=True, timeout=30)
    assert check().returncode == 0
    assert not (tmp_path / "notice.key").exists()  # only `serve` creates it
    (templates / "digest-item.txt").write_text("- {time} {attachment_text}\n")
    result = check()
    assert result.returncode == 78 and "digest-item.txt:1: unknown placeholder {attachment_text}" in result.stderr, result.stderr
    shutil.copy(ROOT / "Config" / "notices" / "digest-item.txt", templates / "digest-item.txt")
    (tmp_path / "notice.key").write_text("ab" * 32 + "\n")
    (tmp_path / "notice.key").chmod(0o644)
    result = check()
    assert result.returncode == 78 and "readable by others" in result.stderr, result.stderr
    (tmp_path / "notice.key").chmod(0o600)
    assert check().returncode == 0


def test_a_notice_claimed_by_a_killed_gateway_is_sent_after_the_restart(gateway_factory, upstream, tmp_path):
    """Killed while the upstream was still answering its final dot: the row stays claimed
    (`sending`) by a process that is gone; the next gateway on this machine takes the claim back at
    once (not after the lease of half an hour) and sends the notice, once."""
    store = tmp_path / "store.sqlite"
    upstream.data_delay = 30
    upstream.data_reply = "451 4.3.0 Try again later"
    first = start(gateway_factory, upstream.port, tmp_path, store=store, to=("officer",))
    assert send(first, held_message(tmp_path, payload=b"dang gui\n"))[0] == 250
    assert wait_until(lambda: [n["state"] for n in notices(first.config_path)] == ["sending"])
    first.kill()
    upstream.data_delay = 0
    upstream.data_reply = None
    second = start(gateway_factory, upstream.port, tmp_path, store=store, to=("officer",))
    assert second.wait_for_log(lambda line: "claimed by a process that is gone are due again" in line), second.log_lines
    assert wait_until(lambda: len(upstream.messages) >= 1), second.log_lines
    assert wait_until(lambda: notices(second.config_path)[0]["state"] == "sent")
    time.sleep(1.5)
    assert len(upstream.messages) == 1 and upstream.messages[0]["rcpt_tos"] == ["antoan@quangninh.gov.vn"]
    assert notices(second.config_path)[0]["attempts"] == 2
