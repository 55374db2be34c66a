"""ThuGate as Postfix's milter (issue 15): a real Postfix 3.7 on loopback (postfix.py) calls
`thugate serve --mode milter`, a real SMTP client (smtplib) sends to Postfix, and an aiosmtpd sink
receives what Postfix delivers. Every rule, transform and quarantine acts as in proxy mode; the
client hears ThuGate's reply through Postfix."""
import grp
import os
import shutil
import smtplib
import stat
import subprocess
import tempfile
import time
import unicodedata

import pytest

import samples
from conftest import BINARY, findings_text, held_messages, quarantine_cli
from postfix import Postfix
from test_quarantine import held_message
from test_text import SUBJECT, TEXT, body_text, message_from_bytes, raw_message, tcvn3

# Date and Message-ID given: Postfix adds them when missing, and only its Received: is expected.
CLEAN = (b"From: Van thu <vanthu@quangninh.gov.vn>\r\nTo: lanhdao@quangninh.gov.vn\r\nSubject: Lich hop\r\n"
         b"Date: Wed, 02 Dec 2026 08:00:00 +0700\r\n"
         b"Message-ID: <lich-hop-1@quangninh.gov.vn>\r\nMIME-Version: 1.0\r\n"
         b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
         + "Kính gửi các đồng chí,\r\nLịch họp tuần sau.\r\n.dòng bắt đầu bằng dấu chấm\r\n".encode())


def milter_gateway(gateway_factory, upstream, sections=None, env=None, mode="milter"):
    url = f"smtp://127.0.0.1:{upstream.port}"
    gateway = gateway_factory(url, upstream={"url": url}, sections=sections, env=env,
                              args=("--mode", mode, "--milter-listen", "inet:127.0.0.1:0"))
    deadline = time.time() + 10
    while gateway.milter_port is None and time.time() < deadline:
        time.sleep(0.05)
    assert gateway.milter_port, gateway.log_lines
    return gateway


@pytest.fixture
def postfix_factory():
    started = []

    def make(gateway, upstream, extra=None, milter=None):
        instance = Postfix(milter or f"inet:127.0.0.1:{gateway.milter_port}", upstream.port, extra=extra)
        started.append(instance)
        return instance

    yield make
    for instance in started:
        instance.stop()


def send(postfix, data, sender="vanthu@quangninh.gov.vn", recipients=("lanhdao@quangninh.gov.vn",), port=None):
    """Sends through Postfix; returns (code, text) of the reply to the message data."""
    with smtplib.SMTP("127.0.0.1", port or postfix.port, timeout=120) as client:
        client.ehlo("client.test")
        client.mail(sender)
        for recipient in recipients:
            client.rcpt(recipient)
        code, text = client.data(data)
        return code, text.decode("utf-8", "replace")


def delivered_without_postfix_header(content: bytes) -> bytes:
    """What Postfix delivered without the one Received: header it adds."""
    assert content.startswith(b"Received: from client.test"), content[:300]
    end = content.index(b"\r\n")
    while content[end + 2:end + 3] in (b"\t", b" "):
        end = content.index(b"\r\n", end + 2)
    return content[end + 2:]


def test_clean_mail_is_delivered_with_only_postfixs_own_header(gateway_factory, upstream, postfix_factory):
    gateway = milter_gateway(gateway_factory, upstream)
    postfix = postfix_factory(gateway, upstream)
    code, _ = send(postfix, CLEAN)
    assert code == 250
    upstream.wait_for_messages(1, timeout=30)
    assert delivered_without_postfix_header(upstream.messages[0]["content"]) == CLEAN
    # ThuGate logged it under Postfix's queue id, with the client Postfix saw.
    queue_id = upstream.messages[0]["content"].split(b"with ESMTP id ")[1].split(b"\r\n")[0].split()[0].decode()
    assert gateway.wait_for_log(lambda line: f"{queue_id}: client=client.test[127.0.0.1]" in line and "result=sent" in line), \
        gateway.log_lines


