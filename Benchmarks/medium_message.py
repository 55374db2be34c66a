#!/usr/bin/env python3
"""Messages shaped like issue 14's "medium" mail, each with bytes of its own, for profiling
`thugate scan` (libclamav's clean-file cache and any future one must not make copies free).

    python3 Benchmarks/medium_message.py --count 300 --out /tmp/medium [--seed 14]
    python3 Benchmarks/medium_message.py --large text|binary --out /tmp/large

Medium (~112 KB): a Vietnamese text body, a zip (deflated) of a 59 KB text and a 29 KB
random binary, a ~29 KB PDF written by fpdf2 (DejaVu Sans embedded), attachments in base64.
Large: one message with a 5 MiB attachment that is no archive (UTF-8 text or random bytes), for content inspection's MB/s per core.
"""
import argparse
import io
import random
import zipfile
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

from fpdf import FPDF

WORDS = (
    "báo cáo công văn quyết định ủy ban nhân dân tỉnh quảng ninh sở thông tin truyền thông kế hoạch "
    "triển khai năm hai nghìn đề nghị các đơn vị phối hợp thực hiện bảo đảm an toàn thông tin hội nghị "
    "lịch họp tuần sau phòng tổ chức cán bộ văn phòng"
).split()
KINDS = ["QĐ", "CV", "KH", "TB", "BC", "TTr"]


def text(rng, size):
    out = []
    length = 0
    while length < size:
        # Document numbers and dates, as công văn cite them: text that deflates about 2.5:1.
        words = [rng.choice(WORDS) if rng.random() < 0.7 else f"{rng.randint(1, 99999)}/{rng.choice(KINDS)}-UBND"
                 for _ in range(rng.randint(8, 16))]
        line = " ".join(words) + ".\n"
        line = line[0].upper() + line[1:]
        out.append(line)
        length += len(line.encode())
    return "".join(out).encode()[:size].decode("utf-8", "ignore")


def pdf(rng, pages):
    document = FPDF(format="A4")
    document.add_font("DejaVu", "", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    document.set_font("DejaVu", "", 10)
    for page in range(pages):
        document.add_page()
        for line in range(40):
            document.cell(0, 5, f"{page + 1}.{line + 1} " + " ".join(rng.choice(WORDS) for _ in range(12)),
                          new_x="LMARGIN", new_y="NEXT")
    return bytes(document.output())


def envelope(i, subject):
    message = EmailMessage(policy=SMTP)
    message["From"] = f"van-thu{i % 17}@quangninh.gov.vn"
    message["To"] = f"phong{i % 23}@sotttt.quangninh.gov.vn"
    message["Subject"] = subject
    message["Message-ID"] = f"<medium-{i}@quangninh.gov.vn>"
    message["Date"] = "Tue, 01 Dec 2026 08:00:00 +0700"
    return message


def medium(i, seed):
    rng = random.Random(seed * 1_000_003 + i)
    message = envelope(i, f"Công văn số {i}/STTTT về kế hoạch triển khai")
    message.set_content(text(rng, 1500))
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("bao-cao.txt", text(rng, 59 * 1024).encode())
        z.writestr("du-lieu.bin", rng.randbytes(29 * 1024))
    message.add_attachment(archive.getvalue(), maintype="application", subtype="zip", filename="ho-so.zip")
    message.add_attachment(pdf(rng, 10), maintype="application", subtype="pdf", filename="cong-van.pdf")
    return message.as_bytes()


def large(kind, seed):
    rng = random.Random(seed)
    message = envelope(0, f"Tệp lớn ({kind})")
    message.set_content(text(rng, 1500))
    size = 5 << 20
    if kind == "text":
        message.add_attachment(text(rng, size).encode(), maintype="text", subtype="plain", filename="bao-cao.txt")
    else:
        message.add_attachment(rng.randbytes(size), maintype="application", subtype="octet-stream", filename="du-lieu.bin")
    return message.as_bytes()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--out", required=True)
    parser.add_argument("--large", choices=["text", "binary"])
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.large:
        (out / f"large-{args.large}.eml").write_bytes(large(args.large, args.seed))
        return
    for i in range(args.count):
        (out / f"medium-{i:04}.eml").write_bytes(medium(i, args.seed))


if __name__ == "__main__":
    main()
