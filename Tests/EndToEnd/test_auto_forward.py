"""Automatic forwarding across the state system's edge (issue 13, QĐ 40/2022 Đ14 k8), through the real
proxy with smtplib: a machine's forward from a state mailbox to an outside one, or from an outside one
into a state mailbox, is refused with 550 5.7.1; a forward between state mailboxes and a person's
"Fwd:" are delivered unchanged. Header blocks are shaped after what each system writes (see
Sources/Policy/Forwarding). When MAIL FROM already shows the forwarder (SRS, Gmail's +caf_=), only the
recipients across the edge are refused, at RCPT. The official-only mailboxes (Quận 4 Đ6 k2, Đồng Nai Đ11
k2) refuse senders outside the state system at RCPT, before DATA. The labelled set of
Benchmarks/forwarding-eval goes through the proxy whole: every forward refused, every negative
delivered byte-identical."""

import json
import smtplib
import subprocess
import sys

from conftest import ROOT, strip_trace
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
    # Only the header shows the forward: with a colleague among the recipients the whole message is
    # refused after DATA (one reply for all), and the reply says so.
    replies, (code, text) = transaction(gateway, data, "vanthu@hoabinh.gov.vn", ["lanhdao.canhan@gmail.com", "pho@hoabinh.gov.vn"])
    assert all(reply[0] == 250 for reply in replies.values()), replies
    assert code == 550 and "refused for all 2 recipients, the 1 other too" in text, text
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
    # Gmail's +caf_= sender names the forwarder: the state recipient is refused at RCPT.
    replies, end = transaction(gateway, data, "canbo.ca.nhan+caf_=canbo=quangninh.gov.vn@gmail.com", ["canbo@quangninh.gov.vn"])
    code, text = replies["canbo@quangninh.gov.vn"]
    assert code == 550 and "gmail-caf-sender" in text and "from the non-state mailbox <canbo.ca.nhan@gmail.com>" in text, text
    assert end is None and upstream.recipients_seen == []
    # Without the sender, the headers alone refuse it after DATA.
    code, text = send(gateway, data, "canbo.ca.nhan@gmail.com", ["canbo@quangninh.gov.vn"])
    assert code == 550 and "gmail-x-forwarded" in text and "from the non-state mailbox" in text, text


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


def transaction(gateway, data, sender, recipients):
    """One transaction, command by command: ({rcpt: (code, text)}, data (code, text) or None when no
    recipient was accepted)."""
    with smtplib.SMTP("127.0.0.1", gateway.port, timeout=120) as client:
        client.ehlo("client.test")
        code, text = client.mail(sender)
        assert code == 250, text
        replies = {}
        for rcpt in recipients:
            code, text = client.rcpt(rcpt)
            replies[rcpt] = (code, text.decode("utf-8", "replace"))
        if not any(code == 250 for code, _ in replies.values()):
            client.rset()
            return replies, None
        try:
            code, text = client.data(data)
        except smtplib.SMTPDataError as error:
            code, text = error.smtp_code, error.smtp_error
        return replies, (code, text.decode("utf-8", "replace"))


def test_an_srs_forward_refuses_only_the_recipient_across_the_edge_at_rcpt(gateway_factory, upstream):
    """A state mailbox's .forward (postsrsd) to Gmail and to a colleague: the Gmail RCPT is refused
    before the upstream hears of it; the colleague gets the message, unchanged."""
    gateway = start(gateway_factory, upstream)
    data = message([
        "Delivered-To: lanhdao@hoabinh.gov.vn",
        "From: Doi tac <doitac@example.com>",
        "To: lanhdao@hoabinh.gov.vn",
        "Subject: Ho so",
    ])
    sender = "SRS0=HHbQ=TT=example.com=doitac@hoabinh.gov.vn"
    replies, end = transaction(gateway, data, sender, ["lanhdao.canhan@gmail.com", "pho@hoabinh.gov.vn"])
    code, text = replies["lanhdao.canhan@gmail.com"]
    assert code == 550 and "5.7.1" in text and "Đ14 k8" in text, text
    assert "srs-sender" in text and "<@hoabinh.gov.vn>" in text and "only this recipient is refused" in text, text
    assert replies["pho@hoabinh.gov.vn"][0] == 250
    assert end[0] == 250, end
    assert "lanhdao.canhan@gmail.com" not in upstream.recipients_seen
    [delivered] = upstream.messages
    assert delivered["rcpt_tos"] == ["pho@hoabinh.gov.vn"] and strip_trace(delivered["content"])[1] == data
    assert gateway.wait_for_log(lambda l: "NOQUEUE: reject: RCPT to=<lanhdao.canhan@gmail.com>" in l and "550 5.7.1 auto-forward: " in l)


