#!/usr/bin/env python3
"""Makes the PDF fixtures of the PDF helper's tests (PDFHelperPool+Tests.swift) with real writers, and the
hostile ones by hand. The PDFs are committed so the unit tests need neither LibreOffice nor fpdf2; run
this script again to remake them:
    python3 Tests/ScanningTests/PDFFixtures/make.py

- libreoffice-stamped.pdf: python-docx writes a letter (letterhead table, the number and subject line,
  a red bold TỐI MẬT at the top left of page 1, trap words in the body, a second page), LibreOffice
  headless exports it (`soffice --convert-to pdf`).
- libreoffice-traps.pdf: the same letter with no stamp, the trap words in capitals and bold.
- fpdf2-stamped.pdf: fpdf2 with DejaVu Sans embedded (fonts-dejavu-core): TUYỆT MẬT red bold at the
  top left, "Tài liệu thu hồi" top right, three pages (page 3 only as plain text).
- fpdf2-traps.pdf: trap words, at the top left too, in capitals.
- scanned-stamped.pdf, scanned-traps.pdf: page 1 of the LibreOffice letters rendered to a 1-bit image by
  pdftoppm (a scanner's output) and put alone on a page by fpdf2: no text, for the OCR of the top of page 1.
- encrypted.pdf: fpdf2-traps.pdf encrypted by qpdf with a user password.
- broken.pdf: the start of a PDF, cut off.
- cyclic-pages.pdf: a page tree whose Pages node lists itself as a kid (hand-written).
- memory-bomb.pdf: a font whose embedded font file inflates to 1 GiB (3 KB on disk): poppler reads it whole,
  far past a helper's address-space limit.
"""
import os
import shutil
import subprocess
import tempfile
import zlib

from docx import Document
from docx.shared import Pt, RGBColor
from fpdf import FPDF

HERE = os.path.dirname(os.path.abspath(__file__))
DEJAVU = "/usr/share/fonts/truetype/dejavu"

TRAPS = [
    "Đề nghị các đơn vị đổi mật khẩu hộp thư công vụ và tăng cường bảo mật thông tin.",
    "Quan hệ thân mật, mật thiết giữa các cơ quan; mật độ dân cư; mật ong rừng.",
    "Quy định về tài liệu Tuyệt mật, Tối mật và Mật theo Luật Bảo vệ bí mật nhà nước.",
]


def letter(stamp):
    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "DejaVu Serif"
    style.font.size = Pt(12)
    table = doc.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "SỞ THÔNG TIN VÀ TRUYỀN THÔNG"
    table.cell(1, 0).text = "Số: 12/STTTT-VP"
    table.cell(0, 1).text = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    table.cell(1, 1).text = "Độc lập - Tự do - Hạnh phúc"
    doc.add_paragraph("V/v triển khai kế hoạch năm 2026")
    if stamp:
        run = doc.add_paragraph().add_run("TỐI MẬT")
        run.bold = True
        run.font.size = Pt(14)
        run.font.color.rgb = RGBColor(0xFF, 0, 0)
    else:
        for word in ("MẬT KHẨU", "BẢO MẬT"):
            run = doc.add_paragraph().add_run(word)
            run.bold = True
    doc.add_paragraph("Kính gửi: Các phòng, ban thuộc Sở.")
    for text in TRAPS:
        doc.add_paragraph(text)
    doc.add_page_break()
    doc.add_paragraph("Trang hai của văn bản: mật khẩu mới có hiệu lực từ ngày 01/01/2026.")
    return doc


