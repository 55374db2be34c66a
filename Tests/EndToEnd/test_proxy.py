"""The transactional proxy, driven by real clients (smtplib, swaks, raw sockets) through the
real binary to a real upstream (aiosmtpd)."""
import os
import smtplib
import socket
import ssl
import subprocess
import time

import pytest

from conftest import RawClient, Upstream, has_bare_line_ending, make_certificate, strip_trace

MESSAGE = (b"From: Van Thu <vanthu@quangninh.gov.vn>\r\n"
           b"To: Phong Hanh Chinh <hanhchinh@quangninh.gov.vn>\r\n"
           b"Subject: =?utf-8?b?Q8O0bmcgdsSDbg==?=\r\n"
           b"Message-ID: <1@test>\r\n"
           b"\r\n"
           b"Line one\r\n"
           b".A line that starts with a dot\r\n"
           b"..two dots\r\n"
           b"\r\n"
           b"Last line\r\n")


def send(gateway, sender, recipients, message, **kwargs):
    with smtplib.SMTP("127.0.0.1", gateway.port, timeout=20) as client:
        return client.sendmail(sender, recipients, message, **kwargs)


def test_message_arrives_byte_for_byte_after_one_trace_header(gateway, upstream):
    refused = send(gateway, "vanthu@quangninh.gov.vn", ["hanhchinh@quangninh.gov.vn"], MESSAGE)
    assert refused == {}
    [got] = upstream.wait_for_messages(1)
    header, rest = strip_trace(got["content"])
    assert rest == MESSAGE
    assert b"by thugate.test (ThuGate) with ESMTP id " in header
    assert b"for <hanhchinh@quangninh.gov.vn>" in header
    assert not rest.startswith(b"Received:")
    assert got["mail_from"] == "vanthu@quangninh.gov.vn"
    assert got["rcpt_tos"] == ["hanhchinh@quangninh.gov.vn"]
    assert gateway.wait_for_log(lambda line: "result=sent" in line and "from=<vanthu@quangninh.gov.vn>" in line
                                and "ms=" in line)


def test_ehlo_announces_extensions_and_every_reply_has_an_enhanced_status(raw):
    raw.send(b"EHLO client.test\r\n")
    code, text = raw.reply()
    assert code == 250
    for keyword in ["SIZE 36700160", "PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES", "SMTPUTF8"]:
        assert keyword in text.splitlines()
    assert "STARTTLS" not in text  # no certificate configured
    raw.send(b"NOOP\r\nHELP\r\nVRFY someone\r\nEXPN list\r\nRSET\r\nFOO bar\r\nQUIT\r\n")
    replies = raw.replies(7)
    assert [c for c, _ in replies] == [250, 214, 252, 502, 250, 500, 221]
    for _, text in replies:
        assert text.split()[0].count(".") == 2, text


def test_pipelined_session_two_messages_in_few_writes(gateway, upstream):
    client = RawClient(gateway.connect())
    assert client.reply()[0] == 220
    client.send(b"EHLO client.test\r\n")
    assert "PIPELINING" in client.reply()[1]
    client.send(b"MAIL FROM:<a@quangninh.gov.vn>\r\nRCPT TO:<b@quangninh.gov.vn>\r\n"
                b"RCPT TO:<c@quangninh.gov.vn>\r\nDATA\r\n")
    assert [c for c, _ in client.replies(4)] == [250, 250, 250, 354]
    # The end of the first message, and the whole envelope of the second, in one write.
    client.send(b"Subject: one\r\n\r\nfirst\r\n.\r\nMAIL FROM:<d@quangninh.gov.vn>\r\n"
                b"RCPT TO:<e@quangninh.gov.vn>\r\nDATA\r\n")
    assert [c for c, _ in client.replies(4)] == [250, 250, 250, 354]
    client.send(b"Subject: two\r\n\r\nsecond\r\n.\r\nQUIT\r\n")
    assert [c for c, _ in client.replies(2)] == [250, 221]
    first, second = upstream.wait_for_messages(2)
    assert strip_trace(first["content"])[1] == b"Subject: one\r\n\r\nfirst\r\n"
    assert first["rcpt_tos"] == ["b@quangninh.gov.vn", "c@quangninh.gov.vn"]
    assert strip_trace(second["content"])[1] == b"Subject: two\r\n\r\nsecond\r\n"
    assert second["mail_from"] == "d@quangninh.gov.vn"


