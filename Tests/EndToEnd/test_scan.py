"""`thugate scan` as a user runs it, and its agreement with the proxy on the same messages."""
import json
import smtplib
import subprocess
import time


from conftest import BINARY, ROOT, strip_trace

CORPUS = ROOT / "Corpus"


def scan(*args, config=None):
    command = [str(BINARY), "scan"] + (["--config", str(config)] if config else []) + list(map(str, args))
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def test_scan_json_reports_every_corpus_message():
    result = scan("--format", "json", *sorted(CORPUS.glob("*.eml")))
    assert result.returncode == 0, result.stderr
    reports = [json.loads(line) for line in result.stdout.splitlines()]
    files = sorted(p.name for p in CORPUS.glob("*.eml"))
    assert sorted(r["file"].split("/")[-1] for r in reports) == files
    by_name = {r["file"].split("/")[-1]: r for r in reports}
    broken = by_name["broken-no-final-boundary.eml"]
    # Issue 9 item 3: every reader recovers these alike, and every byte was scanned: delivered, tagged.
    assert broken["action"] == "accept"
    assert {(f["rule"], f["detail"], f["part"]) for f in broken["findings"]} == {
        ("mime-irregular", "missing-final-boundary", "0"), ("mime-irregular", "text-after-base64: from byte 142", "1"),
        ("mime-irregular", "invalid-quoted-printable", "2")}
    mixed = by_name["mixed-attachment.eml"]
    # Its text part is Windows-1258 (tones as combining marks): converted to UTF-8 NFC.
    assert mixed["action"] == "accept"
    # The corpus's PDF is bytes behind a %PDF header (no trailer, no xref): the PDF helper cannot open it.
    assert [(f["rule"], f["detail"]) for f in mixed["findings"]] == [
        ("secrecy-unchecked", "Báo cáo tháng 11.pdf not fully checked for secrecy stamps: pdf-broken: PDF document is damaged"),
        ("legacy-encoding", "cp1258→utf-8 (part 1.1)"),
    ]
    pdf = next(p for p in mixed["parts"] if p["part"] == "2")
    assert pdf["type"] == "application/pdf" and pdf["filename"] == "Báo cáo tháng 11.pdf" and pdf["size"] == 2057


def test_scan_text_shows_the_tree(tmp_path):
    result = scan(CORPUS / "mixed-attachment.eml")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[0].endswith("mixed-attachment.eml: accept")
    assert any('2 application/pdf "Báo cáo tháng 11.pdf" base64 2.0 KB' in line for line in lines)
    assert any("1.1 text/plain charset=windows-1258 quoted-printable" in line for line in lines)


def test_scan_shows_progress_for_many_files_and_limits_from_the_config(tmp_path):
    messages = tmp_path / "many"
    messages.mkdir()
    nested = "".join(f"Content-Type: multipart/mixed; boundary=b{i}\r\n\r\n--b{i}\r\n" for i in range(10)) + "\r\nx\r\n"
    for i in range(60):
        (messages / f"m{i:02d}.eml").write_text(nested if i == 0 else f"Subject: {i}\r\n\r\nbody {i}\r\n")
    result = scan("--format", "json", messages)
    assert result.returncode == 0
    assert "thugate scan: 60/60 messages" in result.stderr
    assert len(result.stdout.splitlines()) == 60
    config = tmp_path / "strict.toml"
    config.write_text("[mime]\nmax_depth = 5\n")
    strict = scan("--format", "json", messages / "m00.eml", config=config)
    [report] = [json.loads(line) for line in strict.stdout.splitlines()]
    assert report["action"] == "reject"
    assert any("nesting deeper than 5" in f["detail"] for f in report["findings"])


def test_scan_of_a_missing_path_fails_clearly(tmp_path):
    result = scan(tmp_path / "nothing.eml")
    assert result.returncode != 0
    assert "no such file or directory" in result.stderr


