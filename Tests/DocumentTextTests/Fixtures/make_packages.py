#!/usr/bin/env python3
"""Makes the OOXML and ODF fixtures of DocumentTextTests (Fixtures/packages/) with real writers:
python-docx, openpyxl and python-pptx write .docx/.xlsx/.pptx, odfpy writes .odt, LibreOffice headless
converts (`soffice --headless --convert-to`) a flat ODF text box to .docx (DrawingML box with its VML
fallback) and the Office files to .odt/.ods (odfpy writes the .odp: Debian's nogui LibreOffice has no Impress); Python's zipfile writes the hostile packages (a zip bomb,
100,000-deep XML, billion laughs, a DOCTYPE). Each document carries one stamp in one placement, or only
trap words. The files are committed so the unit tests need none of these tools; run again to remake them:
    python3 Tests/DocumentTextTests/Fixtures/make_packages.py
With `--bench DIR` it writes larger documents for thugate-secrecybench to DIR instead (not committed).
"""
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

from docx import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls
from docx.shared import Pt, RGBColor
from odf.opendocument import OpenDocumentText
from odf.style import (Header, MasterPage, PageLayout, PageLayoutProperties, ParagraphProperties, Style,
                       TextProperties)
from odf.draw import Frame, TextBox
from odf.text import P, Span
from openpyxl import Workbook
from pptx import Presentation
from pptx.util import Inches, Pt as PptPt
from pptx.dml.color import RGBColor as PptRGB

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "packages")

RUNNING = [
    "Kính gửi: Các phòng, ban thuộc Sở.",
    "Thực hiện kế hoạch năm 2026, Sở đề nghị các đơn vị triển khai các nội dung sau.",
    "Rà soát hệ thống thư điện tử công vụ, đổi mật khẩu định kỳ.",
    "Báo cáo kết quả trước ngày 15 hằng tháng.",
]


def letterhead(doc, left, right):
    table = doc.add_table(rows=1, cols=2)
    table.cell(0, 0).text = left[0]
    for line in left[1:]:
        table.cell(0, 0).add_paragraph(line)
    table.cell(0, 1).text = right[0]
    for line in right[1:]:
        table.cell(0, 1).add_paragraph(line)
    return table


def body(doc, count=4):
    for i in range(count):
        doc.add_paragraph(RUNNING[i % len(RUNNING)])


def docx_header():
    doc = Document()
    header = doc.sections[0].header
    header.paragraphs[0].text = "UBND TỈNH QUẢNG NINH"
    run = header.add_paragraph().add_run("TỐI MẬT")
    run.bold = True
    run.font.color.rgb = RGBColor(0xFF, 0, 0)
    doc.sections[0].footer.paragraphs[0].text = "Trang 1"
    body(doc)
    return doc


def docx_letterhead():
    doc = Document()
    table = letterhead(
        doc,
        ("UBND TỈNH QUẢNG NINH", "SỞ THÔNG TIN VÀ TRUYỀN THÔNG", "Số: 12/STTTT-VP", "V/v triển khai kế hoạch"),
        ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "Quảng Ninh, ngày 1 tháng 12 năm 2026"),
    )
    run = table.cell(0, 0).add_paragraph().add_run("MẬT")
    run.bold = True
    body(doc, 20)
    return doc


def docx_bordered():
    doc = Document()
    # Past the head of page 1 (the matcher's first 15 units): the border is what makes it a stamp.
    body(doc, 18)
    p = doc.add_paragraph()
    run = p.add_run("TUYỆT MẬT")
    run.bold = True
    run.font.size = Pt(14)
    run.font.color.rgb = RGBColor(0xFF, 0, 0)
    borders = "".join(
        '<w:%s w:val="double" w:sz="6" w:space="1" w:color="FF0000"/>' % side for side in ("top", "left", "bottom", "right")
    )
    p._p.get_or_add_pPr().append(parse_xml("<w:pBdr %s>%s</w:pBdr>" % (nsdecls("w"), borders)))
    body(doc, 2)
    return doc


