"""State-secret stamps, as a sender and the security officer meet them: mail sent with smtplib to the
real proxy is refused with 554 5.7.1 when its Subject or a document bears a secrecy stamp (TUYỆT MẬT,
TỐI MẬT, MẬT where a stamp stands), a copy is kept in the quarantine under legal hold, and the officer
and the sending agency are told through the outbox and the real upstream (aiosmtpd), without the
Subject or any of the document; the notices survive a gateway killed while the upstream was down.
Ordinary words containing "mật" pass. Documents are made by real writers (LibreOffice)."""

import email
import json
import smtplib
import subprocess
import time
from email.message import EmailMessage
from email.policy import SMTP, default as default_policy

from conftest import BINARY, ROOT, held_messages, quarantine_cli
from test_notifications import AGENCY, notices, wait_until

FIXTURES = ROOT / "Tests" / "DocumentTextTests" / "Fixtures"



def start(gateway_factory, upstream_port, tmp_path, store=None):
    notify = {
        "retry": ["1s"],
        "templates": str(ROOT / "Config" / "notices"),
        "from": "thugate@quangninh.gov.vn",
        # Shared by every gateway of a test: the restarted one reads the same key.
        "key_file": str(tmp_path / "notice.key"),
    }
    sections = {"notify": notify}
    if store is not None:
        sections["quarantine"] = {"database": str(store)}
    url = f"smtp://127.0.0.1:{upstream_port}"
    return gateway_factory(url, upstream={"url": url, "connect_timeout": "2s"}, sections=sections, raw=AGENCY)


