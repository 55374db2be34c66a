#!/usr/bin/env python3
"""Makes the RTF fixtures of DocumentTextTests with real writers: python-docx writes .docx, LibreOffice
headless converts them to .rtf (`soffice --headless --convert-to rtf`). The .rtf files are committed so the
unit tests do not need LibreOffice; run this script again to remake them:
    python3 Tests/DocumentTextTests/Fixtures/make.py
"""
import os
import shutil
import subprocess
import tempfile

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls
from docx.shared import Pt, RGBColor

HERE = os.path.dirname(os.path.abspath(__file__))

TEXTBOX = (
    '<w:r %s><w:pict><v:shape xmlns:v="urn:schemas-microsoft-com:vml" style="position:absolute;'
    'margin-left:0;margin-top:0;width:120pt;height:30pt;z-index:1"><v:textbox><w:txbxContent>'
    '<w:p><w:r><w:rPr><w:b/><w:color w:val="FF0000"/></w:rPr><w:t>%s</w:t></w:r></w:p>'
    '</w:txbxContent></v:textbox></v:shape></w:pict></w:r>'
)


def letterhead(doc, left, right):
    table = doc.add_table(rows=2, cols=2)
    table.cell(0, 0).text = left[0]
    table.cell(1, 0).text = left[1]
    table.cell(0, 1).text = right[0]
    table.cell(1, 1).text = right[1]


def stamp_paragraph(doc, text):
    p = doc.add_paragraph()
    run = p.add_run(text)
    run.bold = True
    run.font.size = Pt(14)
    run.font.color.rgb = RGBColor(0xFF, 0, 0)
    # A double border around the paragraph, as the stamp's box.
    borders = ''.join(
        '<w:%s w:val="double" w:sz="6" w:space="1" w:color="FF0000"/>' % side for side in ("top", "left", "bottom", "right")
    )
    p._p.get_or_add_pPr().append(parse_xml('<w:pBdr %s>%s</w:pBdr>' % (nsdecls("w"), borders)))
    return p


