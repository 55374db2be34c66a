"""Executables by structure, not by libmagic's guesses: every real program is refused whatever
its name, random and compressed data is delivered, and COM programs (which have no header) are
judged by name, as QĐ 40/2022 Đ2 k7 names `*.com`.

Real programs: MinGW-w64 / gcc / clang builds from the `programs` fixture, and from PyPI a
universal Mach-O bundle (MarkupSafe's macOS wheel) and a .NET assembly (pythonnet).
"""
import bz2
import ctypes
import ctypes.util
import gzip
import json
import lzma
import random
import struct
import subprocess
import sys
import zipfile
import zlib
from email.message import EmailMessage
from email.policy import SMTP

import pytest

from conftest import BINARY, ROOT, send_message as send

EXECUTABLE_TYPES = {
    "application/vnd.microsoft.portable-executable", "application/x-dosexec", "application/x-msdownload",
    "application/x-ms-ne-executable", "application/x-executable", "application/x-sharedlib",
    "application/x-pie-executable", "application/x-elf", "application/x-mach-binary",
}


@pytest.fixture(scope="session")
def pypi_programs(tmp_path_factory):
    """Real programs shipped inside PyPI wheels (pinned): a universal x86_64+arm64 Mach-O bundle
    and a .NET assembly. PyPI is reachable wherever Scripts/setup runs."""
    work = tmp_path_factory.mktemp("wheels")
    found = {}
    for spec, wheel_name, extra, member, key in [
        ("markupsafe==2.1.5", "MarkupSafe-2.1.5-*.whl",
         ["--platform", "macosx_10_9_universal2", "--python-version", "3.11", "--implementation", "cp"],
         "markupsafe/_speedups.cpython-311-darwin.so", "macho-universal.so"),
        ("pythonnet==3.0.3", "pythonnet-3.0.3-*.whl", [], "pythonnet/runtime/Python.Runtime.dll", "dotnet.dll"),
    ]:
        result = subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
                                 "--no-deps", "--only-binary=:all:", *extra, "-d", str(work), spec],
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, f"pip download {spec}: {result.stderr}"
        with zipfile.ZipFile(next(work.glob(wheel_name))) as wheel:
            found[key] = wheel.read(member)
    return found


@pytest.fixture
def proxy(gateway_factory, upstream):
    return gateway_factory(f"smtp://127.0.0.1:{upstream.port}")


def message(attachments, subject="Tài liệu"):
    msg = EmailMessage()
    msg["From"] = "vanthu@quangninh.gov.vn"
    msg["To"] = "lanhdao@quangninh.gov.vn"
    msg["Subject"] = subject
    msg.set_content("Kính gửi các đơn vị.\n")
    for name, data in attachments:
        msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return msg.as_bytes(policy=SMTP)




def libmagic_types(blobs):
    """libmagic's own MIME type for each blob (the library ThuGate links), for the baseline."""
    lib = ctypes.CDLL(ctypes.util.find_library("magic") or "libmagic.so.1")
    lib.magic_open.restype = ctypes.c_void_p
    lib.magic_load.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    lib.magic_buffer.restype = ctypes.c_char_p
    lib.magic_buffer.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]
    cookie = lib.magic_open(0x10 | 0x200)  # MAGIC_MIME_TYPE | MAGIC_ERROR
    assert lib.magic_load(cookie, None) == 0
    types = [lib.magic_buffer(cookie, blob, len(blob)).decode() for blob in blobs]
    lib.magic_close.argtypes = [ctypes.c_void_p]
    lib.magic_close(cookie)
    return types


