"""TCVN 6909:2001 normalization through the proxy and on the command line: legacy Vietnamese
text arrives as UTF-8 NFC, signed mail arrives untouched, other text is left alone.

Legacy bytes are made here with glibc's iconv (TCVN5712-1, whose 0xA0-0xFF range is TCVN3) and
Python's cp1258 codec, independent of ThuGate's own tables.
"""
import base64
import smtplib
import subprocess
import unicodedata
from email import message_from_bytes as _parse
from email import policy

import pytest

from conftest import BINARY

TEXT = ("Kính gửi các đơn vị trực thuộc, đề nghị báo cáo tình hình thực hiện kế hoạch năm 2026 "
        "trước ngày hai mươi tháng mười hai.\r\nTrân trọng cảm ơn.\r\n")
SUBJECT = "Báo cáo tình hình thực hiện kế hoạch"


def tcvn3(text: str) -> bytes:
    return subprocess.run(["iconv", "-f", "UTF-8", "-t", "TCVN5712-1"], input=text.encode(), capture_output=True,
                          check=True).stdout


TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def cp1258(text: str) -> bytes:
    """Windows-1258 as Windows writes it: letters with breve, circumflex or horn precomposed, the
    tone as a separate combining mark."""
    out = []
    for ch in text:
        decomposed = unicodedata.normalize("NFD", ch)
        tones = [c for c in decomposed if c in TONES]
        base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in TONES))
        out.append(base + "".join(tones))
    return "".join(out).encode("cp1258")


def raw_message(body: bytes, charset="iso-8859-1", subject=b"Cong van", extra_headers=b"", content_type=None):
    ctype = content_type or f"text/plain; charset={charset}".encode()
    return (b"From: Van thu <vanthu@quangninh.gov.vn>\r\nTo: lanhdao@quangninh.gov.vn\r\nSubject: " + subject + b"\r\n"
            + extra_headers + b"MIME-Version: 1.0\r\nContent-Type: " + ctype + b"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
            + body)


def message_from_bytes(data: bytes):
    """Headers decoded (RFC 2047), as a mail client shows them."""
    return _parse(data, policy=policy.default)


def relay(gateway, upstream, data):
    with smtplib.SMTP("127.0.0.1", gateway.port, timeout=30) as client:
        client.sendmail("vanthu@quangninh.gov.vn", ["lanhdao@quangninh.gov.vn"], data)
    return upstream.messages[-1]["content"]


@pytest.fixture
def proxy(gateway_factory, upstream):
    return gateway_factory(f"smtp://127.0.0.1:{upstream.port}")


def body_text(content: bytes) -> str:
    message = message_from_bytes(content)
    part = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    return part.get_payload(decode=True).decode(part.get_content_charset())


def test_tcvn3_body_mislabeled_latin1_arrives_as_utf8_nfc(proxy, upstream):
    content = relay(proxy, upstream, raw_message(tcvn3(TEXT)))
    message = message_from_bytes(content)
    assert message.get_content_charset() == "utf-8"
    text = body_text(content)
    assert text.replace("\r\n", "\n") == TEXT.replace("\r\n", "\n")
    assert unicodedata.is_normalized("NFC", text)
    assert message["X-ThuGate-Normalized"] == "tcvn3→utf-8 (part 1)"
    assert "legacy-encoding" in message["X-ThuGate-Findings"]


def test_tcvn3_subject_and_windows_1258_body(proxy, upstream):
    subject = b"=?iso-8859-1?Q?" + "".join(f"={b:02X}" if b >= 0x80 or b in b" _=?" else chr(b)
                                          for b in tcvn3(SUBJECT)).encode() + b"?="
    # Windows-1258 writes tones as combining marks: Python's codec makes the bytes.
    body = cp1258(TEXT)
    content = relay(proxy, upstream, raw_message(body, charset="windows-1258", subject=subject))
    message = message_from_bytes(content)
    assert message["Subject"] == SUBJECT
    assert body_text(content).replace("\r\n", "\n") == TEXT.replace("\r\n", "\n")
    assert "cp1258→utf-8 (part 1)" in message["X-ThuGate-Normalized"]
    assert "tcvn3→utf-8 (Subject)" in message["X-ThuGate-Normalized"]


def test_html_part_gets_its_meta_charset_updated(proxy, upstream):
    html = ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1"></head>'
            f"<body><p>{TEXT}</p></body></html>")
    content = relay(proxy, upstream, raw_message(tcvn3(html), content_type=b"text/html; charset=iso-8859-1"))
    message = message_from_bytes(content)
    text = message.get_payload(decode=True).decode("utf-8")
    assert "charset=utf-8" in text and "iso-8859-1" not in text
    assert TEXT.strip() in unicodedata.normalize("NFC", text)


def test_signed_message_arrives_byte_for_byte(proxy, upstream):
    boundary = b"sig-boundary"
    inner = b"Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + tcvn3(TEXT)
    signed = (b"From: vanthu@quangninh.gov.vn\r\nTo: lanhdao@quangninh.gov.vn\r\nSubject: Ky so\r\nMIME-Version: 1.0\r\n"
              b'Content-Type: multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256; boundary="'
              + boundary + b'"\r\n\r\n--' + boundary + b"\r\n" + inner + b"\r\n--" + boundary
              + b"\r\nContent-Type: application/pkcs7-signature; name=smime.p7s\r\nContent-Transfer-Encoding: base64\r\n\r\n"
              + base64.encodebytes(b"\x30\x82signature bytes") .replace(b"\n", b"\r\n") + b"\r\n--" + boundary + b"--\r\n")
    content = relay(proxy, upstream, signed)
    assert content.endswith(signed)
    assert b"X-ThuGate-Normalized" not in content