def stamped():
    """A letter with MẬT at the top left (a red, bold, bordered paragraph), a header, a text box and a table."""
    doc = Document()
    doc.sections[0].header.paragraphs[0].text = "Ủy ban nhân dân tỉnh Quảng Ninh"
    letterhead(doc, ("SỞ THÔNG TIN VÀ TRUYỀN THÔNG", "Số: 12/STTTT-VP"), ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"))
    stamp_paragraph(doc, "MẬT")
    p = doc.add_paragraph("V/v triển khai kế hoạch năm 2026")
    p.alignment = WD_ALIGN_PARAGRAPH.LEFT
    box = doc.add_paragraph()
    box._p.append(parse_xml(TEXTBOX % (nsdecls("w"), "Tài liệu thu hồi")))
    doc.add_paragraph("Kính gửi: Các phòng, ban thuộc Sở.")
    doc.add_paragraph("Sở Thông tin và Truyền thông đề nghị các đơn vị thực hiện nội dung sau.")
    doc.add_page_break()
    doc.add_paragraph("Trang hai của văn bản.")
    return doc


def traps():
    """Ordinary words containing "mật": no stamp anywhere."""
    doc = Document()
    doc.sections[0].header.paragraphs[0].text = "Hướng dẫn bảo mật hệ thống"
    letterhead(doc, ("SỞ THÔNG TIN VÀ TRUYỀN THÔNG", "Số: 13/STTTT-CNTT"), ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"))
    doc.add_paragraph("V/v đổi mật khẩu hộp thư công vụ")
    doc.add_paragraph("Đề nghị các đơn vị đổi mật khẩu và tăng cường bảo mật thông tin.")
    p = doc.add_paragraph()
    run = p.add_run("MẬT KHẨU")
    run.bold = True
    doc.add_paragraph("BẢO MẬT")
    return doc


def mixed_fonts():
    """A letterhead whose left cell mixes fonts: the agency and the number in a Unicode font, a line
    break (RTF `\\line`), then TỐI MẬT typed in the legacy VNI font (`VNI-Times` "TOÁI MAÄT" read as
    Windows-1252), bold and red."""
    doc = Document()
    table = doc.add_table(rows=1, cols=2)
    left, right = table.cell(0, 0), table.cell(0, 1)
    left.text = "UBND TỈNH QUẢNG NINH"
    p = left.add_paragraph()
    p.add_run("Số: 17/STTTT-VP").add_break()
    run = p.add_run("TO\u00c1I MA\u00c4T")
    run.font.name = "VNI-Times"
    run.bold = True
    run.font.color.rgb = RGBColor(0xFF, 0, 0)
    left.add_paragraph("V/v triển khai kế hoạch")
    right.text = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    right.add_paragraph("Độc lập - Tự do - Hạnh phúc")
    doc.add_paragraph("Kính gửi: Các phòng, ban thuộc Sở.")
    return doc


def declassified(hidden):
    """A letter stamped MẬT with a GIẢI MẬT stamp below it, shown or as hidden text (`w:vanish`, RTF `\\v`)."""
    doc = Document()
    letterhead(doc, ("SỞ THÔNG TIN VÀ TRUYỀN THÔNG", "Số: 15/STTTT-VP"), ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"))
    stamp_paragraph(doc, "MẬT")
    stamp = stamp_paragraph(doc, "GIẢI MẬT")
    stamp.runs[0].font.hidden = hidden
    doc.add_paragraph("V/v triển khai kế hoạch năm 2026")
    doc.add_paragraph("Kính gửi: Các phòng, ban thuộc Sở.")
    return doc


def declassified_fixtures(soffice, work):
    for name, hidden in (("declassified", False), ("declassified-hidden", True)):
        path = os.path.join(work, name + ".docx")
        declassified(hidden).save(path)
        subprocess.run(
            [soffice, "--headless", "-env:UserInstallation=file://" + work + "/profile", "--convert-to", "rtf", "--outdir", work, path],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        shutil.copy(os.path.join(work, name + ".rtf"), os.path.join(HERE, "libreoffice-" + name + ".rtf"))


FODT = """<?xml version="1.0" encoding="UTF-8"?>
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
  <text:p>SỞ THÔNG TIN VÀ TRUYỀN THÔNG</text:p>
  <text:p>Số: 14/STTTT-VP<draw:frame draw:style-name="Box" text:anchor-type="paragraph" svg:x="0cm" svg:y="1cm" svg:width="4cm" svg:height="1.2cm" draw:z-index="0"><draw:text-box><text:p><text:span text:style-name="Stamp">TỐI MẬT</text:span></text:p></draw:text-box></draw:frame></text:p>
  <text:p>V/v bảo đảm an toàn thông tin</text:p>
  <text:p>Kính gửi: Các đơn vị trực thuộc.</text:p>
 </office:text></office:body>
</office:document>
"""


def main():
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    with tempfile.TemporaryDirectory() as work:
        for name, make in (("stamped", stamped), ("traps", traps), ("mixed-fonts", mixed_fonts)):
            path = os.path.join(work, name + ".docx")
            make().save(path)
            subprocess.run(
                [soffice, "--headless", "-env:UserInstallation=file://" + work + "/profile", "--convert-to", "rtf", "--outdir", work, path],
                check=True,
                stdout=subprocess.DEVNULL,
            )
            shutil.copy(os.path.join(work, name + ".rtf"), os.path.join(HERE, "libreoffice-" + name + ".rtf"))
        # A text box (an ODF frame holding TỐI MẬT), written as flat ODF and converted the same way.
        path = os.path.join(work, "textbox.fodt")
        with open(path, "w", encoding="utf-8") as f:
            f.write(FODT)
        subprocess.run(
            [soffice, "--headless", "-env:UserInstallation=file://" + work + "/profile", "--convert-to", "rtf", "--outdir", work, path],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        shutil.copy(os.path.join(work, "textbox.rtf"), os.path.join(HERE, "libreoffice-textbox.rtf"))
        declassified_fixtures(soffice, work)


if __name__ == "__main__":
    main()