def test_proxy_and_scan_agree_on_every_corpus_message(gateway, upstream, tmp_path):
    """The same pipeline: what scan calls reject the proxy refuses, what it accepts arrives."""
    result = scan("--format", "json", *sorted(CORPUS.glob("*.eml")))
    for line in result.stdout.splitlines():
        report = json.loads(line)
        data = open(report["file"], "rb").read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        before = len(upstream.messages)
        with smtplib.SMTP("127.0.0.1", gateway.port, timeout=20) as client:
            try:
                client.sendmail("a@quangninh.gov.vn", ["b@quangninh.gov.vn"], data)
                outcome = "accept"
            except smtplib.SMTPDataError as error:
                assert error.smtp_code == 554 and error.smtp_error.startswith(b"5.6.0"), error
                outcome = "reject"
        assert outcome == report["action"], report["file"]
        if outcome == "accept":
            delivered = strip_trace(upstream.wait_for_messages(before + 1)[-1]["content"])[1]
            if any(f["rule"] == "legacy-encoding" for f in report["findings"]):
                # Converted to TCVN 6909: the same bytes `thugate normalize` writes, after the
                # findings header.
                assert delivered.startswith(b"X-ThuGate-Findings: ")
                delivered = delivered[delivered.index(b"\r\nX-ThuGate-Normalized: ") + 2:]
                source = tmp_path / "corpus-message.eml"
                source.write_bytes(data)
                normalized = subprocess.run([str(BINARY), "normalize", str(source)], capture_output=True, check=True).stdout
                assert delivered == normalized, report["file"]
            elif report["findings"]:
                findings, rest = delivered.split(b"\r\n", 1)
                assert findings.startswith(b"X-ThuGate-Findings: ") and rest == data, report["file"]
            else:
                assert delivered == data, report["file"]
        else:
            time.sleep(0.2)
            assert len(upstream.messages) == before


def test_irregular_message_is_delivered_tagged(gateway, upstream):
    data = (CORPUS / "broken-no-final-boundary.eml").read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    with smtplib.SMTP("127.0.0.1", gateway.port, timeout=20) as client:
        client.sendmail("a@quangninh.gov.vn", ["b@quangninh.gov.vn"], data)
    got = upstream.wait_for_messages(1)[-1]["content"]
    assert b"X-ThuGate-Findings: mime-irregular(0): missing-final-boundary; mime-irregular(1): text-after-base64" in got
    assert got.endswith(data)


def test_malformed_message_can_be_tagged_instead(gateway_factory, upstream):
    gateway = gateway_factory(f"smtp://127.0.0.1:{upstream.port}", sections={"policy": {"malformed": "tag"},
                                                                             "mime": {"max_depth": 2}})
    data = b"Subject: deep\r\n" + b"".join(b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (i, i)
                                          for i in range(4)) + b"\r\nx\r\n"
    with smtplib.SMTP("127.0.0.1", gateway.port, timeout=20) as client:
        client.sendmail("a@quangninh.gov.vn", ["b@quangninh.gov.vn"], data)
    got = upstream.wait_for_messages(1)[-1]["content"]
    assert b"X-ThuGate-Findings: malformed(1.1): limit-exceeded: nesting deeper than 2" in got
    assert got.endswith(data)


def python_leaves(data: bytes):
    """Leaf parts as Python's email package sees them: (type, filename, decoded size)."""
    from email import policy
    from email.parser import BytesParser
    message = BytesParser(policy=policy.compat32).parsebytes(data)
    leaves = []
    skip = set()
    for part in message.walk():
        # Python opens message/delivery-status into header blocks; ThuGate keeps it one leaf.
        if part.get_content_type() == "message/delivery-status":
            skip.update(id(p) for p in part.walk())
            continue
        if id(part) in skip or part.is_multipart():
            continue
        payload = part.get_payload(decode=True) or b""
        leaves.append((part.get_content_type(), payload))
    return leaves


def test_leaf_parts_agree_with_pythons_email_package():
    """An independent parser as the reference: same leaves, same types, same decoded sizes."""
    result = scan("--format", "json", *sorted(CORPUS.glob("*.eml")))
    for line in result.stdout.splitlines():
        report = json.loads(line)
        if report["action"] == "reject" or any(f["rule"] in ("mime-irregular", "mime-ambiguous") for f in report["findings"]):
            continue  # broken on purpose: parsers may repair it differently
        data = open(report["file"], "rb").read()
        ours = [p for p in report["parts"] if not p["type"].startswith("multipart/") and p["type"] not in ("message/rfc822",)]
        theirs = python_leaves(data)
        assert [p["type"] for p in ours if p["type"] != "message/delivery-status"] == \
            [t for t, _ in theirs], report["file"]
        assert [p["size"] for p in ours if p["type"] != "message/delivery-status"] == \
            [len(b) for _, b in theirs], report["file"]
