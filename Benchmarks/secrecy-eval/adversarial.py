#!/usr/bin/env python3
"""Makes the adversarial set of the state-secret rule (issue 12): hostile documents, each in an
.eml, that a reader must give up on inside its bounds with a "not fully checked" result
(finding `secrecy-unchecked`), never a hang, a crash or "clean".

    python3 Benchmarks/secrecy-eval/adversarial.py --out /tmp/secrecy-adversarial

Writes DIR/messages/*.eml and DIR/labels.jsonl (same fields as make_corpus.py, expected
"unchecked"):
- zip-bomb.docx: word/document.xml inflates to 1 GiB (about 1 MB stored).
- deep-xml.docx: document.xml nests 100,000 elements.
- billion-laughs.docx: document.xml declares nine levels of ten entity references (10^9 "lol").
- fat-loop.doc: a LibreOffice .doc whose WordDocument stream's FAT chain points back to its start.
- deep-groups.rtf: 1,000,000 nested RTF groups.
- cyclic-pages.pdf: a page tree whose /Kids point back to the root.
- memory.pdf: one text string of 512 MiB inside a 0.5 MB Flate content stream (a PDF engine must
  hold it, and its text layout, in memory: past any sane helper limit).
"""
import argparse
import json
import os
import shutil
import struct
import sys
import tempfile
import time
import zipfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import corpus_tools as ct  # noqa: E402
import make_corpus as mc  # noqa: E402

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)
RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="word/document.xml"/></Relationships>'
)
DOC_OPEN = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>')
DOC_CLOSE = "</w:body></w:document>"


def docx_with(path, document_chunks):
    """A minimal valid docx package whose word/document.xml is the concatenation of
    `document_chunks` (an iterable of str), streamed so a huge part never sits in memory."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, text in (("[Content_Types].xml", CONTENT_TYPES), ("_rels/.rels", RELS)):
            z.writestr(zipfile.ZipInfo(name, date_time=(2026, 3, 2, 8, 0, 0)), text, compress_type=zipfile.ZIP_DEFLATED)
        info = zipfile.ZipInfo("word/document.xml", date_time=(2026, 3, 2, 8, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        with z.open(info, "w", force_zip64=True) as f:
            for chunk in document_chunks:
                f.write(chunk.encode("utf-8"))


def zip_bomb(path):
    para = "<w:p><w:r><w:t>" + "a" * 1000 + "</w:t></w:r></w:p>"
    chunk = para * 1024  # ~1 MiB

    def chunks():
        yield DOC_OPEN + '<w:p><w:r><w:t>MẬT</w:t></w:r></w:p>'
        for _ in range(1024):
            yield chunk
        yield DOC_CLOSE
    docx_with(path, chunks())


def deep_xml(path):
    depth = 100_000
    docx_with(path, [DOC_OPEN, "<w:p>", "<w:r>" * depth, "<w:t>MẬT</w:t>", "</w:r>" * depth, "</w:p>", DOC_CLOSE])


def billion_laughs(path):
    entities = ['<!ENTITY lol "lol">'] + [
        f'<!ENTITY lol{i} "' + f"&lol{i - 1 if i > 1 else ''};" * 10 + '">' for i in range(1, 10)]
    doctype = "<!DOCTYPE w:document [" + "".join(entities) + "]>"
    text = ('<?xml version="1.0" encoding="UTF-8"?>\n' + doctype +
            '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
            '<w:p><w:r><w:t>&lol9;</w:t></w:r></w:p>' + DOC_CLOSE)
    docx_with(path, [text])


def fat_loop(path, work):
    """A real .doc (python-docx letter converted by LibreOffice), then its WordDocument stream's
    last FAT entry pointed back at the stream's first sector ([MS-CFB] 2.3: a chain must end in
    ENDOFCHAIN): a reader that follows the chain without loop detection never ends."""
    import random
    docx = os.path.join(work, "fatloop.docx")
    mc.write_docx(mc.Letter(random.Random(1)), docx)
    ct.soffice_convert([docx], "doc", work, os.path.join(work, "lo-profile"))
    data = bytearray(open(os.path.join(work, "fatloop.doc"), "rb").read())
    sector_size = 1 << struct.unpack_from("<H", data, 0x1E)[0]
    fat_sectors = struct.unpack_from("<I", data, 0x2C)[0]
    first_dir = struct.unpack_from("<I", data, 0x30)[0]
    difat = struct.unpack_from("<109I", data, 0x4C)[:fat_sectors]

    def offset(sector):
        return (sector + 1) * sector_size
    fat_entries_per_sector = sector_size // 4

    def fat_entry_offset(index):
        return offset(difat[index // fat_entries_per_sector]) + 4 * (index % fat_entries_per_sector)

    def fat(index):
        return struct.unpack_from("<I", data, fat_entry_offset(index))[0]
    # Walk the directory chain for the WordDocument entry.
    sector, start = first_dir, None
    seen = set()
    while sector < 0xFFFFFFFA and sector not in seen and start is None:
        seen.add(sector)
        for i in range(sector_size // 128):
            entry = offset(sector) + i * 128
            name_len = struct.unpack_from("<H", data, entry + 0x40)[0]
            name = data[entry:entry + max(name_len - 2, 0)].decode("utf-16-le", "replace")
            if name == "WordDocument":
                start = struct.unpack_from("<I", data, entry + 0x74)[0]
                size = struct.unpack_from("<I", data, entry + 0x78)[0]
                if size < 4096:
                    raise SystemExit("WordDocument is in the mini stream: make a bigger letter")
        sector = fat(sector)
    if start is None:
        raise SystemExit("no WordDocument stream in LibreOffice's .doc")
    last = start
    while fat(last) < 0xFFFFFFFA:
        last = fat(last)
    struct.pack_into("<I", data, fat_entry_offset(last), start)
    with open(path, "wb") as f:
        f.write(data)


def deep_rtf(path):
    depth = 1_000_000
    with open(path, "w", encoding="ascii") as f:
        f.write("{\\rtf1\\ansi\\ansicpg1252\\deff0{\\fonttbl{\\f0 Times New Roman;}}\n")
        f.write("{" * depth)
        f.write("M\\u7852?T")
        f.write("}" * depth)
        f.write("}\n")


def pdf_file(path, objects, root=1):
    """A PDF with these object bodies (1-based numbers) and a correct xref table."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root {root} 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    with open(path, "wb") as f:
        f.write(out)