def docx_vntime():
    """MẬT typed in the legacy TCVN3 capitals font: bytes M, 0xCB, T (read as Windows-1252: "MËT"), the
    font named only on a parent style."""
    doc = Document()
    base = doc.styles.add_style("LegacyBase", WD_STYLE_TYPE.PARAGRAPH)
    base.font.name = ".VnTimeH"
    stamp = doc.styles.add_style("DauMat", WD_STYLE_TYPE.PARAGRAPH)
    stamp.base_style = base
    stamp.font.bold = True
    doc.add_paragraph("SỞ THÔNG TIN VÀ TRUYỀN THÔNG")
    doc.add_paragraph("Số: 15/STTTT-VP")
    doc.add_paragraph("M\u00cbT", style="DauMat")
    body(doc)
    return doc


def docx_mixed_fonts():
    """A letterhead whose left cell mixes fonts in one paragraph: the number in a Unicode font, a line
    break, then TUYỆT MẬT typed in the legacy TCVN3 capitals font (`.VnTimeH` bytes "TUYÖT MËT" read as
    Windows-1252), as when a stamp is copied from an old document; the right cell's "mật khẩu" in the
    lowercase `.VnTime` ("mËt khÈu") beside Unicode text is no stamp."""
    doc = Document()
    table = letterhead(
        doc,
        ("UBND TỈNH QUẢNG NINH", "SỞ THÔNG TIN VÀ TRUYỀN THÔNG"),
        ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"),
    )
    p = table.cell(0, 0).add_paragraph()
    p.add_run("Số: 16/STTTT-VP").add_break()
    run = p.add_run("TUY\u00d6T M\u00cbT")
    run.font.name = ".VnTimeH"
    run.bold = True
    run.font.color.rgb = RGBColor(0xFF, 0, 0)
    p = table.cell(0, 1).add_paragraph("Hướng dẫn đổi ")
    p.add_run("m\u00cbt kh\u00c8u").font.name = ".VnTime"
    body(doc, 6)
    return doc


