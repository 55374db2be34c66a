"""Issue 9 items 2 and 3 through the proxy, as a sender meets them.

Item 2: no MIME shape hides content from the scanner. Each shape carries EICAR, an ELF (/bin/true)
and a Windows program built here with MinGW-w64; each must be refused. S/MIME and PGP messages
are made with openssl and gpg and get an `encrypted-message` finding.

Item 3: the irregular mail that real software writes is delivered (tagged), byte for byte, and
long message lines are relayed up to `max_data_line_length`.
"""
import base64
import binascii
import os
import shutil
import subprocess
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

import pytest

from conftest import RawClient, send_message as send, strip_trace

EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
ELF = Path("/bin/true").read_bytes()
HEAD = b"From: vanthu@quangninh.gov.vn\r\nTo: lanhdao@quangninh.gov.vn\r\nSubject: Cong van\r\nMIME-Version: 1.0\r\n"


@pytest.fixture(scope="module")
def windows_program(tmp_path_factory):
    """A real PE32+ program, compiled here with MinGW-w64 (Scripts/setup installs it)."""
    compiler = shutil.which("x86_64-w64-mingw32-gcc")
    assert compiler, "x86_64-w64-mingw32-gcc is missing: run Scripts/setup"
    work = tmp_path_factory.mktemp("pe")
    (work / "hello.c").write_text('#include <stdio.h>\nint main(void) { puts("xin chao"); return 0; }\n')
    subprocess.run([compiler, "-O1", "-s", "-o", str(work / "hello.exe"), str(work / "hello.c")], check=True)
    return (work / "hello.exe").read_bytes()


def b64(data: bytes) -> bytes:
    return base64.encodebytes(data).replace(b"\n", b"\r\n")


