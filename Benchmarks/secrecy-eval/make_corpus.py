#!/usr/bin/env python3
"""Makes the labelled evaluation set of the state-secret rule (issue 12): .eml messages whose
Subject, bodies and attachments carry secrecy stamps (TUYỆT MẬT, TỐI MẬT, MẬT) in every placement
and encoding the issue names, hard negatives (the many words that contain "mật", the regulations,
register exports, "Độ mật: Thường", urgency stamps, GIẢI MẬT, names) and a benign corpus of
ordinary government letters. Documents come from real writers: python-docx, openpyxl,
python-pptx, odfpy, fpdf2 (DejaVu embedded) and LibreOffice headless (.doc, .xls, .rtf, .odt and
.pdf converted from them); RTF in legacy code pages is written by hand, as old Word did.

    python3 Benchmarks/secrecy-eval/make_corpus.py --out /tmp/secrecy-corpus [--seed 12]

Writes DIR/messages/*.eml and DIR/labels.jsonl, one object a line:
{"file", "expected": "secret"|"none"|"unchecked", "level", "format", "placement", "encoding",
"category", "note"}; "unchecked" marks a document that cannot be read (an encrypted PDF). The same seed gives the same messages and labels (the writers' own
timestamps inside documents aside).
"""
import argparse
import csv
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata
import zipfile
from collections import defaultdict
from datetime import datetime, timezone
from xml.sax.saxutils import escape

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import corpus_tools as ct  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))
REGULATIONS = os.environ.get("THUGATE_REGULATIONS", os.path.join(os.path.dirname(ROOT), "shared", "regulations"))
DEJAVU = "/usr/share/fonts/truetype/dejavu"
FIXED_DATE = datetime(2026, 3, 2, 8, 0, 0, tzinfo=timezone.utc)

LEVELS = [("tuyet-mat", "TUYỆT MẬT", "Tuyệt mật"), ("toi-mat", "TỐI MẬT", "Tối mật"), ("mat", "MẬT", "Mật")]
TRAPS = ["mật khẩu", "bảo mật", "bí mật kinh doanh", "bí mật nhà nước", "thân mật", "mật thiết", "mật độ",
         "mật ong", "mật mã", "dấu mật", "tài liệu mật", "giải mật"]
# Running text around each trap word, the way ordinary letters use it.
TRAP_SENTENCES = {
    "mật khẩu": "Đề nghị cán bộ đổi mật khẩu hộp thư công vụ trước ngày 15/3/2026.",
    "bảo mật": "Các đơn vị tăng cường bảo mật thông tin trên hệ thống thư điện tử.",
    "bí mật kinh doanh": "Hồ sơ dự thầu có thông tin bí mật kinh doanh của nhà thầu, đề nghị quản lý đúng quy định.",
    "bí mật nhà nước": "Không sử dụng thư điện tử công vụ để trao đổi văn bản thuộc danh mục bí mật nhà nước.",
    "thân mật": "Buổi gặp mặt diễn ra trong không khí thân mật, cởi mở.",
    "mật thiết": "Hai đơn vị phối hợp mật thiết trong quá trình triển khai.",
    "mật độ": "Mật độ dân số của huyện tăng 2% so với năm trước.",
    "mật ong": "Hội chợ giới thiệu sản phẩm mật ong của hợp tác xã.",
    "mật mã": "Ban Cơ yếu hướng dẫn sử dụng sản phẩm mật mã dân sự.",
    "dấu mật": "Văn thư không được đóng dấu mật khi chưa có ý kiến của lãnh đạo.",
    "tài liệu mật": "Việc quản lý tài liệu mật thực hiện theo Quy chế bảo vệ bí mật nhà nước.",
    "giải mật": "Hội đồng xem xét giải mật các tài liệu đã hết thời hạn bảo vệ.",
}
URGENCY = ["HỎA TỐC", "THƯỢNG KHẨN", "KHẨN"]
AGENCIES = [("UBND TỈNH QUẢNG NINH", "SỞ THÔNG TIN VÀ TRUYỀN THÔNG", "STTTT"),
            ("UBND TỈNH ĐỒNG NAI", "SỞ NỘI VỤ", "SNV"),
            ("UBND TỈNH HÒA BÌNH", "VĂN PHÒNG UBND TỈNH", "VPUBND"),
            ("UBND TỈNH THÁI NGUYÊN", "SỞ KẾ HOẠCH VÀ ĐẦU TƯ", "SKHĐT")]
SIGNERS = ["Nguyễn Văn Hùng", "Trần Thị Lan", "Phạm Minh Tuấn", "Lê Quang Hải", "Vũ Thị Hồng", "Đỗ Đức Thắng"]
TASKS = ["triển khai chuyển đổi số năm 2026", "báo cáo kết quả cải cách hành chính quý I",
         "tổ chức hội nghị tổng kết công tác năm 2025", "rà soát thủ tục hành chính", "cập nhật cơ sở dữ liệu cán bộ",
         "kiểm tra an toàn hệ thống thông tin", "chuẩn bị kỳ họp Hội đồng nhân dân", "triển khai phần mềm quản lý văn bản",
         "góp ý dự thảo quy chế làm việc", "tổng hợp nhu cầu đào tạo năm 2026"]
PARAGRAPHS = [
    "Thực hiện Kế hoạch số {n}/KH-UBND ngày {d}/2/2026 của Ủy ban nhân dân tỉnh, Sở đề nghị các đơn vị {task}.",
    "Các đơn vị gửi báo cáo về Sở trước ngày {d}/3/2026 để tổng hợp, báo cáo Ủy ban nhân dân tỉnh.",
    "Trong quá trình thực hiện, nếu có khó khăn, vướng mắc, đề nghị liên hệ phòng Văn phòng Sở, điện thoại 0203.38{n}.",
    "Đề nghị Thủ trưởng các đơn vị quan tâm chỉ đạo, phối hợp thực hiện đúng thời gian quy định.",
    "Sở Tài chính chủ trì thẩm định dự toán, trình Ủy ban nhân dân tỉnh xem xét, quyết định.",
    "Kết quả thực hiện là căn cứ đánh giá, xếp loại thi đua năm 2026 của các cơ quan, đơn vị.",
]


def level_label(index):
    return LEVELS[index % 3]


class Stamp:
    """Text put in a stamp position, already in its encoding, with the font on its run and the
    font only its style names."""

    def __init__(self, text, run_font=None, style_font=None, bold=True, red=True, size=14):
        self.text, self.run_font, self.style_font = text, run_font, style_font
        self.bold, self.red, self.size = bold, red, size


def encode_stamp(word, encoding):
    """`word` (Unicode, capitals for a level) written the way `encoding` says."""
    if encoding == "unicode":
        return Stamp(word, run_font="Times New Roman")
    if encoding == "nfd":
        return Stamp(ct.nfd(word), run_font="Times New Roman")
    if encoding == "tcvn3-run":
        return Stamp(ct.tcvn3_text(word, upper_font=True), run_font=".VnTimeH")
    if encoding == "tcvn3-style":
        return Stamp(ct.tcvn3_text(word, upper_font=True), style_font=".VnTimeH")
    if encoding == "tcvn3-vntime":
        return Stamp(ct.tcvn3_text(word, upper_font=False), run_font=".VnTime")
    if encoding == "vni":
        return Stamp(ct.vni_text(word), run_font="VNI-Times")
    if encoding == "unaccented":
        return Stamp(ct.unaccented(word), run_font="Times New Roman")
    if encoding == "letter-spaced":
        return Stamp(letter_spaced(word), run_font="Times New Roman")
    if encoding == "zero-width":
        return Stamp(zero_width(word), run_font="Times New Roman")
    raise ValueError(encoding)


def letter_spaced(word):
    """"TỐI MẬT" → "T Ố I  M Ậ T": letters one space apart, words two (how a typist spreads a stamp)."""
    return "  ".join(" ".join(part) for part in word.split(" "))


def zero_width(word):
    """A zero-width space inside each word ("MẬ\u200bT"): invisible, and breaks a naive search."""
    return " ".join(part[:-1] + "\u200b" + part[-1] for part in word.split(" "))


# --- Letters ------------------------------------------------------------------------------------

class Letter:
    """The content of an administrative letter (Nghị định 30/2020 Phụ lục I layout) and where its
    stamps go: {placement: Stamp}."""

    def __init__(self, rng, kind="công văn", stamps=None, head_lines=(), body_lines=(), signer=None, title=None):
        self.agency, self.office, self.code = rng.choice(AGENCIES)
        self.number = f"Số: {rng.randint(10, 2999)}/{self.code}-VP"
        self.task = rng.choice(TASKS)
        self.subject = "V/v " + self.task
        self.kind = kind
        self.title = title
        self.stamps = stamps or {}
        self.head_lines = list(head_lines)  # (text, bold) just below the letterhead
        n, d = rng.randint(10, 299), rng.randint(1, 28)
        paragraphs = [p.format(n=n, d=d, task=self.task) for p in rng.sample(PARAGRAPHS, 3)]
        self.body = list(body_lines) + paragraphs
        self.signer = signer or rng.choice(SIGNERS)
        province = self.agency.split("TỈNH ", 1)[-1].title()
        self.date = f"{province}, ngày {d} tháng 3 năm 2026"
        self.to = "Kính gửi: Các sở, ban, ngành thuộc tỉnh."


def letter_for_kind(rng, kind, **kw):
    """A benign letter of one of the everyday kinds."""
    if kind == "giấy mời":
        when = f"Thời gian: {rng.randint(7, 15)} giờ 00, ngày {rng.randint(1, 28)}/3/2026."
        return Letter(rng, kind, title="GIẤY MỜI", body_lines=[
            "Sở trân trọng kính mời đại diện lãnh đạo các đơn vị dự cuộc họp.", when,
            "Địa điểm: Phòng họp tầng 3, trụ sở Sở.", "Nội dung: " + rng.choice(TASKS) + "."], **kw)
    if kind == "thông báo":
        return Letter(rng, kind, title="THÔNG BÁO", body_lines=[
            "Kết luận của Giám đốc Sở tại cuộc họp giao ban tháng 3 năm 2026.",
            "Giao Văn phòng Sở theo dõi, đôn đốc các phòng thực hiện."], **kw)
    if kind == "lịch họp":
        return Letter(rng, kind, title="LỊCH CÔNG TÁC TUẦN", body_lines=[
            f"Thứ Hai: 8 giờ 00, giao ban lãnh đạo Sở; 14 giờ 00, làm việc với {rng.choice(AGENCIES)[1].title()}.",
            "Thứ Ba: Giám đốc Sở dự họp tại Ủy ban nhân dân tỉnh.",
            "Thứ Tư: Phó Giám đốc kiểm tra công tác chuyển đổi số tại huyện."], **kw)
    return Letter(rng, kind, **kw)


