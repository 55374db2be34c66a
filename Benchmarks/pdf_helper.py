#!/usr/bin/env python3
"""PDF text through the helper pool (issue 12): runs thugate-pdfbench (release build) on the committed fixtures of
Tests/ScanningTests/PDFFixtures and on two long letters made here by real writers: 50 full pages by fpdf2 (DejaVu
Sans embedded) and 20 pages by LibreOffice from a python-docx file; and the OCR of a scanned letter's first page.

    swift build -c release --product thugate-pdfbench && swift build -c release --product thugate-pdftext
    python3 Benchmarks/pdf_helper.py
"""
import os
import shutil
import subprocess
import sys
import tempfile

from docx import Document
from fpdf import FPDF

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "Tests", "ScanningTests", "PDFFixtures")
LINE = "Sở Thông tin và Truyền thông đề nghị các đơn vị triển khai kế hoạch bảo đảm an toàn thông tin năm 2026."


def fpdf2_long(path, pages):
    pdf = FPDF(format="A4")
    pdf.add_font("DejaVu", "", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    pdf.set_font("DejaVu", "", 10)
    for page in range(pages):
        pdf.add_page()
        for line in range(50):
            pdf.cell(0, 5, "%d.%d %s" % (page + 1, line + 1, LINE[:90]), new_x="LMARGIN", new_y="NEXT")
    pdf.output(path)


def libreoffice_long(work, pages):
    doc = Document()
    for page in range(pages):
        for paragraph in range(12):
            doc.add_paragraph("%d.%d %s %s" % (page + 1, paragraph + 1, LINE, LINE))
        doc.add_page_break()
    path = os.path.join(work, "libreoffice-20-pages.docx")
    doc.save(path)
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    subprocess.run(
        [soffice, "--headless", "-env:UserInstallation=file://" + work + "/profile", "--convert-to", "pdf", "--outdir", work, path],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    return os.path.join(work, "libreoffice-20-pages.pdf")


def main():
    binary = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT, capture_output=True, text=True,
                            check=True).stdout.strip()
    with tempfile.TemporaryDirectory() as work:
        long_fpdf = os.path.join(work, "fpdf2-50-pages.pdf")
        fpdf2_long(long_fpdf, 50)
        long_lo = libreoffice_long(work, 20)
        files = [os.path.join(FIXTURES, name) for name in ("libreoffice-stamped.pdf", "fpdf2-stamped.pdf", "cyclic-pages.pdf")]
        files += [long_lo, long_fpdf]
        run = subprocess.run([os.path.join(binary, "thugate-pdfbench"), "--memory-bomb", os.path.join(FIXTURES, "memory-bomb.pdf"),
                              "--ocr", os.path.join(FIXTURES, "scanned-stamped.pdf")] + files)
        sys.exit(run.returncode)


if __name__ == "__main__":
    main()
