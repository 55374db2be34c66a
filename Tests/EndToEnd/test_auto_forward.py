"""Automatic forwarding across the state system's edge (issue 13, QĐ 40/2022 Đ14 k8), through the real
proxy with smtplib: a machine's forward from a state mailbox to an outside one, or from an outside one
into a state mailbox, is refused with 550 5.7.1; a forward between state mailboxes and a person's
"Fwd:" are delivered unchanged. Header blocks are shaped after what each system writes (see
Sources/Policy/Forwarding)."""

from conftest import strip_trace
from test_state_secret import send


def start(gateway_factory, upstream):
    url = f"smtp://127.0.0.1:{upstream.port}"
    return gateway_factory(url, upstream={"url": url})


def message(headers, body=b"Kinh gui anh.\r\n"):
    return b"".join(h.encode() + b"\r\n" for h in headers) + b"\r\n" + body


def test_a_zimbra_redirect_from_a_state_mailbox_to_gmail_is_refused(gateway_factory, upstream):
    gateway = start(gateway_factory, upstream)
    data = message([
        "X-Zimbra-Forwarded: lanhdao@hoabinh.gov.vn",
        "From: Van thu <vanthu@hoabinh.gov.vn>",
        "To: lanhdao@hoabinh.gov.vn",
        "Subject: Lich hop",
        "Message-ID: <a1@hoabinh.gov.vn>",
    ])
    code, text = send(gateway, data, "vanthu@hoabinh.gov.vn", ["lanhdao.canhan@gmail.com"])
    assert code == 550 and "5.7.1" in text and "Đ14 k8" in text, text
    assert "zimbra-forwarded" in text and "<lanhdao@hoabinh.gov.vn>" in text and "<lanhdao.canhan@gmail.com>" in text, text
    assert upstream.messages == []


def test_a_gmail_forward_into_a_state_mailbox_is_refused(gateway_factory, upstream):
    gateway = start(gateway_factory, upstream)
    data = message([
        "X-Forwarded-To: canbo@quangninh.gov.vn",
        "X-Forwarded-For: canbo.ca.nhan@gmail.com canbo@quangninh.gov.vn",
        "From: Ban <ban@example.com>",
        "To: canbo.ca.nhan@gmail.com",
        "Subject: Hello",
    ])
    code, text = send(gateway, data, "canbo.ca.nhan+caf_=canbo=quangninh.gov.vn@gmail.com", ["canbo@quangninh.gov.vn"])
    assert code == 550 and "from the non-state mailbox" in text, text


def test_forwards_between_state_mailboxes_and_a_persons_fwd_are_delivered_unchanged(gateway_factory, upstream):
    gateway = start(gateway_factory, upstream)
    internal = message([
        "X-Sieve-Redirected-From: vanthu@hoabinh.gov.vn",
        "From: a@hoabinh.gov.vn",
        "To: vanthu@hoabinh.gov.vn",
        "Subject: Bao cao",
    ])
    code, text = send(gateway, internal, "a@hoabinh.gov.vn", ["vanthu.so@quangninh.gov.vn"])
    assert code == 250, text
    by_hand = message([
        "From: Van thu <vanthu@hoabinh.gov.vn>",
        "To: doitac@example.com",
        "Subject: Fwd: Lich hop",
        "User-Agent: Mozilla Thunderbird",
    ], body=b"-------- Forwarded Message --------\r\nX-Forwarded-To: someone\r\nSubject: Lich hop\r\n\r\nNoi dung.\r\n")
    code, text = send(gateway, by_hand, "vanthu@hoabinh.gov.vn", ["doitac@example.com"])
    assert code == 250, text
    assert [strip_trace(m["content"])[1] for m in upstream.messages] == [internal, by_hand]