def test_recipient_refused_by_upstream_gets_upstreams_reply(gateway, upstream):
    upstream.refuse_recipients["nobody@quangninh.gov.vn"] = "550 5.1.1 <nobody@quangninh.gov.vn>: unknown user"
    with smtplib.SMTP("127.0.0.1", gateway.port, timeout=20) as client:
        refused = client.sendmail("a@quangninh.gov.vn",
                                  ["b@quangninh.gov.vn", "nobody@quangninh.gov.vn", "c@quangninh.gov.vn"], MESSAGE)
    assert refused == {"nobody@quangninh.gov.vn": (550, b"5.1.1 <nobody@quangninh.gov.vn>: unknown user")}
    [got] = upstream.wait_for_messages(1)
    assert got["rcpt_tos"] == ["b@quangninh.gov.vn", "c@quangninh.gov.vn"]
    header, _ = strip_trace(got["content"])
    assert b"for <" not in header  # several recipients: none named in the trace header


def test_upstream_down_means_451_never_250(gateway_factory):
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    gateway = gateway_factory(f"smtp://127.0.0.1:{port}", upstream={"connect_timeout": "2s"})
    client = RawClient(gateway.connect())
    client.reply()
    client.send(b"EHLO c\r\nMAIL FROM:<a@quangninh.gov.vn>\r\n")
    client.reply()
    code, text = client.reply()
    assert code == 451 and text.startswith("4.4.1"), text


def test_upstream_tempfail_at_data_is_passed_as_4xx(gateway, upstream):
    upstream.data_reply = "451 4.3.0 Upstream is busy"
    with pytest.raises(smtplib.SMTPDataError) as error:
        send(gateway, "a@quangninh.gov.vn", ["b@quangninh.gov.vn"], MESSAGE)
    assert error.value.smtp_code == 451
    assert b"4.3.0 Upstream is busy" in error.value.smtp_error
    assert gateway.wait_for_log(lambda line: "result=deferred" in line)


def test_upstream_5xx_at_data_is_passed_through(gateway, upstream):
    upstream.data_reply = "554 5.7.1 Refused by upstream policy"
    with pytest.raises(smtplib.SMTPDataError) as error:
        send(gateway, "a@quangninh.gov.vn", ["b@quangninh.gov.vn"], MESSAGE)
    assert error.value.smtp_code == 554
    assert error.value.smtp_error == b"5.7.1 Refused by upstream policy"


def test_upstream_too_slow_means_451(gateway_factory, upstream):
    upstream.data_delay = 3
    gateway = gateway_factory(f"smtp://127.0.0.1:{upstream.port}", upstream={"data_timeout": "1s"})
    with pytest.raises(smtplib.SMTPDataError) as error:
        send(gateway, "a@quangninh.gov.vn", ["b@quangninh.gov.vn"], MESSAGE)
    assert error.value.smtp_code == 451 and error.value.smtp_error.startswith(b"4.4.1")


def test_size_parameter_over_the_limit_is_refused_at_mail(raw):
    raw.send(b"EHLO c\r\nMAIL FROM:<a@quangninh.gov.vn> SIZE=99999999999\r\n")
    raw.reply()
    code, text = raw.reply()
    assert code == 552 and text.startswith("5.3.4")


def test_message_over_the_limit_is_refused_after_the_dot_and_not_relayed(gateway_factory, upstream):
    gateway = gateway_factory(f"smtp://127.0.0.1:{upstream.port}", server={"max_message_size": "64KiB"})
    client = RawClient(gateway.connect())
    client.reply()
    # No SIZE parameter: the limit must hold during DATA too.
    client.send(b"EHLO c\r\nMAIL FROM:<a@quangninh.gov.vn>\r\nRCPT TO:<b@quangninh.gov.vn>\r\nDATA\r\n")
    assert [c for c, _ in client.replies(4)] == [250, 250, 250, 354]
    client.send(b"Subject: big\r\n\r\n" + (b"x" * 998 + b"\r\n") * 100 + b".\r\n")
    code, text = client.reply()
    assert code == 552 and text.startswith("5.3.4")
    # The session goes on: a small message still passes, and only it arrives.
    client.send(b"MAIL FROM:<a@quangninh.gov.vn>\r\nRCPT TO:<b@quangninh.gov.vn>\r\nDATA\r\n")
    assert [c for c, _ in client.replies(3)] == [250, 250, 354]
    client.send(MESSAGE + b".\r\n")
    assert client.reply()[0] == 250
    assert len(upstream.wait_for_messages(1)) == 1
    time.sleep(0.2)
    assert len(upstream.messages) == 1