def test_eicar_is_refused_with_thugates_reply(gateway_factory, upstream, postfix_factory):
    gateway = milter_gateway(gateway_factory, upstream)
    postfix = postfix_factory(gateway, upstream)
    data = CLEAN.replace(b"Lich hop", b"Virus").replace("Lịch họp tuần sau.".encode(), samples.EICAR)
    code, text = send(postfix, data)
    assert code == 554
    assert text.startswith("5.7.0 ") and "ThuGate.Test.EICAR.UNOFFICIAL" in text, text
    # The same bilingual text the proxy gives (UTF-8: Postfix passes it on).
    assert "virus" in text.lower() and " / " in text
    time.sleep(1)
    assert upstream.messages == []
    assert "milter-reject: END-OF-MESSAGE" in postfix.log_text()


def test_encrypted_zip_is_discarded_by_postfix_held_by_thugate_and_released_through_10025(
        gateway_factory, upstream, postfix_factory, tmp_path):
    gateway = milter_gateway(gateway_factory, upstream)
    postfix = postfix_factory(gateway, upstream)
    # Releases go back through the Postfix port that calls no milter.
    config = gateway.config_path
    config.write_text(config.read_text().replace("[quarantine]", f'[quarantine]\nrelease_to = "smtp://127.0.0.1:{postfix.reinject_port}"'))
    # Dated: Postfix adds a missing Date: (and shows it to the milter).
    data = b"Date: Wed, 02 Dec 2026 08:00:00 +0700\r\n" + held_message(tmp_path)
    code, _ = send(postfix, data)
    assert code == 250, "the client's part is done: the message is held"
    held = held_messages(config)
    assert len(held) == 1 and "encrypted-archive" in findings_text(held[0])
    assert "milter-discard: END-OF-MESSAGE" in postfix.log_text()
    time.sleep(1)
    assert upstream.messages == []
    # Byte for byte what the client sent (Postfix shows a milter no header of its own).
    raw = quarantine_cli(config, "show", held[0]["id"], "--raw").stdout
    assert raw == data
    quarantine_cli(config, "release", held[0]["id"], "--reason", "mật khẩu đã hỏi người gửi")
    upstream.wait_for_messages(1, timeout=30)
    delivered = upstream.messages[0]["content"]
    assert b"X-ThuGate-Released: " + held[0]["id"].encode() in delivered and delivered.endswith(data)


def test_mta_hold_keeps_the_message_in_postfixs_hold_queue(gateway_factory, upstream, postfix_factory, tmp_path):
    gateway = milter_gateway(gateway_factory, upstream, sections={"milter": {"quarantine": "mta-hold"}})
    postfix = postfix_factory(gateway, upstream)
    code, _ = send(postfix, held_message(tmp_path))
    assert code == 250
    queued = postfix.queue_json()
    assert [entry["queue_name"] for entry in queued] == ["hold"], queued
    assert held_messages(gateway.config_path) == []
    assert "milter-hold: END-OF-MESSAGE" in postfix.log_text(), postfix.log_text()
    # `postsuper -H` releases it; Postfix delivers it with ThuGate's findings header.
    subprocess.run(["postsuper", "-c", str(postfix.etc), "-H", "ALL"], check=True, capture_output=True)
    upstream.wait_for_messages(1, timeout=30)
    assert b"X-ThuGate-Findings: encrypted-archive" in upstream.messages[0]["content"]


