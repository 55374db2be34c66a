#!/usr/bin/env python3
"""Makes the legacy Office fixtures of DocumentTextTests (OLE2Text) with real writers: python-docx and
openpyxl write .docx / .xlsx, a hand-written RTF carries the TCVN3 runs and a field, and LibreOffice
headless converts them to Word 97-2003 .doc and Excel 97-2003 .xls (`soffice --headless --convert-to
doc|xls`). The generated files are committed so the unit tests do not need LibreOffice; run this script
again to remake them:
    python3 Tests/DocumentTextTests/Fixtures/make_ole2.py
With `--bench DIR` it writes larger documents for Benchmarks/SecrecyMarks instead (not committed): the
regulations of Tests/SecrecyMarksTests/Regulations as a letter (.doc) and as a one-column sheet (.xls).
"""
import os
import shutil
import subprocess
import sys
import tempfile

from docx import Document
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls
from docx.shared import Pt, RGBColor
from openpyxl import Workbook
from openpyxl.styles import Font

HERE = os.path.dirname(os.path.abspath(__file__))

TEXTBOX = (
    '<w:r %s><w:pict><v:shape xmlns:v="urn:schemas-microsoft-com:vml" style="position:absolute;'
    'margin-left:0;margin-top:0;width:120pt;height:30pt;z-index:1"><v:textbox><w:txbxContent>'
    '<w:p><w:r><w:rPr><w:b/><w:color w:val="FF0000"/></w:rPr><w:t>%s</w:t></w:r></w:p>'
    '</w:txbxContent></v:textbox></v:shape></w:pict></w:r>'
)


def bold_red(paragraph, text):
    run = paragraph.add_run(text)
    run.bold = True
    run.font.size = Pt(14)
    run.font.color.rgb = RGBColor(0xFF, 0, 0)
    return run


def word_stamped():
    """A letter: TUYỆT MẬT in the page header, MẬT in the letterhead's left cell, TỐI MẬT in a text box,
    and on page 2 (not a stamp position) a bold MẬT alone and a text box with TUYỆT MẬT."""
    doc = Document()
    bold_red(doc.sections[0].header.paragraphs[0], "TUYỆT MẬT")
    table = doc.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "SỞ THÔNG TIN VÀ TRUYỀN THÔNG"
    table.cell(1, 0).text = "Số: 12/STTTT-VP"
    bold_red(table.cell(1, 0).add_paragraph(), "MẬT")
    table.cell(0, 1).text = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    table.cell(1, 1).text = "Độc lập - Tự do - Hạnh phúc"
    doc.add_paragraph("V/v triển khai kế hoạch năm 2026")
    box = doc.add_paragraph()
    box._p.append(parse_xml(TEXTBOX % (nsdecls("w"), "TỐI MẬT")))
    doc.add_paragraph("Kính gửi: Các phòng, ban thuộc Sở.")
    doc.add_paragraph("Sở Thông tin và Truyền thông đề nghị các đơn vị thực hiện nội dung sau.")
    doc.add_page_break()
    bold_red(doc.add_paragraph(), "MẬT")
    doc.add_paragraph("Trang hai của văn bản.")
    box = doc.add_paragraph()
    box._p.append(parse_xml(TEXTBOX % (nsdecls("w"), "TUYỆT MẬT")))
    doc.add_paragraph("Hết.")
    return doc


def word_traps():
    """Ordinary words containing "mật", and an e-office "Độ mật: Thường" field: no stamp anywhere."""
    doc = Document()
    doc.sections[0].header.paragraphs[0].text = "Hướng dẫn bảo mật hệ thống"
    table = doc.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "SỞ THÔNG TIN VÀ TRUYỀN THÔNG"
    table.cell(1, 0).text = "Độ mật: Thường"
    table.cell(0, 1).text = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    table.cell(1, 1).text = "Độc lập - Tự do - Hạnh phúc"
    doc.add_paragraph("V/v đổi mật khẩu hộp thư công vụ")
    doc.add_paragraph("Đề nghị các đơn vị đổi mật khẩu và tăng cường bảo mật thông tin.")
    run = doc.add_paragraph().add_run("MẬT KHẨU")
    run.bold = True
    doc.add_paragraph("BẢO MẬT")
    return doc


