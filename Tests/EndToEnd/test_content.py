"""Content inspection through the proxy and `thugate scan`: viruses (libclamav), executables
(libmagic, inside archives too), password-protected archives and documents, attachment size.

Every input is made here with the real tools: zip, 7z, programs compiled with MinGW-w64 (real
PE) and gcc (real ELF) by the `programs` fixture, the EICAR test string.
"""
import json
import os
import shutil
import signal
import smtplib
import subprocess
import zipfile
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

import pytest

from conftest import BINARY, ROOT, findings_text, held_messages, held_raw, send_message as send

EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
# One page of text: the PDF helper reads it completely (a PDF with no page or no text is "not fully checked").
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n" \
      b"3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>" \
      b" endobj\n4 0 obj << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> endobj\n" \
      b"5 0 obj << /Length 47 >> stream\nBT /F1 12 Tf 72 720 Td (Bao cao thang 11) Tj ET\nendstream endobj\n" \
      b"trailer << /Root 1 0 R /Size 6 >>\n%%EOF\n"
ENCRYPTED_PDF = PDF.replace(b"/Size 6 >>", b"/Size 6 /Encrypt 9 0 R /ID [<0123> <0123>] >>")


def run(*command, cwd):
    subprocess.run(list(map(str, command)), cwd=cwd, check=True, capture_output=True)


def make_zip(directory: Path, name: str, files: dict, password=None, tool="zip") -> bytes:
    """An archive made by the real tool from `files` ({relative path: bytes})."""
    work = directory / (name + ".d")
    work.mkdir()
    for path, data in files.items():
        (work / path).parent.mkdir(parents=True, exist_ok=True)
        (work / path).write_bytes(data)
    out = directory / name
    paths = sorted(files)
    if tool == "zip":
        run("zip", "-q", "-9", *(["-P", password] if password else []), out, *paths, cwd=work)
    else:
        run("7z", "a", "-bd", "-y", *tool.split()[1:], *([f"-p{password}"] if password else []), out, *paths, cwd=work)
    return out.read_bytes()


def docx(directory: Path) -> bytes:
    """A Word document laid out as Word writes it ([Content_Types].xml, _rels/.rels, word/...)."""
    out = directory / "report.docx"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                   '<Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" '
                   'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
        z.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                   '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
                   'Target="word/document.xml"/></Relationships>')
        z.writestr("word/document.xml", '<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
                   'wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>Báo cáo</w:t></w:r></w:p></w:body></w:document>')
    return out.read_bytes()


def message(attachments=(), body="Kính gửi các đơn vị.\n", subject="Công văn"):
    msg = EmailMessage()
    msg["From"] = "vanthu@quangninh.gov.vn"
    msg["To"] = "lanhdao@quangninh.gov.vn"
    msg["Subject"] = subject
    msg.set_content(body)
    for name, data, ctype in attachments:
        maintype, subtype = ctype.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg.as_bytes(policy=SMTP)


def send_ok(gateway, data):
    """Sends a message that must be accepted; returns the 250 text."""
    code, text = send(gateway, data)
    assert code == 250, text
    return text


@pytest.fixture
def proxy(gateway_factory, upstream):
    return gateway_factory(f"smtp://127.0.0.1:{upstream.port}")


def test_eicar_in_the_body_is_refused_with_the_signature(proxy, upstream):
    code, text = send(proxy, message(body="Test: " + EICAR.decode() + "\n"))
    assert code == 554 and text.startswith("5.7.0 "), text
    assert "ThuGate.Test.EICAR.UNOFFICIAL" in text and "virus" in text.lower()
    assert upstream.messages == []


def test_eicar_in_a_deflated_zip_in_a_zip_is_found(proxy, upstream, tmp_path):
    inner = make_zip(tmp_path, "inner.zip", {"docs/eicar.txt": EICAR * 50})
    outer = make_zip(tmp_path, "outer.zip", {"inner.zip": inner, "readme.txt": b"hello\n" * 100})
    code, text = send(proxy, message([("outer.zip", outer, "application/zip")]))
    assert code == 554 and "ThuGate.Test.EICAR" in text and "part 2" in text
    assert upstream.messages == []


