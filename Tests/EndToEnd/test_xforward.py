"""XFORWARD to the upstream (issue 16): a real Postfix behind ThuGate, with ThuGate's address in
`smtpd_authorized_xforward_hosts`, logs the client ThuGate served (address, HELO name, protocol) as
`orig_client`, and behind HAProxy the PROXY header's client; with `xforward = false`, or a
Postfix that does not authorize ThuGate, it knows only ThuGate, and the mail flows either way."""
import re
import smtplib
import time

import pytest

from postfix import Postfix
from test_proxy_protocol import MESSAGE, ProxiedSMTP, v1


@pytest.fixture
def postfix_upstream(upstream):
    started = []

    def make(authorized):
        extra = {"smtpd_authorized_xforward_hosts": "127.0.0.0/8" if authorized else ""}
        instance = Postfix("", upstream.port, extra=extra)
        started.append(instance)
        return instance

    yield make
    for instance in started:
        instance.stop()


def send(gateway, subject, header=None):
    message = MESSAGE.replace(b"Subject: qua HAProxy", f"Subject: {subject}".encode())
    if header is None:
        smtp = smtplib.SMTP("127.0.0.1", gateway.port, timeout=30, source_address=("127.0.0.2", 0))
    else:
        smtp = ProxiedSMTP(header, "127.0.0.1", gateway.port, timeout=30)
    with smtp:
        smtp.ehlo("client.example")
        smtp.sendmail("a@example.org", ["lanhdao@quangninh.gov.vn"], message)


def upstream_client(postfix, upstream, subject, timeout=30):
    """What Postfix logged of the client of the message with `subject` (`client=..., orig_client=...`:
    its smtpd logs its own peer as `client` and the XFORWARD client as `orig_client`), and the
    message as the sink behind it got it."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for message in upstream.messages:
            if f"Subject: {subject}".encode() in message["content"]:
                # Postfix's queue id is in its Received: header ("with ESMTP id QUEUEID").
                queue_id = re.search(rb"with E?SMTP id ([0-9A-F]+)", message["content"]).group(1).decode()
                found = re.search(rf"smtpd\[\d+\]: {queue_id}: (client=.*)", postfix.log_text())
                if found:
                    return found.group(1), message["content"]
        time.sleep(0.2)
    raise AssertionError(f"{subject!r} did not arrive behind Postfix:\n{postfix.log_text()[-3000:]}")


def test_postfix_logs_the_client_thugate_served(gateway_factory, upstream, postfix_upstream):
    postfix = postfix_upstream(authorized=True)
    gateway = gateway_factory(f"smtp://127.0.0.1:{postfix.port}")
    send(gateway, "truc tiep")
    client, content = upstream_client(postfix, upstream, "truc tiep")
    assert client == "client=localhost[127.0.0.1], orig_client=unknown[127.0.0.2]", client
    # ThuGate's own trace header, below Postfix's, names the client too.
    assert b"[127.0.0.2]" in content.split(b"\r\n\r\n")[0], content


def test_behind_haproxy_postfix_logs_the_proxy_headers_client(gateway_factory, upstream, postfix_upstream):
    postfix = postfix_upstream(authorized=True)
    gateway = gateway_factory(
        f"smtp://127.0.0.1:{postfix.port}",
        server={"proxy_protocol": "required", "trusted_proxies": ["127.0.0.0/8"]},
    )
    send(gateway, "qua can bang tai", header=v1(client="203.0.113.9"))
    client, _ = upstream_client(postfix, upstream, "qua can bang tai")
    assert client == "client=localhost[127.0.0.1], orig_client=unknown[203.0.113.9]", client


@pytest.mark.parametrize("authorized, xforward", [(False, True), (True, False)])
def test_without_xforward_postfix_logs_thugate_and_mail_flows(gateway_factory, upstream, postfix_upstream, authorized,
                                                               xforward):
    postfix = postfix_upstream(authorized=authorized)
    gateway = gateway_factory(f"smtp://127.0.0.1:{postfix.port}", upstream={"xforward": xforward})
    subject = f"khong xforward {authorized} {xforward}"
    send(gateway, subject)
    client, _ = upstream_client(postfix, upstream, subject)
    assert client == "client=localhost[127.0.0.1]", client