def word_mixed_fonts():
    """A letterhead whose left cell mixes fonts: the agency and the number in a Unicode font, the
    subject line typed in the TCVN3 lowercase font (`.VnTime` "V/v triÓn khai kÕ ho¹ch"), a line break
    (a vertical tab in the .doc), then TUYỆT MẬT in the TCVN3 capitals font (`.VnTimeH` "TUYÖT MËT"),
    bold and red; the right cell's "mật khẩu" in `.VnTime` ("mËt khÈu") beside Unicode text is no stamp."""
    doc = Document()
    table = doc.add_table(rows=1, cols=2)
    left, right = table.cell(0, 0), table.cell(0, 1)
    left.text = "UBND TỈNH QUẢNG NINH"
    left.add_paragraph("Số: 16/STTTT-VP")
    p = left.add_paragraph()
    run = p.add_run("V/v tri\u00d3n khai k\u00d5 ho\u00b9ch")
    run.font.name = ".VnTime"
    run.add_break()
    bold_red(p, "TUY\u00d6T M\u00cbT").font.name = ".VnTimeH"
    right.text = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    p = right.add_paragraph("Hướng dẫn đổi ")
    p.add_run("m\u00cbt kh\u00c8u").font.name = ".VnTime"
    doc.add_paragraph("Kính gửi: Các phòng, ban thuộc Sở.")
    doc.add_paragraph("Sở Thông tin và Truyền thông đề nghị các đơn vị thực hiện nội dung sau.")
    return doc


# TCVN3 bytes (as RTF \'hh in a charset-0 font, which is how these documents were typed):
# "tuyÖt mËt" in .VnTimeH shows TUYỆT MẬT; "mËt khÈu" in .VnTime is "mật khẩu".
TCVN3_RTF = r"""{\rtf1\ansi\ansicpg1252\deff0
{\fonttbl{\f0\froman\fcharset0 Times New Roman;}{\f1\fnil\fcharset0 .VnTimeH;}{\f2\fnil\fcharset0 .VnTime;}}
{\colortbl;\red255\green0\blue0;}
{\header\pard\plain\f0\fs24 UBND TINH QUANG NINH\par}
\pard\plain\f0\fs26 So: 15/STTTT-VP\par
\pard\plain\f1\b\cf1\fs28 tuy\'d6t m\'cbt\par
\pard\plain\f0\fs26 Xem {\field{\*\fldinst HYPERLINK "http://example.vn/hidden-instruction"}{\fldrslt trang web}} nay.\par
\pard\plain\f2\b\fs26 m\'cbt kh\'c8u\par
\page
\pard\plain\f1\b\fs28 tuy\'d6t m\'cbt\par
}
"""


def workbook():
    """A register: TỐI MẬT in the page header, a footer with codes, an "Độ mật" column, a .VnTimeH cell,
    a formula with a string result,
    and enough shared strings (Vietnamese and ASCII) that the SST runs over several CONTINUE records."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Công văn"
    ws.oddHeader.center.text = "TỐI MẬT"
    ws.oddHeader.center.font = "Times New Roman,Bold"
    ws.oddFooter.right.text = "Trang &P / &N"
    ws["A1"] = "SỞ THÔNG TIN VÀ TRUYỀN THÔNG"
    ws["A2"] = "Độ mật"
    ws["B2"] = "Trích yếu"
    ws["A3"] = "Thường"
    ws["B3"] = "Về việc đổi mật khẩu"
    ws["A4"] = "tuy\u00d6t m\u00cbt"
    ws["A4"].font = Font(name=".VnTimeH", bold=True)
    ws["C1"] = 42
    ws["B4"] = '=CONCATENATE("Kết ","quả")'
    for row in range(6, 606):
        ws.cell(row=row, column=1, value="Chuỗi số %d có dấu tiếng Việt" % row if row % 3 else "ascii string %d" % row)
    second = wb.create_sheet("Sổ đăng ký")
    second["A1"] = "Mật"
    second.oddFooter.left.text = "Lưu hành nội bộ"
    return wb


# A sheet with a text box (a drawing shape holding TỐI MẬT), written as flat ODS.
FODS = """<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"
 xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"
 xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"
 xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0"
 office:version="1.3" office:mimetype="application/vnd.oasis.opendocument.spreadsheet">
 <office:body><office:spreadsheet>
  <table:table table:name="Tờ trình">
   <table:shapes>
    <draw:frame svg:x="1cm" svg:y="1cm" svg:width="4cm" svg:height="1.2cm" draw:z-index="0"><draw:text-box><text:p>TỐI MẬT</text:p></draw:text-box></draw:frame>
   </table:shapes>
   <table:table-row><table:table-cell office:value-type="string"><text:p>UBND TỈNH QUẢNG NINH</text:p></table:table-cell></table:table-row>
  </table:table>
 </office:spreadsheet></office:body>