# --- Writers ------------------------------------------------------------------------------------

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
TEXTBOX_XML = (
    '<w:r xmlns:w="{w}" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
    'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
    'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
    'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
    'xmlns:v="urn:schemas-microsoft-com:vml"><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing>'
    '<wp:anchor distT="0" distB="0" distL="114300" distR="114300" simplePos="0" relativeHeight="251659264" '
    'behindDoc="0" locked="0" layoutInCell="1" allowOverlap="1"><wp:simplePos x="0" y="0"/>'
    '<wp:positionH relativeFrom="column"><wp:posOffset>0</wp:posOffset></wp:positionH>'
    '<wp:positionV relativeFrom="paragraph"><wp:posOffset>0</wp:posOffset></wp:positionV>'
    '<wp:extent cx="1600200" cy="400050"/><wp:effectExtent l="0" t="0" r="0" b="0"/><wp:wrapNone/>'
    '<wp:docPr id="{id}" name="Text Box {id}"/><wp:cNvGraphicFramePr/><a:graphic><a:graphicData '
    'uri="http://schemas.microsoft.com/office/word/2010/wordprocessingShape"><wps:wsp><wps:cNvSpPr txBox="1"/>'
    '<wps:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="1600200" cy="400050"/></a:xfrm><a:prstGeom prst="rect">'
    '<a:avLst/></a:prstGeom><a:ln w="28575" cmpd="dbl"><a:solidFill><a:srgbClr val="FF0000"/></a:solidFill></a:ln>'
    '</wps:spPr><wps:txbx><w:txbxContent>{p}</w:txbxContent></wps:txbx><wps:bodyPr/></wps:wsp></a:graphicData>'
    '</a:graphic></wp:anchor></w:drawing></mc:Choice><mc:Fallback><w:pict><v:shape id="tb{id}" '
    'style="position:absolute;margin-left:0;margin-top:0;width:126pt;height:31.5pt;z-index:1" strokecolor="red" '
    'strokeweight="2.25pt"><v:stroke linestyle="thinThin"/><v:textbox><w:txbxContent>{p}</w:txbxContent></v:textbox>'
    '</v:shape></w:pict></mc:Fallback></mc:AlternateContent></w:r>'
)


def _docx_stamp_run(paragraph, stamp):
    from docx.shared import Pt, RGBColor
    run = paragraph.add_run(stamp.text)
    run.bold = stamp.bold
    run.font.size = Pt(stamp.size)
    if stamp.red:
        run.font.color.rgb = RGBColor(0xFF, 0, 0)
    if stamp.run_font:
        run.font.name = stamp.run_font
    return run


def _docx_legacy_style(doc, font):
    """A paragraph style chain: "Dấu mật" (bold red, based on "Chữ cũ") → "Chữ cũ" (the legacy
    font). The run names no font: only the chain does."""
    from docx.enum.style import WD_STYLE_TYPE
    from docx.shared import RGBColor
    names = [s.name for s in doc.styles]
    if "Dau mat" in names:
        return doc.styles["Dau mat"]
    base = doc.styles.add_style("Chu cu", WD_STYLE_TYPE.PARAGRAPH)
    base.base_style = doc.styles["Normal"]
    base.font.name = font
    stamp = doc.styles.add_style("Dau mat", WD_STYLE_TYPE.PARAGRAPH)
    stamp.base_style = base
    stamp.font.bold = True
    stamp.font.color.rgb = RGBColor(0xFF, 0, 0)
    return stamp


def _docx_stamp_paragraph(doc, container, stamp, bordered=False):
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls
    p = container.add_paragraph()
    if stamp.style_font:
        p.style = _docx_legacy_style(doc, stamp.style_font)
        p.add_run(stamp.text)
    else:
        _docx_stamp_run(p, stamp)
    if bordered:
        borders = "".join(f'<w:{side} w:val="double" w:sz="6" w:space="1" w:color="FF0000"/>'
                          for side in ("top", "left", "bottom", "right"))
        p._p.get_or_add_pPr().append(parse_xml(f"<w:pBdr {nsdecls('w')}>{borders}</w:pBdr>"))
    return p


def _docx_textbox(doc, stamp, box_id):
    from docx.oxml import parse_xml
    style = ""
    fonts = ""
    if stamp.style_font:
        style = f'<w:pPr><w:pStyle w:val="{_docx_legacy_style(doc, stamp.style_font).style_id}"/></w:pPr>'
    elif stamp.run_font:
        fonts = f'<w:rFonts w:ascii="{stamp.run_font}" w:hAnsi="{stamp.run_font}" w:cs="{stamp.run_font}"/>'
    inner = (f'<w:p>{style}<w:r><w:rPr>{fonts}<w:b/><w:color w:val="FF0000"/><w:sz w:val="28"/></w:rPr>'
             f'<w:t xml:space="preserve">{escape(stamp.text)}</w:t></w:r></w:p>')
    p = doc.add_paragraph()
    p._p.append(parse_xml(TEXTBOX_XML.replace("{w}", W_NS).replace("{id}", str(box_id)).replace("{p}", inner)))
    return p


def write_docx(letter, path):
    """A Word letter: page header, a borderless two-column letterhead table (agency, number, V/v
    left; motto and date right), stamps where `letter.stamps` puts them, body, recipients,
    signature, and a second page (so the header shows twice)."""
    from docx import Document
    from docx.shared import Pt
    doc = Document()
    doc.core_properties.created = FIXED_DATE.replace(tzinfo=None)
    doc.core_properties.modified = FIXED_DATE.replace(tzinfo=None)
    doc.core_properties.author = "Văn thư"
    stamps = letter.stamps
    header = doc.sections[0].header
    if "page-header" in stamps:
        stamp = stamps["page-header"]
        hp = header.paragraphs[0]
        if stamp.style_font:
            hp.style = _docx_legacy_style(doc, stamp.style_font)
            hp.add_run(stamp.text)
        else:
            _docx_stamp_run(hp, stamp)
    if "page-header-plain" in stamps:
        _docx_stamp_run(header.paragraphs[0], stamps["page-header-plain"])
    table = doc.add_table(rows=1, cols=2)
    left, right = table.cell(0, 0), table.cell(0, 1)
    left.paragraphs[0].text = letter.agency
    left.add_paragraph().add_run(letter.office).bold = True
    left.add_paragraph(letter.number)
    left.add_paragraph(letter.subject)
    if "letterhead-left-cell" in stamps:
        _docx_stamp_paragraph(doc, left, stamps["letterhead-left-cell"])
    right.paragraphs[0].add_run("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM").bold = True
    right.add_paragraph("Độc lập - Tự do - Hạnh phúc")
    right.add_paragraph(letter.date)
    if "circulation-area" in stamps:
        _docx_stamp_paragraph(doc, right, stamps["circulation-area"])
        right.add_paragraph("Bản số: 02")
    if "document-head" in stamps:
        _docx_stamp_paragraph(doc, doc, stamps["document-head"])
    if "bordered" in stamps:
        _docx_stamp_paragraph(doc, doc, stamps["bordered"], bordered=True)
    if "text-box" in stamps:
        _docx_textbox(doc, stamps["text-box"], 1)
    for text, bold in letter.head_lines:
        p = doc.add_paragraph()
        r = p.add_run(text)
        r.bold = bold
        r.font.size = Pt(13)
    if letter.title:
        doc.add_paragraph().add_run(letter.title).bold = True
    doc.add_paragraph(letter.to)
    for text in letter.body:
        doc.add_paragraph(text)
    if "field" in stamps:
        stamp = stamps["field"]
        p = doc.add_paragraph()
        run = p.add_run(stamp.text)
        if stamp.run_font:
            run.font.name = stamp.run_font
    doc.add_paragraph("Nơi nhận:")
    doc.add_paragraph("- Như trên;")
    doc.add_paragraph("- Lưu: VT, VP.")
    doc.add_paragraph().add_run("GIÁM ĐỐC").bold = True
    doc.add_paragraph().add_run(letter.signer).bold = True
    doc.add_page_break()
    doc.add_paragraph("Phụ lục: danh sách đơn vị thực hiện.")
    doc.save(path)


