#!/usr/bin/env python3
"""The proxy's throughput with the state-secret rules on and off, side by side in one run, on a
message without documents and on one with documents (a .docx from python-docx, and an .odt, .pdf
and .rtf LibreOffice made from it), none of them stamped so every message is relayed. Everything
else is the shipped policy (libclamav, libmagic, every rule). Same machine, same sink, same CPU
placement as `proxy_load.py`'s dedicated run (load generator and sink on CPU 0, ThuGate on CPU 1).

    Benchmarks/secrecy_proxy.py [--rounds 3] [--seconds 10] [--connections 10]

Prints a Markdown table (medians of the rounds) for Benchmarks/RESULTS.md, with ThuGate's CPU
time per message. Everything listens on 127.0.0.1; every process is stopped at the end."""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from proxy_compare import cpu_seconds, release_binaries  # noqa: E402
from proxy_load import ROOT, Sink, ThuGate, load, log  # noqa: E402

LETTER = [
    "UBND TỈNH QUẢNG NINH", "SỞ THÔNG TIN VÀ TRUYỀN THÔNG", "Số: 1234/STTTT-VP",
    "V/v triển khai kế hoạch chuyển đổi số năm 2027",
    "Kính gửi: Các sở, ban, ngành; UBND các huyện, thị xã, thành phố.",
] + [f"Đoạn {i}: Thực hiện Kế hoạch số 12/KH-UBND về bảo mật hệ thống thông tin và đặt mật khẩu an toàn, "
     "Sở đề nghị các đơn vị rà soát, báo cáo kết quả trước ngày 15 hằng tháng." for i in range(40)]


def documents(work):
    """A benign công văn as .docx (python-docx) and as .odt/.pdf/.rtf (LibreOffice headless)."""
    from docx import Document
    doc = Document()
    table = doc.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "\n".join(LETTER[:3])
    table.cell(0, 1).text = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc"
    for line in LETTER[3:]:
        doc.add_paragraph(line)
    docx = Path(work) / "cong-van.docx"
    doc.save(docx)
    files = {"docx": docx}
    profile = f"-env:UserInstallation=file://{work}/lo-profile"
    for fmt in ["odt", "pdf", "rtf"]:
        subprocess.run(["soffice", profile, "--headless", "--convert-to", fmt, "--outdir", str(work), str(docx)],
                       check=True, capture_output=True, timeout=180)
        files[fmt] = Path(work) / f"cong-van.{fmt}"
    return files


def message(path, attachments):
    msg = EmailMessage()
    msg["From"] = "Văn thư <load@quangninh.gov.vn>"
    msg["To"] = "sink@quangninh.gov.vn"
    msg["Subject"] = "Triển khai kế hoạch chuyển đổi số năm 2027"
    msg.set_content("\n".join(LETTER[:12]) + "\n")
    for name, data in attachments:
        msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    path.write_bytes(msg.as_bytes(policy=SMTP))
    return path


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    binary, loader = release_binaries(ROOT)
    off = {"state_secret": "off", "secrecy_unchecked": "off", "secrecy_unchecked_outbound": "off"}
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        files = documents(work)
        plain = message(work / "plain.eml", [])
        docs = message(work / "documents.eml", [(p.name, p.read_bytes()) for p in files.values()])
        sizes = (plain.stat().st_size, docs.stat().st_size)
        results = {}
        sink = Sink(cpu=0)
        try:
            for round_ in range(args.rounds):
                for kind, eml in [("no documents", plain), ("4 documents", docs)]:
                    for rule, overrides in [("on", None), ("off", off)]:
                        log(f"round {round_ + 1}: {kind}, state-secret rules {rule}")
                        directory = work / f"gw-{round_}-{kind[0]}-{rule}"
                        directory.mkdir()
                        gateway = ThuGate(binary, sink.port, directory, cpu=1, rules=True, policy_overrides=overrides)
                        before = cpu_seconds(gateway.proc.pid)
                        r = load(loader, gateway.port, args.connections, args.seconds, 0, cpu=0, message_file=eml)
                        used = cpu_seconds(gateway.proc.pid) - before
                        gateway.stop()
                        r["cpu_ms"] = 1000 * used / max(1, r["messages"])
                        results.setdefault((kind, rule), []).append(r)
        finally:
            sink.stop()
    print(f"{os.cpu_count()} cores; {args.connections} connections for {args.seconds:.0f} s per run; "
          f"{args.rounds} rounds; messages: {sizes[0]} B and {sizes[1]} B.\n")
    print("| message | state-secret rules | messages/s | p50 ms | p99 ms | ThuGate CPU ms/message | failures |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for (kind, rule), rs in results.items():
        med = lambda key: statistics.median(r[key] for r in rs)  # noqa: E731
        print(f"| {kind} | {rule} | {med('messages_per_second'):.0f} | {med('p50_ms'):.2f} | {med('p99_ms'):.2f} "
              f"| {med('cpu_ms'):.2f} | {sum(r['failures'] for r in rs)} |")


if __name__ == "__main__":
    main()