</office:document>
"""


# Document properties: a title, a subject, keywords and user-defined properties (an e-office
# "Độ mật" field and a Purview-style label), written as flat ODF.
PROPERTIES = """<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0"
 xmlns:dc="http://purl.org/dc/elements/1.1/"
 office:version="1.3" office:mimetype="application/vnd.oasis.opendocument.text">
 <office:meta>
  <dc:title>Kế hoạch bảo đảm an toàn thông tin</dc:title>
  <dc:subject>Báo cáo tháng</dc:subject>
  <meta:keyword>an toàn, bảo mật</meta:keyword>
  <meta:user-defined meta:name="Độ mật">Tối mật</meta:user-defined>
  <meta:user-defined meta:name="MSIP_Label_2fd1d0f0-1c2f-4d3e-9a8b-0c1d2e3f4a5b_Name">Mật</meta:user-defined>
 </office:meta>
 <office:body><office:text><text:p>Nội dung.</text:p></office:text></office:body>
</office:document>
"""


def convert(soffice, work, path, target):
    subprocess.run(
        [soffice, "--headless", "-env:UserInstallation=file://" + work + "/profile", "--convert-to", target, "--outdir", work, path],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return os.path.splitext(path)[0] + "." + target.split(":")[0]


def regulations():
    folder = os.path.join(HERE, "..", "..", "SecrecyMarksTests", "Regulations")
    lines = []
    for name in sorted(os.listdir(folder)):
        if name.endswith(".txt"):
            with open(os.path.join(folder, name), encoding="utf-8") as f:
                lines += [line.strip() for line in f if line.strip()]
    return lines


def bench(out):
    """The regulations as a stamped letter (header, letterhead, body) and as a sheet of cells."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    lines = regulations()
    doc = word_stamped()
    for line in lines:
        doc.add_paragraph(line)
    wb = Workbook()
    ws = wb.active
    ws.oddHeader.center.text = "MẬT"
    for row, line in enumerate(lines, start=1):
        ws.cell(row=row, column=1, value=line[:32000])
    os.makedirs(out, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        path = os.path.join(work, "regulations-letter.docx")
        doc.save(path)
        shutil.copy(convert(soffice, work, path, "doc"), out)
        path = os.path.join(work, "regulations-sheet.xlsx")
        wb.save(path)
        shutil.copy(convert(soffice, work, path, "xls"), out)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--bench":
        bench(sys.argv[2])
        return
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    with tempfile.TemporaryDirectory() as work:
        for name, make in (("stamped", word_stamped), ("traps", word_traps), ("mixed-fonts", word_mixed_fonts)):
            path = os.path.join(work, name + ".docx")
            make().save(path)
            shutil.copy(convert(soffice, work, path, "doc"), os.path.join(HERE, "libreoffice-" + name + ".doc"))
        path = os.path.join(work, "tcvn3.rtf")
        with open(path, "w", encoding="ascii") as f:
            f.write(TCVN3_RTF)
        shutil.copy(convert(soffice, work, path, "doc"), os.path.join(HERE, "libreoffice-tcvn3.doc"))
        path = os.path.join(work, "register.xlsx")
        workbook().save(path)
        shutil.copy(convert(soffice, work, path, "xls"), os.path.join(HERE, "libreoffice-register.xls"))
        path = os.path.join(work, "textbox.fods")
        with open(path, "w", encoding="utf-8") as f:
            f.write(FODS)
        shutil.copy(convert(soffice, work, path, "xls"), os.path.join(HERE, "libreoffice-textbox.xls"))
        path = os.path.join(work, "properties.fodt")
        with open(path, "w", encoding="utf-8") as f:
            f.write(PROPERTIES)
        shutil.copy(convert(soffice, work, path, "doc"), os.path.join(HERE, "libreoffice-properties.doc"))


if __name__ == "__main__":
    main()