def write_odt(letter, path):
    """The same letter as ODF text with odfpy: header in styles.xml (the master page), the
    letterhead as a table, a frame for the text box, a bordered paragraph style."""
    from odf.draw import Frame, TextBox
    from odf.opendocument import OpenDocumentText
    from odf.style import (FontFace, GraphicProperties, Header, MasterPage, PageLayout, PageLayoutProperties,
                           ParagraphProperties, Style, TextProperties)
    from odf.table import Table, TableCell, TableColumn, TableRow
    from odf.text import P, Span
    doc = OpenDocumentText()
    for font in (".VnTimeH", ".VnTime", "VNI-Times", "Times New Roman"):
        doc.fontfacedecls.addElement(FontFace(name=font, fontfamily=font, fontfamilygeneric="roman"))
    styles = {}

    def stamp_style(stamp, bordered=False):
        key = (stamp.run_font, stamp.style_font, bordered)
        if key in styles:
            return styles[key]
        name = f"Stamp{len(styles)}"
        props = dict(fontweight="bold", color="#ff0000", fontsize="14pt")
        if stamp.run_font:
            props["fontname"] = stamp.run_font
        if stamp.style_font:
            # The font only on the parent style: the stamp's own style inherits it.
            parent = Style(name=name + "Font", family="paragraph")
            parent.addElement(TextProperties(fontname=stamp.style_font))
            doc.styles.addElement(parent)
            style = Style(name=name, family="paragraph", parentstylename=name + "Font")
        else:
            style = Style(name=name, family="paragraph")
        style.addElement(TextProperties(**props))
        if bordered:
            style.addElement(ParagraphProperties(border="1.5pt double #ff0000", padding="0.1cm"))
        doc.styles.addElement(style)
        styles[key] = style
        return style

    layout = PageLayout(name="pm1")
    layout.addElement(PageLayoutProperties(pagewidth="21cm", pageheight="29.7cm", margin="2cm"))
    doc.automaticstyles.addElement(layout)
    master = MasterPage(name="Standard", pagelayoutname=layout)
    if "page-header" in letter.stamps:
        header = Header()
        stamp = letter.stamps["page-header"]
        header.addElement(P(stylename=stamp_style(stamp), text=stamp.text))
        master.addElement(header)
    doc.masterstyles.addElement(master)
    bold = Style(name="Bold", family="text")
    bold.addElement(TextProperties(fontweight="bold"))
    doc.styles.addElement(bold)
    graphic = Style(name="Box", family="graphic")
    graphic.addElement(GraphicProperties(border="1.5pt double #ff0000", padding="0.1cm"))
    doc.automaticstyles.addElement(graphic)

    table = Table(name="Letterhead")
    table.addElement(TableColumn(numbercolumnsrepeated=2))
    row = TableRow()
    left, right = TableCell(), TableCell()
    left.addElement(P(text=letter.agency))
    p = P()
    p.addElement(Span(stylename=bold, text=letter.office))
    left.addElement(p)
    left.addElement(P(text=letter.number))
    left.addElement(P(text=letter.subject))
    if "letterhead-left-cell" in letter.stamps:
        stamp = letter.stamps["letterhead-left-cell"]
        left.addElement(P(stylename=stamp_style(stamp), text=stamp.text))
    p = P()
    p.addElement(Span(stylename=bold, text="CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"))
    right.addElement(p)
    right.addElement(P(text="Độc lập - Tự do - Hạnh phúc"))
    right.addElement(P(text=letter.date))
    if "circulation-area" in letter.stamps:
        stamp = letter.stamps["circulation-area"]
        right.addElement(P(stylename=stamp_style(stamp), text=stamp.text))
    row.addElement(left)
    row.addElement(right)
    table.addElement(row)
    doc.text.addElement(table)
    if "document-head" in letter.stamps:
        stamp = letter.stamps["document-head"]
        doc.text.addElement(P(stylename=stamp_style(stamp), text=stamp.text))
    if "bordered" in letter.stamps:
        stamp = letter.stamps["bordered"]
        doc.text.addElement(P(stylename=stamp_style(stamp, bordered=True), text=stamp.text))
    if "text-box" in letter.stamps:
        stamp = letter.stamps["text-box"]
        holder = P()
        frame = Frame(stylename=graphic, width="4.5cm", height="1.2cm", x="0cm", y="0.2cm", anchortype="paragraph")
        box = TextBox()
        box.addElement(P(stylename=stamp_style(stamp), text=stamp.text))
        frame.addElement(box)
        holder.addElement(frame)
        doc.text.addElement(holder)
    for text, is_bold in letter.head_lines:
        p = P()
        p.addElement(Span(stylename=bold, text=text) if is_bold else Span(text=text))
        doc.text.addElement(p)
    if letter.title:
        p = P()
        p.addElement(Span(stylename=bold, text=letter.title))
        doc.text.addElement(p)
    doc.text.addElement(P(text=letter.to))
    for text in letter.body:
        doc.text.addElement(P(text=text))
    if "field" in letter.stamps:
        stamp = letter.stamps["field"]
        if stamp.run_font:
            font_style = Style(name="FieldFont", family="text")
            font_style.addElement(TextProperties(fontname=stamp.run_font))
            doc.automaticstyles.addElement(font_style)
            p = P()
            p.addElement(Span(stylename=font_style, text=stamp.text))
            doc.text.addElement(p)
        else:
            doc.text.addElement(P(text=stamp.text))
    doc.text.addElement(P(text="Nơi nhận: - Như trên; - Lưu: VT."))
    p = P()
    p.addElement(Span(stylename=bold, text="GIÁM ĐỐC"))
    doc.text.addElement(p)
    p = P()
    p.addElement(Span(stylename=bold, text=letter.signer))
    doc.text.addElement(p)
    doc.save(path)


