"""ThuGate's milter driven by Debian's `miltertest` (issue 15): an MTA side written by others
(OpenDKIM's, on libmilter's definitions), scripted in Lua (Tests/EndToEnd/miltertest/). What the
milter asks the MTA to change must be what the proxy's own transform makes of the same message
(`thugate normalize`), with and without `SMFIP_HDR_LEADSPC`."""
import re
import subprocess
import unicodedata
from pathlib import Path

import pytest

import samples
from conftest import BINARY, ROOT
from test_milter import milter_gateway
from test_text import SUBJECT, TEXT, tcvn3

SCRIPTS = ROOT / "Tests" / "EndToEnd" / "miltertest"


def miltertest(script, **defines):
    arguments = ["miltertest", "-s", str(SCRIPTS / script)]
    for name, value in defines.items():
        arguments += ["-D", f"{name}={value}"]
    run = subprocess.run(arguments, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and f"ok {script[:-4]}" in run.stdout, run.stdout + run.stderr
    return run


def field(message: bytes, name: bytes) -> str:
    """The raw value of a header field, after its colon and space, unfolded lines kept as LF."""
    match = re.search(rb"(?m)^" + name + rb": ((?:.*)(?:\r\n[ \t].*)*)\r\n", message.split(b"\r\n\r\n", 1)[0] + b"\r\n")
    assert match, (name, message[:500])
    return match.group(1).replace(b"\r\n", b"\n").decode()


@pytest.mark.parametrize("leadspc", ["1", "0"])
def test_tcvn3_rewrite_matches_the_proxys_transform(gateway_factory, upstream, tmp_path, leadspc):
    # miltertest reads at most 1,024 bytes per packet (a fixed buffer): the body comes in 1,000.
    gateway = milter_gateway(gateway_factory, upstream, sections={"milter": {"body_chunk_size": 1000}})
    subject = "=?iso-8859-1?Q?" + "".join(f"={b:02X}" if b >= 0x80 or b in b" _=?" else chr(b) for b in tcvn3(SUBJECT)) + "?="
    # Over 200 KB: the new body comes back in some 300 SMFIR_REPLBODY packets.
    body = tcvn3(TEXT * 1500)
    assert len(body) > 200_000
    (tmp_path / "body").write_bytes(body)
    message = (b"From: Van thu <vanthu@quangninh.gov.vn>\r\nTo: lanhdao@quangninh.gov.vn\r\nSubject: " + subject.encode()
               + b"\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
               + body)
    (tmp_path / "message.eml").write_bytes(message)
    normalized = subprocess.run([str(BINARY), "normalize", str(tmp_path / "message.eml")], capture_output=True, check=True,
                                timeout=120).stdout
    assert normalized != message
    (tmp_path / "newbody").write_bytes(normalized.split(b"\r\n\r\n", 1)[1])
    miltertest("rewrite.lua", port=gateway.milter_port, leadspc=leadspc, subject=subject, bodyfile=tmp_path / "body",
               newsubject=field(normalized, b"Subject"), normalized=field(normalized, b"X-ThuGate-Normalized"),
               newbody=tmp_path / "newbody")
    assert gateway.wait_for_log(lambda line: "4MTQID1: client=client.example[203.0.113.9]" in line and "result=sent" in line)


def test_abort_between_two_messages_then_a_refusal(gateway_factory, upstream, tmp_path):
    gateway = milter_gateway(gateway_factory, upstream)
    (tmp_path / "eicar").write_bytes(b"Test: " + samples.EICAR + b"\r\n")
    # The proxy's refusal, folded to ASCII: this MTA does not say it is Postfix (macro `v`).
    vietnamese = "Thư chứa virus, mã độc (Quy chế Đ15 k5) / Virus found: ThuGate.Test.EICAR.UNOFFICIAL (part 1)"
    folded = "".join(c for c in unicodedata.normalize("NFD", vietnamese.replace("đ", "d").replace("Đ", "D"))
                     if not unicodedata.combining(c))
    miltertest("abort.lua", port=gateway.milter_port, eicarfile=tmp_path / "eicar", reply=folded)
    assert gateway.wait_for_log(lambda line: "from=<b@example.org>" in line and "result=rejected" in line)
    assert not any("from=<a@example.org>" in line for line in gateway.log_lines)