def docx_traps():
    doc = Document()
    doc.sections[0].header.paragraphs[0].text = "Độ mật: Thường"
    letterhead(doc, ("SỞ THÔNG TIN VÀ TRUYỀN THÔNG", "Số: 13/STTTT-CNTT", "V/v đổi mật khẩu"), ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"))
    doc.add_paragraph("Độ mật: Thường")
    doc.add_paragraph("Đề nghị các đơn vị đổi mật khẩu và tăng cường bảo mật thông tin.")
    doc.add_paragraph("Việc bảo vệ bí mật nhà nước thực hiện theo Luật số 117/2025/QH15.")
    run = doc.add_paragraph().add_run("MẬT KHẨU")
    run.bold = True
    doc.add_paragraph("BẢO MẬT")
    doc.add_paragraph("Tài liệu được phân loại theo ba độ: Tuyệt mật, Tối mật và Mật.")
    return doc


# A text box holding MẬT, as flat ODF: LibreOffice writes it to .docx as a DrawingML box (mc:Choice)
# with its VML copy (mc:Fallback).
FODT_TEXTBOX = """<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"
 xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"
 xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0"
 office:version="1.3" office:mimetype="application/vnd.oasis.opendocument.text">
 <office:automatic-styles>
  <style:style style:name="Stamp" style:family="text"><style:text-properties fo:font-weight="bold" fo:color="#ff0000" fo:font-size="14pt"/></style:style>
  <style:style style:name="Box" style:family="graphic"><style:graphic-properties fo:border="1.5pt double #ff0000"/></style:style>
 </office:automatic-styles>
 <office:body><office:text>
  %s
  <text:p>Số: 14/STTTT-VP<draw:frame draw:style-name="Box" text:anchor-type="paragraph" svg:x="0cm" svg:y="1cm" svg:width="4cm" svg:height="1.2cm" draw:z-index="0"><draw:text-box><text:p><text:span text:style-name="Stamp">MẬT</text:span></text:p></draw:text-box></draw:frame></text:p>
  <text:p>V/v bảo đảm an toàn thông tin</text:p>
 </office:text></office:body>
</office:document>
"""


def odt_odfpy(path):
    """odfpy: the stamp in the master page's header (styles.xml), and a bordered, upper-cased paragraph
    deep in page 1 whose style inherits border, bold and capitals from a named parent style."""
    doc = OpenDocumentText()
    stamp = Style(name="Stamp", family="paragraph")
    stamp.addElement(ParagraphProperties(border="1.5pt double #ff0000", padding="0.1cm"))
    stamp.addElement(TextProperties(fontweight="bold", color="#ff0000", texttransform="uppercase"))
    doc.styles.addElement(stamp)
    child = Style(name="P1", family="paragraph", parentstylename="Stamp")
    child.addElement(TextProperties(fontsize="14pt"))
    doc.automaticstyles.addElement(child)
    bold = Style(name="HeaderStamp", family="paragraph")
    bold.addElement(TextProperties(fontweight="bold"))
    doc.styles.addElement(bold)
    layout = PageLayout(name="pm1")
    layout.addElement(PageLayoutProperties(pagewidth="21cm", pageheight="29.7cm"))
    doc.automaticstyles.addElement(layout)
    master = MasterPage(name="Standard", pagelayoutname=layout)
    header = Header()
    header.addElement(P(stylename=bold, text="TUYỆT MẬT"))
    master.addElement(header)
    doc.masterstyles.addElement(master)
    for i in range(18):
        doc.text.addElement(P(text=RUNNING[i % len(RUNNING)]))
    doc.text.addElement(P(stylename=child, text="tối mật"))
    doc.text.addElement(P(text="Nơi nhận: như trên."))
    doc.save(path)


def odt_frame(path):
    doc = OpenDocumentText()
    for i in range(3):
        doc.text.addElement(P(text=RUNNING[i]))
    p = P(text="Số: 16/STTTT-VP")
    frame = Frame(width="4cm", height="1.2cm", anchortype="paragraph", x="0cm", y="1cm")
    box = TextBox()
    box.addElement(P(text="MẬT"))
    frame.addElement(box)
    p.addElement(frame)
    doc.text.addElement(p)
    doc.save(path)


def odp_odfpy(path):
    """odfpy (the nogui LibreOffice has no Impress): TỐI MẬT in a frame of slide 1, MẬT alone on slide 2
    (weak), speaker notes, and a footer line on the master page."""
    from odf.opendocument import OpenDocumentPresentation
    from odf.draw import Page
    from odf.presentation import Notes
    doc = OpenDocumentPresentation()
    layout = PageLayout(name="PM1")
    doc.automaticstyles.addElement(layout)
    master = MasterPage(name="Default", pagelayoutname=layout)
    footer = Frame(width="10cm", height="1cm", x="1cm", y="19cm")
    footer_box = TextBox()
    footer_box.addElement(P(text="Sở Thông tin và Truyền thông"))
    footer.addElement(footer_box)
    master.addElement(footer)
    doc.masterstyles.addElement(master)
    for number, (title, stamp) in enumerate((("Báo cáo an ninh mạng", "TỐI MẬT"), ("Nội dung", "MẬT")), start=1):
        page = Page(name="page%d" % number, masterpagename=master)
        for text, y in ((title, "3cm"), (stamp, "0.5cm")):
            frame = Frame(width="12cm", height="2cm", x="1cm", y=y)
            box = TextBox()
            box.addElement(P(text=text))
            frame.addElement(box)
            page.addElement(frame)
        notes = Notes()
        frame = Frame(width="12cm", height="5cm", x="1cm", y="14cm")
        box = TextBox()
        box.addElement(P(text="Ghi chú: đổi mật khẩu."))
        frame.addElement(box)
        notes.addElement(frame)
        page.addElement(notes)
        doc.presentation.addElement(page)
    doc.save(path)


def xlsx_header(path):
    wb = Workbook()
    ws = wb.active
    ws.title = "Sổ đăng ký"
    ws.oddHeader.center.text = "MẬT"
    ws.oddHeader.center.font = "Times New Roman,Bold"
    ws.oddFooter.right.text = "Trang &P"
    ws.append(["Số", "Trích yếu", "Độ mật"])
    ws.append(["12/STTTT", "Kế hoạch năm 2026", "Thường"])
    ws.append(["13/STTTT", "Đổi mật khẩu", "MẬT"])
    from openpyxl.comments import Comment
    ws["B2"].comment = Comment("Kiểm tra lại trích yếu", "Văn thư")
    wb.save(path)


def xlsx_register(path):
    """A register export: an "Độ mật" column with levels in cells, no stamp."""
    wb = Workbook()
    ws = wb.active
    ws.append(["Số", "Trích yếu", "Độ mật"])
    for i, level in enumerate(["Thường", "Mật", "Thường", "Tối mật"]):
        ws.append(["%d/STTTT" % (i + 1), "Công văn số %d" % (i + 1), level])
    wb.save(path)


def pptx_stamped(path):
    prs = Presentation()
    title = prs.slides.add_slide(prs.slide_layouts[0])
    title.shapes.title.text = "Báo cáo tình hình an ninh mạng"
    title.placeholders[1].text = "Sở Thông tin và Truyền thông"
    box = title.shapes.add_textbox(Inches(0.3), Inches(0.2), Inches(2), Inches(0.6))
    run = box.text_frame.paragraphs[0].add_run()
    run.text = "TỐI MẬT"
    run.font.bold = True
    run.font.size = PptPt(20)
    run.font.color.rgb = PptRGB(0xFF, 0, 0)
    second = prs.slides.add_slide(prs.slide_layouts[1])
    second.shapes.title.text = "Nội dung"
    second.placeholders[1].text = "Đổi mật khẩu hộp thư; bảo mật thông tin."
    second.notes_slide.notes_text_frame.text = "Ghi chú: trình bày ngắn gọn."
    prs.save(path)


def pptx_traps(path):
    prs = Presentation()
    slide = prs.slides.add_slide(prs.slide_layouts[1])
    slide.shapes.title.text = "BẢO MẬT THÔNG TIN"
    slide.placeholders[1].text = "Mật khẩu mạnh; Độ mật: Thường"
    prs.save(path)


def label(source, path):
    """A labelling tool's marks on a python-docx file: a Microsoft Purview label in docProps/custom.xml
    (MSIP_Label_<guid>_Name and its companions) and keywords in docProps/core.xml."""
    guid = "d9f4a6c2-1b3e-4f5a-9c8d-7e6f5a4b3c2d"
    props = [("Enabled", "true"), ("SetDate", "2026-11-30T08:00:00Z"), ("Method", "Privileged"), ("Name", "TỐI MẬT"),
             ("SiteId", "00000000-0000-0000-0000-000000000000"), ("ContentBits", "1")]
    custom = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" '
        'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
        + "".join('<property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="%d" name="MSIP_Label_%s_%s">'
                  '<vt:lpwstr>%s</vt:lpwstr></property>' % (i + 2, guid, key, value) for i, (key, value) in enumerate(props))
        + "</Properties>"
    )
    with zipfile.ZipFile(source) as z:
        parts = [(info.filename, z.read(info.filename)) for info in z.infolist()]
    out = []
    for name, data in parts:
        if name == "[Content_Types].xml":
            data = data.replace(b"</Types>", b'<Override PartName="/docProps/custom.xml" ContentType='
                                b'"application/vnd.openxmlformats-officedocument.custom-properties+xml"/></Types>')
        elif name == "_rels/.rels":
            data = data.replace(b"</Relationships>", b'<Relationship Id="rIdCustom" Type="http://schemas.openxmlformats.org/'
                                b'officeDocument/2006/relationships/custom-properties" Target="docProps/custom.xml"/></Relationships>')
        elif name == "docProps/core.xml":
            data = data.replace(b"<cp:keywords/>", "<cp:keywords>kế hoạch; an ninh mạng</cp:keywords>".encode())
        out.append((name, data))
    out.append(("docProps/custom.xml", custom.encode()))
    write_zip(path, out)