def test_tcvn3_body_and_subject_arrive_as_utf8_nfc(gateway_factory, upstream, postfix_factory):
    gateway = milter_gateway(gateway_factory, upstream)
    postfix = postfix_factory(gateway, upstream)
    subject = b"=?iso-8859-1?Q?" + "".join(f"={b:02X}" if b >= 0x80 or b in b" _=?" else chr(b)
                                          for b in tcvn3(SUBJECT)).encode() + b"?="
    # A body over 200 KB: the new body goes back in several SMFIR_REPLBODY packets.
    body = tcvn3(TEXT * 1500)
    assert len(body) > 200_000
    code, _ = send(postfix, raw_message(body, subject=subject))
    assert code == 250
    upstream.wait_for_messages(1, timeout=30)
    content = upstream.messages[0]["content"]
    message = message_from_bytes(content)
    assert message["Subject"] == SUBJECT
    text = body_text(content)
    assert text == unicodedata.normalize("NFC", TEXT * 1500) and unicodedata.is_normalized("NFC", text)
    assert "tcvn3→utf-8 (part 1)" in message["X-ThuGate-Normalized"]
    # The findings header on top (SMFIR_INSHEADER at 0), above Postfix's Received:.
    assert content.startswith(b"X-ThuGate-Findings: ") and content.count(b"\r\nReceived: from client.test") == 1


def test_dkim_signed_message_is_untouched(gateway_factory, upstream, postfix_factory):
    gateway = milter_gateway(gateway_factory, upstream)
    postfix = postfix_factory(gateway, upstream)
    signature = b"DKIM-Signature: v=1; a=rsa-sha256; d=example.org; s=mail;\r\n\tb=abc\r\n"
    dated = b"Date: Wed, 02 Dec 2026 08:00:00 +0700\r\nMessage-ID: <ky-so@example.org>\r\n"
    data = raw_message(tcvn3(TEXT), extra_headers=signature + dated)
    data = data.replace(b"vanthu@quangninh.gov.vn", b"vanthu@example.org")
    code, _ = send(postfix, data, sender="vanthu@example.org")
    assert code == 250
    upstream.wait_for_messages(1, timeout=30)
    # ThuGate's findings header inserted at the top (SMFIR_INSHEADER index 0), then Postfix's
    # Received:, then the signed header fields and the body as sent.
    findings, rest = upstream.messages[0]["content"].split(b"\r\n", 1)
    assert findings.startswith(b"X-ThuGate-Findings: legacy-encoding(1): tcvn3 found, not converted (signed message)")
    assert delivered_without_postfix_header(rest) == data


SLOW_SCAN = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <string.h>
#include <unistd.h>

