"""`thugate bench` as a user runs it: offline over a small corpus with a manifest (one entry
labelled wrong on purpose), and SMTP load at a gateway with an aiosmtpd upstream and at its own
gateway (`--smtp self`). Counts and reply codes only, never timings."""
import json
import subprocess
from email.message import EmailMessage
from email.policy import SMTP

import pytest

from conftest import BINARY
from samples import EICAR

SENDER = "vanthu@quangninh.gov.vn"


def message(subject, body, attachment=None):
    msg = EmailMessage()
    msg["From"] = f"Văn thư <{SENDER}>"
    msg["To"] = "lanhdao@quangninh.gov.vn"
    msg["Subject"] = subject
    msg.set_content(body)
    if attachment:
        name, data = attachment
        msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return msg.as_bytes(policy=SMTP)


@pytest.fixture
def corpus(tmp_path):
    """Six messages: five ordinary notices (one of them to two recipients) and one with EICAR.
    The manifest labels notice-4 "reject" although nothing in it is refused: the bench must call
    that verdict wrong."""
    directory = tmp_path / "corpus"
    directory.mkdir()
    entries = []
    for i in range(5):
        name = f"notice-{i}.eml"
        (directory / name).write_bytes(message(f"Thông báo lịch họp tuần {i}",
                                               "Kính gửi các đơn vị,\nLịch họp giao ban tuần tới như sau.\n" * 30))
        rcpts = ["lanhdao@quangninh.gov.vn"] + (["vanphong@quangninh.gov.vn"] if i == 1 else [])
        expected = {"action": "reject", "rules": ["virus"]} if i == 4 else {"action": "accept", "rules": []}
        entries.append({"file": name, "mail_from": SENDER, "rcpt_to": rcpts, "kind": "notice", "expected": expected})
    (directory / "virus.eml").write_bytes(message("Tài liệu", "Xem tệp đính kèm.\n", ("eicar.com", EICAR)))
    entries.append({"file": "virus.eml", "mail_from": SENDER, "rcpt_to": ["lanhdao@quangninh.gov.vn"], "kind": "eicar",
                    "expected": {"action": "reject", "rules": ["virus"]}})
    (directory / "manifest.jsonl").write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries))
    return directory


def bench(*args, check=True, timeout=300):
    result = subprocess.run([str(BINARY), "bench", *map(str, args)], capture_output=True, text=True, timeout=timeout)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def bench_json(*args):
    out = bench(*args, "--format", "json").stdout.strip().splitlines()
    assert len(out) == 1, out
    return json.loads(out[0])


def test_offline_counts_verdicts_and_names_the_wrong_one(corpus):
    report = bench_json("--corpus", corpus, "--workers", 2)
    assert report["mode"] == "offline"
    assert report["messages"] == 6 and report["errors"] == 0 and report["workers"] == 2
    assert report["bytes"] == sum(p.stat().st_size for p in corpus.glob("*.eml"))
    for key in ["messages_per_second", "mb_per_second", "seconds"]:
        assert isinstance(report[key], (int, float))
    assert set(report["stages"]) == {"parse", "content_scan", "libmagic", "libclamav", "archive_headers", "text_extraction",
                                   "secrecy_matcher", "rules", "transforms"}
    assert report["stages"]["libclamav"] > 0 and report["stages"]["libmagic"] > 0
    assert report["verdicts"] == {"accept": 5, "reject": 1}
    assert report["checked"] == 6 and report["correct"] == 5 and report["wrong"] == 1
    assert report["by_expected"] == {"accept": {"right": 4, "wrong": 0}, "reject": {"right": 1, "wrong": 1}}
    [wrong] = report["wrong_files"]
    assert wrong["file"].endswith("notice-4.eml")
    assert wrong["expected"] == "reject" and wrong["actual"] == "accept" and wrong["missing_rules"] == ["virus"]


def test_offline_text_lists_the_wrong_file(corpus):
    out = bench("--corpus", corpus, "--workers", 1).stdout
    assert "6 messages" in out and "against the manifest: 5 right, 1 wrong" in out
    assert "notice-4.eml: expected reject, got accept" in out


def test_a_manifest_naming_a_missing_file_is_refused(corpus):
    with open(corpus / "manifest.jsonl", "a") as manifest:
        manifest.write('{"file": "gone.eml", "expected": {"action": "accept"}}\n')
    result = bench("--corpus", corpus, check=False)
    assert result.returncode != 0 and "gone.eml" in result.stderr


def test_end_to_end_options_need_smtp(corpus):
    result = bench("--corpus", corpus, "--connections", 4, check=False)
    assert result.returncode != 0 and "--connections needs --smtp" in result.stderr