def blobs(rng, count):
    """Random and compressed data of varied sizes, a third of it starting as libmagic's COM
    guesses or with an executable's magic."""
    def png(n):
        def chunk(kind, data):
            return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 640, 480, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(rng.randbytes(n))) + chunk(b"IEND", b""))

    makers = [
        lambda n: rng.randbytes(n),
        lambda n: gzip.compress(rng.randbytes(n)),
        lambda n: bz2.compress(rng.randbytes(n)),
        lambda n: lzma.compress(rng.randbytes(n)),
        lambda n: zlib.compress(rng.randbytes(n))[2:-4],                       # a raw deflate stream
        lambda n: lzma.compress(rng.randbytes(n))[rng.randrange(1, 40):],      # the inside of a stream
        png,
        lambda n: rng.choice([b"\xe9", b"\xeb", b"\xb8", b"\x8c"]) + rng.randbytes(n),
        lambda n: rng.choice([b"\xe9", b"\xeb", b"\xb8", b"\x8c"]) + rng.randbytes(n),
        lambda n: rng.choice([b"MZ", b"ZM", b"\x7fELF\x02\x01\x01", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe\0\0\0\x01"])
        + rng.randbytes(n),
    ]
    return [makers[i % len(makers)](int(2 ** rng.uniform(5, 16))) for i in range(count)]


def scan_json(directory):
    result = subprocess.run([str(BINARY), "scan", "--format", "json", str(directory)], cwd=ROOT,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


REAL = ["pe64.exe", "pe32.exe", "pe64.dll", "pe32.dll", "elf", "elf-static", "elf.so", "macho-x86_64.o", "macho-arm64.o"]


@pytest.mark.parametrize("program", REAL + ["macho-universal.so", "dotnet.dll"])
def test_real_programs_are_refused_whatever_their_name(proxy, upstream, programs, pypi_programs, program):
    data = {**programs, **pypi_programs}[program]
    code, text = send(proxy, message([("so-lieu-2024.dat", data)]))
    assert code == 554 and text.startswith("5.7.1 "), text
    assert "so-lieu-2024.dat is application/" in text
    assert upstream.messages == []


def test_com_programs_are_judged_by_name(proxy, upstream):
    rng = random.Random(1)
    # jmp near + noise: libmagic calls it "DOS executable (COM)".
    com = b"\xe9\x10\x01" + rng.randbytes(3000)
    assert libmagic_types([com]) == ["application/x-dosexec"]
    for name, shown in [("chay.com", "*.com"), ("CAI-DAT.COM", "*.com"), ("loi-tat.pif", "*.pif")]:
        code, text = send(proxy, message([(name, com)]))
        assert code == 554 and f"{name} is {shown}" in text, text
    assert upstream.messages == []
    code, text = send(proxy, message([("so-lieu.bin", com)]))
    assert code == 250, text
    assert b"X-ThuGate-Findings" not in upstream.wait_for_messages(1)[0]["content"]


def test_random_and_compressed_data_is_not_an_executable(tmp_path, proxy, upstream):
    rng = random.Random(6909)
    data = blobs(rng, 600)
    guessed = sum(t in EXECUTABLE_TYPES for t in libmagic_types(data))
    # The input really is what libmagic mistypes (112 of these 600).
    assert guessed >= 60, guessed
    for first in range(0, len(data), 50):
        batch = [(f"du-lieu-{i:03}.bin", data[i]) for i in range(first, first + 50)]
        (tmp_path / f"m{first:03}.eml").write_bytes(message(batch))
    reports = scan_json(tmp_path)
    assert len(reports) == 12
    executables = [(o["name"], o.get("type")) for r in reports for o in r["objects"] if o.get("type") in EXECUTABLE_TYPES]
    assert executables == []
    assert [f for r in reports for f in r["findings"]] == []
    assert {r["action"] for r in reports} == {"accept"}
    # And through the proxy: delivered untouched.
    code, text = send(proxy, (tmp_path / "m000.eml").read_bytes())
    assert code == 250, text
    delivered = upstream.wait_for_messages(1)[0]["content"]
    assert b"X-ThuGate-Findings" not in delivered and delivered.endswith((tmp_path / "m000.eml").read_bytes())