def write_xlsx(path, rows, header=None, sheet_title="Báo cáo"):
    """A workbook with `rows`; `header` (a Stamp text) as the sheet's page header (centre)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    wb = Workbook()
    wb.properties.created = FIXED_DATE.replace(tzinfo=None)
    wb.properties.modified = FIXED_DATE.replace(tzinfo=None)
    ws = wb.active
    ws.title = sheet_title
    for r in rows:
        ws.append(r)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    if header is not None:
        ws.oddHeader.center.text = header.text
        ws.oddHeader.center.font = (header.run_font or "Times New Roman") + ",Bold"
        ws.oddHeader.center.size = 14
        ws.oddHeader.center.color = "FF0000"
    wb.save(path)


def write_ods(path, rows, header=None):
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.style import FontFace, Header, MasterPage, PageLayout, Style, TextProperties
    from odf.table import Table, TableCell, TableRow
    from odf.text import P
    doc = OpenDocumentSpreadsheet()
    layout = PageLayout(name="pm1")
    doc.automaticstyles.addElement(layout)
    master = MasterPage(name="Default", pagelayoutname=layout)
    if header is not None:
        h = Header()
        style = Style(name="HeaderStamp", family="paragraph")
        props = dict(fontweight="bold", color="#ff0000")
        if header.run_font:
            doc.fontfacedecls.addElement(FontFace(name=header.run_font, fontfamily=header.run_font))
            props["fontname"] = header.run_font
        style.addElement(TextProperties(**props))
        doc.styles.addElement(style)
        h.addElement(P(stylename=style, text=header.text))
        master.addElement(h)
    doc.masterstyles.addElement(master)
    table_style = Style(name="ta1", family="table", masterpagename="Default")
    doc.automaticstyles.addElement(table_style)
    table = Table(name="Sheet1", stylename=table_style)
    for r in rows:
        tr = TableRow()
        for value in r:
            cell = TableCell(valuetype="string")
            cell.addElement(P(text=str(value)))
            tr.addElement(cell)
        table.addElement(tr)
    doc.spreadsheet.addElement(table)
    doc.save(path)


def write_pptx(path, stamp=None, title="Báo cáo tiến độ chuyển đổi số", lines=()):
    """Slide 1: a title, body text, and `stamp` in a text box at the top left."""
    from pptx import Presentation
    from pptx.dml.color import RGBColor
    from pptx.util import Inches, Pt
    prs = Presentation()
    prs.core_properties.created = FIXED_DATE.replace(tzinfo=None)
    prs.core_properties.modified = FIXED_DATE.replace(tzinfo=None)
    slide = prs.slides.add_slide(prs.slide_layouts[1])
    slide.shapes.title.text = title
    body = slide.placeholders[1].text_frame
    body.text = lines[0] if lines else "Kết quả triển khai quý I năm 2026."
    for line in lines[1:]:
        body.add_paragraph().text = line
    if stamp is not None:
        box = slide.shapes.add_textbox(Inches(0.3), Inches(0.2), Inches(2.2), Inches(0.6))
        run = box.text_frame.paragraphs[0].add_run()
        run.text = stamp.text
        run.font.bold = stamp.bold
        run.font.size = Pt(stamp.size)
        if stamp.red:
            run.font.color.rgb = RGBColor(0xFF, 0, 0)
        if stamp.run_font:
            run.font.name = stamp.run_font
    second = prs.slides.add_slide(prs.slide_layouts[1])
    second.shapes.title.text = "Nhiệm vụ quý II"
    second.placeholders[1].text_frame.text = "Tiếp tục triển khai các nhiệm vụ theo kế hoạch."
    prs.save(path)


def write_odp(path, stamp):
    """An ODF presentation (odfpy): page 1 with a title frame and `stamp` in a text-box frame at
    the top left; page 2 plain."""
    from odf.draw import Frame, Page, TextBox
    from odf.opendocument import OpenDocumentPresentation
    from odf.style import (FontFace, MasterPage, PageLayout, PageLayoutProperties, Style, TextProperties)
    from odf.text import P, Span
    doc = OpenDocumentPresentation()
    layout = PageLayout(name="PM1")
    layout.addElement(PageLayoutProperties(pagewidth="28cm", pageheight="15.75cm", printorientation="landscape"))
    doc.automaticstyles.addElement(layout)
    master = MasterPage(name="Default", pagelayoutname=layout)
    doc.masterstyles.addElement(master)
    props = dict(fontweight="bold", color="#ff0000", fontsize="24pt")
    if stamp.run_font:
        doc.fontfacedecls.addElement(FontFace(name=stamp.run_font, fontfamily=stamp.run_font))
        props["fontname"] = stamp.run_font
    red = Style(name="T1", family="text")
    red.addElement(TextProperties(**props))
    doc.automaticstyles.addElement(red)
    for number, title in ((1, "Báo cáo tiến độ chuyển đổi số"), (2, "Nhiệm vụ quý II")):
        page = Page(name=f"page{number}", masterpagename=master)
        frame = Frame(width="20cm", height="2cm", x="4cm", y="3cm")
        box = TextBox()
        box.addElement(P(text=title))
        frame.addElement(box)
        page.addElement(frame)
        if number == 1:
            frame = Frame(width="6cm", height="1.5cm", x="0.5cm", y="0.5cm")
            box = TextBox()
            p = P()
            p.addElement(Span(stylename=red, text=stamp.text))
            box.addElement(p)
            frame.addElement(box)
            page.addElement(frame)
        doc.presentation.addElement(page)
    doc.save(path)


def write_pdf(letter, path, stamps=None, nfd_text=False):
    """The letter as a PDF from fpdf2 with DejaVu Serif embedded: agency, number and V/v top left,
    motto top right; `stamps` {placement: text}: upper-left below V/v (red, bold, double box),
    circulation-area top right, page-header at the top of every page."""
    from fpdf import FPDF
    stamps = stamps or {}
    conv = ct.nfd if nfd_text else (lambda s: s)
    pdf = FPDF(format="A4")
    pdf.set_creation_date(FIXED_DATE)
    pdf.add_font("DejaVu", "", os.path.join(DEJAVU, "DejaVuSerif.ttf"))
    pdf.add_font("DejaVu", "B", os.path.join(DEJAVU, "DejaVuSerif-Bold.ttf"))
    pdf.set_auto_page_break(True, 20)

    def page_top():
        if "page-header" in stamps:
            pdf.set_font("DejaVu", "B", 14)
            pdf.set_text_color(255, 0, 0)
            pdf.text(95, 10, conv(stamps["page-header"]))
            pdf.set_text_color(0, 0, 0)

    pdf.add_page()
    page_top()
    pdf.set_font("DejaVu", "", 11)
    pdf.text(15, 20, conv(letter.agency))
    pdf.set_font("DejaVu", "B", 11)
    pdf.text(15, 26, conv(letter.office))
    pdf.set_font("DejaVu", "", 11)
    pdf.text(15, 33, conv(letter.number))
    pdf.text(15, 39, conv(letter.subject[:40]))
    pdf.set_font("DejaVu", "B", 11)
    pdf.text(110, 20, conv("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"))
    pdf.set_font("DejaVu", "", 11)
    pdf.text(122, 26, conv("Độc lập - Tự do - Hạnh phúc"))
    pdf.text(118, 33, conv(letter.date))
    if "circulation-area" in stamps:
        pdf.set_font("DejaVu", "B", 12)
        pdf.set_text_color(255, 0, 0)
        pdf.text(165, 10, conv(stamps["circulation-area"]))
        pdf.set_text_color(0, 0, 0)
    y = 50
    if "upper-left" in stamps:
        pdf.set_font("DejaVu", "B", 14)
        pdf.set_text_color(255, 0, 0)
        pdf.set_draw_color(255, 0, 0)
        pdf.rect(14, 43, 42, 10)
        pdf.rect(15, 44, 40, 8)
        pdf.text(18, 50, conv(stamps["upper-left"]))
        pdf.set_text_color(0, 0, 0)
        y = 58
    for text, bold in letter.head_lines:
        pdf.set_font("DejaVu", "B" if bold else "", 12)
        pdf.text(18, y, conv(text))
        y += 7
    pdf.set_xy(15, max(y, 62))
    if letter.title:
        pdf.set_font("DejaVu", "B", 13)
        pdf.cell(180, 8, conv(letter.title), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 12)
    pdf.multi_cell(180, 7, conv(letter.to), new_x="LMARGIN", new_y="NEXT")
    for text in letter.body:
        pdf.multi_cell(180, 7, conv(text), new_x="LMARGIN", new_y="NEXT")
    if "field" in stamps:
        pdf.multi_cell(180, 7, conv(stamps["field"]), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(5)
    pdf.set_font("DejaVu", "B", 12)
    pdf.cell(0, 7, conv("GIÁM ĐỐC"), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 7, conv(letter.signer), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.add_page()
    page_top()
    pdf.set_xy(15, 25)
    pdf.set_font("DejaVu", "", 12)
    pdf.multi_cell(180, 7, conv("Phụ lục: danh sách đơn vị thực hiện."))
    pdf.output(path)


def write_text_pdf(path, title, paragraphs):
    """A long text (a regulation) as a PDF."""
    from fpdf import FPDF
    pdf = FPDF(format="A4")
    pdf.set_creation_date(FIXED_DATE)
    pdf.add_font("DejaVu", "", os.path.join(DEJAVU, "DejaVuSerif.ttf"))
    pdf.add_font("DejaVu", "B", os.path.join(DEJAVU, "DejaVuSerif-Bold.ttf"))
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 13)
    pdf.multi_cell(180, 8, title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 11)
    for text in paragraphs:
        text = text.replace("\t", " ").strip()
        if text:
            pdf.multi_cell(180, 6, text, new_x="LMARGIN", new_y="NEXT")
    pdf.output(path)


def write_text_docx(path, paragraphs):
    from docx import Document
    doc = Document()
    doc.core_properties.created = FIXED_DATE.replace(tzinfo=None)
    for text in paragraphs:
        doc.add_paragraph(text.replace("\t", " "))
    doc.save(path)


def rtf_escape(data: bytes) -> str:
    out = []
    for b in data:
        if b in (0x5C, 0x7B, 0x7D):
            out.append("\\" + chr(b))
        elif b >= 0x80:
            out.append(f"\\'{b:02x}")
        else:
            out.append(chr(b))
    return "".join(out)


def _tcvn3_has(ch, upper):
    try:
        ct.tcvn3_bytes(ch, upper)
        return True
    except ValueError:
        return False


def write_legacy_rtf(letter, path, encoding, placement, stamp_word):
    """An RTF in a legacy code page, as old Word wrote it: CP1258 (\\ansicpg1258, tones as
    combining bytes), or Windows-1252 with the stamp's run in .VnTimeH (TCVN3) or VNI-Times."""
    if encoding == "cp1258-rtf":
        header = "{\\rtf1\\ansi\\ansicpg1258\\deff0{\\fonttbl{\\f0\\froman\\fcharset163 Times New Roman;}}"
        enc = ct.cp1258_bytes
        stamp_font, stamp_bytes = 0, ct.cp1258_bytes(stamp_word)
    else:
        # The whole letter in the legacy fonts: lines in capitals in the uppercase font (f1),
        # the rest in the lowercase one (f0), as a TCVN3 or VNI typist had it.
        fonts = (".VnTime", ".VnTimeH") if encoding == "tcvn3-run" else ("VNI-Times", "VNI-Times")
        header = ("{\\rtf1\\ansi\\ansicpg1252\\deff0{\\fonttbl"
                  f"{{\\f0\\fnil\\fcharset0 {fonts[0]};}}{{\\f1\\fnil\\fcharset0 {fonts[1]};}}}}")

        def enc(line):
            if encoding != "tcvn3-run":
                return ct.vni_bytes(line)
            upper = line == line.upper()
            return b"".join(ct.tcvn3_bytes(ch, upper) if _tcvn3_has(ch, upper) else ct.unaccented(ch).encode("ascii")
                            for ch in line)
        stamp_font = 1
        stamp_bytes = ct.tcvn3_bytes(stamp_word, True) if encoding == "tcvn3-run" else ct.vni_bytes(stamp_word)
    stamp = f"{{\\pard\\b\\cf1\\fs28\\f{stamp_font} {rtf_escape(stamp_bytes)}\\par}}"
    parts = [header, "{\\colortbl;\\red255\\green0\\blue0;}\\paperw11906\\paperh16838\\margl1134\\margr1134\n"]
    if placement == "page-header":
        parts.append(f"{{\\header {stamp}}}\n")
    def line_rtf(line):
        font = 1 if encoding != "cp1258-rtf" and line == line.upper() else 0
        return f"{{\\pard\\f{font}\\fs24 {rtf_escape(enc(line))}\\par}}\n"
    for line in (letter.agency, letter.office, letter.number, letter.subject):
        parts.append(line_rtf(line))
    if placement == "document-head":
        parts.append(stamp + "\n")
    for line in [letter.to] + letter.body + ["GIÁM ĐỐC", letter.signer]:
        parts.append(line_rtf(line))
    parts.append("}\n")
    with open(path, "w", encoding="ascii") as f:
        f.write("".join(parts))


# --- The corpus ---------------------------------------------------------------------------------

class Corpus:
    def __init__(self, out, seed, work):
        self.out, self.work = out, work
        self.rng = random.Random(seed)
        self.src = os.path.join(work, "src")
        os.makedirs(self.src)
        os.makedirs(os.path.join(out, "messages"))
        self.cases = []  # (label, build) with build() -> EmailMessage, called after conversions
        self.conversions = {}  # target -> [source paths]
        self.counter = 0

    def doc(self, name, ext, writer, *args, **kw):
        path = os.path.join(self.src, f"{name}.{ext}")
        if writer in (write_xlsx, write_ods, write_pptx, write_text_pdf, write_text_docx, write_odp):
            writer(path, *args, **kw)
        else:
            writer(*args, path, **kw)
        if ext in ("docx", "xlsx", "pptx", "odt", "ods", "odp"):
            ct.freeze_zip(path)
        return path

    def convert(self, source, target):
        """`source` converted by LibreOffice to `target`; the path it will have."""
        self.conversions.setdefault(target, []).append(source)
        return os.path.join(self.work, "conv-" + target, os.path.splitext(os.path.basename(source))[0] + "." + target)

    def case(self, expected, fmt, placement, encoding, category, note, build, level=None):
        self.counter += 1
        name = f"{self.counter:04}-{category}-{fmt}.eml"
        self.cases.append(({"file": "messages/" + name, "expected": expected, "level": level, "format": fmt,
                            "placement": placement, "encoding": encoding, "category": category, "note": note},
                           build))

    def mail_with(self, paths, subject=None, body=None, html=None, names=None):
        """A build function: a message with these files attached (read when built)."""
        number = self.counter + 1
        subject = subject or "V/v " + self.rng.choice(TASKS)
        body_text = body or "Kính gửi anh chị,\n\nVăn phòng Sở gửi văn bản kèm theo để các đơn vị thực hiện.\n\nTrân trọng.\n"

        def build():
            msg = ct.message(number, subject, body_text, html)
            for i, path in enumerate(paths):
                with open(path, "rb") as f:
                    data = f.read()
                name = names[i] if names else f"van-ban-{number:04}-{i + 1}{os.path.splitext(path)[1]}"
                ct.attach(msg, data, name)
            return msg
        return build

    def run_conversions(self):
        profile = os.path.join(self.work, "lo-profile")
        for target, sources in sorted(self.conversions.items()):
            started = time.monotonic()
            ct.soffice_convert(sources, target, os.path.join(self.work, "conv-" + target), profile)
            print(f"make_corpus: LibreOffice converted {len(sources)} files to {target} in "
                  f"{time.monotonic() - started:.1f} s", file=sys.stderr)

    def write(self):
        with open(os.path.join(self.out, "labels.jsonl"), "w", encoding="utf-8") as labels:
            for label, build in self.cases:
                ct.write_eml(build(), os.path.join(self.out, label["file"]))
                labels.write(json.dumps(label, ensure_ascii=False) + "\n")