def test_dkim_signed_message_is_reported_not_changed(proxy, upstream):
    data = raw_message(tcvn3(TEXT), extra_headers=b"DKIM-Signature: v=1; a=rsa-sha256; d=quangninh.gov.vn; s=mail; b=abc\r\n")
    content = relay(proxy, upstream, data)
    assert content.endswith(data)
    message = message_from_bytes(content)
    assert message["X-ThuGate-Normalized"] is None
    assert "legacy-encoding(1): tcvn3 found, not converted (signed message)" in message["X-ThuGate-Findings"]


def test_dkim_signed_mail_from_an_own_domain_is_normalized_when_asked(gateway_factory, upstream):
    """`dkim_signed = "normalize-internal"` with no internal_domains: the [domains] own domains are
    the internal ones; another domain's signed mail is still only reported."""
    gateway = gateway_factory(f"smtp://127.0.0.1:{upstream.port}", sections={
        "text": {"dkim_signed": "normalize-internal"}, "domains": {"own": ["quangninh.gov.vn"]}})
    signature = b"DKIM-Signature: v=1; a=rsa-sha256; d=quangninh.gov.vn; s=mail; b=abc\r\n"
    content = relay(gateway, upstream, raw_message(tcvn3(TEXT), extra_headers=signature))
    assert message_from_bytes(content)["X-ThuGate-Normalized"] is not None
    assert body_text(content) == unicodedata.normalize("NFC", TEXT)
    check = subprocess.run([str(BINARY), "check-config", "--config", str(gateway.config_path)], capture_output=True, text=True)
    assert "text: DKIM-signed mail converted when From is under quangninh.gov.vn" in check.stdout, check
    outside = raw_message(tcvn3(TEXT), extra_headers=signature).replace(b"vanthu@quangninh.gov.vn", b"vanthu@example.org")
    content = relay(gateway, upstream, outside)
    assert content.endswith(outside) and message_from_bytes(content)["X-ThuGate-Normalized"] is None


@pytest.mark.parametrize("name,body,charset", [
    ("french-latin1", "Le comité a décidé de reporter la réunion à jeudi. Où est le café ? Ça va très bien.\r\n", "iso-8859-1"),
    ("german-latin1", "Sehr geehrte Damen und Herren, die Größe der Übung ist schön. Grüße aus München.\r\n", "iso-8859-1"),
    ("curly-1252", "“Quoted” text – with ‘curly’ quotes… and a € sign.\r\n", "windows-1252"),
    ("utf8-vietnamese", TEXT, "utf-8"),
], ids=["french", "german", "curly-quotes", "utf8-vietnamese"])
def test_text_that_is_not_legacy_vietnamese_is_untouched(proxy, upstream, name, body, charset):
    data = raw_message(body.encode(charset), charset=charset)
    content = relay(proxy, upstream, data)
    assert content.endswith(data)
    assert b"X-ThuGate-Normalized" not in content


def test_cli_detect_and_convert(tmp_path):
    def run(*args, data: bytes):
        return subprocess.run([str(BINARY), "text", *args], input=data, capture_output=True, timeout=30)

    detected = run("--detect", data=tcvn3(TEXT))
    assert detected.returncode == 0 and detected.stdout.decode().split()[0] == "tcvn3"
    converted = run("--to-unicode", data=tcvn3(TEXT))
    assert converted.stdout.decode() == TEXT
    french = "Le comité a décidé: où est le café?\n"
    assert run("--to-unicode", data=french.encode("latin-1")).stdout.decode() == french
    assert run("--to-unicode", "--from", "tcvn3", data=tcvn3("năm học")).stdout.decode() == "năm học"
    nfd = unicodedata.normalize("NFD", TEXT)
    assert run("--to-unicode", data=nfd.encode()).stdout.decode() == TEXT


def test_cli_normalize_writes_the_converted_message(tmp_path):
    source = tmp_path / "in.eml"
    source.write_bytes(raw_message(tcvn3(TEXT)))
    result = subprocess.run([str(BINARY), "normalize", str(source)], capture_output=True, timeout=30)
    assert result.returncode == 0, result.stderr
    message = message_from_bytes(result.stdout)
    assert message["X-ThuGate-Normalized"] == "tcvn3→utf-8 (part 1)"
    assert body_text(result.stdout).replace("\r\n", "\n") == TEXT.replace("\r\n", "\n")
    assert b"legacy-encoding" in result.stderr


VN1_TEXT = ("ỦY BAN NHÂN DÂN TỈNH QUẢNG NINH\r\nQUYẾT ĐỊNH\r\nVề việc ban hành Quy chế sử dụng hệ thống thư điện tử. "
            "Ủy ban nhân dân tỉnh Quảng Ninh quyết định.\r\n")


@pytest.mark.parametrize("charset", ["windows-1252", "iso-8859-1", "TCVN5712-1"])
def test_vn1_body_arrives_as_glibc_reads_it(proxy, upstream, charset):
    """TCVN 5712:1993 VN1 (toned capitals in C0 and 0x80-0x9F), written by glibc's iconv."""
    vn1 = subprocess.run(["iconv", "-f", "UTF-8", "-t", "TCVN5712-1"], input=VN1_TEXT.encode(), capture_output=True,
                         check=True).stdout
    assert any(b < 0x20 and b not in b"\r\n" or 0x80 <= b < 0xA0 for b in vn1)
    content = relay(proxy, upstream, raw_message(vn1, charset=charset))
    message = message_from_bytes(content)
    assert message["X-ThuGate-Normalized"] == "tcvn5712-1→utf-8 (part 1)"
    assert body_text(content) == VN1_TEXT
