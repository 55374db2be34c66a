"""Every format libclamav opens, made at test time by the real tools (samples.py), scanned by
`thugate scan --format json` and by `clamscan` with the same signatures on the same bytes: the
verdicts must agree. The issue's RTF message (it crashed ThuGate) through `scan` and `serve`.

A missing tool fails the test (samples.MissingTool), it is never skipped.
"""
import json
import re
import smtplib
import subprocess
from pathlib import Path

import pytest

import samples
from conftest import BINARY, ROOT

SIGNATURES = ROOT / "Config" / "signatures"


def issue_rtf_message() -> bytes:
    """Byte for byte the reproducer of issue 9, item 1."""
    import base64
    rtf = b"{\\rtf1\\ansi hello world\\par }\r\n"
    return (b"From: a@example.com\r\nTo: b@example.com\r\nSubject: t\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\nContent-Type: text/plain\r\n\r\nhi\r\n--XX\r\n"
            b"Content-Type: application/rtf; name=a.rtf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + base64.encodebytes(rtf).replace(b"\n", b"\r\n") + b"--XX--\r\n")


def thugate_scan(*paths, config=None):
    command = [str(BINARY), "scan", "--format", "json"] + (["--config", str(config)] if config else []) + [str(p) for p in paths]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=ROOT)
    return result, [json.loads(line) for line in result.stdout.splitlines()]


def clamscan(paths):
    """{file name: signature or None} as clamscan reports it (macros alerted like ThuGate does)."""
    result = subprocess.run([samples.tool("clamscan"), "--no-summary", "--alert-macros=yes", "-d", str(SIGNATURES)]
                            + [str(p) for p in paths], capture_output=True, text=True, timeout=300)
    assert result.returncode in (0, 1), result.stderr
    verdicts = {}
    for line in result.stdout.splitlines():
        path, _, verdict = line.rpartition(": ")
        verdicts[Path(path).name] = verdict[:-len(" FOUND")] if verdict.endswith(" FOUND") else None
    return verdicts


@pytest.fixture(scope="module")
def scanned(tmp_path_factory):
    """Every sample, its message, clamscan's verdict on the file and ThuGate's on the message."""
    work = tmp_path_factory.mktemp("formats")
    files, messages = work / "files", work / "messages"
    files.mkdir()
    messages.mkdir()
    for name, (filename, ctype, _, _) in samples.FORMATS.items():
        data = samples.make(name, work / "make")
        (files / f"{name}-{filename}").write_bytes(data)
        (messages / f"{name}.eml").write_bytes(samples.message(filename, ctype, data))
    verdicts = clamscan(sorted(files.iterdir()))
    result, reports = thugate_scan(messages)
    assert result.returncode == 0, result.stdout + result.stderr
    by_name = {Path(r["file"]).stem: r for r in reports}
    return {name: (verdicts[f"{name}-{filename}"], by_name[name], (messages / f"{name}.eml").read_bytes())
            for name, (filename, _, _, _) in samples.FORMATS.items()}


@pytest.mark.parametrize("name", list(samples.FORMATS))
def test_format_scans_like_clamscan(scanned, name):
    clam, report, _ = scanned[name]
    expected = samples.FORMATS[name][3]
    if expected == "virus":
        assert clam and not clam.startswith("Heuristics."), f"clamscan did not open the {name} sample: {clam}"
    elif expected == "macros":
        assert clam and clam.startswith("Heuristics.OLE2.ContainsMacros"), clam
    elif expected == "clean":
        assert clam is None, clam
    assert report["action"] != "error", report
    viruses = [f["detail"] for f in report["findings"] if f["rule"] == "virus"]
    macros = [f for f in report["findings"] if f["rule"] == "office-macro"]
    if clam is None:
        assert viruses == [] and macros == [], report["findings"]
    elif clam.startswith("Heuristics.OLE2.ContainsMacros"):
        # Found the same way, and judged by the office-macro rule, not as a virus.
        assert viruses == [] and any(clam in f["detail"] or "VBA project" in f["detail"] for f in macros), report["findings"]
    else:
        assert viruses == [clam], report["findings"]
        assert report["action"] == "reject"


def test_member_names_are_archive_paths_only(scanned):
    """No libclamav temporary names (`clamav-<hex>.tmp/...`), no doubled slash, in findings or objects."""
    for name, (_, report, _) in scanned.items():
        texts = [f["detail"] for f in report["findings"]] + [o["name"] for o in report["objects"]]
        for text in texts:
            assert "clamav-" not in text and ".tmp/" not in text and "//" not in text, (name, text)
    findings = {name: [f["detail"] for f in report["findings"] if f["rule"] == "executable"] for name, (_, report, _) in scanned.items()}
    assert "tai-lieu.tar.gz/tai-lieu/eicar.com is *.com" in findings["tar.gz"] or \
        "tai-lieu.tar.gz/eicar.com is *.com" in findings["tar.gz"], findings["tar.gz"]
    # OLE2 streams: libclamav writes them as "<md5>_<n>" files; no such name is shown.
    for name in ("xls-macro", "xlsm-macro", "doc", "xls"):
        objects = [o["name"] for o in scanned[name][1]["objects"]]
        assert not any(re.search(r"[0-9a-f]{32}_[0-9]+", o) for o in objects), objects
    assert "thu.zip/thu-cu.eml/eicar.com is *.com" in findings["mail-in-zip"], findings["mail-in-zip"]


def test_issue_rtf_message_scans_without_a_crash(tmp_path):
    path = tmp_path / "rtf-min.eml"
    path.write_bytes(issue_rtf_message())
    result, [report] = thugate_scan(path)
    assert result.returncode == 0, (result.returncode, result.stderr)
    assert report["action"] == "accept" and report["findings"] == []
    assert any(o["name"] == "a.rtf" for o in report["objects"]), report["objects"]


def test_issue_rtf_message_is_delivered_by_the_gateway(gateway_factory, upstream):
    gateway = gateway_factory(f"smtp://127.0.0.1:{upstream.port}")
    data = issue_rtf_message()
    for _ in range(3):
        with smtplib.SMTP("127.0.0.1", gateway.port, timeout=60) as client:
            client.sendmail("a@example.com", ["b@example.com"], data)
    messages = upstream.wait_for_messages(3)
    assert len(messages) == 3 and all(m["content"].endswith(data) for m in messages)
    assert gateway.proc.poll() is None, "thugate died"


def test_every_sample_through_the_gateway(scanned, gateway_factory, upstream):
    """Each format as mail through `thugate serve`: answered as `thugate scan` judged it, the
    process alive throughout."""
    gateway = gateway_factory(f"smtp://127.0.0.1:{upstream.port}")
    delivered = 0
    for name, (_, report, data) in scanned.items():
        with smtplib.SMTP("127.0.0.1", gateway.port, timeout=120) as client:
            try:
                client.sendmail("vanthu@quangninh.gov.vn", ["lanhdao@quangninh.gov.vn"], data)
                delivered += 1
                assert report["action"] == "accept", name
            except smtplib.SMTPDataError as error:
                assert error.smtp_code == 554 and report["action"] == "reject", (name, error)
        assert gateway.proc.poll() is None, f"thugate died on {name}"
    assert len(upstream.wait_for_messages(delivered)) == delivered