def attachment(boundary: bytes, data: bytes, name=b"tailieu.dat") -> bytes:
    return (b"--" + boundary + b"\r\nContent-Type: application/octet-stream; name=\"" + name + b"\"\r\n"
            b"Content-Disposition: attachment; filename=\"" + name + b"\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + b64(data))


def uuencode(data: bytes) -> bytes:
    lines = [binascii.b2a_uu(data[i:i + 45]).rstrip(b"\n") for i in range(0, len(data), 45)]
    return b"begin 644 a.dat\r\n" + b"\r\n".join(lines) + b"\r\n`\r\nend\r\n"


def text_part(boundary: bytes, text=b"Kinh gui cac don vi.") -> bytes:
    return b"--" + boundary + b"\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + text + b"\r\n"


def multipart(content_type: bytes, body: bytes, extra=b"") -> bytes:
    return HEAD + extra + b"Content-Type: " + content_type + b"\r\n\r\n" + body


# Each shape hides `payload` (bytes) in a way some parser or reader does not split as declared.
SHAPES = {
    "boundary never occurs": lambda p: multipart(b"multipart/mixed; boundary=\"declared\"",
                                                 text_part(b"used") + attachment(b"used", p) + b"--used--\r\n"),
    "no boundary parameter": lambda p: multipart(b"multipart/mixed",
                                                 text_part(b"used") + attachment(b"used", p) + b"--used--\r\n"),
    "parts in the preamble (a second boundary)": lambda p: multipart(
        b"multipart/mixed; boundary=\"a\"; boundary=\"b\"",
        attachment(b"b", p) + b"--b--\r\n" + text_part(b"a") + b"--a--\r\n"),
    "parts in the epilogue": lambda p: multipart(b"multipart/mixed; boundary=a",
                                                 text_part(b"a") + b"--a--\r\n" + attachment(b"z", p) + b"--z--\r\n"),
    "after a missing final boundary": lambda p: multipart(b"multipart/mixed; boundary=a", text_part(b"a") + attachment(b"a", p)),
    "base64 behind a line that is not base64": lambda p: HEAD + b"Content-Type: application/octet-stream; name=a.dat\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n!!!!\r\n" + b64(p),
    "duplicated Content-Type": lambda p: HEAD + b"Content-Type: text/plain\r\nContent-Type: multipart/mixed; boundary=a\r\n\r\n"
        + text_part(b"a") + attachment(b"a", p) + b"--a--\r\n",
    "message/rfc822 in base64": lambda p: multipart(b"multipart/mixed; boundary=a", text_part(b"a")
        + b"--a\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + b64(multipart(b"multipart/mixed; boundary=i", attachment(b"i", p) + b"--i--\r\n")) + b"--a--\r\n"),
    "a header line without colon before the encoding": lambda p: multipart(b"multipart/mixed; boundary=a", text_part(b"a")
        + b"--a\r\nContent-Type: application/octet-stream; name=a.dat\r\nthis line has no colon\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + b64(p) + b"--a--\r\n"),
    "x-uuencode transfer encoding": lambda p: multipart(b"multipart/mixed; boundary=a", text_part(b"a")
        + b"--a\r\nContent-Type: application/octet-stream; name=a.dat\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\n"
        + uuencode(p) + b"--a--\r\n"),
    "nested boundaries, one a prefix of the other": lambda p: multipart(b"multipart/mixed; boundary=ab",
        b"--ab\r\nContent-Type: multipart/mixed; boundary=abc\r\n\r\n" + text_part(b"abc") + attachment(b"abc", p)
        + b"--abc--\r\n--ab--\r\n"),
}




@pytest.fixture
def proxy(gateway_factory, upstream):
    return gateway_factory(f"smtp://127.0.0.1:{upstream.port}")


@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("payload", ["eicar", "elf", "pe"])
def test_no_shape_hides_content(proxy, upstream, windows_program, shape, payload):
    data = {"eicar": EICAR, "elf": ELF, "pe": windows_program}[payload]
    code, text = send(proxy, SHAPES[shape](data))
    assert code == 554, (shape, payload, text)
    if payload == "eicar":
        assert text.startswith("5.7.0") and "ThuGate.Test.EICAR" in text, text
    else:
        assert text.startswith("5.7.1") and "executable" in text.lower(), text
    assert upstream.messages == []


@pytest.mark.parametrize("where", ["preamble", "epilogue", "unsplit multipart", "text after base64", "message header",
                                   "part header"])
def test_eicar_as_plain_text_outside_every_part_is_found(proxy, upstream, where):
    body = {
        "preamble": multipart(b"multipart/mixed; boundary=a", EICAR + b"\r\n" + text_part(b"a") + b"--a--\r\n"),
        "epilogue": multipart(b"multipart/mixed; boundary=a", text_part(b"a") + b"--a--\r\n" + EICAR + b"\r\n"),
        "unsplit multipart": multipart(b"multipart/mixed; boundary=a", b"no delimiter here\r\n" + EICAR + b"\r\n"),
        "text after base64": HEAD + b"Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + b64(b"Kinh gui.") + b"\r\n-- \r\n" + EICAR + b"\r\n",
        # Header sections are bytes of the message too: every byte reaches libclamav.
        "message header": HEAD + b"X-Ghi-Chu: " + EICAR + b"\r\nContent-Type: text/plain\r\n\r\nKinh gui.\r\n",
        "part header": multipart(b"multipart/mixed; boundary=a",
                                 b"--a\r\nContent-Type: text/plain\r\nX-Ghi-Chu: " + EICAR + b"\r\n\r\nKinh gui.\r\n--a--\r\n"),
    }[where]
    code, text = send(proxy, body)
    assert code == 554 and "ThuGate.Test.EICAR" in text, (where, text)
    assert upstream.messages == []


def test_content_past_a_parser_limit_is_still_scanned(gateway_factory, upstream):
    # Limits passed are `malformed`; tagged here, what lies past them must still be scanned.
    gateway = gateway_factory(f"smtp://127.0.0.1:{upstream.port}",
                              sections={"policy": {"malformed": "tag"}, "mime": {"max_parts": 4, "max_depth": 2}})
    many = multipart(b"multipart/mixed; boundary=a", b"".join(text_part(b"a", b"%d" % i) for i in range(6))
                     + text_part(b"a", EICAR) + b"--a--\r\n")
    code, text = send(gateway, many)
    assert code == 554 and "ThuGate.Test.EICAR" in text, text
    deep = multipart(b"multipart/mixed; boundary=a", b"--a\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
                     b"Content-Type: multipart/mixed; boundary=c\r\n\r\n" + attachment(b"c", ELF) + b"--c--\r\n--b--\r\n--a--\r\n")
    code, text = send(gateway, deep)
    assert code == 554 and "executable" in text.lower(), text
    assert upstream.messages == []


# --- what cannot be scanned: encrypted mail -------------------------------------------------

@pytest.fixture(scope="module")
def crypto(tmp_path_factory):
    """A certificate and an OpenPGP key of the recipient, made with openssl and gpg."""
    work = tmp_path_factory.mktemp("crypto")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(work / "key.pem"),
                    "-out", str(work / "cert.pem"), "-subj", "/CN=lanhdao@quangninh.gov.vn", "-days", "2"],
                   check=True, capture_output=True)
    home = work / "gnupg"
    home.mkdir(mode=0o700)
    env = dict(os.environ, GNUPGHOME=str(home))
    subprocess.run(["gpg", "--batch", "--passphrase", "", "--quick-gen-key", "lanhdao@quangninh.gov.vn", "default", "default", "1d"],
                   check=True, capture_output=True, env=env)

    def gpg(data: bytes, armor=True) -> bytes:
        return subprocess.run(["gpg", "--batch", "--trust-model", "always", "--encrypt"] + (["--armor"] if armor else [])
                              + ["-r", "lanhdao@quangninh.gov.vn"], input=data, check=True, capture_output=True, env=env).stdout

    def smime(data: bytes) -> bytes:
        return subprocess.run(["openssl", "smime", "-encrypt", "-aes256", "-from", "vanthu@quangninh.gov.vn",
                               "-to", "lanhdao@quangninh.gov.vn", "-subject", "Mat", str(work / "cert.pem")],
                              input=data, check=True, capture_output=True).stdout.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    return gpg, smime


def encrypted_messages(crypto):
    gpg, smime = crypto
    inner = b"Content-Type: application/octet-stream; name=a.exe\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b64(ELF)
    armored = gpg(inner).replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    return {
        "S/MIME enveloped-data": smime(inner),
        "PGP/MIME": multipart(b"multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=e",
                              b"--e\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n\r\n--e\r\n"
                              b"Content-Type: application/octet-stream; name=encrypted.asc\r\n\r\n" + armored + b"--e--\r\n"),
        "inline PGP": HEAD + b"Content-Type: text/plain\r\n\r\n" + armored,
        "binary OpenPGP attachment": multipart(b"multipart/mixed; boundary=a", text_part(b"a")
                                               + attachment(b"a", gpg(inner, armor=False), b"tailieu.gpg") + b"--a--\r\n"),
    }


def test_encrypted_mail_is_tagged_never_silent(proxy, upstream, crypto):
    for kind, data in encrypted_messages(crypto).items():
        before = len(upstream.messages)
        assert send(proxy, data)[0] == 250, kind
        got = strip_trace(upstream.wait_for_messages(before + 1)[-1]["content"])[1]
        findings = got.split(b"\r\n", 1)[0]
        assert findings.startswith(b"X-ThuGate-Findings: encrypted-message"), (kind, findings)
        assert b"cannot be inspected" in findings
        assert got.endswith(data)


@pytest.mark.parametrize("stream", [False, True], ids=["DER", "BER indefinite lengths"])
def test_opaque_signed_smime_is_opened_and_scanned(proxy, upstream, tmp_path, stream):
    """S/MIME signed-data (RFC 8551 3.5.2) carries its MIME entity inside the signature: it is
    unwrapped and scanned, and a clean one is delivered without an encrypted-message finding."""
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(tmp_path / "k.pem"),
                    "-out", str(tmp_path / "c.pem"), "-subj", "/CN=vanthu@quangninh.gov.vn", "-days", "2"],
                   check=True, capture_output=True)

    def sign(inner: bytes) -> bytes:
        command = ["openssl", "smime", "-sign", "-nodetach", "-signer", str(tmp_path / "c.pem"), "-inkey", str(tmp_path / "k.pem"),
                   "-from", "vanthu@quangninh.gov.vn", "-to", "lanhdao@quangninh.gov.vn", "-subject", "Ky so"]
        out = subprocess.run(command + (["-stream"] if stream else []), input=inner, check=True, capture_output=True).stdout
        assert b"smime-type=signed-data" in out
        return out.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")

    hidden = b"Content-Type: multipart/mixed; boundary=i\r\n\r\n" + text_part(b"i") + attachment(b"i", ELF) + b"--i--\r\n"
    code, text = send(proxy, sign(hidden))
    assert code == 554 and "signed content" in text and "executable" in text.lower(), text
    clean = sign(b"Content-Type: text/plain\r\n\r\nKinh gui\r\n")
    assert send(proxy, clean)[0] == 250
    got = strip_trace(upstream.wait_for_messages(1)[-1]["content"])[1]
    assert got == clean


