"""The fuzz entries replayed, so they do not rot between fuzzing runs (issue 10, step 8).

Scripts/fuzz runs each entry under libFuzzer; built normally, every fuzz executable replays
files through the very same functions, properties included (a failed property is a crash).
This replays the seeds and every crasher kept in Tests/*/FuzzRegressions/.
"""
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import BINARY, ROOT

SMTP_FUZZER = BINARY.parent / "SMTPFuzzer"
ARCHIVE_FUZZER = BINARY.parent / "ArchiveFuzzer"
MIME_FUZZER = BINARY.parent / "MIMEFuzzer"
SCAN_FUZZER = BINARY.parent / "ScanFuzzer"
DOCUMENT_TEXT_FUZZER = BINARY.parent / "DocumentTextFuzzer"
MILTER_FUZZER = BINARY.parent / "MilterFuzzer"
PROXY_FUZZER = BINARY.parent / "ProxyProtocolFuzzer"


def replay(binary: Path, target: str, files: list):
    assert binary.exists(), f"{binary} not built (run swift build --build-tests)"
    assert files, f"nothing to replay for {target}"
    run = subprocess.run([str(binary), target, *map(str, files)], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert run.returncode == 0, f"{target}: {run.stderr[-3000:]}"
    assert run.stdout.count("ok ") == len(files)


@pytest.mark.parametrize("target", ["command", "data", "reply"])
def test_smtp_fuzz_entry_replays_seeds_and_crashers(target):
    seeds = sorted((ROOT / "Tests/SMTPCoreTests/FuzzSeeds" / target).iterdir())
    crashers = sorted((ROOT / "Tests/SMTPCoreTests/FuzzRegressions").glob(f"{target}-*"))
    replay(SMTP_FUZZER, target, seeds + crashers)


def test_milter_fuzz_entry_replays_seeds_and_crashers():
    seeds = sorted((ROOT / "Tests/MilterCoreTests/FuzzSeeds/milter").iterdir())
    crashers = sorted(p for p in (ROOT / "Tests/MilterCoreTests/FuzzRegressions").iterdir() if not p.name.startswith("."))
    replay(MILTER_FUZZER, "milter", seeds + crashers)


def test_proxy_protocol_fuzz_entry_replays_seeds_and_crashers():
    seeds = sorted((ROOT / "Tests/ProxyProtocolTests/FuzzSeeds/proxy").iterdir())
    crashers = sorted(p for p in (ROOT / "Tests/ProxyProtocolTests/FuzzRegressions").iterdir() if not p.name.startswith("."))
    replay(PROXY_FUZZER, "proxy", seeds + crashers)


@pytest.mark.parametrize("target", ["zip", "7z", "rar"])
def test_archive_fuzz_entry_replays_real_archives_and_crashers(target, tmp_path):
    subprocess.run([sys.executable, str(ROOT / "Scripts/archive-seeds.py"), target, str(tmp_path)], check=True)
    seeds = sorted(tmp_path.iterdir())
    crashers = sorted((ROOT / "Tests/ArchivesTests/FuzzRegressions").glob(f"{target}-*"))
    replay(ARCHIVE_FUZZER, target, seeds + crashers)



def test_mime_fuzz_entry_replays_corpus_and_crashers():
    crashers = sorted((ROOT / "Tests/MIMECoreTests/FuzzRegressions").glob("crash-*"))
    assert crashers, "the MIME crashers are gone"
    replay(MIME_FUZZER, "mime", sorted((ROOT / "Corpus").glob("*.eml")) + crashers)


def test_scan_fuzz_entry_replays_corpus_and_crashers():
    crashers = sorted((ROOT / "Tests/ScanningTests/FuzzRegressions").glob("crash-*"))
    replay(SCAN_FUZZER, "scan", sorted((ROOT / "Corpus").glob("*.eml")) + crashers)


def test_rtf_fuzz_entry_replays_fixtures_and_crashers():
    fixtures = sorted((ROOT / "Tests/DocumentTextTests/Fixtures").glob("*.rtf"))
    crashers = sorted((ROOT / "Tests/DocumentTextTests/FuzzRegressions").glob("crash-*"))
    replay(DOCUMENT_TEXT_FUZZER, "rtf", fixtures + crashers)


@pytest.mark.parametrize("target", ["html", "text"])
def test_html_and_text_fuzz_entries_replay_fixtures_and_crashers(target):
    fixtures = sorted((ROOT / "Tests/DocumentTextTests/Fixtures").glob("*.html"))
    crashers = sorted((ROOT / "Tests/DocumentTextTests/FuzzRegressions").glob(f"{target}-*"))
    replay(DOCUMENT_TEXT_FUZZER, target, fixtures + crashers)


def test_ole2_fuzz_entry_replays_fixtures_and_crashers():
    fixtures = sorted((ROOT / "Tests/DocumentTextTests/Fixtures").glob("*.doc")) + sorted(
        (ROOT / "Tests/DocumentTextTests/Fixtures").glob("*.xls")
    )
    crashers = sorted((ROOT / "Tests/DocumentTextTests/FuzzRegressions").glob("ole2-*"))
    replay(DOCUMENT_TEXT_FUZZER, "ole2", fixtures + crashers)


def test_ooxml_fuzz_entry_replays_fixtures_and_crashers():
    """The package fixtures (zips, hostile ones included) and their document parts as bare XML."""
    import zipfile

    packages = sorted((ROOT / "Tests/DocumentTextTests/Fixtures/packages").iterdir())
    crashers = sorted((ROOT / "Tests/DocumentTextTests/FuzzRegressions").glob("ooxml-*"))
    parts = []
    work = ROOT / ".build" / "ooxml-replay"
    work.mkdir(parents=True, exist_ok=True)
    for package in packages:
        with zipfile.ZipFile(package) as z:
            for name in ("word/document.xml", "content.xml", "styles.xml", "ppt/slides/slide1.xml"):
                if name in z.namelist() and z.getinfo(name).file_size <= 262144:
                    part = work / (package.name + "." + name.replace("/", "_"))
                    part.write_bytes(z.read(name))
                    parts.append(part)
    replay(DOCUMENT_TEXT_FUZZER, "ooxml", packages + parts + crashers)


def test_pdf_frames_fuzz_entry_replays_seeds_and_crashers(tmp_path):
    subprocess.run([sys.executable, str(ROOT / "Tests/EndToEnd/pdf_frames.py"), str(tmp_path)], check=True)
    crashers = sorted((ROOT / "Tests/DocumentTextTests/FuzzRegressions").glob("pdfframes-*"))
    replay(DOCUMENT_TEXT_FUZZER, "pdfframes", sorted(tmp_path.iterdir()) + crashers)