/* libclamav: cl_fmap_t *cl_fmap_open_memory(const void *start, size_t len); */
void *cl_fmap_open_memory(const void *start, size_t len) {
    static void *(*real)(const void *, size_t);
    if (!real) real = (void *(*)(const void *, size_t))dlsym(RTLD_NEXT, "cl_fmap_open_memory");
    if (memmem(start, len, "THUGATE-SLOW-SCAN", 17)) sleep(%d);
    return real(start, len);
}
"""


def slow_scan(tmp_path, seconds):
    """An LD_PRELOAD library that makes libclamav take `seconds` on a part holding a marker."""
    source = tmp_path / "slow.c"
    source.write_text(SLOW_SCAN % seconds)
    library = tmp_path / "slow.so"
    subprocess.run([samples.tool("gcc"), "-shared", "-fPIC", "-O2", str(source), "-o", str(library), "-ldl"], check=True)
    return {"LD_PRELOAD": str(library)}


def test_a_scan_longer_than_postfixs_content_timeout_survives_on_progress(gateway_factory, upstream, postfix_factory,
                                                                       tmp_path):
    gateway = milter_gateway(gateway_factory, upstream, env=slow_scan(tmp_path, 8),
                             sections={"milter": {"progress_interval": "1s"}})
    postfix = postfix_factory(gateway, upstream, extra={"milter_content_timeout": "3s"})
    started = time.time()
    code, _ = send(postfix, CLEAN.replace("Lịch họp tuần sau.".encode(), b"THUGATE-SLOW-SCAN"))
    assert code == 250 and time.time() - started >= 7
    upstream.wait_for_messages(1, timeout=30)


def test_thugate_killed_mid_message_gives_the_client_a_4xx(gateway_factory, upstream, postfix_factory, tmp_path):
    gateway = milter_gateway(gateway_factory, upstream, env=slow_scan(tmp_path, 30))
    postfix = postfix_factory(gateway, upstream)

    def kill_soon():
        time.sleep(2)
        gateway.kill()

    import threading
    threading.Thread(target=kill_soon, daemon=True).start()
    code, text = send(postfix, CLEAN.replace("Lịch họp tuần sau.".encode(), b"THUGATE-SLOW-SCAN"))
    assert 400 <= code < 500, (code, text)
    assert upstream.messages == []


def test_both_modes_serve_one_inspection(gateway_factory, upstream, postfix_factory):
    """`--mode both`: the proxy and the milter side by side, the same rules on each."""
    gateway = milter_gateway(gateway_factory, upstream, mode="both")
    postfix = postfix_factory(gateway, upstream)
    data = CLEAN.replace("Lịch họp tuần sau.".encode(), samples.EICAR)
    replies = [send(postfix, data, port=port) for port in (gateway.port, postfix.port)]
    assert [code for code, _ in replies] == [554, 554]
    # One reply text, whether the proxy or the milter (through Postfix) gives it.
    assert replies[0][1] == replies[1][1] and "ThuGate.Test.EICAR.UNOFFICIAL" in replies[0][1]
    assert send(postfix, CLEAN)[0] == 250
    upstream.wait_for_messages(1, timeout=30)


def test_milter_listen_refuses_a_public_address(tmp_path):
    result = subprocess.run([str(BINARY), "serve", "--mode", "milter", "--milter-listen", "inet:0.0.0.0:8899"],
                            capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode != 0 and "loopback" in result.stderr


def test_unix_socket_is_group_postfix_mode_0660_and_postfix_uses_it(gateway_factory, upstream, postfix_factory):
    # A directory the `postfix` user can reach (pytest's are root's alone).
    directory = tempfile.mkdtemp(prefix="thugate-milter-")
    os.chmod(directory, 0o755)
    socket_path = os.path.join(directory, "thugate.sock")
    try:
        url = f"smtp://127.0.0.1:{upstream.port}"
        gateway = gateway_factory(url, upstream={"url": url}, sections={"milter": {"socket_group": "postfix"}},
                                  args=("--mode", "milter", "--milter-listen", f"unix:{socket_path}"))
        mode = os.stat(socket_path)
        assert stat.S_ISSOCK(mode.st_mode) and stat.S_IMODE(mode.st_mode) == 0o660
        assert grp.getgrgid(mode.st_gid).gr_name == "postfix"
        postfix = postfix_factory(gateway, upstream, milter=f"unix:{socket_path}")
        assert send(postfix, CLEAN)[0] == 250
        upstream.wait_for_messages(1, timeout=30)
        # Stopped, the gateway takes its socket away.
        assert gateway.terminate() == 0
        assert not os.path.exists(socket_path)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def test_official_only_mailbox_refuses_one_recipient_at_rcpt(gateway_factory, upstream, postfix_factory):
    gateway = milter_gateway(gateway_factory, upstream, sections={"policy": {"official_only_mailboxes": ["q4@tphcm.gov.vn"]}})
    postfix = postfix_factory(gateway, upstream)
    with smtplib.SMTP("127.0.0.1", postfix.port, timeout=60) as client:
        client.ehlo("client.test")
        client.mail("ban.doc@gmail.com")
        code, text = client.rcpt("q4@tphcm.gov.vn")
        assert code == 550 and b"5.7.1" in text, (code, text)
        assert client.rcpt("lanhdao@quangninh.gov.vn")[0] == 250
        assert client.data(CLEAN)[0] == 250
    upstream.wait_for_messages(1, timeout=30)
    assert upstream.messages[0]["rcpt_tos"] == ["lanhdao@quangninh.gov.vn"]
    assert gateway.wait_for_log(lambda line: "NOQUEUE: reject: RCPT to=<q4@tphcm.gov.vn> from=<ban.doc@gmail.com>: 550 5.7.1" in line)
    # Postfix says who refused it.
    assert "milter-reject: RCPT from localhost[127.0.0.1]: 550 5.7.1" in postfix.log_text()


def test_check_config_shows_the_milter_settings(tmp_path):
    config = tmp_path / "milter.toml"
    config.write_text('[milter]\nlisten = ["unix:run/milter.sock"]\nquarantine = "mta-hold"\n'
                      '[quarantine]\nrelease_to = "smtp://127.0.0.1:10025"\n')
    run = subprocess.run([str(BINARY), "check-config", "--config", str(config)], capture_output=True, text=True, timeout=30)
    assert run.returncode == 0, run.stderr
    assert f"milter: listen unix:{tmp_path}/run/milter.sock; quarantine mta-hold; releases through smtp://127.0.0.1:10025" in run.stdout
    config.write_text('[milter]\nlisten = ["inet:10.0.0.1:8899"]\n')
    run = subprocess.run([str(BINARY), "check-config", "--config", str(config)], capture_output=True, text=True, timeout=30)
    assert run.returncode != 0 and ":2: milter.listen:" in run.stderr and "loopback" in run.stderr, run.stderr


def test_sigterm_serves_postfixs_open_session_to_its_end(gateway_factory, upstream, postfix_factory):
    """Postfix keeps one milter connection for a whole SMTP session and opens no other within it:
    on SIGTERM ThuGate stops listening but serves that connection until Postfix quits it, so the
    session's next message is still inspected (an EICAR still refused), then exits 0."""
    gateway = milter_gateway(gateway_factory, upstream)
    postfix = postfix_factory(gateway, upstream)
    eicar = CLEAN.replace("Lịch họp tuần sau.".encode(), samples.EICAR)
    with smtplib.SMTP("127.0.0.1", postfix.port, timeout=60) as client:
        client.ehlo("client.test")
        for data, expected in ((CLEAN, 250), (None, None), (eicar, 554), (CLEAN, 250)):
            if data is None:
                gateway.proc.send_signal(subprocess.signal.SIGTERM)
                assert gateway.wait_for_log(lambda line: "milter shutting down" in line)
                continue
            client.mail("vanthu@quangninh.gov.vn")
            client.rcpt("lanhdao@quangninh.gov.vn")
            assert client.data(data)[0] == expected
    assert gateway.proc.wait(30) == 0
    upstream.wait_for_messages(2, timeout=30)


