#!/usr/bin/env python3
"""Writes the generated part of Corpus/: messages shaped like what real clients send, built with
Python's email package (a second, independent MIME writer). Deterministic; rerun to refresh.
The hand-written messages in Corpus/ are not touched."""
import base64
import random
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage, MIMEPart
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "Corpus"
rng = random.Random(6909)
SMTP = policy.SMTP  # CRLF line endings, as on the wire


def write(name, message):
    (OUT / f"gen-{name}.eml").write_bytes(message.as_bytes(policy=SMTP) if hasattr(message, "as_bytes") else message)


def base(subject, sender=("Văn thư Sở", "vanthu", "quangninh.gov.vn")):
    m = EmailMessage(policy=SMTP)
    m["From"] = Address(*sender)
    m["To"] = "Phòng Hành chính <hanhchinh@quangninh.gov.vn>, Nguyễn Thị B <b@dongnai.gov.vn>"
    m["Subject"] = subject
    m["Date"] = "Mon, 23 Nov 2026 08:00:00 +0700"
    m["Message-ID"] = f"<{rng.getrandbits(48):x}@quangninh.gov.vn>"
    return m


# Thunderbird-like: text + HTML alternative, format=flowed, utf-8 QP.
m = base("Kế hoạch công tác tháng 12")
m.set_content("Kính gửi các đồng chí,\n\nĐề nghị các đơn vị gửi kế hoạch trước ngày 5/12.\n" * 3, subtype="plain",
              cte="quoted-printable")
m.add_alternative("<html><body><p>Kính gửi các đồng chí,</p><p>Đề nghị các đơn vị gửi kế hoạch.</p></body></html>",
                  subtype="html")
write("alternative-qp", m)

# Outlook-like: related HTML with an inline image, plus a docx attachment with a Vietnamese name.
m = base("Giấy mời họp")
m.set_content("Xem giấy mời đính kèm.")
m.add_alternative('<html><body><img src="cid:logo@ubnd"><p>Giấy mời</p></body></html>', subtype="html")
m.get_payload()[1].add_related(bytes(range(256)) * 4, maintype="image", subtype="png", cid="<logo@ubnd>")
m.add_attachment(b"PK\x03\x04" + rng.randbytes(3000), maintype="application",
                 subtype="vnd.openxmlformats-officedocument.wordprocessingml.document", filename="Giấy mời họp.docx")
write("related-inline-image", m)

# A forwarded message (message/rfc822) with its own attachment.
inner = base("Công văn gốc", ("Sở TT&TT", "stttt", "thainguyen.gov.vn"))
inner.set_content("Nội dung công văn gốc.")
inner.add_attachment(rng.randbytes(5000), maintype="application", subtype="pdf", filename="cong-van.pdf")
m = base("Fwd: Công văn gốc")
m.set_content("Chuyển tiếp công văn.")
m.add_attachment(inner)
write("forwarded-with-attachment", m)

# A delivery status notification (multipart/report, RFC 3464), as Postfix writes one.
dsn = (b"From: MAILER-DAEMON@mail.quangninh.gov.vn (Mail Delivery System)\r\nTo: vanthu@quangninh.gov.vn\r\n"
       b"Subject: Undelivered Mail Returned to Sender\r\nMIME-Version: 1.0\r\n"
       b"Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"4B2A1C3D5E.1732345678/mail\"\r\n\r\n"
       b"This is a MIME-encapsulated message.\r\n\r\n--4B2A1C3D5E.1732345678/mail\r\n"
       b"Content-Description: Notification\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
       b"This is the mail system at host mail.quangninh.gov.vn.\r\n\r\nI'm sorry to have to inform you...\r\n\r\n"
       b"--4B2A1C3D5E.1732345678/mail\r\nContent-Description: Delivery report\r\nContent-Type: message/delivery-status\r\n\r\n"
       b"Reporting-MTA: dns; mail.quangninh.gov.vn\r\n\r\nFinal-Recipient: rfc822; x@example.com\r\nAction: failed\r\n"
       b"Status: 5.1.1\r\n\r\n--4B2A1C3D5E.1732345678/mail\r\nContent-Description: Undelivered Message Headers\r\n"
       b"Content-Type: text/rfc822-headers\r\n\r\nFrom: vanthu@quangninh.gov.vn\r\nSubject: x\r\n\r\n"
       b"--4B2A1C3D5E.1732345678/mail--\r\n")
write("bounce-dsn", dsn)

# Several attachments of different types, base64, a zip and a spreadsheet; RFC 2231 names.
m = base("Báo cáo số liệu quý IV")
m.set_content("Gửi kèm số liệu.")
for name, maintype, subtype, size in [("Số liệu quý IV.xlsx", "application", "vnd.ms-excel", 20000),
                                       ("ảnh hiện trường.jpg", "image", "jpeg", 40000),
                                       ("hồ sơ.zip", "application", "zip", 15000)]:
    m.add_attachment(rng.randbytes(size), maintype=maintype, subtype=subtype, filename=name)
write("many-attachments", m)

# A calendar invitation (text/calendar method=REQUEST).
m = base("Lịch họp giao ban")
m.set_content("Mời họp giao ban.")
m.add_attachment("BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nSUMMARY:Giao ban\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
                 subtype="calendar", params={"method": "REQUEST"}, filename="invite.ics")
write("calendar-invite", m)

# A legacy client: windows-1258 body, 8bit, no MIME-Version, encoded-word subject in windows-1258.
legacy = ("Subject: =?windows-1258?Q?Th=F4ng_ba=D2o?=\r\nFrom: a@hoabinh.gov.vn\r\nTo: b@hoabinh.gov.vn\r\n"
          "Content-Type: text/plain; charset=windows-1258\r\nContent-Transfer-Encoding: 8bit\r\n\r\n").encode() \
    + "Thông báo về việc nghỉ lễ.\r\n".encode("cp1258", errors="replace") + b"\r\n"
write("legacy-windows-1258", legacy)

# A multipart/signed S/MIME shape (the signature bytes are random: only the structure matters here).
signed = ("From: a@quangninh.gov.vn\r\nTo: b@quangninh.gov.vn\r\nSubject: signed\r\nMIME-Version: 1.0\r\n"
          "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=sha-256; boundary=\"sig\"\r\n\r\n"
          "This is an S/MIME signed message\r\n\r\n--sig\r\nContent-Type: text/plain; charset=utf-8\r\n"
          "Content-Transfer-Encoding: 8bit\r\n\r\nVăn bản đã ký số.\r\n\r\n--sig\r\n"
          "Content-Type: application/pkcs7-signature; name=smime.p7s\r\nContent-Transfer-Encoding: base64\r\n"
          "Content-Disposition: attachment; filename=smime.p7s\r\n\r\n").encode() \
    + base64.encodebytes(rng.randbytes(1200)).replace(b"\n", b"\r\n") + b"\r\n--sig--\r\n"
write("smime-signed", signed)

# An old client that uuencodes its attachment in the text.
uu = (b"From: old@dongnai.gov.vn\r\nTo: b@dongnai.gov.vn\r\nSubject: file\r\n\r\nFile dinh kem:\r\n\r\n"
      b"begin 644 data.txt\r\n" + b"".join(__import__("binascii").b2a_uu(b"Bao cao nam 2026 " * 2)[:-1].split(b"\n")) +
      b"\r\n`\r\nend\r\n")
write("uuencoded", uu)
print("written to", OUT)