def test_encrypted_mail_can_be_refused(gateway_factory, upstream, crypto):
    gateway = gateway_factory(f"smtp://127.0.0.1:{upstream.port}", sections={"policy": {"encrypted_message": "reject"}})
    for kind, data in encrypted_messages(crypto).items():
        code, text = send(gateway, data)
        assert code == 554 and text.startswith("5.7.1") and "Encrypted message" in text, (kind, text)
    assert upstream.messages == []


# --- item 3: real mail written by other software is delivered -------------------------------

def python_message(**kw) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "vanthu@quangninh.gov.vn"
    msg["To"] = "lanhdao@quangninh.gov.vn"
    msg["Subject"] = "Cong van"
    return msg


def real_irregular_mail():
    alt = python_message()
    alt.set_content("Kinh gui\n")
    alt.add_alternative('<p style="color:red">Kinh gui</p>\n', subtype="html", cte="quoted-printable")
    alt_bytes = alt.as_bytes(policy=SMTP)
    # Python writes `=3D"`; a mail merge tool writes the raw `="` readers pass through.
    raw_qp = alt_bytes.replace(b"style=3D\"", b"style=\"")
    assert raw_qp != alt_bytes

    footer = python_message()
    footer.set_content("Kinh gui cac don vi.\n", cte="base64")
    footer_bytes = footer.as_bytes(policy=SMTP) + b"\r\n_______________________________________________\r\n" \
        b"Danh-sach mailing list\r\nhttps://lists.quangninh.gov.vn/listinfo/danh-sach\r\n"

    mixed = python_message()
    mixed.set_content("Kinh gui\n")
    mixed.add_attachment(b"%PDF-1.4\n" + b"0" * 2000, maintype="application", subtype="pdf", filename="cv.pdf")
    mixed_bytes = mixed.as_bytes(policy=SMTP)
    boundary = mixed.get_boundary().encode()
    truncated = mixed_bytes[:mixed_bytes.rindex(b"--" + boundary + b"--")]
    no_parameter = mixed_bytes.replace(b'; boundary="' + boundary + b'"', b"")
    assert no_parameter != mixed_bytes

    long_header = HEAD.replace(b"To: lanhdao@quangninh.gov.vn", b"To: " + b", ".join(b"nguoi%d@quangninh.gov.vn" % i for i in range(180)))
    long_header += b"Content-Type: text/plain\r\n\r\nKinh gui\r\n"
    assert max(len(line) for line in long_header.split(b"\r\n")) > 4000
    return {
        "raw =\" in quoted-printable HTML": (raw_qp, b"mime-irregular", b"invalid-quoted-printable"),
        "list footer after a base64 body": (footer_bytes, b"mime-irregular", b"text-after-base64"),
        "missing final boundary": (truncated, b"mime-irregular", b"missing-final-boundary"),
        "multipart without a boundary parameter": (no_parameter, b"mime-ambiguous", b"multipart-without-boundary"),
        "4 KB header line": (long_header, None, None),
    }