def test_a_pipelined_srs_forward_refuses_the_recipient_across_before_anything_goes_upstream(gateway_factory, upstream):
    """MAIL, three RCPTs and DATA in one write (RFC 2920): the outside recipient is not passed
    upstream with MAIL, and its 550 comes in its turn among the replies."""
    from conftest import RawClient
    gateway = start(gateway_factory, upstream)
    client = RawClient(gateway.connect())
    assert client.reply()[0] == 220
    client.send(b"EHLO client.test\r\n")
    assert client.reply()[0] == 250
    client.send(b"MAIL FROM:<SRS0=HHbQ=TT=example.com=doitac@hoabinh.gov.vn>\r\nRCPT TO:<pho@hoabinh.gov.vn>\r\n"
                b"RCPT TO:<lanhdao.canhan@gmail.com>\r\nRCPT TO:<vanthu@hoabinh.gov.vn>\r\nDATA\r\n")
    codes = [code for code, _ in client.replies(5)]
    assert codes == [250, 250, 550, 250, 354], codes
    data = message(["From: doitac@example.com", "To: lanhdao@hoabinh.gov.vn", "Subject: Ho so"])
    client.send(data + b".\r\n")
    assert client.reply()[0] == 250
    client.send(b"QUIT\r\n")
    client.close()
    assert "lanhdao.canhan@gmail.com" not in upstream.recipients_seen
    assert upstream.messages[-1]["rcpt_tos"] == ["pho@hoabinh.gov.vn", "vanthu@hoabinh.gov.vn"]


def labelled_set(tmp_path):
    out = tmp_path / "fwdset"
    subprocess.run([sys.executable, str(ROOT / "Benchmarks" / "forwarding-eval" / "make_set.py"), "--out", str(out)],
                   check=True, capture_output=True)
    with open(out / "labels.jsonl", encoding="utf-8") as f:
        labels = [json.loads(line) for line in f if line.strip()]
    for label in labels:
        raw = (out / label["file"]).read_bytes()
        label["data"] = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    return labels


def test_the_labelled_set_every_forward_refused_every_negative_delivered_unchanged(gateway_factory, upstream, tmp_path):
    """Each forwarding system in both directions (and gov→gov), forwards of list and bulk mail, and
    the negatives (hand forwards, replies, vacation and out-of-office replies, DSNs, calendar replies,
    lists, ESP bulk mail, bodies naming the headers, Microsoft 365 relays), through the proxy."""
    gateway = start(gateway_factory, upstream)
    labels = labelled_set(tmp_path)
    assert len(labels) >= 150 and {l["expected"] for l in labels} == {"refuse", "deliver"}
    wrong = []
    for label in labels:
        before = len(upstream.messages)
        sender = label["mail_from"]
        replies, end = transaction(gateway, label["data"], sender, label["rcpt_to"])
        at_rcpt = [r for r, (code, text) in replies.items() if code == 550 and "Đ14 k8" in text]
        at_data = end is not None and end[0] == 550 and "Đ14 k8" in end[1]
        delivered = upstream.messages[before:]
        if label["expected"] == "refuse":
            ok = (at_rcpt or at_data) and not any(r in m["rcpt_tos"] for m in delivered for r in at_rcpt)
            if at_data:
                ok = ok and not delivered
        else:
            ok = (not at_rcpt and end is not None and end[0] == 250 and len(delivered) == 1
                  and strip_trace(delivered[0]["content"])[1] == label["data"]
                  and delivered[0]["rcpt_tos"] == label["rcpt_to"])
        if not ok:
            wrong.append((label["file"], label["expected"], replies, end))
    assert wrong == [], "\n".join(map(str, wrong))


def official_gateway(gateway_factory, upstream):
    url = f"smtp://127.0.0.1:{upstream.port}"
    return gateway_factory(url, upstream={"url": url}, sections={"policy": {"official_only_mailboxes": ["q4@tphcm.gov.vn"]}})


def test_an_official_only_mailbox_refuses_an_outside_sender_at_rcpt_before_any_data(gateway_factory, upstream):
    gateway = official_gateway(gateway_factory, upstream)
    with smtplib.SMTP("127.0.0.1", gateway.port, timeout=30) as client:
        client.ehlo("client.test")
        client.mail("phuong1.q4@gmail.com")
        code, text = client.rcpt("q4@tphcm.gov.vn")
        text = text.decode()
        assert code == 550 and "5.7.1" in text and "Đ6 k2" in text and "Đ11 k2" in text, text
        assert "chỉ nhận thư gửi từ hộp thư công vụ" in text and "accepts mail only from state-issued mailboxes" in text, text
        # No recipient, no data: DATA is refused by ThuGate itself.
        code, _ = client.docmd("DATA")
        assert code == 554
    assert upstream.recipients_seen == [] and upstream.messages == []
    # The other recipients of the same transaction go on.
    data = message(["From: phuong1.q4@gmail.com", "To: q4@tphcm.gov.vn, ketoan@example.com", "Subject: De nghi"])
    replies, end = transaction(gateway, data, "phuong1.q4@gmail.com", ["q4@tphcm.gov.vn", "ketoan@example.com"])
    assert replies["q4@tphcm.gov.vn"][0] == 550 and replies["ketoan@example.com"][0] == 250 and end[0] == 250, (replies, end)
    assert upstream.messages[-1]["rcpt_tos"] == ["ketoan@example.com"]
    # A state sender is accepted, byte-identical.
    data = message(["From: Phuong 1 <vp@phuong1.q4.tphcm.gov.vn>", "To: q4@tphcm.gov.vn", "Subject: De nghi cap hop thu"])
    replies, end = transaction(gateway, data, "vp@phuong1.q4.tphcm.gov.vn", ["q4@tphcm.gov.vn"])
    assert end[0] == 250 and strip_trace(upstream.messages[-1]["content"])[1] == data