def test_smtp_load_at_a_gateway_with_the_manifest_envelope(corpus, gateway_factory, upstream):
    gateway = gateway_factory(f"smtp://127.0.0.1:{upstream.port}")
    report = bench_json("--smtp", f"127.0.0.1:{gateway.port}", "--corpus", corpus, "--connections", 3,
                        "--messages", 12, "--per-connection", 2)
    assert report["mode"] == "smtp" and report["connections"] == 3
    # Round robin over six files: each twice, so EICAR is refused twice.
    assert report["messages"] == 12 and report["accepted"] == 10 and report["failures"] == 2
    assert report["errors"] == {}
    assert report["replies"]["250"] == 10 and sum(report["replies"].values()) == 12
    [refusal] = [code for code in report["replies"] if code != "250"]
    assert refusal.startswith("5")
    for key in ["p50_ms", "p90_ms", "p99_ms", "max_ms"]:
        assert isinstance(report[key], (int, float))
    assert "gateway" not in report
    messages = upstream.wait_for_messages(10)
    assert len(messages) == 10
    assert all(m["mail_from"] == SENDER for m in messages)
    # notice-1's two recipients from the manifest, both relayed.
    assert sum(1 for m in messages if sorted(m["rcpt_tos"]) == ["lanhdao@quangninh.gov.vn", "vanphong@quangninh.gov.vn"]) == 2


def test_smtp_self_starts_its_own_gateway_and_sink(corpus):
    report = bench_json("--smtp", "self", "--corpus", corpus, "--connections", 2)
    # Without --messages or --duration: the corpus once.
    assert report["messages"] == 6 and report["accepted"] == 5
    assert report["replies"]["250"] == 5 and sum(report["replies"].values()) == 6
    gateway = report["gateway"]
    assert gateway["sink_messages"] == 5
    assert gateway["peak_rss_mb"] > 0 and gateway["cpu_seconds"] >= 0 and gateway["cpu_ms_per_message"] >= 0
    assert report["started"] == 6


def test_smtp_self_for_a_duration_counts_what_the_sink_got(corpus):
    report = bench_json("--smtp", "self", "--corpus", corpus, "--connections", 2, "--duration", 1, "--per-connection", 3)
    assert report["messages"] > 0 and report["errors"] == {}
    assert report["messages"] == sum(report["replies"].values())
    assert report["gateway"]["sink_messages"] == report["accepted"] == report["replies"]["250"]


def test_hold_opens_every_connection_before_the_burst(corpus):
    """--hold: 30 connections opened, greeted and answered to EHLO, held idle, then one message
    each; the gateway's RSS is read while they are idle."""
    report = bench_json("--smtp", "self", "--corpus", corpus, "--connections", 30, "--hold", 0.5)
    hold = report["hold"]
    assert hold["idle_connections"] == 30 and hold["hold_seconds"] == 0.5
    assert hold["idle_rss_mb"] > 0 and hold["idle_rss_mb"] <= report["gateway"]["peak_rss_mb"]
    # One message per connection, round robin over six files: EICAR five times.
    assert report["messages"] == 30 and report["accepted"] == 25 and report["errors"] == {}
    assert report["gateway"]["sink_messages"] == 25


def test_hold_holds_them_all_at_once(corpus, gateway_factory, upstream):
    """A gateway that takes 12 connections at once: held at once, 20 connections meet its limit
    (the 8 refused at connect answer 421), which one connection after another would not."""
    gateway = gateway_factory(f"smtp://127.0.0.1:{upstream.port}", server={"max_connections": 12})
    report = bench_json("--smtp", f"127.0.0.1:{gateway.port}", "--corpus", corpus, "--connections", 20, "--hold", 0.5)
    # Only the 12 the gateway greeted are held; the other 8 were refused at connect with 421.
    assert report["hold"]["idle_connections"] == 12
    assert report["replies"].get("421") == 8, report
    assert report["messages"] == 20 and "gateway" not in report


def test_hold_is_one_burst(corpus):
    result = bench("--smtp", "self", "--corpus", corpus, "--hold", 1, "--duration", 2, check=False)
    assert result.returncode != 0 and "--hold sends one burst" in result.stderr
    result = bench("--smtp", "self", "--corpus", corpus, "--hold", 30, "--timeout", 20, check=False)
    assert result.returncode != 0 and "shorter than --timeout" in result.stderr


def test_bench_over_a_generated_corpus_finds_every_verdict_right(tmp_path):
    """`thugate corpus generate` and `thugate bench` together: every message of a generated
    corpus (notices, công văn with documents, legacy text, replies, lists and each kind of
    violation) gets the verdict its manifest expects, `tag` included."""
    out = tmp_path / "corpus"
    subprocess.run([str(BINARY), "corpus", "generate", "--seed", "5", "--count", "80", "--out", str(out),
                    "--mix", "violations=0.15,legacy=0.15"], check=True, capture_output=True, timeout=300)
    run = subprocess.run([str(BINARY), "bench", "--corpus", str(out), "--format", "json", "--workers", "2"],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["messages"] == 80 and report["checked"] == 80, report
    assert report["wrong"] == 0, report["wrong_files"]
    assert {"tag", "reject", "quarantine", "accept"} <= set(report["by_expected"]), report["by_expected"]