@pytest.mark.parametrize("kind", list(real_irregular_mail()))
def test_irregular_real_mail_is_delivered_unchanged(proxy, upstream, kind):
    data, rule, detail = real_irregular_mail()[kind]
    assert send(proxy, data)[0] == 250, kind
    got = strip_trace(upstream.wait_for_messages(1)[-1]["content"])[1]
    if rule is None:
        assert got == data
    else:
        findings = got.split(b"\r\n", 1)[0]
        assert findings.startswith(b"X-ThuGate-Findings: " + rule) and detail in findings, findings
        assert got.endswith(data)


def test_irregular_mail_can_be_held(gateway_factory, upstream):
    gateway = gateway_factory(f"smtp://127.0.0.1:{upstream.port}", sections={"policy": {"mime_irregular": "reject"}})
    data, _, _ = real_irregular_mail()["missing final boundary"]
    code, text = send(gateway, data)
    assert code == 554 and text.startswith("5.6.0") and "missing-final-boundary" in text


def test_a_header_field_over_max_field_size_is_malformed(gateway_factory, upstream):
    gateway = gateway_factory(f"smtp://127.0.0.1:{upstream.port}", sections={"mime": {"max_field_size": "2KiB"}})
    data = HEAD + b"X-Long: " + b"a" * 3000 + b"\r\n\r\nbody\r\n"
    code, text = send(gateway, data)
    assert code == 554 and text.startswith("5.6.0") and "header field over 2048 bytes" in text, text