def test_an_official_only_mailbox_judges_the_author_after_data_and_lets_reports_through(gateway_factory, upstream):
    gateway = official_gateway(gateway_factory, upstream)
    # A Gmail request sent on by a state relay: refused after DATA, naming the author.
    data = message(["From: Phuong 1 <phuong1.q4@gmail.com>", "To: q4@tphcm.gov.vn", "Subject: De nghi cap hop thu"])
    replies, (code, text) = transaction(gateway, data, "relay@phuong1.q4.tphcm.gov.vn", ["q4@tphcm.gov.vn"])
    assert code == 550 and "the author <phuong1.q4@gmail.com> (From)" in text, text
    # A bounce of the office's own mail, under the null sender: delivered unchanged.
    dsn = message([
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.com>",
        "To: q4@tphcm.gov.vn",
        "Subject: Undelivered Mail Returned to Sender",
        "MIME-Version: 1.0",
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"',
    ], body=b"--b1\r\nContent-Type: text/plain\r\n\r\nCould not deliver.\r\n--b1\r\n"
            b"Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.com\r\n\r\n"
            b"Final-Recipient: rfc822; x@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n--b1--\r\n")
    replies, end = transaction(gateway, dsn, "", ["q4@tphcm.gov.vn"])
    assert end[0] == 250, end
    assert strip_trace(upstream.messages[-1]["content"])[1] == dsn


def test_scan_refuses_at_rcpt_as_the_proxy_does(tmp_path):
    """`thugate scan` with an envelope: the recipients the envelope alone refuses are listed apart,
    their findings first, and the message is judged for the others (the official-only mailbox too)."""
    from test_scan import scan
    path = tmp_path / "srs.eml"
    path.write_bytes(message(["Delivered-To: lanhdao@hoabinh.gov.vn", "From: doitac@example.com", "Subject: Ho so"]))
    run = scan("--format", "json", "--mail-from", "SRS0=HHbQ=TT=example.com=doitac@hoabinh.gov.vn",
               "--rcpt-to", "lanhdao.canhan@gmail.com", "--rcpt-to", "pho@hoabinh.gov.vn", path)
    report = json.loads(run.stdout)
    assert report["envelope"]["rcpt_refused"] == ["<lanhdao.canhan@gmail.com>"], report
    assert report["envelope"]["rcpt_to"] == ["<pho@hoabinh.gov.vn>"] and report["action"] == "accept", report
    assert report["findings"][0]["rule"] == "auto-forward" and "only this recipient" in report["findings"][0]["detail"]
    config = tmp_path / "official.toml"
    config.write_text('[policy]\nofficial_only_mailboxes = ["q4@tphcm.gov.vn"]\n')
    run = scan("--format", "json", "--mail-from", "phuong1.q4@gmail.com", "--rcpt-to", "q4@tphcm.gov.vn", path, config=config)
    report = json.loads(run.stdout)
    assert report["action"] == "reject" and [f["rule"] for f in report["findings"]] == ["official-only"], report
    text = scan("--mail-from", "phuong1.q4@gmail.com", "--rcpt-to", "q4@tphcm.gov.vn", path, config=config).stdout
    assert "refused at RCPT: <q4@tphcm.gov.vn>" in text and "finding official-only: sender <phuong1.q4@gmail.com>" in text, text


def test_check_config_names_the_official_only_mailboxes_and_refuses_a_bad_one(tmp_path):
    from conftest import BINARY
    config = tmp_path / "official.toml"
    config.write_text('[policy]\nofficial_only_mailboxes = ["q4@tphcm.gov.vn", "@motcua.dongnai.gov.vn"]\n')
    run = subprocess.run([str(BINARY), "check-config", "--config", str(config)], capture_output=True, text=True, timeout=30)
    assert run.returncode == 0 and "official-only (reject): q4@tphcm.gov.vn, @motcua.dongnai.gov.vn" in run.stdout, run
    config.write_text('[policy]\nofficial_only_mailboxes = ["q4 at tphcm.gov.vn"]\n')
    run = subprocess.run([str(BINARY), "check-config", "--config", str(config)], capture_output=True, text=True, timeout=30)
    assert run.returncode == 78, run
    assert ':2: policy.official_only_mailboxes: "q4 at tphcm.gov.vn" is not a mailbox' in run.stderr, run.stderr
