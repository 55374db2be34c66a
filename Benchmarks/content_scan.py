#!/usr/bin/env python3
"""Content-inspection throughput per stage (libmagic, libclamav, archive headers) and of the
whole pipeline on the Corpus: makes sample files with the real tools (zip, 7z, a real PE
built with MinGW-w64), builds thugate-scanbench in release mode and runs it.

    python3 Benchmarks/content_scan.py [--seconds 2]
"""
import argparse
import os
import random
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=2, help="seconds per stage and sample")
    args = parser.parse_args()
    print("building thugate-scanbench (release) ...", file=sys.stderr)
    subprocess.run(["swift", "build", "-c", "release", "--product", "thugate-scanbench"], cwd=ROOT, check=True)
    bin_dir = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout.strip()
    rng = random.Random(6909)
    words = ("báo cáo công văn quyết định ủy ban nhân dân tỉnh quảng ninh sở thông tin truyền thông "
             "kế hoạch triển khai năm hai nghìn").split()
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        samples = work / "samples"
        samples.mkdir()
        text = " ".join(rng.choice(words) for _ in range(200_000)).encode()[:1_000_000]
        (samples / "body-2KB.txt").write_bytes(text[:2048])
        (samples / "text-1MB.txt").write_bytes(text)
        (samples / "random-1MB.bin").write_bytes(rng.randbytes(1_000_000))
        # A real PE (Debian's python3-pip has no vendored launchers to borrow).
        (work / "w.c").write_text('#include <windows.h>\nint main(void){MessageBoxA(0,"a","b",0);return 0;}\n')
        subprocess.run(["x86_64-w64-mingw32-gcc", "-O2", "-o", samples / "mingw64.exe", work / "w.c"], check=True)
        members = work / "members"
        members.mkdir()
        for i in range(100):
            (members / f"van-ban-{i:03}.txt").write_bytes(text[i * 10_000:(i + 1) * 10_000])
        names = sorted(p.name for p in members.iterdir())
        subprocess.run(["zip", "-q", "-9", samples / "docs-100.zip", *names], cwd=members, check=True)
        subprocess.run(["zip", "-q", "-9", "-P", "pw", samples / "docs-100-zipcrypto.zip", *names], cwd=members, check=True)
        subprocess.run(["7z", "a", "-bd", "-y", "-t7z", samples / "docs-100.7z", *names], cwd=members, check=True,
                       capture_output=True)
        subprocess.run(["7z", "a", "-bd", "-y", "-t7z", "-ppw", "-mhe=on", samples / "docs-100-hidden.7z", *names],
                       cwd=members, check=True, capture_output=True)
        print(f"Machine: {os.cpu_count()} cores. {args.seconds:g} s per stage and sample; libclamav with the "
              f"temporary directory on tmpfs, the "
              f"project's test signatures and its clean-file cache off (every scan is real).\n")
        sys.stdout.flush()
        subprocess.run([f"{bin_dir}/thugate-scanbench", str(ROOT / "Config" / "signatures"), str(samples),
                        str(ROOT / "Corpus"), str(args.seconds)], check=True)


if __name__ == "__main__":
    main()