def write_zip(path, parts):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, data in parts:
            z.writestr(name, data)


CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    "</Types>"
)
W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def hostile(work):
    """Packages that must end inside the bounds with a problem."""
    head = '<?xml version="1.0" encoding="UTF-8"?>'
    # 64 MiB of spaces inside one run: about 64 KiB compressed, a ratio near 1000.
    bomb = head + "<w:document %s><w:body><w:p><w:r><w:t>" % W + " " * (64 << 20) + "MẬT</w:t></w:r></w:p></w:body></w:document>"
    write_zip(os.path.join(HERE, "hostile-bomb.docx"), [("[Content_Types].xml", CONTENT_TYPES), ("word/document.xml", bomb)])
    deep = head + "<w:document %s><w:body>" % W + "<w:p>" * 100_000 + "</w:p>" * 100_000 + "</w:body></w:document>"
    write_zip(os.path.join(HERE, "hostile-deep.docx"), [("[Content_Types].xml", CONTENT_TYPES), ("word/document.xml", deep)])
    laughs = (
        head + '<!DOCTYPE lolz [<!ENTITY lol "lol">'
        + "".join('<!ENTITY lol%d "%s">' % (i, ("&lol%d;" % (i - 1) if i > 1 else "&lol;") * 10) for i in range(1, 10))
        + "]><w:document %s><w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>" % W
    )
    write_zip(os.path.join(HERE, "hostile-laughs.docx"), [("[Content_Types].xml", CONTENT_TYPES), ("word/document.xml", laughs)])
    doctype = head + '<!DOCTYPE w:document SYSTEM "http://example.invalid/w.dtd"><w:document %s><w:body><w:p><w:r><w:t>MẬT</w:t></w:r></w:p></w:body></w:document>' % W
    write_zip(os.path.join(HERE, "hostile-doctype.docx"), [("[Content_Types].xml", CONTENT_TYPES), ("word/document.xml", doctype)])
    # 200,000 `text:s` of 1,000 spaces each in one paragraph: 4 MiB of XML that means 200 MB of text.
    office = 'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
    spaces = head + "<office:document-content %s><office:body><office:text><text:p>" % office + '<text:s text:c="1000"/>' * 200_000 + "MẬT</text:p></office:text></office:body></office:document-content>"
    with zipfile.ZipFile(os.path.join(HERE, "hostile-spaces.odt"), "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.text")
        z.writestr("content.xml", spaces, zipfile.ZIP_DEFLATED)
    # An encrypted package as ODF 1.3 Part 2 §5 describes it (LibreOffice's command line cannot set a
    # password): the manifest names encryption data for content.xml, whose bytes are then not XML.
    manifest = (
        head + '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.text"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml" manifest:size="1200">'
        '<manifest:encryption-data manifest:checksum-type="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0#sha256-1k" '
        'manifest:checksum="AAAA"><manifest:algorithm manifest:algorithm-name="http://www.w3.org/2001/04/xmlenc#aes256-cbc" '
        'manifest:initialisation-vector="AAAA"/><manifest:key-derivation manifest:key-derivation-name="PBKDF2" '
        'manifest:key-size="32" manifest:iteration-count="100000" manifest:salt="AAAA"/></manifest:encryption-data>'
        "</manifest:file-entry></manifest:manifest>"
    )
    with zipfile.ZipFile(os.path.join(HERE, "hostile-encrypted.odt"), "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.text")
        z.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
        z.writestr("content.xml", bytes(range(256)) * 4, zipfile.ZIP_DEFLATED)
    broken = head + "<w:document %s><w:body><w:p><w:r><w:t>Số: 1</w:t></w:r></w:p><w:p></w:body></w:document>" % W
    write_zip(os.path.join(HERE, "hostile-malformed.docx"), [("[Content_Types].xml", CONTENT_TYPES), ("word/document.xml", broken)])


