#!/usr/bin/env python3
"""False and true executables: how many random and compressed blobs ThuGate calls an executable,
and whether every real program is still found. Drives the real scanner: the blobs go as
attachments (neutral names, application/octet-stream) into generated messages that
`thugate scan --format json` reads, as a user would run it; libmagic alone (`file --mime-type`
on the same blobs) is the baseline.

    python3 Benchmarks/executable_types.py [--blobs 100000] [--per-message 50] [--seed 6909]

Blobs (sizes log-uniform 16 B … 128 KiB): random bytes; gzip, bzip2, xz, zstd files; zip
archives of random members; PNG and JPEG shaped files (real signatures and chunk/segment
structure around random entropy-coded data); raw deflate streams (what libclamav extracts from
a PDF); slices from inside compressed streams; and random bytes forced to start as libmagic's
COM guesses (jmp, jmp short, mov ax, mov seg) or with an executable magic (MZ, ZM, ELF, Mach-O,
universal). Real programs: MinGW-w64 exe and dll (i686, x86_64), gcc ELF (PIE, static, .so),
clang Mach-O objects, and from PyPI a universal Mach-O bundle (MarkupSafe's macOS wheel) and a
.NET assembly (pythonnet's Python.Runtime.dll).
"""
import argparse
import bz2
import collections
import gzip
import io
import json
import lzma
import math
import random
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib
from base64 import encodebytes
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXECUTABLE_TYPES = {
    "application/vnd.microsoft.portable-executable", "application/x-dosexec", "application/x-msdownload",
    "application/x-ms-ne-executable", "application/x-executable", "application/x-sharedlib",
    "application/x-pie-executable", "application/x-elf", "application/x-mach-binary",
}


def size(rng):
    return int(2 ** rng.uniform(4, 17))


def png(rng, n):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", rng.randrange(1, 4000), rng.randrange(1, 4000), 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rng.randbytes(n))) + chunk(b"IEND", b"")


