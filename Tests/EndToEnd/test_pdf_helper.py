"""The PDF helper (thugate-pdftext): the only binary that links poppler, started and stopped by the gateway.

A PDF engine on hostile input must not be able to take the gateway down (issue 12), so poppler and GLib live in
the helper process alone: the gateway's own binary must not load them. `thugate serve` starts its helpers
(`[documents] pdf_helpers`) before it listens, as its children with the limits they set themselves, and kills them
when it stops.
"""
import os
import re
import subprocess
import time
from pathlib import Path

from conftest import BINARY, ROOT

PDF_FIXTURES = ROOT / "Tests" / "ScanningTests" / "PDFFixtures"

HELPER = BINARY.parent / "thugate-pdftext"


def loaded(binary):
    out = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=True).stdout
    return {m.group(1) for m in re.finditer(r"^\s*(lib[\w+.-]+?)\.so", out, re.M)}


def test_only_the_helper_links_poppler():
    helper = loaded(HELPER)
    assert "libpoppler-glib" in helper and "libglib-2.0" in helper
    for binary in (BINARY, BINARY.parent / "ThuGatePackageTests.xctest"):
        libraries = loaded(binary)
        assert not {name for name in libraries if name.startswith(("libpoppler", "libglib", "libgobject", "libcairo"))}, binary


def children(pid):
    """(pid, executable) of the processes whose parent is `pid`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                found.append((int(entry.name), os.readlink(entry / "exe")))
        except (OSError, IndexError):
            continue
    return found


def limits(pid):
    text = Path(f"/proc/{pid}/limits").read_text()
    return {m.group(1).strip(): m.group(2) for m in re.finditer(r"^(Max [a-z ]+?)\s{2,}(\S+)", text, re.M)}


def test_serve_starts_limited_helpers_and_kills_them_at_stop(gateway_factory, upstream):
    gateway = gateway_factory(
        f"smtp://127.0.0.1:{upstream.port}",
        sections={"documents": {"pdf_helpers": 3, "pdf_memory_mb": 300, "pdf_cpu_seconds": 7}},
    )
    helpers = [pid for pid, exe in children(gateway.proc.pid) if exe.endswith("/thugate-pdftext")]
    assert len(helpers) == 3
    for pid in helpers:
        got = limits(pid)
        assert got["Max address space"] == str(300 << 20)
        assert got["Max file size"] == "0"
        assert got["Max core file size"] == "0"
        assert got["Max open files"] == "32"
        assert 7 <= int(got["Max cpu time"]) <= 9
        # Nothing of the gateway's but the two pipes and /dev/null.
        fds = sorted(int(fd) for fd in os.listdir(f"/proc/{pid}/fd"))
        assert fds == [0, 1, 2]
        assert os.readlink(f"/proc/{pid}/fd/2") == "/dev/null"
        assert Path(f"/proc/{pid}/environ").read_bytes() == b""
    assert gateway.wait_for_log(lambda line: "PDF text: 3 helper(s)" in line)
    assert gateway.terminate() == 0
    deadline = time.time() + 5
    while time.time() < deadline and any(Path(f"/proc/{pid}").exists() for pid in helpers):
        time.sleep(0.05)
    assert not [pid for pid in helpers if Path(f"/proc/{pid}").exists()]


def test_missing_helper_stops_the_gateway_from_starting(tmp_path):
    config = tmp_path / "thugate.toml"
    config.write_text(
        '[server]\nspool_directory = "spool"\npid_file = "thugate.pid"\n'
        f'[scan]\nsignatures = "{ROOT / "Config" / "signatures"}"\ntemporary_directory = "tmp"\n'
        'crash_journal = "scan-crashes"\n[quarantine]\ndatabase = "q.sqlite"\n'
        '[documents]\npdf_helper = "nowhere/thugate-pdftext"\n'
    )
    run = subprocess.run(
        [str(BINARY), "serve", "--config", str(config), "--listen", "127.0.0.1:0", "--upstream", "maildir:" + str(tmp_path / "mail")],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )
    assert run.returncode != 0
    assert "nowhere/thugate-pdftext is missing or not executable" in run.stderr


def test_a_stamped_pdf_is_refused_through_the_proxy_and_a_trap_pdf_passes(gateway_factory, upstream, tmp_path):
    """The whole path: smtplib → thugate serve → its PDF helper (poppler) → the matcher → 554 5.7.1."""
    from test_state_secret import message, send, start, wait_until

    gateway = start(gateway_factory, upstream.port, tmp_path)
    stamped = (PDF_FIXTURES / "libreoffice-stamped.pdf").read_bytes()
    code, text = send(gateway, message("Công văn số 12/UBND", attachment=stamped, filename="cong-van.pdf", subtype="pdf"))
    assert code == 554 and "5.7.1" in text and "TỐI MẬT stamp in the pdf attachment" in text, text
    traps = (PDF_FIXTURES / "fpdf2-traps.pdf").read_bytes()
    code, text = send(gateway, message("Hướng dẫn đổi mật khẩu", attachment=traps, filename="huong-dan.pdf", subtype="pdf"))
    assert code == 250, text
    assert wait_until(lambda: any(m["rcpt_tos"] == ["doitac@example.com"] for m in upstream.messages))


def test_scan_says_a_pdf_that_killed_its_helper_was_not_read(tmp_path):
    from test_state_secret import message

    eml = tmp_path / "bomb.eml"
    eml.write_bytes(message("Tài liệu", attachment=(PDF_FIXTURES / "memory-bomb.pdf").read_bytes(), filename="bom.pdf", subtype="pdf"))
    config = tmp_path / "thugate.toml"
    config.write_text(f'[scan]\nsignatures = "{ROOT / "Config" / "signatures"}"\ntemporary_directory = "tmp"\n'
                      '[documents]\npdf_memory_mb = 256\n')
    result = subprocess.run([str(BINARY), "scan", "--config", str(config), str(eml)], capture_output=True, timeout=120, cwd=tmp_path)
    out = result.stdout.decode() + result.stderr.decode()
    assert result.returncode == 0, out
    assert "pdf-helper: died while reading the PDF" in out, out