@pytest.mark.parametrize("name,program,ctype", [
    ("setup.exe", "pe64.exe", "application/octet-stream"),
    ("bao-cao.pdf", "pe32.exe", "application/pdf"),  # a PE renamed .pdf
    ("thu-vien.txt", "pe32.dll", "text/plain"),      # a DLL renamed .txt
    ("anh.jpg", "elf", "image/jpeg"),                # an ELF renamed .jpg
    ("so-lieu.dat", "elf-static", "application/octet-stream"),
    ("bang.csv", "elf.so", "text/csv"),
    ("chay.vbs", None, "text/plain"),                # a script, by name
], ids=["exe", "pe-as-pdf", "dll-as-txt", "elf-as-jpg", "static-elf", "elf-so", "vbs"])
def test_executables_are_refused_by_real_type_or_name(proxy, upstream, programs, name, program, ctype):
    data = programs[program] if program else b'MsgBox "hello"\r\n'
    code, text = send(proxy, message([(name, data, ctype)]))
    assert code == 554 and text.startswith("5.7.1 "), text
    assert "Tệp đính kèm là tệp thực thi" in text and "executable attachment" in text.lower()
    assert name in text
    assert upstream.messages == []


def test_exe_inside_a_zip_inside_a_zip_is_found(proxy, upstream, tmp_path, programs):
    inner = make_zip(tmp_path, "inner.zip", {"tool/update.bin": programs["pe64.exe"]})
    outer = make_zip(tmp_path, "tai-lieu.zip", {"inner.zip": inner, "doc.txt": b"noi dung\n"})
    code, text = send(proxy, message([("tai-lieu.zip", outer, "application/zip")]))
    assert code == 554 and text.startswith("5.7.1 ")
    assert "tai-lieu.zip/inner.zip/update.bin" in text and "portable-executable" in text
    assert upstream.messages == []


def test_exe_in_a_7z_subfolder_is_found(proxy, upstream, tmp_path, programs):
    archive = make_zip(tmp_path, "goi.7z", {"thu-muc/con/a.dat": programs["pe64.dll"], "b.txt": b"x\n"}, tool="7z -t7z")
    code, text = send(proxy, message([("goi.7z", archive, "application/x-7z-compressed")]))
    assert code == 554 and "a.dat" in text and "executable" in text.lower()
    assert upstream.messages == []


def test_exe_in_a_zip_libclamav_cannot_unpack_is_found_by_name(proxy, upstream, tmp_path, programs):
    # libclamav does not unpack PPMd-compressed zip members; ThuGate's own listing names them.
    archive = make_zip(tmp_path, "hoa-don.zip", {"setup.exe": programs["pe32.exe"], "a.txt": b"a\n"}, tool="7z -tzip -mm=PPMd")
    code, text = send(proxy, message([("hoa-don.zip", archive, "application/zip")]))
    assert code == 554 and "hoa-don.zip/setup.exe is *.exe" in text
    assert upstream.messages == []


def test_message_attached_as_a_plain_file_is_opened(proxy, upstream, programs):
    # A forwarded .eml sent as application/octet-stream: its own attachment is checked too.
    inner = message([("hoa-don.exe", programs["pe64.exe"], "application/octet-stream")], subject="Fwd: hóa đơn")
    code, text = send(proxy, message([("chuyen-tiep.eml", inner, "application/octet-stream")]))
    assert code == 554 and "chuyen-tiep.eml/hoa-don.exe" in text and "portable-executable" in text
    code, text = send(proxy, message([("chuyen-tiep.eml", message(body=EICAR.decode()), "application/octet-stream")]))
    assert code == 554 and "ThuGate.Test.EICAR" in text
    assert upstream.messages == []


def test_trailing_dots_do_not_hide_a_script(proxy, upstream):
    code, text = send(proxy, message([("thong-bao.js.", b"WScript.Echo(1)\r\n", "application/octet-stream")]))
    assert code == 554 and "*.js" in text
    assert upstream.messages == []