def test_hostile_frames_close_only_their_connection(gateway_factory, upstream):
    """A declared 2 GiB frame, a zero-length one, a packet cut short, a command before the
    negotiation: each connection is closed without an answer, and the next MTA is served."""
    import socket
    import struct
    gateway = milter_gateway(gateway_factory, upstream)

    def talk(data, wait=5):
        with socket.create_connection(("127.0.0.1", gateway.milter_port), timeout=wait) as s:
            s.sendall(data)
            if data.endswith(b"CUT"):
                s.shutdown(socket.SHUT_WR)
            received = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    return received
                received += chunk

    postfix_offer = struct.pack(">IcIII", 13, b"O", 6, 0x1FF, 0x1FFFFF)
    assert talk(b"\x80\x00\x00\x00") == b""
    assert talk(b"\x00\x00\x00\x00") == b""
    assert talk(b"\x00\x00\x00\x20O\x00\x00\x00CUT") == b""
    assert talk(struct.pack(">Ic", 1, b"E")) == b""
    # An MTA that negotiates is answered at once, and told what ThuGate wants.
    with socket.create_connection(("127.0.0.1", gateway.milter_port), timeout=5) as s:
        s.sendall(postfix_offer)
        header = s.recv(5)
        assert header[4:5] == b"O"
        length = struct.unpack(">I", header[:4])[0]
        payload = b""
        while len(payload) < length - 1:
            payload += s.recv(4096)
        # Store mode: no quarantine action asked for (0x11B), every no-reply flag but RCPT's.
        assert struct.unpack(">III", payload[:12]) == (6, 0x11B, 0x1F7380)
    assert gateway.wait_for_log(lambda line: "bad frame" in line), gateway.log_lines[-10:]