def positives(c: Corpus):
    rng = c.rng
    # Subject tags, every level; NFD and unaccented forms too.
    forms = [("[{L}] ", "unicode", "bracketed tag"), ("{L} - ", "unicode", "leading tag with a dash"),
             ("Re: [{L}] ", "unicode", "tag after a reply prefix")]
    for i, (level, word, _) in enumerate(LEVELS):
        for form, enc, note in forms:
            subject = form.format(L=word) + "Báo cáo " + rng.choice(TASKS)
            c.case("secret", "subject", "subject-tag", enc, "stamp", note, c.mail_with([], subject=subject), level)
    for enc, conv in (("nfd", ct.nfd), ("unaccented", ct.unaccented)):
        for level, word, _ in LEVELS:
            subject = conv(f"[{word}] ") + conv("Kế hoạch " + rng.choice(TASKS))
            c.case("secret", "subject", "subject-tag", enc, "stamp", "bracketed tag", c.mail_with([], subject=subject), level)
    # Mail bodies: the first line, and an "Độ mật:" field.
    for level, word, field in LEVELS:
        for enc, conv in (("unicode", lambda s: s), ("nfd", ct.nfd), ("unaccented", ct.unaccented)):
            body = conv(f"{word}\n\nKính gửi: Các phòng, ban.\n\nSở gửi kế hoạch {rng.choice(TASKS)}.\n\nTrân trọng.\n")
            c.case("secret", "text-plain", "mail-body-first-line", enc, "stamp", "the level alone on the first line",
                   c.mail_with([], body=body), level)
        body = f"Kính gửi: Văn phòng.\n\nSố: 45/STTTT-VP\nĐộ mật: {field}\nĐộ khẩn: Thường\n\nNội dung: {rng.choice(TASKS)}.\n"
        c.case("secret", "text-plain", "field", "unicode", "stamp", "e-office field in the body",
               c.mail_with([], body=body), level)
    for level, word, _ in LEVELS:
        html = (f"<html><body><p style=\"color:red\"><b>{word}</b></p><p>Kính gửi: Các phòng.</p>"
                f"<p>Sở gửi kế hoạch {rng.choice(TASKS)}.</p></body></html>")
        c.case("secret", "text-html", "mail-body-first-line", "unicode", "stamp", "bold red first paragraph",
               c.mail_with([], body="Xem bản HTML.\n", html=html), level)
    html = ("<html><body><div><span style=\"text-transform: uppercase; font-weight: bold\">tối mật</span></div>"
            "<p>Kính gửi: Các phòng.</p></body></html>")
    c.case("secret", "text-html", "mail-body-first-line", "unicode", "stamp",
           "lowercase text in capitals by text-transform", c.mail_with([], body="Xem bản HTML.\n", html=html), "toi-mat")
    html = f"<html><body><p><b>{ct.nfd('TUYỆT MẬT')}</b></p><p>Kính gửi: Các phòng.</p></body></html>"
    c.case("secret", "text-html", "mail-body-first-line", "nfd", "stamp", "NFD in HTML",
           c.mail_with([], body="Xem bản HTML.\n", html=html), "tuyet-mat")

    # DOCX: every level in every placement (Unicode).
    docx_placements = ["page-header", "letterhead-left-cell", "text-box", "bordered", "document-head",
                       "circulation-area", "field"]
    docx_by = {}
    for placement in docx_placements:
        for level, word, field in LEVELS:
            text = f"Độ mật: {field}" if placement == "field" else word
            letter = Letter(rng, stamps={placement: encode_stamp(text, "unicode")})
            path = c.doc(f"pos-docx-{placement}-{level}", "docx", write_docx, letter)
            docx_by[(placement, level)] = path
            c.case("secret", "docx", placement, "unicode", "stamp", "python-docx letter", c.mail_with([path]), level)
    # DOCX: every encoding in several placements.
    enc_matrix = [
        ("nfd", ["letterhead-left-cell", "text-box", "page-header"]),
        ("tcvn3-run", ["letterhead-left-cell", "text-box", "page-header", "bordered", "document-head"]),
        ("tcvn3-style", ["letterhead-left-cell", "text-box", "page-header", "bordered"]),
        ("vni", ["letterhead-left-cell", "text-box", "page-header", "document-head"]),
        ("unaccented", ["letterhead-left-cell", "text-box", "page-header", "bordered"]),
    ]
    legacy_docx = {}
    for enc, placements in enc_matrix:
        for j, placement in enumerate(placements):
            level, word, _ = level_label(j + len(enc))
            letter = Letter(rng, stamps={placement: encode_stamp(word, enc)})
            path = c.doc(f"pos-docx-{enc}-{placement}", "docx", write_docx, letter)
            legacy_docx[(enc, placement)] = (path, level)
            c.case("secret", "docx", placement, enc, "stamp", "python-docx letter", c.mail_with([path]), level)
    letter = Letter(rng, stamps={"field": encode_stamp("Độ mật: Tối mật", "tcvn3-vntime")})
    path = c.doc("pos-docx-vntime-field", "docx", write_docx, letter)
    legacy_docx[("tcvn3-vntime", "field")] = (path, "toi-mat")
    c.case("secret", "docx", "field", "tcvn3-vntime", "stamp", "field typed in .VnTime (lowercase font)",
           c.mail_with([path]), "toi-mat")

    for enc, placement, level in (("letter-spaced", "bordered", "toi-mat"), ("letter-spaced", "page-header", "tuyet-mat"),
                                  ("zero-width", "text-box", "mat"), ("zero-width", "letterhead-left-cell", "toi-mat")):
        word = dict((l, w) for l, w, _ in LEVELS)[level]
        letter = Letter(rng, stamps={placement: encode_stamp(word, enc)})
        path = c.doc(f"pos-docx-{enc}-{placement}", "docx", write_docx, letter)
        c.case("secret", "docx", placement, enc, "stamp", "python-docx letter", c.mail_with([path]), level)
    c.case("secret", "subject", "subject-tag", "zero-width", "stamp", "zero-width space inside the tag",
           c.mail_with([], subject=f"[{zero_width('TỐI MẬT')}] Báo cáo tuần"), "toi-mat")
    c.case("secret", "text-plain", "mail-body-first-line", "letter-spaced", "stamp", "letter-spaced first line",
           c.mail_with([], body=f"{letter_spaced('MẬT')}\n\nKính gửi: Các phòng.\n"), "mat")

    # DOC, RTF, ODT, PDF made by LibreOffice from some of those letters.
    for target, picks in (
        ("doc", [("page-header", "mat"), ("letterhead-left-cell", "toi-mat"), ("text-box", "tuyet-mat"),
                 ("bordered", "mat"), ("document-head", "toi-mat"), ("field", "mat")]),
        ("rtf", [("page-header", "tuyet-mat"), ("letterhead-left-cell", "mat"), ("text-box", "toi-mat"),
                 ("bordered", "toi-mat")]),
        ("odt", [("page-header", "toi-mat"), ("text-box", "mat"), ("letterhead-left-cell", "tuyet-mat")]),
        ("pdf", [("letterhead-left-cell", "mat"), ("text-box", "toi-mat"), ("page-header", "tuyet-mat"),
                 ("bordered", "mat"), ("document-head", "tuyet-mat")]),
    ):
        for placement, level in picks:
            path = c.convert(docx_by[(placement, level)], target)
            c.case("secret", target, placement, "unicode", "stamp", f"LibreOffice docx → {target}", c.mail_with([path]), level)
    for target, picks in (("doc", [("tcvn3-run", "letterhead-left-cell"), ("tcvn3-style", "text-box"),
                                   ("vni", "page-header"), ("tcvn3-vntime", "field")]),
                          ("rtf", [("tcvn3-run", "page-header"), ("vni", "letterhead-left-cell")]),
                          ("odt", [("tcvn3-style", "bordered"), ("vni", "text-box")])):
        for enc, placement in picks:
            source, level = legacy_docx[(enc, placement)]
            path = c.convert(source, target)
            c.case("secret", target, placement, enc, "stamp", f"LibreOffice docx → {target}", c.mail_with([path]), level)

    # ODT written by odfpy: every placement, legacy fonts through the style.
    for j, placement in enumerate(docx_placements):
        level, word, field = level_label(j)
        text = f"Độ mật: {field}" if placement == "field" else word
        letter = Letter(rng, stamps={placement: encode_stamp(text, "unicode")})
        path = c.doc(f"pos-odt-{placement}", "odt", write_odt, letter)
        c.case("secret", "odt", placement, "unicode", "stamp", "odfpy letter", c.mail_with([path]), level)
    for enc, placement, level in (("tcvn3-style", "page-header", "mat"), ("tcvn3-run", "text-box", "toi-mat"),
                                  ("vni", "bordered", "tuyet-mat"), ("nfd", "letterhead-left-cell", "mat"),
                                  ("unaccented", "text-box", "toi-mat")):
        word = dict((l, w) for l, w, _ in LEVELS)[level]
        letter = Letter(rng, stamps={placement: encode_stamp(word, enc)})
        path = c.doc(f"pos-odt-{enc}-{placement}", "odt", write_odt, letter)
        c.case("secret", "odt", placement, enc, "stamp", "odfpy letter", c.mail_with([path]), level)

    # XLSX and ODS: the page header, an "Độ mật:" field cell; .xls from LibreOffice.
    rows = [["STT", "Nội dung", "Đơn vị", "Thời hạn"]] + [[i, rng.choice(TASKS), rng.choice(AGENCIES)[1], f"{i + 5}/4/2026"]
                                                         for i in range(1, 9)]
    xlsx_paths = {}
    for j, (level, word, field) in enumerate(LEVELS):
        path = c.doc(f"pos-xlsx-header-{level}", "xlsx", write_xlsx, rows, header=encode_stamp(word, "unicode"))
        xlsx_paths[("page-header", level)] = path
        c.case("secret", "xlsx", "page-header", "unicode", "stamp", "openpyxl sheet header", c.mail_with([path]), level)
        field_rows = [[f"Độ mật: {field}"], ["Số: 88/BC-STTTT"]] + rows
        path = c.doc(f"pos-xlsx-field-{level}", "xlsx", write_xlsx, field_rows)
        xlsx_paths[("field", level)] = path
        c.case("secret", "xlsx", "field", "unicode", "stamp", "field in cell A1", c.mail_with([path]), level)
    for enc in ("tcvn3-run", "vni"):
        path = c.doc(f"pos-xlsx-header-{enc}", "xlsx", write_xlsx, rows, header=encode_stamp("TỐI MẬT", enc))
        c.case("secret", "xlsx", "page-header", enc, "stamp", "sheet header in a legacy font", c.mail_with([path]), "toi-mat")
    for key in (("page-header", "mat"), ("field", "tuyet-mat")):
        path = c.convert(xlsx_paths[key], "xls")
        c.case("secret", "xls", key[0], "unicode", "stamp", "LibreOffice xlsx → xls", c.mail_with([path]), key[1])
    for level, word, field in LEVELS[:2]:
        path = c.doc(f"pos-ods-header-{level}", "ods", write_ods, rows, header=encode_stamp(word, "unicode"))
        c.case("secret", "ods", "page-header", "unicode", "stamp", "odfpy sheet header (styles.xml)", c.mail_with([path]), level)
    path = c.doc("pos-ods-field", "ods", write_ods, [["Độ mật: Mật"]] + rows)
    c.case("secret", "ods", "field", "unicode", "stamp", "field in a cell", c.mail_with([path]), "mat")

    # PPTX: a text box at the top left of slide 1.
    for j, (level, word, _) in enumerate(LEVELS):
        path = c.doc(f"pos-pptx-{level}", "pptx", write_pptx, stamp=encode_stamp(word, "unicode"))
        c.case("secret", "pptx", "text-box", "unicode", "stamp", "python-pptx text box on slide 1", c.mail_with([path]), level)
    for enc in ("vni", "nfd"):
        path = c.doc(f"pos-pptx-{enc}", "pptx", write_pptx, stamp=encode_stamp("MẬT", enc))
        c.case("secret", "pptx", "text-box", enc, "stamp", "python-pptx text box on slide 1", c.mail_with([path]), "mat")
    for enc, level in (("unicode", "toi-mat"), ("vni", "mat")):
        word = dict((l, w) for l, w, _ in LEVELS)[level]
        path = c.doc(f"pos-odp-{enc}", "odp", write_odp, encode_stamp(word, enc))
        c.case("secret", "odp", "text-box", enc, "stamp", "odfpy presentation, frame on page 1", c.mail_with([path]), level)

    # PDF from fpdf2: upper left below V/v, the top-right circulation area, the top of every page.
    for placement in ("upper-left", "circulation-area", "page-header"):
        for level, word, _ in LEVELS:
            letter = Letter(rng)
            path = c.doc(f"pos-pdf-{placement}-{level}", "pdf", write_pdf, letter, stamps={placement: word})
            c.case("secret", "pdf", placement, "unicode", "stamp", "fpdf2 letter, DejaVu embedded", c.mail_with([path]), level)
    letter = Letter(rng)
    path = c.doc("pos-pdf-field", "pdf", write_pdf, letter, stamps={"field": "Độ mật: Tối mật"})
    c.case("secret", "pdf", "field", "unicode", "stamp", "fpdf2 letter", c.mail_with([path]), "toi-mat")
    path = c.doc("pos-pdf-nfd", "pdf", write_pdf, Letter(rng), stamps={"upper-left": "TỐI MẬT"}, nfd_text=True)
    c.case("secret", "pdf", "upper-left", "nfd", "stamp", "fpdf2, every string NFD", c.mail_with([path]), "toi-mat")
    path = c.doc("pos-pdf-unaccented", "pdf", write_pdf, Letter(rng), stamps={"upper-left": "TUYET MAT"})
    c.case("secret", "pdf", "upper-left", "unaccented", "stamp", "fpdf2", c.mail_with([path]), "tuyet-mat")
    path = c.doc("pos-pdf-spaced", "pdf", write_pdf, Letter(rng), stamps={"upper-left": letter_spaced("TỐI MẬT")})
    c.case("secret", "pdf", "upper-left", "letter-spaced", "stamp", "fpdf2", c.mail_with([path]), "toi-mat")

    # The urgency stamp just below the secrecy stamp (Phụ lục I), and both on one PDF line.
    letter = Letter(rng, stamps={"document-head": encode_stamp("MẬT", "unicode")}, head_lines=[("HỎA TỐC", True)])
    path = c.doc("pos-docx-with-urgency", "docx", write_docx, letter)
    c.case("secret", "docx", "document-head", "unicode", "stamp", "MẬT with HỎA TỐC below it", c.mail_with([path]), "mat")
    path = c.doc("pos-pdf-with-urgency", "pdf", write_pdf, Letter(rng), stamps={"upper-left": "TỐI MẬT   THƯỢNG KHẨN"})
    c.case("secret", "pdf", "upper-left", "unicode", "stamp", "level and urgency on one PDF line", c.mail_with([path]), "toi-mat")
    # Encrypted PDFs (qpdf, AES-256): with only an owner password the text is readable (a stamp
    # to find); with a user password it is not (a "not fully checked" finding).
    source = c.doc("pos-pdf-owner-only", "pdf", write_pdf, Letter(rng), stamps={"upper-left": "MẬT"})
    path = os.path.join(c.src, "pos-pdf-owner-only-encrypted.pdf")
    subprocess.run(["qpdf", "--encrypt", "", "chu-so-huu", "256", "--", source, path], check=True)
    c.case("secret", "pdf", "upper-left", "unicode", "stamp", "AES-256 with an owner password only (text readable)",
           c.mail_with([path]), "mat")
    source = c.doc("unchecked-pdf-user", "pdf", write_pdf, Letter(rng), stamps={"upper-left": "TỐI MẬT"})
    path = os.path.join(c.src, "unchecked-pdf-user-encrypted.pdf")
    subprocess.run(["qpdf", "--encrypt", "matkhau", "chu-so-huu", "256", "--", source, path], check=True)
    c.case("unchecked", "pdf", "upper-left", "unicode", "encrypted", "AES-256 with a user password: cannot be read",
           c.mail_with([path]), "toi-mat")

    # RTF in legacy code pages, by hand.
    for enc, placement, level in (("cp1258-rtf", "document-head", "mat"), ("cp1258-rtf", "page-header", "toi-mat"),
                                  ("cp1258-rtf", "document-head", "tuyet-mat"), ("tcvn3-run", "document-head", "toi-mat"),
                                  ("vni", "page-header", "mat")):
        word = dict((l, w) for l, w, _ in LEVELS)[level]
        path = os.path.join(c.src, f"pos-rtf-{enc}-{placement}-{level}.rtf")
        write_legacy_rtf(Letter(rng), path, enc, placement, word)
        c.case("secret", "rtf", placement, enc, "stamp", "hand-written RTF (old Word's code pages)", c.mail_with([path]), level)

    # Plain text, CSV and HTML attachments.
    for level, word, field in LEVELS:
        path = os.path.join(c.src, f"pos-txt-{level}.txt")
        with open(path, "w", encoding="utf-8") as f:
            f.write(f"{word}\n\n{Letter(rng).number}\nV/v {rng.choice(TASKS)}\n\nKính gửi: Các phòng.\n")
        c.case("secret", "txt", "document-head", "unicode", "stamp", "first line of a text file", c.mail_with([path]), level)
    path = os.path.join(c.src, "pos-txt-nfd.txt")
    with open(path, "w", encoding="utf-8") as f:
        f.write(ct.nfd("Số: 12/STTTT-VP\nV/v kiểm tra\nTỐI MẬT\n\nKính gửi: Các phòng.\n"))
    c.case("secret", "txt", "document-head", "nfd", "stamp", "NFD text file", c.mail_with([path]), "toi-mat")
    path = os.path.join(c.src, "pos-txt-field.txt")
    with open(path, "w", encoding="utf-8") as f:
        f.write("Trích yếu: Báo cáo tình hình\nĐộ mật: Tuyệt mật\nĐộ khẩn: Hỏa tốc\n")
    c.case("secret", "txt", "field", "unicode", "stamp", "e-office export", c.mail_with([path]), "tuyet-mat")
    path = os.path.join(c.src, "pos-csv-field.csv")
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["Độ mật: Mật"])
        w.writerow(["STT", "Nội dung", "Đơn vị"])
        for i in range(1, 6):
            w.writerow([i, rng.choice(TASKS), rng.choice(AGENCIES)[1]])
    c.case("secret", "csv", "field", "unicode", "stamp", "field in the first row", c.mail_with([path]), "mat")
    path = os.path.join(c.src, "pos-html.html")
    with open(path, "w", encoding="utf-8") as f:
        f.write("<html><head><meta charset=\"utf-8\"></head><body><p>Số: 9/STTTT-VP</p>"
                "<p style=\"color:#f00;border:3px double red\"><b>TỐI MẬT</b></p><p>Kính gửi: Các phòng.</p></body></html>")
    c.case("secret", "html", "document-head", "unicode", "stamp", "HTML attachment", c.mail_with([path]), "toi-mat")

    # A zip of documents; a document inside an attached message.
    for key, level in ((("text-box", "toi-mat"), "toi-mat"), (("page-header", "mat"), "mat")):
        zpath = os.path.join(c.src, f"pos-zip-{key[0]}.zip")
        benign = c.doc(f"zip-benign-{key[0]}", "docx", write_docx, letter_for_kind(rng, "giấy mời"))
        with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED) as z:
            for name, source in (("Giấy mời.docx", benign), ("Công văn.docx", docx_by[key])):
                info = zipfile.ZipInfo(name, date_time=(2026, 3, 2, 8, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                with open(source, "rb") as f:
                    z.writestr(info, f.read())
        c.case("secret", "zip", key[0], "unicode", "stamp", "docx inside a zip with a benign docx", c.mail_with([zpath]), level)
    zpath = os.path.join(c.src, "pos-zip-xlsx.zip")
    with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED) as z:
        info = zipfile.ZipInfo("bao-cao.xlsx", date_time=(2026, 3, 2, 8, 0, 0))
        with open(xlsx_paths[("page-header", "tuyet-mat")], "rb") as f:
            z.writestr(info, f.read())
    c.case("secret", "zip", "page-header", "unicode", "stamp", "xlsx inside a zip", c.mail_with([zpath]), "tuyet-mat")
    for key, level in ((("letterhead-left-cell", "tuyet-mat"), "tuyet-mat"), (("bordered", "toi-mat"), "toi-mat")):
        number = c.counter + 1
        path = docx_by[key]

        def build(path=path, number=number):
            inner = ct.message(number + 5000, "V/v " + rng.choice(TASKS))
            with open(path, "rb") as f:
                ct.attach(inner, f.read(), "cong-van.docx")
            outer = ct.message(number, "Fwd: văn bản đến", "Chuyển tiếp thư của Sở.\n")
            outer.add_attachment(inner)
            return outer
        c.case("secret", "rfc822", key[0], "unicode", "stamp", "docx inside an attached message/rfc822", build, level)


def negatives(c: Corpus):
    rng = c.rng
    containers = ["subject", "text-plain", "text-html", "docx", "docx-header", "docx-box", "odt", "pdf", "xlsx", "pptx",
                  "txt", "doc"]
    k = 0
    for trap in TRAPS:
        for caps in (False, True):
            word = trap.upper() if caps else trap
            sentence = TRAP_SENTENCES[trap]
            container = containers[k % len(containers)]
            k += 1
            note = f"trap word {word!r}" + (" alone, in capitals, in a stamp position" if caps else " in running text")
            unit = word if caps else sentence
            if container == "subject":
                subject = f"[{word}] Hướng dẫn" if caps else sentence.rstrip(".")
                c.case("none", "subject", "subject-tag", "unicode", "trap", note, c.mail_with([], subject=subject))
            elif container == "text-plain":
                c.case("none", "text-plain", "mail-body-first-line", "unicode", "trap", note,
                       c.mail_with([], body=f"{unit}\n\n{sentence}\n\nTrân trọng.\n"))
            elif container == "text-html":
                c.case("none", "text-html", "mail-body-first-line", "unicode", "trap", note,
                       c.mail_with([], body="Xem HTML.\n", html=f"<p><b>{unit}</b></p><p>{sentence}</p>"))
            elif container in ("docx", "docx-header", "docx-box", "doc"):
                placement = {"docx": "bordered", "docx-header": "page-header", "docx-box": "text-box", "doc": "document-head"}[container]
                letter = Letter(rng, stamps={placement: encode_stamp(unit, "unicode")}, body_lines=[sentence])
                path = c.doc(f"neg-trap-{k}", "docx", write_docx, letter)
                fmt = "docx"
                if container == "doc":
                    path, fmt = c.convert(path, "doc"), "doc"
                c.case("none", fmt, placement, "unicode", "trap", note, c.mail_with([path]))
            elif container == "odt":
                letter = Letter(rng, stamps={"text-box": encode_stamp(unit, "unicode")}, body_lines=[sentence])
                path = c.doc(f"neg-trap-{k}", "odt", write_odt, letter)
                c.case("none", "odt", "text-box", "unicode", "trap", note, c.mail_with([path]))
            elif container == "pdf":
                path = c.doc(f"neg-trap-{k}", "pdf", write_pdf, Letter(rng, body_lines=[sentence]), stamps={"upper-left": unit})
                c.case("none", "pdf", "upper-left", "unicode", "trap", note, c.mail_with([path]))
            elif container == "xlsx":
                path = c.doc(f"neg-trap-{k}", "xlsx", write_xlsx, [[unit], [sentence]], header=encode_stamp(unit, "unicode"))
                c.case("none", "xlsx", "page-header", "unicode", "trap", note, c.mail_with([path]))
            elif container == "pptx":
                path = c.doc(f"neg-trap-{k}", "pptx", write_pptx, stamp=encode_stamp(unit, "unicode"), lines=[sentence])
                c.case("none", "pptx", "text-box", "unicode", "trap", note, c.mail_with([path]))
            elif container == "txt":
                path = os.path.join(c.src, f"neg-trap-{k}.txt")
                with open(path, "w", encoding="utf-8") as f:
                    f.write(f"{unit}\n{sentence}\n")
                c.case("none", "txt", "document-head", "unicode", "trap", note, c.mail_with([path]))
    # Trap words in legacy fonts and without diacritics, in stamp positions: decoding must not
    # turn them into levels.
    for j, (word, enc, placement) in enumerate((("MẬT KHẨU", "tcvn3-run", "bordered"), ("BẢO MẬT", "vni", "text-box"),
                                                ("TÀI LIỆU MẬT", "tcvn3-style", "page-header"),
                                                ("MAT KHAU", "unaccented", "letterhead-left-cell"),
                                                ("BAO MAT", "unaccented", "text-box"), ("MẬT ONG", "nfd", "bordered"))):
        letter = Letter(rng, stamps={placement: encode_stamp(word, enc)})
        path = c.doc(f"neg-trap-legacy-{j}", "docx", write_docx, letter)
        c.case("none", "docx", placement, enc, "trap", f"trap word {word!r} ({enc}) in a stamp position", c.mail_with([path]))
    c.case("none", "text-plain", "mail-body-first-line", "unaccented", "trap", "unaccented 'mat khau' in running text",
           c.mail_with([], body="Anh doi mat khau hop thu truoc thu Sau nhe.\nMat khau moi it nhat 8 ky tu.\n"))
    letter = Letter(rng, stamps={"text-box": encode_stamp("TOI MAT", "unaccented"),
                                 "bordered": encode_stamp("GIAI MAT", "unaccented")})
    c.case("none", "docx", "text-box", "unaccented", "declassified", "TOI MAT with GIAI MAT beside it (no diacritics)",
           c.mail_with([c.doc("neg-giaimat-unaccented", "docx", write_docx, letter)]), "toi-mat")

    # The regulations: each as txt, docx and pdf; all five in one message.
    regs = sorted(p for p in os.listdir(REGULATIONS) if p.endswith(".txt"))
    reg_paths = []
    for name in regs:
        with open(os.path.join(REGULATIONS, name), encoding="utf-8") as f:
            text = f.read()
        paragraphs = [p for p in text.split("\n") if p.strip()]
        base = os.path.splitext(name)[0]
        txt = os.path.join(c.src, f"reg-{base}.txt")
        shutil.copy(os.path.join(REGULATIONS, name), txt)
        reg_paths.append(txt)
        docx = c.doc(f"reg-{base}", "docx", write_text_docx, paragraphs)
        pdf = c.doc(f"reg-{base}", "pdf", write_text_pdf, paragraphs[0], paragraphs[1:])
        for path, fmt in ((txt, "txt"), (docx, "docx"), (pdf, "pdf")):
            c.case("none", fmt, "none", "unicode", "regulation", f"regulation {name}", c.mail_with([path]))
    c.case("none", "txt", "none", "unicode", "regulation", "all five regulations in one message", c.mail_with(reg_paths))
    # A register export with an "Độ mật" column.
    register = [["Số", "Ngày", "Trích yếu", "Độ mật", "Độ khẩn"]]
    for i in range(1, 21):
        register.append([f"{100 + i}/STTTT-VP", f"{i}/3/2026", rng.choice(TASKS),
                         rng.choice(["Thường", "Mật", "Tối mật", "MẬT", "Thường"]), rng.choice(["Thường", "Khẩn", "Hỏa tốc"])])
    path = c.doc("neg-register", "xlsx", write_xlsx, register, sheet_title="Sổ văn bản đi")
    c.case("none", "xlsx", "none", "unicode", "register", "register export: Độ mật column with Mật/MẬT values", c.mail_with([path]))
    c.case("none", "xls", "none", "unicode", "register", "register export (LibreOffice xlsx → xls)",
           c.mail_with([c.convert(path, "xls")]))
    path = c.doc("neg-register", "ods", write_ods, register)
    c.case("none", "ods", "none", "unicode", "register", "register export", c.mail_with([path]))
    path = os.path.join(c.src, "neg-register.csv")
    with open(path, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(register)
    c.case("none", "csv", "none", "unicode", "register", "register export", c.mail_with([path]))
    # "Độ mật: Thường".
    c.case("none", "text-plain", "field", "unicode", "thuong", "Độ mật: Thường in the body",
           c.mail_with([], body="Số: 77/STTTT-VP\nĐộ mật: Thường\nĐộ khẩn: Khẩn\n\nKính gửi: Các phòng.\n"))
    letter = Letter(rng, stamps={"field": encode_stamp("Độ mật: Thường", "unicode")})
    c.case("none", "docx", "field", "unicode", "thuong", "Độ mật: Thường", c.mail_with([c.doc("neg-thuong", "docx", write_docx, letter)]))
    path = c.doc("neg-thuong", "xlsx", write_xlsx, [["Độ mật: Thường"], ["Số: 5/BC"]])
    c.case("none", "xlsx", "field", "unicode", "thuong", "Độ mật: Thường", c.mail_with([path]))
    path = c.doc("neg-thuong", "pdf", write_pdf, Letter(rng), stamps={"field": "Độ mật: Thường"})
    c.case("none", "pdf", "field", "unicode", "thuong", "Độ mật: Thường", c.mail_with([path]))
    # Urgency stamps alone, where a secrecy stamp would stand.
    for j, word in enumerate(URGENCY):
        letter = Letter(rng, stamps={"bordered": encode_stamp(word, "unicode")})
        path = c.doc(f"neg-urgency-{j}", "docx", write_docx, letter)
        c.case("none", "docx", "bordered", "unicode", "urgency", f"{word} alone", c.mail_with([path]))
        path = c.doc(f"neg-urgency-{j}", "pdf", write_pdf, Letter(rng), stamps={"upper-left": word})
        c.case("none", "pdf", "upper-left", "unicode", "urgency", f"{word} alone", c.mail_with([path]))
        c.case("none", "subject", "subject-tag", "unicode", "urgency", f"[{word}] subject",
               c.mail_with([], subject=f"[{word}] Báo cáo {rng.choice(TASKS)}"))
        c.case("none", "text-plain", "mail-body-first-line", "unicode", "urgency", f"{word} on the first line",
               c.mail_with([], body=f"{word}\n\nKính gửi: Các phòng.\n"))
    path = c.convert(c.doc("neg-urgency-odt", "docx", write_docx, Letter(rng, stamps={"text-box": encode_stamp("HỎA TỐC", "unicode")})), "odt")
    c.case("none", "odt", "text-box", "unicode", "urgency", "HỎA TỐC in a text box (LibreOffice odt)", c.mail_with([path]))
    # GIẢI MẬT next to the old stamp: downgraded, not a finding.
    for j, (fmt, placement) in enumerate((("docx", "text-box"), ("docx", "letterhead-left-cell"), ("odt", "bordered"),
                                          ("pdf", "upper-left"), ("doc", "document-head"))):
        level, word, _ = level_label(j)
        if fmt == "pdf":
            path = c.doc(f"neg-giaimat-{j}", "pdf", write_pdf, Letter(rng, head_lines=[("GIẢI MẬT", True)]),
                         stamps={"upper-left": word})
        else:
            letter = Letter(rng, stamps={placement: encode_stamp(word, "unicode"),
                                         "bordered" if placement != "bordered" else "document-head": encode_stamp("GIẢI MẬT", "unicode")})
            path = c.doc(f"neg-giaimat-{j}", "odt" if fmt == "odt" else "docx", write_odt if fmt == "odt" else write_docx, letter)
            if fmt == "doc":
                path = c.convert(path, "doc")
        c.case("none", fmt, placement, "unicode", "declassified", f"{word} with GIẢI MẬT beside it", c.mail_with([path]), level)
    # Names containing "Mật".
    for j, (signer, fmt) in enumerate((("Nguyễn Văn Mật", "docx"), ("NGUYỄN THỊ MẬT", "docx"), ("Lò Văn Mật", "pdf"),
                                        ("Hà Mật", "text-plain"))):
        if fmt == "docx":
            letter = Letter(rng, signer=signer, body_lines=[f"Giao đồng chí {signer.title()} theo dõi, tổng hợp."])
            path = c.doc(f"neg-name-{j}", "docx", write_docx, letter)
            c.case("none", "docx", "none", "unicode", "name", f"signer {signer}", c.mail_with([path]))
        elif fmt == "pdf":
            path = c.doc(f"neg-name-{j}", "pdf", write_pdf, Letter(rng, signer=signer))
            c.case("none", "pdf", "none", "unicode", "name", f"signer {signer}", c.mail_with([path]))
        else:
            c.case("none", "text-plain", "mail-body-first-line", "unicode", "name", "greeting to a person named Mật",
                   c.mail_with([], body=f"Chào anh {signer},\nMật\n\nEm gửi anh báo cáo tuần.\n\n{signer}\n"))
    # Circulation notes alone, a quoted level, a list of levels.
    letter = Letter(rng, stamps={"circulation-area": encode_stamp("Tài liệu thu hồi", "unicode"),
                                 "bordered": encode_stamp("Chỉ người có tên mới được bóc bì", "unicode")})
    c.case("none", "docx", "circulation-area", "unicode", "circulation", "circulation notes without a level",
           c.mail_with([c.doc("neg-circulation", "docx", write_docx, letter)]))
    c.case("none", "text-plain", "mail-body-first-line", "unicode", "quotation", "a stamp line quoted from an earlier mail",
           c.mail_with([], subject="Re: Báo cáo tuần",
                       body="Em đã nhận.\n\nVào ngày 1/3/2026, Văn phòng viết:\n> MẬT\n> Kính gửi: Các phòng.\n"))
    c.case("none", "text-plain", "none", "unicode", "quotation", "a level in quotation marks",
           c.mail_with([], body="Văn thư đóng dấu \"MẬT\" theo mẫu số 02 của Nghị định 63/2026.\n"))
    c.case("none", "text-plain", "none", "unicode", "list", "a list of the levels",
           c.mail_with([], body="Bí mật nhà nước gồm ba độ: Tuyệt mật, Tối mật và Mật.\n\nTUYỆT MẬT\nTỐI MẬT\nMẬT\n"))


def benign(c: Corpus, count):
    rng = c.rng
    kinds = ["công văn", "giấy mời", "thông báo", "lịch họp"]
    formats = ["docx", "odt", "pdf", "xlsx", "text-plain", "text-html", "doc", "rtf", "pptx", "txt"]
    for i in range(count):
        kind = kinds[i % len(kinds)]
        fmt = formats[i % len(formats)]
        letter = letter_for_kind(rng, kind, head_lines=[("KHẨN", True)] if i % 7 == 3 else ())
        note = f"benign {kind}"
        subject = (letter.title.capitalize() if letter.title else letter.subject) + f" ({letter.office.title()})"
        if fmt in ("docx", "doc", "rtf"):
            path = c.doc(f"benign-{i}", "docx", write_docx, letter)
            if fmt != "docx":
                path = c.convert(path, fmt)
            c.case("none", fmt, "none", "unicode", "benign", note, c.mail_with([path], subject=subject))
        elif fmt == "odt":
            path = c.doc(f"benign-{i}", "odt", write_odt, letter)
            c.case("none", fmt, "none", "unicode", "benign", note, c.mail_with([path], subject=subject))
        elif fmt == "pdf":
            path = c.doc(f"benign-{i}", "pdf", write_pdf, letter)
            c.case("none", fmt, "none", "unicode", "benign", note, c.mail_with([path], subject=subject))
        elif fmt == "xlsx":
            rows = [["Thứ", "Thời gian", "Nội dung", "Thành phần", "Địa điểm"]] + [
                [d, f"{rng.randint(7, 16)}h00", rng.choice(TASKS), rng.choice(SIGNERS), "Phòng họp tầng 3"]
                for d in ("Hai", "Ba", "Tư", "Năm", "Sáu")]
            path = c.doc(f"benign-{i}", "xlsx", write_xlsx, rows, sheet_title="Lịch họp")
            c.case("none", fmt, "none", "unicode", "benign", "benign lịch họp (sheet)", c.mail_with([path], subject=subject))
        elif fmt == "pptx":
            path = c.doc(f"benign-{i}", "pptx", write_pptx, lines=letter.body[:3])
            c.case("none", fmt, "none", "unicode", "benign", note, c.mail_with([path], subject=subject))
        elif fmt == "txt":
            path = os.path.join(c.src, f"benign-{i}.txt")
            with open(path, "w", encoding="utf-8") as f:
                f.write("\n".join([letter.agency, letter.office, letter.number, letter.subject, letter.to] + letter.body) + "\n")
            c.case("none", fmt, "none", "unicode", "benign", note, c.mail_with([path], subject=subject))
        else:
            text = "\n".join([letter.to, ""] + letter.body + ["", "Trân trọng,", letter.signer, letter.office.title()]) + "\n"
            html = None
            if fmt == "text-html":
                html = "<html><body>" + "".join(f"<p>{escape(t)}</p>" for t in text.split("\n") if t) + "</body></html>"
            c.case("none", fmt, "none", "unicode", "benign", note, c.mail_with([], subject=subject, body=text, html=html))


def check(c: Corpus):
    """Every written document opens again in its own library, and LibreOffice reads the legacy RTF."""
    import docx
    import openpyxl
    import pptx
    from odf.opendocument import load
    opened = 0
    for name in sorted(os.listdir(c.src)):
        path = os.path.join(c.src, name)
        if name.endswith(".docx"):
            docx.Document(path)
        elif name.endswith(".xlsx"):
            openpyxl.load_workbook(path)
        elif name.endswith(".pptx"):
            pptx.Presentation(path)
        elif name.endswith((".odt", ".ods", ".odp")):
            load(path)
        else:
            continue
        opened += 1
    rtfs = [os.path.join(c.src, n) for n in sorted(os.listdir(c.src)) if n.startswith("pos-rtf-")]
    outdir = os.path.join(c.work, "check-txt")
    ct.soffice_convert(rtfs, "txt:Text (encoded):UTF8", outdir, os.path.join(c.work, "lo-profile"))
    for path in rtfs:
        with open(os.path.join(outdir, os.path.basename(path)[:-4] + ".txt"), encoding="utf-8-sig") as f:
            text = unicodedata.normalize("NFC", f.read())
        if "Kính gửi" not in text and "Kinh gui" not in text and "Kính göûi" not in text and "KÝnh göi" not in text:
            raise SystemExit(f"LibreOffice did not read the text of {path}")
    # LibreOffice opens what python-docx, odfpy and openpyxl wrote (Impress, for .pptx/.odp, is
    # not installed: those are re-read by python-pptx and odfpy only).
    written = defaultdict(list)
    for name in sorted(os.listdir(c.src)):
        ext = name.rsplit(".", 1)[-1]
        if ext in ("docx", "odt", "xlsx", "ods"):
            written[ext].append(os.path.join(c.src, name))
    read_back = 0
    for ext, paths in written.items():
        # One output directory per source type: "x.xlsx" and "x.ods" both become "x.csv".
        target = "txt:Text (encoded):UTF8" if ext in ("docx", "odt") else "csv"
        out_ext = os.path.join(c.work, "check-" + ext)
        ct.soffice_convert(paths, target, out_ext, os.path.join(c.work, "lo-profile"))
        for path in paths:
            out = os.path.join(out_ext, os.path.splitext(os.path.basename(path))[0] + "." + target.split(":")[0])
            if os.path.getsize(out) == 0:
                raise SystemExit(f"LibreOffice read nothing from {path}")
            read_back += 1
    print(f"make_corpus: {opened} documents re-opened by their writers' libraries, {read_back} of them opened by "
          f"LibreOffice; {len(rtfs)} hand-written RTF read by LibreOffice", file=sys.stderr)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="output directory (created; must not exist or be empty)")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--benign", type=int, default=60, help="number of benign letters")
    parser.add_argument("--no-check", action="store_true", help="skip re-opening the documents")
    args = parser.parse_args()
    if os.path.exists(args.out) and os.listdir(args.out):
        raise SystemExit(f"{args.out} exists and is not empty")
    os.makedirs(args.out, exist_ok=True)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="secrecy-corpus-") as work:
        c = Corpus(args.out, args.seed, work)
        positives(c)
        negatives(c)
        benign(c, args.benign)
        made = time.monotonic()
        c.run_conversions()
        converted = time.monotonic()
        if not args.no_check:
            check(c)
        c.write()
    labels = [label for label, _ in c.cases]
    by = {}
    for label in labels:
        by[label["expected"]] = by.get(label["expected"], 0) + 1
    print(f"make_corpus: {len(labels)} messages ({', '.join(f'{v} {k}' for k, v in sorted(by.items()))}) in {args.out}; "
          f"{time.monotonic() - started:.1f} s (writers {made - started:.1f} s, LibreOffice {converted - made:.1f} s)",
          file=sys.stderr)


if __name__ == "__main__":
    main()