def test_documents_and_plain_archives_of_documents_pass(proxy, upstream, tmp_path):
    word = docx(tmp_path)
    documents = make_zip(tmp_path, "ho-so.zip", {"bao-cao.pdf": PDF, "ghi-chu.txt": "Ghi chú\n".encode()})
    png = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000" "1f15c4890000000d49444154789c6360000002000100"
                        "05fe02fe0000000049454e44ae426082")
    data = message([("bao-cao.docx", word, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
                    ("ho-so.zip", documents, "application/zip"), ("bao-cao.pdf", PDF, "application/pdf"),
                    ("anh.png", png, "image/png")])
    send_ok(proxy, data)
    assert len(upstream.messages) == 1
    assert b"X-ThuGate-Findings" not in upstream.messages[0]["content"]


def encrypted_archive(tmp_path, kind, files):
    return {
        "zipcrypto": lambda: (make_zip(tmp_path, "a.zip", files, password="matkhau"), "a.zip"),
        "winzip-aes": lambda: (make_zip(tmp_path, "a.zip", files, password="matkhau", tool="7z -tzip -mem=AES256"), "a.zip"),
        "7z": lambda: (make_zip(tmp_path, "a.7z", files, password="matkhau", tool="7z -t7z"), "a.7z"),
        "7z-hidden-list": lambda: (make_zip(tmp_path, "a.7z", files, password="matkhau", tool="7z -t7z -mhe=on"), "a.7z"),
    }[kind]()


@pytest.mark.parametrize("kind", ["zipcrypto", "winzip-aes", "7z", "7z-hidden-list"])
def test_encrypted_archives_are_held_in_quarantine(proxy, upstream, tmp_path, kind):
    files = {"so-lieu.xlsx": b"PK\x03\x04 not really\n" * 100, "van-ban/bao-cao.txt": "Báo cáo\n".encode()}
    archive, name = encrypted_archive(tmp_path, kind, files)
    data = message([(name, archive, "application/octet-stream")])
    text = send_ok(proxy, data)
    assert text.startswith("2.0.0 ") and "Held for review" in text and "giữ lại" in text
    assert upstream.messages == []
    held = held_messages(proxy.config_path)
    assert len(held) == 1
    found = findings_text(held[0])
    assert f"encrypted-archive(2): {name}" in found
    assert held[0]["sender"] == "<vanthu@quangninh.gov.vn>"
    assert [r["address"] for r in held[0]["recipients"]] == ["<lanhdao@quangninh.gov.vn>"]
    # The message is held whole: the original bytes, as the client sent them.
    assert held_raw(proxy.config_path, held[0]["id"]) == data
    if kind == "7z-hidden-list":
        assert "file list encrypted" in found
    else:
        assert "encrypted members: so-lieu.xlsx, van-ban/bao-cao.txt" in found


@pytest.mark.parametrize("kind", ["zipcrypto", "winzip-aes", "7z"])
def test_exe_named_in_an_encrypted_archive_is_refused(proxy, upstream, tmp_path, kind):
    # The contents cannot be read, but the file list is in clear: the exe is found by its name.
    archive, name = encrypted_archive(tmp_path, kind, {"bin/setup.exe": b"MZ" + b"\0" * 500, "a.txt": b"a\n"})
    code, text = send(proxy, message([(name, archive, "application/octet-stream")]))
    assert code == 554 and text.startswith("5.7.1 ") and f"{name}/bin/setup.exe is *.exe" in text
    assert upstream.messages == []


def test_encrypted_archive_inside_a_plain_zip_can_be_refused(gateway_factory, upstream, tmp_path):
    gateway = gateway_factory(f"smtp://127.0.0.1:{upstream.port}", sections={"policy": {"encrypted_archive": "reject"}})
    inner = make_zip(tmp_path, "secret.zip", {"a.txt": b"bi mat\n"}, password="pw")
    outer = make_zip(tmp_path, "outer.zip", {"secret.zip": inner})
    code, text = send(gateway, message([("outer.zip", outer, "application/zip")]))
    assert code == 554 and text.startswith("5.7.1 ") and "Password-protected archive" in text
    assert "outer.zip/secret.zip" in text
    assert upstream.messages == []


def test_encrypted_pdf_is_tagged_and_delivered(proxy, upstream):
    send_ok(proxy, message([("mat.pdf", ENCRYPTED_PDF, "application/pdf")]))
    assert len(upstream.messages) == 1
    content = upstream.messages[0]["content"]
    assert b"X-ThuGate-Findings: encrypted-document(2): mat.pdf: encrypted PDF" in content


def test_attachment_size_limit_follows_the_profile(gateway_factory, upstream):
    data = message([("so-lieu.bin", os.urandom(16 * 1_000_000), "application/octet-stream")])
    quan4 = gateway_factory(f"smtp://127.0.0.1:{upstream.port}", sections={"policy": {"profile": "quan-4"}})
    code, text = send(quan4, data)
    assert code == 552 and text.startswith("5.3.4 ") and "Attachments too large" in text and "15" in text
    assert upstream.messages == []
    quang_ninh = gateway_factory(f"smtp://127.0.0.1:{upstream.port}", sections={"policy": {"profile": "quang-ninh"}})
    send_ok(quang_ninh, data)
    assert len(upstream.messages) == 1


def test_message_size_is_refused_at_mail_from(gateway_factory, upstream):
    gateway = gateway_factory(f"smtp://127.0.0.1:{upstream.port}", server={"max_message_size": "1MiB"})
    with smtplib.SMTP("127.0.0.1", gateway.port, timeout=30) as client:
        client.ehlo("client.test")
        code, text = client.mail("a@quangninh.gov.vn", ["SIZE=2000000"])
        assert code == 552 and text.startswith(b"5.3.4")


def test_scan_failure_defers_the_message(gateway_factory, upstream, tmp_path):
    # libclamav's temporary directory disappears under the running gateway: libclamav then
    # answers "clean" without scanning, which ThuGate notices; the message is deferred.
    scratch = tmp_path / "scratch"
    gateway = gateway_factory(f"smtp://127.0.0.1:{upstream.port}", sections={"scan": {"temporary_directory": str(scratch)}})
    shutil.rmtree(scratch)
    scratch.write_text("not a directory any more")
    code, text = send(gateway, message(body="x " + EICAR.decode() + "\n"))
    assert code == 451 and text.startswith("4.7.0 ") and "Content scan failed" in text
    assert upstream.messages == []
    assert gateway.wait_for_log(lambda line: "content scan failed" in line)


def test_temporary_directory_that_cannot_be_made_refuses_to_start(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    config = tmp_path / "t.toml"
    config.write_text(f'[scan]\nsignatures = "{ROOT}/Config/signatures"\ntemporary_directory = "{blocker}/tmp"\n')
    result = subprocess.run([str(BINARY), "serve", "--config", str(config), "--listen", "127.0.0.1:0"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "temporary directory" in result.stderr


def test_no_signatures_refuses_to_start(tmp_path):
    empty = tmp_path / "sigs"
    empty.mkdir()
    config = tmp_path / "t.toml"
    config.write_text(f'[scan]\nsignatures = "{empty}"\n')
    result = subprocess.run([str(BINARY), "serve", "--config", str(config), "--listen", "127.0.0.1:0"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "cl_load" in result.stderr and str(empty) in result.stderr


def test_sighup_and_reload_swap_the_signatures(gateway_factory, upstream, tmp_path):
    signatures = tmp_path / "signatures"
    shutil.copytree(ROOT / "Config" / "signatures", signatures)
    pid_file = tmp_path / "thugate.pid"
    gateway = gateway_factory(f"smtp://127.0.0.1:{upstream.port}", server={"pid_file": str(pid_file)},
                              sections={"scan": {"signatures": str(signatures)}})
    marker = "THUGATE-RELOAD-MARKER-2026"
    send_ok(gateway, message(body=f"{marker}\n"))

    # A broken database keeps the running engine.
    (signatures / "broken.ndb").write_text("this is not a signature\n")
    os.kill(gateway.proc.pid, signal.SIGHUP)
    assert gateway.wait_for_log(lambda line: "reload failed" in line)
    assert send(gateway, message(body="x " + EICAR.decode() + "\n"))[0] == 554

    # A good one is swapped in: `thugate reload` finds the process by its PID file.
    (signatures / "broken.ndb").unlink()
    (signatures / "extra.ndb").write_text(f"ThuGate.Test.Marker:0:*:{marker.encode().hex()}\n")
    config = gateway.config_path
    result = subprocess.run([str(BINARY), "reload", "--config", str(config)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert gateway.wait_for_log(lambda line: "signatures reloaded: 2 signatures" in line)
    code, text = send(gateway, message(body=f"{marker}\n"))
    assert code == 554 and "ThuGate.Test.Marker.UNOFFICIAL" in text
    assert len(upstream.messages) == 1


def scan_json(tmp_path, files):
    paths = []
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        paths.append(tmp_path / name)
    result = subprocess.run([str(BINARY), "scan", "--format", "json", *map(str, paths)], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return {Path(r["file"]).name: r for r in map(json.loads, result.stdout.splitlines())}


def test_scan_reports_the_same_findings(tmp_path, programs):
    inner = make_zip(tmp_path, "inner.zip", {"x/run.dat": programs["pe64.exe"]})
    nested = make_zip(tmp_path, "outer.zip", {"inner.zip": inner})
    hidden = make_zip(tmp_path, "h.7z", {"a.txt": b"a\n"}, password="pw", tool="7z -t7z -mhe=on")
    reports = scan_json(tmp_path, {
        "virus.eml": message(body=EICAR.decode()),
        "nested.eml": message([("outer.zip", nested, "application/zip")]),
        "hidden.eml": message([("h.7z", hidden, "application/x-7z-compressed")]),
        "clean.eml": message([("bao-cao.pdf", PDF, "application/pdf")]),
    })
    assert reports["virus.eml"]["action"] == "reject"
    assert [f["rule"] for f in reports["virus.eml"]["findings"]] == ["virus"]
    nested_findings = reports["nested.eml"]["findings"]
    assert reports["nested.eml"]["action"] == "reject"
    assert any(f["rule"] == "executable" and "outer.zip/inner.zip/run.dat" in f["detail"] for f in nested_findings)
    members = {o["name"]: o.get("type") for o in reports["nested.eml"]["objects"]}
    assert members["outer.zip/inner.zip/run.dat"] == "application/vnd.microsoft.portable-executable"
    assert reports["hidden.eml"]["action"] == "quarantine"
    assert reports["hidden.eml"]["findings"][0]["rule"] == "encrypted-archive"
    assert reports["clean.eml"]["action"] == "accept" and reports["clean.eml"]["findings"] == []