def cyclic_pdf(path):
    content = b"BT /F1 14 Tf 50 780 Td (MAT) Tj ET"
    pdf_file(path, [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 2 >>",
        # An intermediate node whose kids are the root again, and a real page.
        b"<< /Type /Pages /Parent 2 0 R /Kids [2 0 R 4 0 R] /Count 2 >>",
        b"<< /Type /Page /Parent 3 0 R /MediaBox [0 0 595 842] /Contents 5 0 R "
        b"/Resources << /Font << /F1 6 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ])


def memory_pdf(path):
    """One `Tj` whose string is 512 MiB of letters: the content stream is Flate, 0.5 MB stored."""
    comp = zlib.compressobj(9)
    stream = bytearray(comp.compress(b"BT /F1 1 Tf 10 800 Td ("))
    block = b"A" * (1 << 20)
    for _ in range(512):
        stream += comp.compress(block)
    stream += comp.compress(b") Tj ET") + comp.flush()
    pdf_file(path, [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + bytes(stream) + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ])


CASES = [
    ("zip-bomb", "docx", "word/document.xml inflates to 1 GiB", zip_bomb),
    ("deep-xml", "docx", "100,000 nested elements", deep_xml),
    ("billion-laughs", "docx", "internal DTD with nested entities (10^9 expansions)", billion_laughs),
    ("fat-loop", "doc", "WordDocument FAT chain loops to its start", fat_loop),
    ("deep-groups", "rtf", "1,000,000 nested groups", deep_rtf),
    ("cyclic-pages", "pdf", "page tree /Kids cycle back to the root", cyclic_pdf),
    ("memory", "pdf", "a 512 MiB string in a 0.5 MB Flate content stream", memory_pdf),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    if os.path.exists(args.out) and os.listdir(args.out):
        raise SystemExit(f"{args.out} exists and is not empty")
    os.makedirs(os.path.join(args.out, "messages"))
    with tempfile.TemporaryDirectory(prefix="secrecy-adversarial-") as work, \
            open(os.path.join(args.out, "labels.jsonl"), "w", encoding="utf-8") as labels:
        for number, (name, ext, note, make) in enumerate(CASES, start=1):
            started = time.monotonic()
            path = os.path.join(work, f"{name}.{ext}")
            make(path, work) if make is fat_loop else make(path)
            msg = ct.message(9000 + number, "V/v tài liệu gửi kèm")
            with open(path, "rb") as f:
                ct.attach(msg, f.read(), f"tai-lieu.{ext}")
            file = f"messages/{number:02}-{name}.eml"
            ct.write_eml(msg, os.path.join(args.out, file))
            labels.write(json.dumps({"file": file, "expected": "unchecked", "level": None, "format": ext,
                                     "placement": "none", "encoding": "unicode", "category": "adversarial",
                                     "note": note}, ensure_ascii=False) + "\n")
            print(f"adversarial: {file}: {os.path.getsize(path) / 1e6:.2f} MB document, "
                  f"{time.monotonic() - started:.1f} s", file=sys.stderr)
        shutil.rmtree(os.path.join(work, "lo-profile"), ignore_errors=True)


if __name__ == "__main__":
    main()