def libreoffice(work, name, doc):
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    path = os.path.join(work, name + ".docx")
    doc.save(path)
    subprocess.run(
        [soffice, "--headless", "-env:UserInstallation=file://" + work + "/profile", "--convert-to", "pdf", "--outdir", work, path],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    shutil.copy(os.path.join(work, name + ".pdf"), os.path.join(HERE, "libreoffice-" + name + ".pdf"))


def fpdf2(name, stamp):
    pdf = FPDF(format="A4")
    pdf.set_margins(20, 15)
    pdf.add_font("DejaVu", "", os.path.join(DEJAVU, "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", os.path.join(DEJAVU, "DejaVuSans-Bold.ttf"))
    pdf.add_page()
    pdf.set_font("DejaVu", "", 12)
    pdf.set_xy(20, 15)
    pdf.cell(80, 7, "ỦY BAN NHÂN DÂN TỈNH QUẢNG NINH")
    pdf.set_xy(120, 15)
    pdf.cell(80, 7, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
    pdf.set_xy(20, 25)
    pdf.cell(80, 7, "Số: 40/UBND-VP")
    pdf.set_xy(20, 33)
    pdf.cell(80, 7, "V/v bảo đảm an toàn thông tin")
    pdf.set_xy(20, 45)
    if stamp:
        pdf.set_font("DejaVu", "B", 14)
        pdf.set_text_color(255, 0, 0)
        pdf.cell(40, 8, "TUYỆT MẬT")
        pdf.set_text_color(0, 0, 0)
        pdf.set_font("DejaVu", "", 11)
        pdf.set_xy(140, 45)
        pdf.cell(50, 7, "Tài liệu thu hồi")
    else:
        pdf.set_font("DejaVu", "B", 14)
        pdf.cell(40, 8, "MẬT KHẨU")
        pdf.set_xy(20, 55)
        pdf.cell(40, 8, "BẢO MẬT THÔNG TIN")
    pdf.set_font("DejaVu", "", 12)
    pdf.set_xy(20, 80)
    for text in TRAPS:
        pdf.multi_cell(170, 7, text, new_x="LMARGIN", new_y="NEXT")
    for page in (2, 3):
        pdf.add_page()
        pdf.set_xy(20, 20)
        pdf.multi_cell(170, 7, "Trang %d: đổi mật khẩu định kỳ; mật độ kiểm tra." % page)
    pdf.output(os.path.join(HERE, "fpdf2-" + name + ".pdf"))


def scanned(work, name):
    """Page 1 of libreoffice-NAME.pdf as a scanner gives it (pdftoppm, 150 dpi, 1 bit), alone on an A4 page
    written by fpdf2: a PDF with no text, only the image."""
    subprocess.run(
        ["pdftoppm", "-r", "150", "-mono", "-f", "1", "-l", "1", os.path.join(HERE, "libreoffice-" + name + ".pdf"), os.path.join(work, "scan")],
        check=True,
    )
    from PIL import Image

    png = os.path.join(work, "scan.png")
    Image.open(os.path.join(work, "scan-1.pbm")).save(png, optimize=True)
    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.image(png, x=0, y=0, w=210, h=297)
    pdf.output(os.path.join(HERE, "scanned-" + name + ".pdf"))


def handwritten(objects, root=1):
    """A PDF of `objects` (bytes, numbered from 1) with a correct cross-reference table."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, root, xref)
    return bytes(out)


def stream(data, compress=False):
    if compress:
        data = zlib.compress(data, 9)
        return b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream"
    return b"<< /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"


FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def cyclic():
    # 2 0 R (Pages) has itself and the page as kids: a reader that follows kids blindly never ends.
    return handwritten(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
            stream(b"BT /F1 14 Tf 50 780 Td (Page one) Tj ET"),
            FONT,
        ]
    )


def memory_bomb():
    # The page's font embeds a Type 1 font file that inflates (twice Flate) to 1 GiB of zeros: poppler reads an
    # embedded font file whole into memory to find its built-in encoding, far past a helper's address space.
    deflate = zlib.compressobj(9)
    chunk = bytes(1 << 20)
    once = bytearray()
    for _ in range(1024):
        once += deflate.compress(chunk)
    once += deflate.flush()
    twice = zlib.compress(bytes(once), 9)
    font_file = (
        b"<< /Length %d /Length1 %d /Length2 0 /Length3 0 /Filter [/FlateDecode /FlateDecode] >>\nstream\n" % (len(twice), 1 << 30)
        + twice
        + b"\nendstream"
    )
    return handwritten(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
            stream(b"BT /F1 14 Tf 50 780 Td (MAT) Tj ET"),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Bomb /FirstChar 32 /LastChar 126 /Widths [] /FontDescriptor 6 0 R >>",
            b"<< /Type /FontDescriptor /FontName /Bomb /Flags 32 /FontBBox [0 0 1000 1000] /ItalicAngle 0 /Ascent 800"
            b" /Descent -200 /CapHeight 700 /StemV 80 /FontFile 7 0 R >>",
            font_file,
        ]
    )


def main():
    with tempfile.TemporaryDirectory() as work:
        libreoffice(work, "stamped", letter(stamp=True))
        libreoffice(work, "traps", letter(stamp=False))
    with tempfile.TemporaryDirectory() as work:
        scanned(work, "stamped")
        scanned(work, "traps")
    fpdf2("stamped", stamp=True)
    fpdf2("traps", stamp=False)
    subprocess.run(
        ["qpdf", "--encrypt", "secret-user", "secret-owner", "256", "--", os.path.join(HERE, "fpdf2-traps.pdf"), os.path.join(HERE, "encrypted.pdf")],
        check=True,
    )
    with open(os.path.join(HERE, "fpdf2-traps.pdf"), "rb") as f:
        start = f.read(700)
    with open(os.path.join(HERE, "broken.pdf"), "wb") as f:
        f.write(start)
    with open(os.path.join(HERE, "cyclic-pages.pdf"), "wb") as f:
        f.write(cyclic())
    with open(os.path.join(HERE, "memory-bomb.pdf"), "wb") as f:
        f.write(memory_bomb())


if __name__ == "__main__":
    main()
