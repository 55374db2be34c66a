#!/usr/bin/env python3
"""Seeds for the `pdfframes` fuzz entry: streams of PDF helper responses, written here independently of the Swift
encoder (the format of Sources/DocumentText/PDFTextFrames.swift), each led by the byte that cuts the stream
into reads.
    python3 Tests/EndToEnd/pdf_frames.py DIRECTORY
"""
import struct
import sys
from pathlib import Path


def string(text, length_bytes):
    data = text.encode("utf-8")
    return (struct.pack(">B", len(data)) if length_bytes == 1 else struct.pack(">I", len(data))) + data


def unit(text, page=1, region="top-left", style=5, font="DejaVuSerif-Bold", size=14.0, index=0):
    out = string(text, 4) + string("pdf-line", 1) + struct.pack(">i", page if page is not None else -1) + string(region, 1)
    out += bytes([style]) + ((b"\x01" + string(font, 1)) if font else b"\x00")
    out += (b"\x01" + struct.pack(">d", size)) if size is not None else b"\x00"
    return out + struct.pack(">i", index if index is not None else -1)


def response(units, problems=()):
    payload = struct.pack(">I", len(units)) + b"".join(units) + struct.pack(">I", len(problems))
    payload += b"".join(string(p, 4) for p in problems)
    return struct.pack(">I", len(payload)) + payload


SEEDS = {
    "ready": bytes([3]) + response([]),
    "stamped": bytes([7]) + response([unit("SỞ THÔNG TIN VÀ TRUYỀN THÔNG", style=0, font="DejaVuSerif"), unit("TỐI MẬT", index=5),
                                      unit("Trang 3", page=3, region="other", style=0, font=None, size=None)]),
    "problems": bytes([1]) + response([], ["encrypted: PDF needs a password", "pdf-pages: 80 pages, the first 50 read"]),
    "two-frames": bytes([64]) + response([unit("MẬT")]) + response([], ["pdf-broken: damaged"]),
}


def main():
    directory = Path(sys.argv[1])
    directory.mkdir(parents=True, exist_ok=True)
    for name, data in SEEDS.items():
        (directory / name).write_bytes(data)


if __name__ == "__main__":
    main()