def test_command_line_too_long(raw):
    raw.send(b"EHLO c\r\n")
    raw.reply()
    raw.send(b"MAIL FROM:<" + b"a" * 2000 + b"@quangninh.gov.vn>\r\nNOOP\r\n")
    code, text = raw.reply()
    assert code == 500 and text.startswith("5.5.2")
    assert raw.reply()[0] == 250  # the session goes on


def test_message_line_over_1000_octets_is_relayed_unchanged(gateway, upstream, raw):
    # Issue 9 item 3: as Postfix, long message lines are accepted (up to max_data_line_length,
    # see test_mime_shapes.py) and relayed as they came.
    raw.send(b"EHLO c\r\nMAIL FROM:<a@quangninh.gov.vn>\r\nRCPT TO:<b@quangninh.gov.vn>\r\nDATA\r\n")
    assert [c for c, _ in raw.replies(4)] == [250, 250, 250, 354]
    raw.send(b"Subject: long\r\n\r\n" + b"y" * 1200 + b"\r\n.\r\n")
    code, text = raw.reply()
    assert code == 250, text
    assert upstream.wait_for_messages(1)[0]["content"].endswith(b"\r\n\r\n" + b"y" * 1200 + b"\r\n")


SMUGGLING_ENDINGS = [b"\n.\r\n", b"\n.\n", b"\r.\r\n", b"\r\n.\n", b"\r\n.\r"]


@pytest.mark.parametrize("fake_end", SMUGGLING_ENDINGS, ids=repr)
def test_smuggling_attempt_is_refused_and_never_becomes_a_second_message(gateway, upstream, raw, fake_end):
    raw.send(b"EHLO c\r\nMAIL FROM:<a@quangninh.gov.vn>\r\nRCPT TO:<b@quangninh.gov.vn>\r\nDATA\r\n")
    assert [c for c, _ in raw.replies(4)] == [250, 250, 250, 354]
    raw.send(b"Subject: hello\r\n\r\nhello" + fake_end +
             b"MAIL FROM:<admin@quangninh.gov.vn>\r\nRCPT TO:<victim@quangninh.gov.vn>\r\nDATA\r\n"
             b"From: admin@quangninh.gov.vn\r\n\r\nsmuggled\r\n.\r\n")
    code, text = raw.reply()
    assert code == 550 and text.startswith("5.5.2"), text
    raw.send(b"QUIT\r\n")
    assert raw.reply()[0] == 221
    time.sleep(0.3)
    assert upstream.messages == []


@pytest.mark.parametrize("fake_end", SMUGGLING_ENDINGS, ids=repr)
def test_smuggling_attempt_in_normalize_mode_is_one_message_with_crlf_only(gateway_factory, upstream, fake_end):
    gateway = gateway_factory(f"smtp://127.0.0.1:{upstream.port}", server={"bare_line_endings": "normalize"})
    client = RawClient(gateway.connect())
    client.reply()
    client.send(b"EHLO c\r\nMAIL FROM:<a@quangninh.gov.vn>\r\nRCPT TO:<b@quangninh.gov.vn>\r\nDATA\r\n")
    assert [c for c, _ in client.replies(4)] == [250, 250, 250, 354]
    client.send(b"Subject: hello\r\n\r\nhello" + fake_end +
                b"MAIL FROM:<admin@quangninh.gov.vn>\r\nRCPT TO:<victim@quangninh.gov.vn>\r\nDATA\r\n"
                b"smuggled\r\n.\r\n")
    assert client.reply()[0] == 250
    client.send(b"QUIT\r\n")
    client.reply()
    [got] = upstream.wait_for_messages(1)
    time.sleep(0.3)
    assert len(upstream.messages) == 1
    assert got["rcpt_tos"] == ["b@quangninh.gov.vn"]
    assert b"smuggled" in got["content"]
    assert not has_bare_line_ending(got["content"])


