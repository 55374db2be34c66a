"""`thugate corpus generate` as a user runs it: every message's manifest verdict is what `thugate scan`
decides with the shipped configuration, and the attachments open in the real tools."""
import email
import email.policy
import hashlib
import io
import json
import subprocess
import zipfile

import pytest

from conftest import BINARY, ROOT

SEED, COUNT = 7, 120
# Every violation kind at least once (8 kinds, 12 violations), the oversize one included (by default
# it comes only with large messages, from 1,000 messages on).
MIX = "violations=0.1,oversize=1"


def generate(out, seed=SEED, count=COUNT, mix=MIX):
    command = [str(BINARY), "corpus", "generate", "--seed", str(seed), "--count", str(count), "--out", str(out)]
    result = subprocess.run(command + (["--mix", mix] if mix else []), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("corpus")
    return out, generate(out)


def scanned(path, entry):
    command = [str(BINARY), "scan", "--format", "json", "--mail-from", entry["mail_from"]]
    for recipient in entry["rcpt_to"]:
        command += ["--rcpt-to", recipient]
    result = subprocess.run(command + [str(path)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    [report] = [json.loads(line) for line in result.stdout.splitlines()]
    # The manifest's "tag" is the scan's "accept" with findings: delivered with X-ThuGate-Findings.
    action = "tag" if report["action"] == "accept" and report["findings"] else report["action"]
    return action, sorted({f["rule"] for f in report["findings"]}), report


def test_the_manifest_is_what_scan_decides_for_every_message(corpus):
    out, manifest = corpus
    assert [e["file"] for e in manifest] == [f"{i:06d}.eml" for i in range(1, COUNT + 1)]
    assert sorted(p.name for p in out.glob("*.eml")) == [e["file"] for e in manifest]
    wrong = []
    for entry in manifest:
        action, rules, report = scanned(out / entry["file"], entry)
        if (action, rules) != (entry["expected"]["action"], entry["expected"]["rules"]):
            wrong.append((entry["file"], entry["kind"], entry["expected"], action, report["findings"]))
    assert wrong == [], "\n".join(map(str, wrong))
    kinds = {e["kind"] for e in manifest}
    for kind in ["virus", "virus-zip", "executable", "encrypted-zip", "oversize", "secret-docx", "secret-subject", "auto-forward",
                 "legacy-tcvn3", "legacy-vni", "legacy-cp1258", "congvan", "scan", "reply", "forward", "list", "notice", "meeting"]:
        assert kind in kinds, kind


def test_the_same_seed_gives_the_same_bytes(corpus, tmp_path):
    out, manifest = corpus
    again = tmp_path / "again"
    assert generate(again) == manifest
    for entry in manifest:
        assert (again / entry["file"]).read_bytes() == (out / entry["file"]).read_bytes(), entry["file"]
    other = generate(tmp_path / "other", seed=SEED + 1)
    assert [(out / e["file"]).read_bytes() for e in manifest] != [(tmp_path / "other" / e["file"]).read_bytes() for e in other]


def attachments(path):
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    return [(part.get_filename(), part.get_content_type(), part.get_payload(decode=True)) for part in message.iter_attachments()]


def test_the_attachments_open_in_the_real_tools_and_never_repeat(corpus, tmp_path):
    import docx
    import openpyxl

    out, manifest = corpus
    seen = {}
    opened = {"docx": 0, "xlsx": 0, "pdf": 0, "png": 0, "zip": 0, "exe": 0}
    for entry in manifest:
        for name, content_type, data in attachments(out / entry["file"]):
            digest = hashlib.sha256(data).hexdigest()
            assert digest not in seen, (entry["file"], name, seen.get(digest))
            seen[digest] = (entry["file"], name)
            extension = name.rsplit(".", 1)[-1]
            target = tmp_path / f"a.{extension}"
            target.write_bytes(data)
            if extension == "docx":
                text = "\n".join(p.text for p in docx.Document(io.BytesIO(data)).paragraphs)
                assert "Mã định danh văn bản" in text
                header = "\n".join(p.text for p in docx.Document(io.BytesIO(data)).sections[0].header.paragraphs)
                assert ("TỐI MẬT" in header) == (entry["kind"] == "secret-docx"), (entry["file"], header)
            elif extension == "xlsx":
                sheet = openpyxl.load_workbook(io.BytesIO(data)).active
                assert sheet["A1"].value == "STT" and sheet.max_row >= 7
            elif extension == "pdf":
                text = subprocess.run(["pdftotext", str(target), "-"], capture_output=True, text=True, check=True).stdout
                assert "Ma dinh danh van ban" in text, entry["file"]
                subprocess.run(["qpdf", "--check", str(target)], capture_output=True, check=True)
            elif extension == "zip":
                listing = subprocess.run(["7z", "l", "-slt", str(target)], capture_output=True, text=True, check=True).stdout
                encrypted = "Encrypted = +" in listing
                assert encrypted == (entry["kind"] == "encrypted-zip"), entry["file"]
                if encrypted:
                    # The password the message gives opens it (ZipCrypto, as 7-Zip reads it); a wrong one does not.
                    body = email.message_from_bytes((out / entry["file"]).read_bytes(), policy=email.policy.default)
                    text = body.get_body(("plain",)).get_content()
                    password = text.split("Mật khẩu giải nén: ")[1].split()[0]
                    assert "Method = ZipCrypto" in listing
                    subprocess.run(["7z", "t", f"-p{password}", str(target)], capture_output=True, check=True)
                    assert subprocess.run(["7z", "t", "-pwrong", str(target)], capture_output=True).returncode != 0
                    unpacked = tmp_path / f"unpacked-{entry['file']}"
                    subprocess.run(["7z", "x", "-y", f"-p{password}", f"-o{unpacked}", str(target)], capture_output=True, check=True)
                    [document] = unpacked.glob("*.docx")
                    assert "Mã định danh văn bản" in "\n".join(p.text for p in docx.Document(str(document)).paragraphs)
                else:
                    assert zipfile.ZipFile(target).testzip() is None
            if extension in opened:
                kind = subprocess.run(["file", "-b", "--mime-type", str(target)], capture_output=True, text=True).stdout.strip()
                expected = {"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                            "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                            "pdf": "application/pdf", "png": "image/png", "zip": "application/zip",
                            "exe": "application/vnd.microsoft.portable-executable"}[extension]
                assert kind in (expected, "application/x-dosexec"), (name, kind)
                opened[extension] += 1
    assert all(count > 0 for count in opened.values()), opened


def test_a_bad_mix_is_refused(tmp_path):
    result = subprocess.run([str(BINARY), "corpus", "generate", "--seed", "1", "--count", "3", "--out", str(tmp_path),
                             "--mix", "viruses=0.1"], capture_output=True, text=True)
    assert result.returncode != 0 and "unknown key viruses" in result.stderr


def test_the_committed_sample_is_what_the_generator_writes(tmp_path):
    """Corpus/generated/ (README.md there says how it was made) stays in step with the generator."""
    sample = ROOT / "Corpus" / "generated"
    manifest = generate(tmp_path, seed=1, count=40, mix="violations=0.2")
    assert (sample / "manifest.jsonl").read_text() == (tmp_path / "manifest.jsonl").read_text()
    for entry in manifest:
        assert (sample / entry["file"]).read_bytes() == (tmp_path / entry["file"]).read_bytes(), entry["file"]
    assert sorted(p.name for p in sample.glob("*.eml")) == [e["file"] for e in manifest]