def jpeg(rng, n):
    scan = rng.randbytes(n).replace(b"\xff", b"\xff\x00")   # entropy-coded data, byte-stuffed
    return (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
            + b"\xff\xdb\x00\x43\x00" + rng.randbytes(64) + b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00" + scan + b"\xff\xd9")


def zstd(data):
    return subprocess.run(["zstd", "-q", "-c", "-3"], input=data, capture_output=True, check=True).stdout


def zipped(rng, n):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", rng.choice([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])) as z:
        for i in range(rng.randrange(1, 4)):
            z.writestr(f"du-lieu-{i}.bin", rng.randbytes(max(1, n // 2)))
    return out.getvalue()


def blob(rng, kind):
    n = size(rng)
    payload = rng.randbytes(n)
    if kind == "random":
        return payload
    if kind == "gzip":
        return gzip.compress(payload)
    if kind == "bzip2":
        return bz2.compress(payload)
    if kind == "xz":
        return lzma.compress(payload)
    if kind == "zstd":
        return zstd(payload)
    if kind == "zip":
        return zipped(rng, n)
    if kind == "png":
        return png(rng, n)
    if kind == "jpeg":
        return jpeg(rng, n)
    if kind == "deflate":
        return zlib.compress(payload + b"\0" * rng.randrange(0, n), 6)[2:-4]
    if kind == "stream-slice":
        stream = rng.choice([gzip.compress, bz2.compress, lzma.compress])(payload)
        start = rng.randrange(0, max(1, len(stream) - 16))
        return stream[start:start + max(16, n // 2)]
    if kind == "com-start":
        return rng.choice([b"\xe9", b"\xeb", b"\xb8", b"\x8c", b"\x81\xfc", b"\xfc"]) + payload
    if kind == "magic-start":
        return rng.choice([b"MZ", b"ZM", b"\x7fELF", b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"\xfe\xed\xfa\xcf",
                           b"\xca\xfe\xba\xbe\x00\x00\x00\x02"]) + payload
    raise ValueError(kind)


KINDS = ["random", "gzip", "bzip2", "xz", "zstd", "zip", "png", "jpeg", "deflate", "stream-slice", "com-start", "magic-start"]


def message(attachments):
    """attachments: [(name, bytes)] → an RFC 5322 message with base64 parts."""
    out = [b"From: vanthu@quangninh.gov.vn\r\nTo: lanhdao@quangninh.gov.vn\r\nSubject: du lieu\r\n"
           b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b0undary\"\r\n\r\n"
           b"--b0undary\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nKinh gui.\r\n"]
    for name, data in attachments:
        out.append(b"--b0undary\r\nContent-Type: application/octet-stream; name=\"%s\"\r\n"
                   b"Content-Disposition: attachment; filename=\"%s\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                   % (name.encode(), name.encode()))
        out.append(encodebytes(data).replace(b"\n", b"\r\n"))
    out.append(b"--b0undary--\r\n")
    return b"".join(out)


def real_programs(work: Path):
    """name → bytes of real programs, built here or taken from PyPI wheels."""
    sources = {
        "w.c": b'#include <windows.h>\nint main(void){MessageBoxA(0,"a","b",0);return 0;}\n',
        "d.c": b"__declspec(dllexport) int f(int a){return a+1;}\n",
        "l.c": b'#include <stdio.h>\nint main(void){puts("x");return 0;}\n',
        "s.c": b"int f(int a){return a+1;}\n",
    }
    for name, text in sources.items():
        (work / name).write_bytes(text)
    builds = {
        "pe64.exe": ["x86_64-w64-mingw32-gcc", "-o", "pe64.exe", "w.c"],
        "pe32.exe": ["i686-w64-mingw32-gcc", "-o", "pe32.exe", "w.c"],
        "pe64.dll": ["x86_64-w64-mingw32-gcc", "-shared", "-o", "pe64.dll", "d.c"],
        "pe32.dll": ["i686-w64-mingw32-gcc", "-shared", "-o", "pe32.dll", "d.c"],
        "elf-pie": ["gcc", "-o", "elf-pie", "l.c"],
        "elf-static": ["gcc", "-static", "-o", "elf-static", "l.c"],
        "elf.so": ["gcc", "-shared", "-fPIC", "-o", "elf.so", "s.c"],
        "macho-x86_64.o": ["clang", "-target", "x86_64-apple-macos11", "-c", "-o", "macho-x86_64.o", "s.c"],
        "macho-arm64.o": ["clang", "-target", "arm64-apple-macos11", "-c", "-o", "macho-arm64.o", "s.c"],
    }
    programs = {}
    for name, command in builds.items():
        subprocess.run(command, cwd=work, check=True)
        programs[name] = (work / name).read_bytes()
    wheels = work / "wheels"
    for spec, extra, member in [
        ("markupsafe==2.1.5", ["--platform", "macosx_10_9_universal2", "--python-version", "3.11", "--implementation", "cp"],
         "markupsafe/_speedups.cpython-311-darwin.so"),
        ("pythonnet==3.0.3", [], "pythonnet/runtime/Python.Runtime.dll"),
    ]:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:", *extra,
                        "-d", str(wheels), spec], check=True)
        wheel = next(wheels.glob(spec.split("==")[0].replace("markupsafe", "MarkupSafe") + "-*.whl"))
        with zipfile.ZipFile(wheel) as z:
            programs[Path(member).name] = z.read(member)
    return programs


def scan(binary, directory):
    result = subprocess.run([binary, "scan", "--format", "json", str(directory)], cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"thugate scan failed ({result.returncode}): {result.stderr[-2000:]}")
    return [json.loads(line) for line in result.stdout.splitlines()]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--blobs", type=int, default=100_000)
    parser.add_argument("--per-message", type=int, default=50)
    parser.add_argument("--seed", type=int, default=6909)
    parser.add_argument("--bin", help="thugate binary (default: build release)")
    args = parser.parse_args()
    binary = args.bin
    if not binary:
        subprocess.run(["swift", "build", "-c", "release", "--product", "thugate"], cwd=ROOT, check=True)
        binary = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT, check=True,
                                capture_output=True, text=True).stdout.strip() + "/thugate"
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        (work / "mail").mkdir()
        (work / "blobs").mkdir()
        (work / "programs").mkdir()
        kinds = {}
        started = time.time()
        for first in range(0, args.blobs, args.per_message):
            batch = []
            for index in range(first, min(first + args.per_message, args.blobs)):
                kind = KINDS[index % len(KINDS)]
                data = blob(rng, kind)
                name = f"b{index:06}.bin"
                kinds[name] = kind
                (work / "blobs" / name).write_bytes(data)
                batch.append((name, data))
            (work / "mail" / f"m{first:06}.eml").write_bytes(message(batch))
        generated = time.time() - started
        print(f"generated {args.blobs} blobs in {args.blobs // args.per_message} messages ({generated:.0f} s)", file=sys.stderr)

        # Baseline: libmagic alone on the same blobs.
        listing = work / "list"
        listing.write_text("\n".join(str(work / "blobs" / n) for n in sorted(kinds)) + "\n")
        out = subprocess.run(["file", "-b", "--mime-type", "-f", str(listing)], capture_output=True, text=True, check=True)
        libmagic = collections.Counter()
        for name, type_ in zip(sorted(kinds), out.stdout.splitlines()):
            if type_.strip() in EXECUTABLE_TYPES:
                libmagic[kinds[name]] += 1

        started = time.time()
        reports = scan(binary, work / "mail")
        elapsed = time.time() - started
        thugate = collections.Counter()
        objects = 0
        examples = []
        for report in reports:
            for obj in report.get("objects", []):
                objects += 1
                top = obj["name"].split("/")[0]
                if obj.get("type") in EXECUTABLE_TYPES:
                    thugate[kinds.get(top, "?")] += 1
                    examples.append((obj["name"], obj["type"]))
            for finding in report["findings"]:
                if finding["rule"] == "executable":
                    thugate["findings"] += 1

        programs = real_programs(work / "programs")
        names = list(programs)
        (work / "real").mkdir()
        for i, name in enumerate(names):
            # Neutral names: only the structure can find them.
            (work / "real" / f"p{i:02}.eml").write_bytes(message([(f"tai-lieu-{i:02}.dat", programs[name])]))
        found = {}
        for report in scan(binary, work / "real"):
            index = int(Path(report["file"]).stem[1:])
            found[names[index]] = [f["detail"] for f in report["findings"] if f["rule"] == "executable"]

        print(f"\n{args.blobs} blobs ({', '.join(KINDS)}; {args.blobs // len(KINDS)} or so of each), "
              f"{objects} objects scanned (zip members included) by `thugate scan` in {elapsed:.0f} s\n")
        print("| blob kind | libmagic alone: executable types | ThuGate: executable objects |")
        print("|---|---|---|")
        for kind in KINDS:
            print(f"| {kind} | {libmagic[kind]} | {thugate[kind]} |")
        total_libmagic = sum(libmagic.values())
        total_thugate = sum(v for k, v in thugate.items() if k != "findings")
        print(f"| **all** | **{total_libmagic}** ({100 * total_libmagic / args.blobs:.2f} %) | **{total_thugate}** "
              f"({thugate['findings']} `executable` findings) |")
        for name, type_ in examples[:10]:
            print(f"  ThuGate executable: {name}: {type_}")
        print("\n| real program (neutral file name) | found as |")
        print("|---|---|")
        for name in names:
            print(f"| {name} | {'; '.join(found.get(name, [])) or '**MISSED**'} |")
        missed = [n for n in names if not found.get(n)]
        if total_thugate or thugate["findings"] or missed:
            sys.exit(f"FAIL: {total_thugate} false executables, missed {missed}")


if __name__ == "__main__":
    main()