def test_bare_lf_command_is_refused(raw):
    raw.send(b"EHLO c\nNOOP\r\n")
    code, text = raw.reply()
    assert code == 550 and text.startswith("5.5.2")
    assert raw.reply()[0] == 250


def test_8bit_and_smtputf8_mail(gateway, upstream):
    body = ("From: Nguyễn Văn A <a@quangninh.gov.vn>\r\nTo: trần@quảngninh.gov.vn\r\n"
            "Subject: Công văn số 12\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: 8bit\r\n\r\nKính gửi các đồng chí.\r\n").encode()
    with smtplib.SMTP("127.0.0.1", gateway.port, timeout=20) as client:
        client.ehlo()
        assert client.has_extn("smtputf8") and client.has_extn("8bitmime")
        client.sendmail("a@quangninh.gov.vn", ["b@quangninh.gov.vn"], body, mail_options=["BODY=8BITMIME"])
        client.sendmail("nguyễn@quangninh.gov.vn", ["trần@quảngninh.gov.vn"], body,
                        mail_options=["SMTPUTF8", "BODY=8BITMIME"])
    first, second = upstream.wait_for_messages(2)
    assert strip_trace(first["content"])[1] == body
    assert "BODY=8BITMIME" in first["mail_options"]
    header, rest = strip_trace(second["content"])
    assert rest == body
    assert second["mail_from"] == "nguyễn@quangninh.gov.vn"
    assert second["rcpt_tos"] == ["trần@quảngninh.gov.vn"]
    assert "SMTPUTF8" in second["mail_options"]
    assert b"with UTF8SMTP id" in header


def test_smtputf8_mail_is_not_downgraded_to_an_upstream_without_it(gateway_factory):
    plain = Upstream(smtputf8=False)
    try:
        gateway = gateway_factory(f"smtp://127.0.0.1:{plain.port}")
        with smtplib.SMTP("127.0.0.1", gateway.port, timeout=20) as client:
            with pytest.raises(smtplib.SMTPSenderRefused) as error:
                client.sendmail("nguyễn@quangninh.gov.vn", ["b@quangninh.gov.vn"], b"Subject: x\r\n\r\nx\r\n",
                                mail_options=["SMTPUTF8"])
        assert error.value.smtp_code == 553 and error.value.smtp_error.startswith(b"5.6.7")
        assert plain.messages == []
    finally:
        plain.stop()


def test_non_ascii_address_without_smtputf8_is_refused(raw):
    raw.send("EHLO c\r\nMAIL FROM:<nguyễn@quangninh.gov.vn>\r\n".encode())
    raw.reply()
    code, text = raw.reply()
    assert code == 553 and text.startswith("5.6.7")


def test_starttls_and_injection_before_handshake_is_dropped(gateway_factory, upstream, tmp_path):
    cert, key = make_certificate(tmp_path)
    gateway = gateway_factory(f"smtp://127.0.0.1:{upstream.port}",
                              server={"tls_certificate": str(cert), "tls_private_key": str(key)})
    with smtplib.SMTP("127.0.0.1", gateway.port, timeout=20) as client:
        client.ehlo()
        assert client.has_extn("starttls")
        context = ssl.create_default_context(cafile=str(cert))
        context.check_hostname = False
        client.starttls(context=context)
        client.ehlo()
        assert not client.has_extn("starttls")
        client.sendmail("a@quangninh.gov.vn", ["b@quangninh.gov.vn"], MESSAGE)
    [got] = upstream.wait_for_messages(1)
    header, rest = strip_trace(got["content"])
    assert rest == MESSAGE and b"with ESMTPS id" in header

    # CVE-2011-0411: a command sent in plaintext right behind STARTTLS must not run after TLS.
    sock = gateway.connect()
    client = RawClient(sock)
    client.reply()
    client.send(b"EHLO c\r\n")
    client.reply()
    client.send(b"STARTTLS\r\nMAIL FROM:<injected@evil.test>\r\n")
    assert client.reply()[0] == 220
    context = ssl.create_default_context(cafile=str(cert))
    context.check_hostname = False
    tls = RawClient(context.wrap_socket(sock))
    tls.send(b"EHLO c\r\nMAIL FROM:<a@quangninh.gov.vn>\r\n")
    code, _ = tls.reply()
    assert code == 250  # EHLO: the injected MAIL produced no reply of its own
    assert tls.reply()[0] == 250  # our MAIL is accepted: no transaction was opened by the injected one
    tls.close()