def test_long_data_lines_are_relayed_unchanged_up_to_the_limit(gateway_factory, upstream):
    gateway = gateway_factory(f"smtp://127.0.0.1:{upstream.port}", server={"max_data_line_length": "16KiB"})
    client = RawClient(gateway.connect())
    client.reply()
    for length, accepted in [(1200, True), (16 * 1024 - 2, True), (16 * 1024 - 1, False)]:
        client.send(b"EHLO c\r\nMAIL FROM:<a@quangninh.gov.vn>\r\nRCPT TO:<b@quangninh.gov.vn>\r\nDATA\r\n")
        assert [c for c, _ in client.replies(4)] == [250, 250, 250, 354]
        data = b"Subject: long\r\n\r\n" + b"y" * length + b"\r\n"
        client.send(data + b".\r\n")
        code, text = client.reply()
        if accepted:
            assert code == 250, (length, text)
            assert strip_trace(upstream.messages[-1]["content"])[1] == data
        else:
            assert code == 550 and text.startswith("5.6.0"), (length, text)
    client.close()
    assert len(upstream.messages) == 2


def test_a_message_partial_fragment_cannot_be_checked(proxy, upstream):
    # RFC 2046 5.2.2: a reader that joins fragments sees what none of them shows (Outlook
    # Express did; scanners were evaded so). It is refused as malformed.
    data = HEAD + b'Content-Type: message/partial; id="frag@quangninh.gov.vn"; number=1; total=2\r\n\r\n' \
        + b"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b64(ELF[:100])
    code, text = send(proxy, data)
    assert code == 554 and text.startswith("5.6.0") and "message-partial" in text, text


def test_an_encoded_word_boundary_is_matched_as_written(proxy, upstream):
    # A client matches `--=?utf-8?q?b?=` literally; decoding the word would split elsewhere.
    body = text_part(b"b") + b"--b--\r\n"
    hidden = attachment(b"=?utf-8?q?b?=", ELF) + b"--=?utf-8?q?b?=--\r\n"
    code, text = send(proxy, multipart(b'multipart/mixed; boundary="=?utf-8?q?b?="', hidden + body))
    assert code == 554 and "executable" in text.lower(), text
