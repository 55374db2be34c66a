"""Charsets Foundation on Linux lacks reach the text rules through glibc's iconv (issue 9 item 8),
Western Latin-1 mail is never rewritten as Vietnamese (item 4), and a single-part body has one
number everywhere (item 12). Messages are written by Python's email package, as other software
writes them."""
import json
import os
import subprocess
from email.message import EmailMessage
from email.policy import SMTP

import pytest

from conftest import BINARY

SAMPLES = [
    ("iso-8859-15", "Prix : 12 € pour l'œuvre complète"),
    ("koi8-r", "Уважаемые коллеги, приглашаем вас на совещание."),
    ("koi8-u", "Шановні колеги, запрошуємо на нараду. Ґанок, їжак."),
    ("x-mac-cyrillic", "Уважаемые коллеги"),
    ("gb2312", "关于召开年度工作会议的通知"),
    ("gbk", "关于召开年度工作会议的通知"),
    ("gb18030", "关于召开会议的通知"),
    ("big5", "關於召開年度工作會議的通知"),
    ("euc-kr", "회의 소집 안내: 참석 부탁드립니다"),
    ("ks_c_5601-1987", "회의 소집 안내"),
    ("shift_jis", "会議のお知らせ"),
    ("iso-2022-jp", "会議のお知らせ"),
    ("utf-7", "Hi Mom -☺-! 日本語"),
    ("windows-1251", "Уважаемые коллеги"),
]
PY_CODEC = {"x-mac-cyrillic": "mac-cyrillic", "ks_c_5601-1987": "cp949"}


def message(charset: str, text: str, subject: str | None = None) -> bytes:
    msg = EmailMessage(policy=SMTP)
    msg["From"] = "a@example.org"
    msg["To"] = "b@example.org"
    msg["Subject"] = subject or text
    body = text.encode(PY_CODEC.get(charset, charset))
    msg.set_content(body, maintype="text", subtype="plain", cte="base64")
    msg.replace_header("Content-Type", f"text/plain; charset=\"{charset}\"")
    return msg.as_bytes()