def test_starttls_to_the_upstream(gateway_factory, tmp_path):
    cert, key = make_certificate(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert), str(key))
    secure = Upstream(tls_context=context, require_starttls=True)
    try:
        gateway = gateway_factory(f"smtp://127.0.0.1:{secure.port}",
                                  upstream={"starttls": "encrypt", "tls_ca_file": str(cert)})
        send(gateway, "a@quangninh.gov.vn", ["b@quangninh.gov.vn"], MESSAGE)
        [got] = secure.wait_for_messages(1)
        assert strip_trace(got["content"])[1] == MESSAGE
    finally:
        secure.stop()


def test_upstream_connections_are_reused_with_rset(gateway, upstream):
    for i in range(8):
        send(gateway, "a@quangninh.gov.vn", ["b@quangninh.gov.vn"], MESSAGE)
    assert len(upstream.wait_for_messages(8)) == 8
    # Connections are pooled per event loop (one per core): 8 sessions, at most one each.
    assert upstream.connections <= min(os.cpu_count(), 4) < 8


def test_idle_upstream_connections_are_closed(gateway_factory, upstream):
    # No management listener, so no health probe connects to the upstream: only the message does.
    gateway = gateway_factory(f"smtp://127.0.0.1:{upstream.port}", upstream={"idle_timeout": "1s"},
                              sections={"management": {"listen": ""}})
    send(gateway, "a@quangninh.gov.vn", ["b@quangninh.gov.vn"], MESSAGE)
    assert upstream.wait_for_messages(1)
    assert upstream.connections == 1 and upstream.closed == 0
    deadline = time.time() + 5
    while time.time() < deadline and upstream.closed == 0:
        time.sleep(0.05)
    assert upstream.closed == 1  # QUIT after a second of idleness, without waiting for new mail


def test_pooled_connection_closed_by_upstream_is_replaced(gateway, upstream):
    upstream.close_after_message = True
    for i in range(3):
        assert send(gateway, "a@quangninh.gov.vn", ["b@quangninh.gov.vn"], MESSAGE) == {}
    assert len(upstream.wait_for_messages(3)) == 3


def test_large_message_is_spooled_and_arrives_intact(gateway_factory, upstream):
    gateway = gateway_factory(f"smtp://127.0.0.1:{upstream.port}", server={"memory_threshold": "64KiB"})
    lines = b"".join(b".%06d line of a big attachment-like body ................................\r\n" % i
                     for i in range(60000))  # ~5 MB, every line dot-stuffed on the wire
    big = b"Subject: big\r\n\r\n" + lines
    send(gateway, "a@quangninh.gov.vn", ["b@quangninh.gov.vn"], big)
    [got] = upstream.wait_for_messages(1, timeout=30)
    assert strip_trace(got["content"])[1] == big
    assert list((gateway.tmp / "spool").iterdir()) == []  # the spool file had no name


