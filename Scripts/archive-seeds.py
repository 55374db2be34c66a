"""Seeds for the archive header fuzzers (Scripts/fuzz zip|7z|rar): small real archives.

    python3 Scripts/archive-seeds.py zip|7z|rar OUTDIR

zip and 7z archives are made by the real tools (stored, deflated/LZMA2, encrypted, encrypted
headers); RAR has no tool in Debian main, so RAR 4 and 5 archives are built by hand from the
technotes, as Tests/ScanningTests/Archives/ArchiveFixtures.swift does.
"""
import os
import struct
import subprocess
import sys
import tempfile
import zlib


def vint(value):
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def rar5(names, encrypted_headers=False):
    def header(kind, flags, fields, data_size=None):
        body = vint(kind) + vint(flags | (2 if data_size is not None else 0))
        if data_size is not None:
            body += vint(data_size)
        body += fields
        sized = vint(len(body)) + body
        return struct.pack("<I", zlib.crc32(sized)) + sized
    out = b"Rar!\x1a\x07\x01\x00"
    if encrypted_headers:
        return out + header(4, 0, vint(0) + vint(0) + bytes([15]) + b"\x5a" * 16) + b"\xc3" * 64
    out += header(1, 0, vint(0))
    for name in names:
        data = b"hello " + name.encode()
        fields = vint(0x0004) + vint(len(data)) + vint(0x20) + struct.pack("<I", zlib.crc32(data))
        fields += vint(0) + vint(0) + vint(len(name.encode())) + name.encode()
        out += header(2, 0, fields, data_size=len(data)) + data
    return out + header(5, 0, vint(0))


def rar4(names):
    def block(kind, flags, fields):
        body = bytes([kind]) + struct.pack("<HH", flags, 7 + len(fields)) + fields
        return struct.pack("<H", zlib.crc32(body) & 0xFFFF) + body
    out = b"Rar!\x1a\x07\x00" + block(0x73, 0, b"\0" * 6)
    for name in names:
        data = b"hello " + name.encode()
        raw = name.encode()
        fields = struct.pack("<IIBIIBBHI", len(data), len(data), 2, zlib.crc32(data), 0x5A210000, 29, 0x30, len(raw), 0x20) + raw
        out += block(0x74, 0x8000, fields) + data
    return out + block(0x7B, 0x4000, b"")


def main():
    target, outdir = sys.argv[1], os.path.abspath(sys.argv[2])
    os.makedirs(outdir, exist_ok=True)
    if target == "rar":
        samples = {"rar5": rar5(["a.txt", "thư mục/tệp.exe"]), "rar5-headers-encrypted": rar5([], True),
                   "rar4": rar4(["a.txt", "setup.exe"])}
        for name, data in samples.items():
            with open(os.path.join(outdir, name), "wb") as f:
                f.write(data)
        return
    with tempfile.TemporaryDirectory() as work:
        for name, text in {"a.txt": "hello\n" * 50, "tài liệu.doc": "x" * 300, "sub/setup.exe": "MZ" + "\0" * 100}.items():
            os.makedirs(os.path.dirname(os.path.join(work, name)) or work, exist_ok=True)
            with open(os.path.join(work, name), "w") as f:
                f.write(text)
        files = ["a.txt", "tài liệu.doc", "sub/setup.exe"]
        if target == "zip":
            runs = {"stored.zip": ["zip", "-q", "-0"], "deflated.zip": ["zip", "-q", "-9"],
                    "encrypted.zip": ["zip", "-q", "-P", "secret"]}
        else:
            runs = {"lzma2.7z": ["7z", "a", "-bd", "-y"], "copy.7z": ["7z", "a", "-bd", "-y", "-mx=0"],
                    "encrypted.7z": ["7z", "a", "-bd", "-y", "-psecret"],
                    "headers-encrypted.7z": ["7z", "a", "-bd", "-y", "-psecret", "-mhe=on"]}
        for name, command in runs.items():
            path = os.path.join(outdir, name)
            subprocess.run(command + [path] + files, cwd=work, check=True, stdout=subprocess.DEVNULL)


if __name__ == "__main__":
    main()