def scan_json(path):
    result = subprocess.run([str(BINARY), "scan", "--format", "json", str(path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("charset,text", SAMPLES, ids=[c for c, _ in SAMPLES])
def test_iconv_charsets_are_read_not_unknown(tmp_path, charset, text):
    path = tmp_path / "m.eml"
    path.write_bytes(message(charset, text))
    report = scan_json(path)
    assert report["action"] == "accept"
    assert [f for f in report["findings"] if f["rule"] in ("unknown-charset", "legacy-encoding")] == []
    # normalize leaves such mail byte for byte.
    result = subprocess.run([str(BINARY), "normalize", str(path)], capture_output=True, timeout=60)
    assert result.returncode == 0 and result.stdout == path.read_bytes()


@pytest.mark.parametrize("charset,name", [("koi8-r", "Отчёт за ноябрь.pdf"), ("gb2312", "年度报告.pdf"),
                                          ("big5", "年度報告.pdf"), ("euc-kr", "보고서.pdf"), ("iso-8859-15", "Œuvre €.pdf")])
def test_attachment_names_in_iconv_charsets(tmp_path, charset, name):
    """RFC 2231 file names in those charsets (filename*=charset''%XX, as older clients write
    them) decode."""
    from urllib.parse import quote
    encoded = quote(name.encode(PY_CODEC.get(charset, charset)), safe="")
    path = tmp_path / "m.eml"
    path.write_bytes(
        b"From: a@example.org\r\nTo: b@example.org\r\nSubject: report\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
        b"--b\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n"
        + f"Content-Disposition: attachment; filename*={charset}''{encoded}\r\n\r\n".encode()
        + b"JVBERi0xLjQK\r\n--b--\r\n")
    report = scan_json(path)
    assert [p["filename"] for p in report["parts"] if p.get("filename")] == [name]


def test_unknown_charset_is_still_reported_as_part_1(tmp_path):
    path = tmp_path / "m.eml"
    path.write_bytes(b"From: a@example.org\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
                     b"Content-Type: text/plain; charset=x-no-such-charset\r\n\r\nbonjour \xe9t\xe9\r\n")
    report = scan_json(path)
    assert [(f["rule"], f["part"]) for f in report["findings"]] == [("unknown-charset", "1")]
    # One numbering: the parts list calls the body "1" too.
    assert [p["part"] for p in report["parts"]] == ["1"]


WESTERN = [
    ("Facture N° 1467829", "Veuillez trouver ci-joint la facture N°\u00a01467829.\n\u00a0\nCordialement,\n\u00a0\n"),
    ("Re: Dossier n°12 - «\u00a0urgent\u00a0»", "Bonjour\u00a0!\n\u00a0\nLe comité a décidé à l'unanimité.\n"),
    ("Grüße aus Köln · Bürobedarf", "Sehr geehrte Damen und Herren,\n\u00a0\ndie Lieferung N° 7 ist unterwegs.\n"),
    ("Reunión de presupuesto", "Señor Muñoz, la reunión será el miércoles a las 10\u00a0h.\n"),
    ("[PATCH] fix the parser", "--- a/src/main.c\n+++ b/src/main.c\n@@ -1,3 +1,4 @@\n+\u00a0\u00a0\u00a0\u00a0/* keep */\n+\u00a0\n int x;\n"),
]


@pytest.mark.parametrize("charset", ["iso-8859-1", "windows-1252"])
@pytest.mark.parametrize("subject,body", WESTERN, ids=[s[:12] for s, _ in WESTERN])
def test_western_mail_is_left_byte_for_byte(tmp_path, charset, subject, body):
    msg = EmailMessage(policy=SMTP)
    msg["From"] = "a@example.fr"
    msg["To"] = "b@example.fr"
    msg["Subject"] = subject
    msg.set_content(body.encode(charset), maintype="text", subtype="plain", cte="quoted-printable")
    msg.replace_header("Content-Type", f"text/plain; charset=\"{charset}\"")
    msg.add_attachment(b"%PDF-1.4\n", maintype="application", subtype="pdf", filename=(charset, "", subject + ".pdf"))
    path = tmp_path / "m.eml"
    data = msg.as_bytes()
    path.write_bytes(data)
    assert b"=A0" in data or b"=B0" in data or b"=FC" in data or b"=F1" in data or b"=AB" in data
    result = subprocess.run([str(BINARY), "normalize", str(path)], capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == data, result.stderr.decode()
    assert b"legacy-encoding" not in result.stderr


def test_zip_member_names_without_the_utf8_flag_are_cp437(tmp_path):
    """Info-ZIP's zip stores names that are not UTF-8 as they are, without general purpose bit
    11: CP437 by the zip specification (APPNOTE 4.4.4, appendix D), as DOS and Windows wrote."""
    import zipfile
    from email.message import EmailMessage
    from email.policy import SMTP
    names = {"Réunion été.txt": b"hello world\n", "Über öl.txt": b"hi\n", "Ñandú ½.txt": b"x\n"}
    files = tmp_path / "files"
    files.mkdir()
    for name, content in names.items():
        (files / os.fsdecode(name.encode("cp437"))).write_bytes(content)
    archive = tmp_path / "docs.zip"
    subprocess.run(["zip", "-q", str(archive)] + sorted(os.listdir(files)), cwd=files, check=True,
                   env={**os.environ, "LC_ALL": "C"})
    with zipfile.ZipFile(archive) as z:
        assert all(info.flag_bits & 0x800 == 0 for info in z.infolist())
        assert sorted(info.filename for info in z.infolist()) == sorted(names)  # Python reads them as CP437 too
    msg = EmailMessage(policy=SMTP)
    msg["From"] = "a@example.org"
    msg["To"] = "b@example.org"
    msg["Subject"] = "zip"
    msg.set_content("see attached")
    msg.add_attachment(archive.read_bytes(), maintype="application", subtype="zip", filename="docs.zip")
    path = tmp_path / "m.eml"
    path.write_bytes(msg.as_bytes())
    report = scan_json(path)
    member_names = sorted(o["name"] for o in report["objects"] if o["name"].startswith("docs.zip/"))
    assert member_names == sorted(f"docs.zip/{n}" for n in names)
    assert "\ufffd" not in json.dumps(report, ensure_ascii=False)


def test_cli_text_decodes_the_declared_charset():
    data = "Съешь же ещё этих мягких французских булок".encode("koi8-r")
    result = subprocess.run([str(BINARY), "text", "--to-unicode", "--declared", "koi8-r"], input=data, capture_output=True,
                            timeout=30)
    assert result.returncode == 0 and result.stdout.decode() == "Съешь же ещё этих мягких французских булок"
    latin = "Facture N° 1467829".encode("latin-1")
    result = subprocess.run([str(BINARY), "text", "--detect", "--declared", "iso-8859-1"], input=latin, capture_output=True,
                            timeout=30)
    assert result.stdout.decode().split()[0] == "iso-8859-1"
