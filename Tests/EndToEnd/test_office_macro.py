"""The office-macro rule (issue 9, item 11) with real macro workbooks made at test time by
LibreOffice (its VBA export: .xls with _VBA_PROJECT_CUR, .xlsm with xl/vbaProject.bin), through
the proxy with each action, inside archives, and the same documents without macros."""
import subprocess

import pytest

import samples
from conftest import findings_text, held_messages, send_message as send


@pytest.fixture(scope="module")
def documents(tmp_path_factory):
    work = tmp_path_factory.mktemp("office")
    made = {
        "macro.xls": samples.macro_workbook(work, "xls"),
        "macro.xlsm": samples.macro_workbook(work, "xlsm"),
        "plain.xls": samples.soffice_convert(work, samples.text_file(work, "plain.csv", b"a,b\n1,2\n"), "xls"),
        "plain.xlsx": samples.soffice_convert(work, samples.text_file(work, "plain2.csv", b"a,b\n1,2\n"), "xlsx"),
        "plain.docx": samples.soffice_convert(work, samples.text_file(work, "plain.txt", b"Bao cao\n"), "docx"),
    }
    archive = work / "ho-so"
    archive.mkdir()
    (archive / "so-lieu.xlsm").write_bytes(made["macro.xlsm"])
    (archive / "bang.xls").write_bytes(made["macro.xls"])
    subprocess.run([samples.tool("zip"), "-q", "-r", "../ho-so.zip", "."], cwd=archive, check=True)
    made["ho-so.zip"] = (work / "ho-so.zip").read_bytes()
    return made




def mail(name, data):
    ctype = {"zip": "application/zip"}.get(name.rsplit(".", 1)[-1], "application/octet-stream")
    return samples.message(name, ctype, data)


def test_macros_are_tagged_by_default_and_documents_without_are_not(gateway_factory, upstream, documents):
    gateway = gateway_factory(f"smtp://127.0.0.1:{upstream.port}")
    for name in ("macro.xls", "macro.xlsm", "ho-so.zip", "plain.xls", "plain.xlsx", "plain.docx"):
        code, text = send(gateway, mail(name, documents[name]))
        assert code == 250, (name, text)
    delivered = upstream.wait_for_messages(6)
    headers = [m["content"].split(b"\r\n\r\n", 1)[0] for m in delivered]
    assert b"X-ThuGate-Findings: office-macro(2): macro.xls: VBA project (OLE2 _VBA_PROJECT)" in headers[0]
    assert b"X-ThuGate-Findings: office-macro(2): macro.xlsm: VBA project xl/vbaProject.bin" in headers[1]
    # Both documents inside the zip, each by its own path; never counted as a virus.
    assert b"ho-so.zip/so-lieu.xlsm: VBA project xl/vbaProject.bin" in headers[2]
    assert b"ho-so.zip/bang.xls: VBA project (OLE2 _VBA_PROJECT)" in headers[2]
    assert b"virus" not in headers[2] and b"virus" not in headers[0]
    for plain in headers[3:]:
        assert b"X-ThuGate-Findings" not in plain, plain


def test_macros_can_be_refused(gateway_factory, upstream, documents):
    gateway = gateway_factory(f"smtp://127.0.0.1:{upstream.port}", sections={"policy": {"office_macro": "reject"}})
    for name in ("macro.xls", "macro.xlsm", "ho-so.zip"):
        code, reply = send(gateway, mail(name, documents[name]))
        assert code == 554 and reply.startswith("5.7.1 "), (code, reply)
        text = reply
        assert "Tài liệu Office có macro" in text and "Office document with macros" in text and name in text
    assert send(gateway, mail("plain.xlsx", documents["plain.xlsx"]))[0] == 250
    assert len(upstream.wait_for_messages(1)) == 1


def test_macros_can_be_held(gateway_factory, upstream, documents):
    gateway = gateway_factory(f"smtp://127.0.0.1:{upstream.port}", sections={"policy": {"office_macro": "quarantine"}})
    code, text = send(gateway, mail("macro.xls", documents["macro.xls"]))
    assert code == 250 and "Held for review" in text
    [held] = held_messages(gateway.config_path)
    assert "office-macro(2): macro.xls" in findings_text(held)
    assert upstream.messages == []


def test_a_macro_enabled_name_that_cannot_be_read_is_found_by_name(gateway_factory, upstream):
    gateway = gateway_factory(f"smtp://127.0.0.1:{upstream.port}")
    assert send(gateway, mail("hop-dong.docm", b"not a zip at all\n" * 20))[0] == 250
    [delivered] = upstream.wait_for_messages(1)
    assert b"office-macro(2): hop-dong.docm: macro-enabled Office file (*.docm)" in delivered["content"]


def test_a_virus_beside_a_macro_is_still_the_virus(documents, tmp_path):
    """libclamav's macro heuristic does not end the scan: a signature found after it wins, and
    the macro is still reported."""
    work = tmp_path / "both"
    work.mkdir()
    (work / "m.xls").write_bytes(documents["macro.xls"])
    (work / "eicar.com").write_bytes(samples.EICAR)
    subprocess.run([samples.tool("zip"), "-q", "both.zip", "m.xls", "eicar.com"], cwd=work, check=True)
    eml = tmp_path / "both.eml"
    eml.write_bytes(mail("both.zip", (work / "both.zip").read_bytes()))
    from test_clamav_formats import thugate_scan
    result, [report] = thugate_scan(eml)
    assert result.returncode == 0 and report["action"] == "reject"
    rules = {(f["rule"], f["detail"]) for f in report["findings"]}
    assert ("virus", "ThuGate.Test.EICAR.UNOFFICIAL") in rules
    assert ("office-macro", "both.zip/m.xls: VBA project (OLE2 _VBA_PROJECT)") in rules