def message(subject, body="Kính gửi các đồng chí.\n", attachment=None, filename=None, maintype="application", subtype="rtf"):
    msg = EmailMessage()
    msg["From"] = "Văn thư <vanthu@quangninh.gov.vn>"
    msg["To"] = "doitac@example.com"
    msg["Subject"] = subject
    msg["Message-ID"] = "<cv-2026-1@quangninh.gov.vn>"
    msg.set_content(body)
    if attachment is not None:
        msg.add_attachment(attachment, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes(policy=SMTP)


def send(gateway, data, sender="vanthu@quangninh.gov.vn", recipients=("doitac@example.com",)):
    with smtplib.SMTP("127.0.0.1", gateway.port, timeout=120) as client:
        client.ehlo("client.test")
        client.mail(sender)
        for rcpt in recipients:
            client.rcpt(rcpt)
        try:
            code, text = client.data(data)
        except smtplib.SMTPDataError as error:
            code, text = error.smtp_code, error.smtp_error
        return code, text.decode("utf-8", "replace")


def test_a_stamped_subject_is_refused_kept_under_legal_hold_and_the_officer_told(gateway_factory, upstream, tmp_path):
    gateway = start(gateway_factory, upstream.port, tmp_path)
    code, text = send(gateway, message("[TỐI MẬT] Kế hoạch phòng thủ khu vực 2027", body="NOI-DUNG-MAT-123\n"))
    assert code == 554 and "5.7.1" in text, text
    assert "dấu chỉ độ mật" in text and "state-secret stamp" in text and "117/2025/QH15" in text, text
    assert "TỐI MẬT stamp in the message's Subject: subject-tag" in text, text
    # Nothing went upstream but the notices; a copy is in the quarantine, under legal hold.
    [kept] = held_messages(gateway.config_path)
    assert kept["category"] == "state-secret" and kept["legal_hold"] is True, kept
    assert [f["rule"] for f in kept["findings"]] == ["state-secret"], kept
    assert wait_until(lambda: len(upstream.messages) >= 2), gateway.log_lines
    time.sleep(0.5)
    assert len(upstream.messages) == 2
    assert sorted(m["rcpt_tos"][0] for m in upstream.messages) == ["antoan@quangninh.gov.vn", "vanthu-tonghop@quangninh.gov.vn"]
    for m in upstream.messages:
        raw = m["content"]
        parsed = email.message_from_bytes(raw, policy=default_policy)
        assert "Thư bị từ chối, bản sao được lưu giữ" in str(parsed["Subject"]) and "state-secret" in str(parsed["Subject"])
        body = parsed.get_content()
        assert kept["id"] in body and f"thugate quarantine show {kept['id']}" in body
        assert "TỐI MẬT stamp" in body and "doitac@example.com" in body
        # Neither the Subject (it carries the stamp itself) nor the body text.
        assert "Kế hoạch phòng thủ" not in body and "(không hiển thị / withheld)" in body
        assert b"NOI-DUNG-MAT-123" not in raw
    # One refusal in the log, naming the kept copy.
    assert gateway.wait_for_log(lambda line: "result=rejected" in line and f"kept={kept['id']}" in line), gateway.log_lines
    # The officer sees the notices sent for it.
    shown = quarantine_cli(gateway.config_path, "show", kept["id"]).stdout.decode()
    assert "antoan@quangninh.gov.vn" in shown and "state-secret" in shown


def test_a_stamp_in_a_document_is_refused_inside_a_zip_too_and_trap_words_pass(gateway_factory, upstream, tmp_path):
    gateway = start(gateway_factory, upstream.port, tmp_path)
    stamped = (FIXTURES / "libreoffice-stamped.rtf").read_bytes()
    code, text = send(gateway, message("Công văn số 12/UBND", attachment=stamped, filename="cong-van.rtf"))
    assert code == 554 and "5.7.1" in text and "MẬT stamp in the rtf attachment" in text, text
    # The file name is not in the finding (a secret document's title is secret too): the part is.
    assert "cong-van" not in text and "(part 2)" in text, text
    # The same document inside a zip is found as well.
    import zipfile
    archive = tmp_path / "ho-so.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("van-ban/cong-van.rtf", stamped)
    code, text = send(gateway, message("Hồ sơ", attachment=archive.read_bytes(), filename="ho-so.zip", subtype="zip"))
    assert code == 554 and "MẬT stamp in a rtf inside an attachment" in text, text
    # Words that contain "mật" (MẬT KHẨU, BẢO MẬT, bí mật ...) are no stamp: delivered.
    traps = (FIXTURES / "libreoffice-traps.rtf").read_bytes()
    code, text = send(gateway, message("Hướng dẫn đặt mật khẩu và bảo mật hộp thư", attachment=traps, filename="huong-dan.rtf"))
    assert code == 250, text
    assert wait_until(lambda: any(m["rcpt_tos"] == ["doitac@example.com"] for m in upstream.messages))
    assert len(held_messages(gateway.config_path)) == 2


def test_state_secret_notices_survive_a_kill_while_the_upstream_is_down(gateway_factory, upstream, tmp_path):
    store = tmp_path / "store.sqlite"
    upstream.data_reply = "451 4.3.0 Try again later"
    down = start(gateway_factory, upstream.port, tmp_path, store=store)
    code, _ = send(down, message("MẬT - Báo cáo tình hình an ninh"))
    assert code == 554
    assert down.wait_for_log(lambda line: "outbox: notice" in line and "not sent" in line), down.log_lines
    down.kill()
    assert upstream.messages == []
    upstream.data_reply = None
    up = start(gateway_factory, upstream.port, tmp_path, store=store)
    assert wait_until(lambda: len(upstream.messages) >= 2), up.log_lines
    time.sleep(2.5)  # retry intervals: a second copy would have come
    assert sorted(m["rcpt_tos"][0] for m in upstream.messages) == ["antoan@quangninh.gov.vn", "vanthu-tonghop@quangninh.gov.vn"]
    assert {n["state"] for n in notices(up.config_path)} == {"sent"}


def test_scan_reports_the_stamp_offline(tmp_path):
    eml = tmp_path / "cv.eml"
    eml.write_bytes(message("Công văn", attachment=(FIXTURES / "libreoffice-stamped.rtf").read_bytes(), filename="cv.rtf"))
    result = subprocess.run([str(BINARY), "scan", str(eml)], capture_output=True, timeout=120)
    out = result.stdout.decode() + result.stderr.decode()
    # Exit 0: the file was read; the verdict is in the output.
    assert result.returncode == 0 and ": reject" in out, out
    assert "finding state-secret (part 2): MẬT stamp in the rtf attachment: bordered, page 1" in out, out
    # For the person checking the file: every mark, with its context.
    assert "secrecy (part 2) cv.rtf: MẬT strong bordered in document-body page 1 [unicode] «MẬT»" in out, out


def test_a_stamp_on_the_first_lines_of_a_body_is_refused_and_one_deep_in_a_quote_is_not(gateway_factory, upstream, tmp_path):
    gateway = start(gateway_factory, upstream.port, tmp_path)
    # As Thunderbird and Gmail write it: text/plain and text/html alternatives, the stamp in bold red.
    msg = EmailMessage()
    msg["From"] = "Văn thư <vanthu@quangninh.gov.vn>"
    msg["To"] = "doitac@example.com"
    msg["Subject"] = "Kế hoạch tháng 12"
    msg.set_content("TỐI MẬT\n\nKính gửi các đồng chí.\n")
    msg.add_alternative('<div dir="ltr"><p><b><font color="#ff0000">T&#7888;I M&#7852;T</font></b></p>'
                        "<p>Kính gửi các đồng chí.</p></div>", subtype="html")
    code, text = send(gateway, msg.as_bytes(policy=SMTP))
    assert code == 554 and "TỐI MẬT stamp in the message's text: mail-body-first-lines" in text, text
    # A message attached to a forward keeps its own Subject: a stamp there is found too.
    inner = EmailMessage()
    inner["From"] = "lanhdao@quangninh.gov.vn"
    inner["Subject"] = "[TUYỆT MẬT] Phương án"
    inner.set_content("Nội dung.\n")
    outer = EmailMessage()
    outer["From"] = "vanthu@quangninh.gov.vn"
    outer["To"] = "doitac@example.com"
    outer["Subject"] = "Fwd: Phương án"
    outer.set_content("Chuyển tiếp.\n")
    outer.add_attachment(inner)
    code, text = send(gateway, outer.as_bytes(policy=SMTP))
    assert code == 554 and "TUYỆT MẬT stamp in the attached message's Subject" in text, text
    # Ordinary words, a level deep in the text, a quoted reply: delivered.
    reply = message("Re: Hướng dẫn bảo mật hộp thư",
                    body="Kính gửi anh.\nĐề nghị đặt MẬT KHẨU mạnh và giữ bí mật nhà nước theo quy định.\n"
                         "Độ mật: Thường\n\n> MẬT\n> Nội dung thư trước.\n")
    code, text = send(gateway, reply)
    assert code == 250, text


def docx(tmp_path, name, header=None, paragraphs=(), table=None):
    """A letter written by python-docx: an optional page header, a letterhead table, paragraphs."""
    from docx import Document
    doc = Document()
    if header is not None:
        doc.sections[0].header.paragraphs[0].text = header
    if table is not None:
        t = doc.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                t.cell(r, c).text = value
    for text in paragraphs:
        doc.add_paragraph(text)
    path = tmp_path / name
    doc.save(path)
    return path.read_bytes()


LETTER = ["V/v triển khai kế hoạch năm 2027", "Kính gửi: Các sở, ban, ngành.",
          "Đề nghị các đơn vị đặt MẬT KHẨU mạnh, bảo mật hộp thư và giữ bí mật nhà nước theo quy định."]


def test_documents_by_real_writers_stamped_refused_ordinary_delivered(gateway_factory, upstream, tmp_path):
    gateway = start(gateway_factory, upstream.port, tmp_path)
    docx_type = ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document")
    stamped = docx(tmp_path, "ke-hoach.docx", header="TỐI MẬT", paragraphs=LETTER,
                   table=[["UBND TỈNH QUẢNG NINH\nSố: 12/KH-UBND", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"]])
    code, text = send(gateway, message("Kế hoạch", attachment=stamped, filename="ke-hoach.docx",
                                       maintype=docx_type[0], subtype=docx_type[1]))
    assert code == 554 and "TỐI MẬT stamp in the docx attachment: page-header" in text, text
    ordinary = docx(tmp_path, "huong-dan.docx", header="UBND TỈNH QUẢNG NINH", paragraphs=LETTER)
    code, text = send(gateway, message("Hướng dẫn", attachment=ordinary, filename="huong-dan.docx",
                                       maintype=docx_type[0], subtype=docx_type[1]))
    assert code == 250, text
    # A register of documents exported by openpyxl: its "Độ mật" column says Mật. Data, not a stamp.
    from openpyxl import Workbook
    book = Workbook()
    sheet = book.active
    sheet.append(["STT", "Số, ký hiệu", "Trích yếu", "Độ mật"])
    sheet.append([1, "12/KH-UBND", "Kế hoạch chuyển đổi số", "Mật"])
    sheet.append([2, "13/TB-UBND", "Thông báo lịch họp", "Thường"])
    register = tmp_path / "so-cong-van.xlsx"
    book.save(register)
    code, text = send(gateway, message("Sổ công văn đến", attachment=register.read_bytes(), filename="so-cong-van.xlsx",
                                       subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
    assert code == 250, text
    # The stamped letter inside a saved message inside a zip: found there too.
    import zipfile
    inner = message("Chuyển tiếp", attachment=stamped, filename="ke-hoach.docx", maintype=docx_type[0], subtype=docx_type[1])
    archive = tmp_path / "thu.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("thu-chuyen-tiep.eml", inner)
    code, text = send(gateway, message("Hồ sơ", attachment=archive.read_bytes(), filename="thu.zip", subtype="zip"))
    assert code == 554 and "TỐI MẬT stamp" in text, text


def test_a_hidden_declassification_withdraws_nothing_and_a_visible_one_does(gateway_factory, upstream, tmp_path):
    gateway = start(gateway_factory, upstream.port, tmp_path)

    def html(body):
        msg = EmailMessage()
        msg["From"] = "vanthu@quangninh.gov.vn"
        msg["To"] = "doitac@example.com"
        msg["Subject"] = "Tài liệu"
        msg.set_content(body, subtype="html")
        return msg.as_bytes(policy=SMTP)

    code, text = send(gateway, html('<p><b>MẬT</b></p><p style="display:none">GIẢI MẬT</p><p>Kính gửi.</p>'))
    assert code == 554, text
    code, text = send(gateway, html("<p><b>MẬT</b></p><p><b>GIẢI MẬT</b></p><p>Kính gửi.</p>"))
    assert code == 250, text
    assert gateway.wait_for_log(lambda line: "declassified by a GIẢI MẬT stamp: not a state-secret finding" in line)


def test_a_stamp_beside_a_malformed_message_still_tells_the_officer(gateway_factory, upstream, tmp_path):
    gateway = start(gateway_factory, upstream.port, tmp_path)
    partial = (b"From: vanthu@quangninh.gov.vn\r\nTo: doitac@example.com\r\nSubject: [TUYET MAT] Phuong an\r\n"
               b"MIME-Version: 1.0\r\nContent-Type: message/partial; id=\"a@b\"; number=1; total=2\r\n\r\n"
               b"Subject: x\r\n\r\nphan mot\r\n")
    code, text = send(gateway, partial)
    assert code == 554 and "TUYỆT MẬT stamp in the message's Subject" in text, text
    [kept] = held_messages(gateway.config_path)
    assert kept["category"] == "state-secret" and kept["legal_hold"] is True
    assert wait_until(lambda: len(upstream.messages) >= 2), gateway.log_lines
    for m in upstream.messages:
        body = email.message_from_bytes(m["content"], policy=default_policy).get_content()
        assert "state-secret" in body and "Phuong an" not in body


def test_a_document_that_cannot_be_read_is_held_when_it_leaves_the_state_system(gateway_factory, upstream, tmp_path):
    gateway = start(gateway_factory, upstream.port, tmp_path)
    bomb = (FIXTURES / "packages" / "hostile-bomb.docx").read_bytes()
    data = message("Báo cáo", attachment=bomb, filename="bao-cao.docx",
                   subtype="vnd.openxmlformats-officedocument.wordprocessingml.document")
    # From a state mailbox to one that is not: held for review.
    code, text = send(gateway, data)
    assert code == 250 and "Held for review" in text, text
    [held] = held_messages(gateway.config_path)
    assert [f["rule"] for f in held["findings"]] == ["secrecy-unchecked-outbound"], held
    # Inside the state system: delivered, tagged.
    code, text = send(gateway, data, recipients=("lanhdao@quangninh.gov.vn",))
    assert code == 250 and "Held" not in text, text
    assert wait_until(lambda: any(m["rcpt_tos"] == ["lanhdao@quangninh.gov.vn"] for m in upstream.messages))
    delivered = next(m for m in upstream.messages if m["rcpt_tos"] == ["lanhdao@quangninh.gov.vn"])["content"]
    assert b"secrecy-unchecked" in delivered


def test_scan_judges_with_the_envelope_it_is_given_or_finds(tmp_path):
    bomb = (FIXTURES / "packages" / "hostile-bomb.docx").read_bytes()
    eml = tmp_path / "bao-cao.eml"
    eml.write_bytes(message("Báo cáo", attachment=bomb, filename="bao-cao.docx",
                            subtype="vnd.openxmlformats-officedocument.wordprocessingml.document"))

    def scan(*args, path=eml):
        result = subprocess.run([str(BINARY), "scan", "--format", "json", *args, str(path)], capture_output=True, timeout=120)
        assert result.returncode == 0, result.stderr.decode(errors="replace")
        return json.loads(result.stdout.decode().splitlines()[-1])

    out = scan("--mail-from", "vanthu@quangninh.gov.vn", "--rcpt-to", "doitac@example.com")
    assert out["envelope"] == {"source": "options", "mail_from": "<vanthu@quangninh.gov.vn>", "rcpt_to": ["<doitac@example.com>"],
                               "rcpt_refused": []}
    assert out["action"] == "quarantine" and [f["rule"] for f in out["findings"]] == ["secrecy-unchecked-outbound"], out
    inside = scan("--mail-from", "vanthu@quangninh.gov.vn", "--rcpt-to", "lanhdao@hoabinh.gov.vn")
    assert inside["action"] == "accept" and [f["rule"] for f in inside["findings"]] == ["secrecy-unchecked"], inside
    # No options: a delivering MTA's Return-Path and Delivered-To, and the output says so.
    traced = tmp_path / "traced.eml"
    traced.write_bytes(b"Return-Path: <vanthu@quangninh.gov.vn>\r\nDelivered-To: doitac@example.com\r\n" + eml.read_bytes())
    out = scan(path=traced)
    assert out["envelope"]["source"] == "return-path/delivered-to" and out["action"] == "quarantine", out
    assert scan()["envelope"] == {"source": "none", "rcpt_to": [], "rcpt_refused": []}