def bench(directory):
    """Larger documents for thugate-secrecybench (not committed): the regulations' 715 paragraphs
    (Tests/SecrecyMarksTests/Regulations) as a python-docx letter with a letterhead and a header, and
    LibreOffice's .odt of it."""
    regulations = os.path.join(os.path.dirname(HERE), "..", "..", "SecrecyMarksTests", "Regulations")
    paragraphs = []
    for name in sorted(os.listdir(regulations)):
        if name.endswith(".txt"):
            with open(os.path.join(regulations, name), encoding="utf-8") as f:
                paragraphs += [line for line in f.read().splitlines() if line.strip()]
    doc = Document()
    doc.sections[0].header.paragraphs[0].text = "UBND TỈNH QUẢNG NINH"
    letterhead(doc, ("SỞ THÔNG TIN VÀ TRUYỀN THÔNG", "Số: 12/STTTT-VP", "MẬT"), ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"))
    for text in paragraphs:
        doc.add_paragraph(text)
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, "regulations-letter.docx")
    doc.save(path)
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    with tempfile.TemporaryDirectory() as work:
        subprocess.run([soffice, "--headless", "-env:UserInstallation=file://" + work + "/profile", "--convert-to", "odt",
                        "--outdir", directory, path], check=True, stdout=subprocess.DEVNULL)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--bench":
        bench(sys.argv[2])
        return
    os.makedirs(HERE, exist_ok=True)
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    with tempfile.TemporaryDirectory() as work:
        def convert(source, target_format, name):
            subprocess.run(
                [soffice, "--headless", "-env:UserInstallation=file://" + work + "/profile", "--convert-to", target_format,
                 "--outdir", work, source],
                check=True,
                stdout=subprocess.DEVNULL,
            )
            base = os.path.splitext(os.path.basename(source))[0]
            shutil.copy(os.path.join(work, base + "." + target_format.split(":")[0]), os.path.join(HERE, name))

        for name, make in (("header", docx_header), ("letterhead", docx_letterhead), ("bordered", docx_bordered),
                           ("vntime", docx_vntime), ("traps", docx_traps), ("mixed-fonts", docx_mixed_fonts)):
            path = os.path.join(HERE, "python-docx-%s.docx" % name)
            make().save(path)
        label(os.path.join(HERE, "python-docx-traps.docx"), os.path.join(HERE, "python-docx-labelled.docx"))
        fodt = os.path.join(work, "textbox.fodt")
        with open(fodt, "w", encoding="utf-8") as f:
            f.write(FODT_TEXTBOX % "".join("<text:p>%s</text:p>" % line for line in RUNNING))
        convert(fodt, "docx:MS Word 2007 XML", "libreoffice-textbox.docx")
        xlsx_header(os.path.join(HERE, "openpyxl-header.xlsx"))
        xlsx_register(os.path.join(HERE, "openpyxl-register.xlsx"))
        pptx_stamped(os.path.join(HERE, "python-pptx-stamped.pptx"))
        pptx_traps(os.path.join(HERE, "python-pptx-traps.pptx"))
        odt_odfpy(os.path.join(HERE, "odfpy-header-bordered.odt"))
        odt_frame(os.path.join(HERE, "odfpy-frame.odt"))
        convert(os.path.join(HERE, "python-docx-letterhead.docx"), "odt", "libreoffice-letterhead.odt")
        convert(os.path.join(HERE, "python-docx-traps.docx"), "odt", "libreoffice-traps.odt")
        convert(os.path.join(HERE, "python-docx-mixed-fonts.docx"), "odt", "libreoffice-mixed-fonts.odt")
        convert(os.path.join(HERE, "openpyxl-header.xlsx"), "ods", "libreoffice-header.ods")
        odp_odfpy(os.path.join(HERE, "odfpy-stamped.odp"))
        hostile(work)


if __name__ == "__main__":
    main()