def test_swaks_as_client(gateway, upstream):
    result = subprocess.run(["swaks", "--server", f"127.0.0.1:{gateway.port}", "--from", "a@quangninh.gov.vn",
                             "--to", "b@quangninh.gov.vn", "--header", "Subject: swaks", "--pipeline"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "<-  250 2.0.0 Ok: queued upstream" in result.stdout
    [got] = upstream.wait_for_messages(1)
    assert b"Subject: swaks" in got["content"]


def test_connection_limit_per_ip(gateway_factory, upstream):
    # Loopback is trusted (exempt) by default; this client is not.
    gateway = gateway_factory(f"smtp://127.0.0.1:{upstream.port}", server={"max_connections_per_ip": 2, "trusted_networks": []})
    first, second = RawClient(gateway.connect()), RawClient(gateway.connect())
    assert first.reply()[0] == 220 and second.reply()[0] == 220
    third = RawClient(gateway.connect())
    code, text = third.reply()
    assert code == 421 and text.startswith("4.7.0")
    first.close()
    time.sleep(0.3)
    fourth = RawClient(gateway.connect())
    assert fourth.reply()[0] == 220


def test_trusted_relay_is_exempt_from_the_per_client_limit(gateway_factory, upstream):
    """The main server's own relays hold many connections open (measured: 60 from one address).
    Trusted networks (loopback by default) are held only to max_connections, as Postfix exempts
    $mynetworks; an address outside them still gets 421 past max_connections_per_ip."""
    trusting = gateway_factory(f"smtp://127.0.0.1:{upstream.port}", server={"max_connections_per_ip": 50})
    clients = [RawClient(trusting.connect()) for _ in range(60)]
    assert [c.reply()[0] for c in clients] == [220] * 60
    # The 60th is a working session.
    clients[59].send(b"EHLO relay.test\r\n")
    assert clients[59].reply()[0] == 250
    for c in clients:
        c.close()

    strict = gateway_factory(f"smtp://127.0.0.1:{upstream.port}",
                             server={"max_connections_per_ip": 50, "trusted_networks": ["10.0.0.0/8", "2001:db8::/32"]})
    clients = [RawClient(strict.connect()) for _ in range(51)]
    # Connections are admitted concurrently: which one is refused is not fixed, only how many.
    codes = sorted(c.reply()[0] for c in clients)
    assert codes == [220] * 50 + [421]
    assert strict.wait_for_log(lambda line: "connection refused" in line and "connection limit" in line)
    for c in clients:
        c.close()

    total = gateway_factory(f"smtp://127.0.0.1:{upstream.port}", server={"max_connections": 5})
    clients = [RawClient(total.connect()) for _ in range(6)]
    assert sorted(c.reply()[0] for c in clients) == [220] * 5 + [421]
    for c in clients:
        c.close()


def test_silent_client_is_cut_off(gateway_factory, upstream):
    gateway = gateway_factory(f"smtp://127.0.0.1:{upstream.port}", server={"command_timeout": "1s", "data_timeout": "1s"})
    client = RawClient(gateway.connect())
    client.reply()
    started = time.time()
    code, text = client.reply()
    assert code == 421 and text.startswith("4.4.2")
    assert time.time() - started < 5
    # A client that stops in the middle of DATA is cut off too, and nothing is relayed.
    client = RawClient(gateway.connect())
    client.reply()
    client.send(b"EHLO c\r\nMAIL FROM:<a@quangninh.gov.vn>\r\nRCPT TO:<b@quangninh.gov.vn>\r\nDATA\r\n")
    client.replies(4)
    client.send(b"Subject: half\r\n\r\nhalf a mess")
    code, _ = client.reply()
    assert code == 421
    time.sleep(0.2)
    assert upstream.messages == []


def test_too_many_errors_closes_the_session(gateway_factory, upstream):
    gateway = gateway_factory(f"smtp://127.0.0.1:{upstream.port}", server={"max_errors": 3})
    client = RawClient(gateway.connect())
    client.reply()
    client.send(b"FOO\r\nBAR\r\nBAZ\r\nNOOP\r\n")
    codes = [client.reply()[0] for _ in range(3)]
    assert codes == [500, 500, 421]
    with pytest.raises(ConnectionError):
        client.reply()


def test_maildir_delivery(gateway_factory, tmp_path):
    maildir = tmp_path / "mail"
    gateway = gateway_factory(f"maildir:{maildir}")
    send(gateway, "a@quangninh.gov.vn", ["b@quangninh.gov.vn"], MESSAGE)
    [path] = list((maildir / "new").iterdir())
    assert list((maildir / "tmp").iterdir()) == []
    header, rest = strip_trace(path.read_bytes())
    assert rest == MESSAGE


def test_sigterm_lets_the_message_in_flight_finish(gateway, upstream):
    upstream.data_delay = 1.5
    client = RawClient(gateway.connect())
    client.reply()
    client.send(b"EHLO c\r\nMAIL FROM:<a@quangninh.gov.vn>\r\nRCPT TO:<b@quangninh.gov.vn>\r\nDATA\r\n")
    client.replies(4)
    idle = RawClient(gateway.connect())
    idle.reply()
    client.send(MESSAGE + b".\r\n")
    time.sleep(0.5)  # the message is now with the (slow) upstream
    gateway.proc.send_signal(15)
    time.sleep(0.2)
    code, text = idle.reply()  # a session with nothing in flight is told to come back
    assert code == 421 and text.startswith("4.3.2")
    code, text = client.reply()
    assert code == 250, text
    assert gateway.proc.wait(20) == 0
    assert len(upstream.messages) == 1
    with pytest.raises(OSError):
        gateway.connect(timeout=2)


def test_check_config_names_the_bad_key_and_line(tmp_path):
    from conftest import BINARY, ROOT
    good = subprocess.run([str(BINARY), "check-config", "--config", str(ROOT / "Config" / "thugate.toml")],
                          capture_output=True, text=True)
    assert good.returncode == 0, good.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text('[server]\nlisten = "127.0.0.1:2525"\n\nmax_recipients = -3\n')
    result = subprocess.run([str(BINARY), "check-config", "--config", str(bad)], capture_output=True, text=True)
    assert result.returncode != 0
    assert f"{bad}:4: server.max_recipients: must be at least 1" in result.stderr
    result = subprocess.run([str(BINARY), "serve", "--config", str(bad)], capture_output=True, text=True, timeout=20)
    assert result.returncode != 0 and "server.max_recipients" in result.stderr


def test_sigkill_in_the_middle_of_data_never_yields_250(gateway, upstream):
    client = RawClient(gateway.connect())
    client.reply()
    client.send(b"EHLO c\r\nMAIL FROM:<a@quangninh.gov.vn>\r\nRCPT TO:<b@quangninh.gov.vn>\r\nDATA\r\n")
    assert [c for c, _ in client.replies(4)] == [250, 250, 250, 354]
    client.send(b"Subject: interrupted\r\n\r\nthe first half of the message\r\n")
    time.sleep(0.2)
    gateway.proc.kill()
    gateway.proc.wait(10)
    with pytest.raises((ConnectionError, OSError)):
        client.reply()
    time.sleep(0.3)
    assert upstream.messages == []


def test_sigkill_under_load_every_250_is_upstream(gateway, upstream):
    """Clients send as fast as they can; ThuGate is killed at an arbitrary moment. Every message
    a client got 250 for must be at the upstream (a message the upstream has but whose 250 was
    lost is a duplicate on retry, which is allowed; the reverse would be lost mail)."""
    import threading
    upstream.data_delay = 0.005
    acknowledged = []
    stop = threading.Event()

    def sender(worker):
        try:
            with smtplib.SMTP("127.0.0.1", gateway.port, timeout=10) as client:
                for i in range(10000):
                    if stop.is_set():
                        return
                    message_id = f"<{worker}.{i}@load.test>"
                    body = f"Message-ID: {message_id}\r\nSubject: load\r\n\r\nbody\r\n".encode()
                    client.sendmail("a@quangninh.gov.vn", ["b@quangninh.gov.vn"], body)
                    acknowledged.append(message_id)
        except (smtplib.SMTPException, OSError):
            return

    threads = [threading.Thread(target=sender, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    time.sleep(1.0)
    gateway.proc.kill()
    stop.set()
    for t in threads:
        t.join(15)
    time.sleep(0.5)
    assert len(acknowledged) > 10, "the load did not run"
    arrived = {line.split(b": ", 1)[1].strip().decode()
               for m in upstream.messages for line in m["content"].split(b"\r\n") if line.startswith(b"Message-ID: ")}
    missing = [m for m in acknowledged if m not in arrived]
    assert missing == []


def test_total_connection_limit(gateway_factory, upstream):
    gateway = gateway_factory(f"smtp://127.0.0.1:{upstream.port}", server={"max_connections": 2})
    first, second = RawClient(gateway.connect()), RawClient(gateway.connect())
    assert first.reply()[0] == 220 and second.reply()[0] == 220
    code, text = RawClient(gateway.connect()).reply()
    assert code == 421 and text.startswith("4.7.0")


def test_helo_client_and_null_sender(gateway, upstream):
    """An old client that only says HELO, sending a bounce (null reverse path)."""
    client = RawClient(gateway.connect())
    client.reply()
    client.send(b"HELO old.client\r\nMAIL FROM:<>\r\nRCPT TO:<b@quangninh.gov.vn>\r\nDATA\r\n")
    assert [c for c, _ in client.replies(4)] == [250, 250, 250, 354]
    client.send(b"Subject: bounce\r\n\r\nundeliverable\r\n.\r\n")
    assert client.reply()[0] == 250
    [got] = upstream.wait_for_messages(1)
    assert got["mail_from"] == "<>"  # aiosmtpd writes the null path so
    header, rest = strip_trace(got["content"])
    assert b"from old.client ([127.0.0.1])" in header and b"with SMTP id" in header
    assert rest == b"Subject: bounce\r\n\r\nundeliverable\r\n"


def test_commands_out_of_order_and_rset_abort_the_upstream_transaction(gateway, upstream, raw):
    raw.send(b"RCPT TO:<b@quangninh.gov.vn>\r\nDATA\r\nMAIL FROM:<a@quangninh.gov.vn>\r\n")
    assert [c for c, _ in raw.replies(3)] == [503, 503, 503]  # no EHLO yet
    raw.send(b"EHLO c\r\nMAIL FROM:<a@quangninh.gov.vn>\r\nRCPT TO:<b@quangninh.gov.vn>\r\nRSET\r\n"
             b"DATA\r\nMAIL FROM:<c@quangninh.gov.vn>\r\nRCPT TO:<d@quangninh.gov.vn>\r\nDATA\r\n")
    assert [c for c, _ in raw.replies(8)] == [250, 250, 250, 250, 503, 250, 250, 354]
    raw.send(b"Subject: after reset\r\n\r\nx\r\n.\r\n")
    assert raw.reply()[0] == 250
    [got] = upstream.wait_for_messages(1)
    assert got["mail_from"] == "c@quangninh.gov.vn" and got["rcpt_tos"] == ["d@quangninh.gov.vn"]


def test_too_many_recipients_never_reach_the_upstream(gateway_factory, upstream):
    gateway = gateway_factory(f"smtp://127.0.0.1:{upstream.port}", server={"max_recipients": 2})
    client = RawClient(gateway.connect())
    client.reply()
    # All pipelined: the third recipient must be refused by ThuGate and never passed upstream.
    client.send(b"EHLO c\r\nMAIL FROM:<a@quangninh.gov.vn>\r\nRCPT TO:<r1@quangninh.gov.vn>\r\n"
                b"RCPT TO:<r2@quangninh.gov.vn>\r\nRCPT TO:<r3@quangninh.gov.vn>\r\nDATA\r\n")
    replies = client.replies(6)
    assert [c for c, _ in replies] == [250, 250, 250, 250, 452, 354]
    assert replies[4][1].startswith("4.5.3")
    client.send(b"Subject: three\r\n\r\nx\r\n.\r\n")
    assert client.reply()[0] == 250
    [got] = upstream.wait_for_messages(1)
    assert got["rcpt_tos"] == ["r1@quangninh.gov.vn", "r2@quangninh.gov.vn"]


def test_client_that_does_not_read_its_replies_is_cut_off(gateway_factory, upstream):
    """A client asking for megabytes of replies and reading none must not hold its slot."""
    gateway = gateway_factory(f"smtp://127.0.0.1:{upstream.port}",
                              server={"command_timeout": "1s", "max_connections_per_ip": 1, "trusted_networks": []})
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", gateway.port))
    sock.settimeout(3)
    try:
        sock.sendall(b"HELP\r\n" * 50000)  # ~5 MB of replies asked for, none read
    except (socket.timeout, OSError):
        pass
    # The stalled session is cut off (1 s after its writes stopped), so the one slot for this IP
    # frees up; a slow machine may still be producing the replies for a while before that.
    deadline = time.time() + 20
    code = None
    while time.time() < deadline:
        code = RawClient(gateway.connect()).reply()[0]
        if code == 220:
            break
        time.sleep(0.5)
    assert code == 220
    sock.close()
