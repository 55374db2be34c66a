"""A crash never becomes a crash loop (issue 9, item 1).

The fault is injected from outside: a small LD_PRELOAD library, compiled here with gcc, wraps
libclamav's `cl_fmap_open_memory` (ThuGate maps every part with it just before
`cl_scanmap_callback`) and calls abort() when the part holds a marker. The gateway dies on the
marked message; started again (with the same fault still armed) it must hold that message in the
quarantine with a `scan-crash` finding instead of scanning it, stay up, and deliver other mail.
"""
import hashlib
import smtplib
import subprocess

import pytest

import samples
from conftest import findings_text, held_messages, held_raw, send_message as send

MARKER = b"THUGATE-INJECTED-FAULT-7f3a"

FAULT = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

/* libclamav: cl_fmap_t *cl_fmap_open_memory(const void *start, size_t len); */
void *cl_fmap_open_memory(const void *start, size_t len) {
    static void *(*real)(const void *, size_t);
    if (!real) real = (void *(*)(const void *, size_t))dlsym(RTLD_NEXT, "cl_fmap_open_memory");
    if (memmem(start, len, "%s", %d)) abort();
    return real(start, len);
}
"""


@pytest.fixture
def fault(tmp_path):
    source = tmp_path / "fault.c"
    source.write_text(FAULT % (MARKER.decode(), len(MARKER)))
    library = tmp_path / "fault.so"
    subprocess.run([samples.tool("gcc"), "-shared", "-fPIC", "-O2", str(source), "-o", str(library), "-ldl"], check=True)
    return {"LD_PRELOAD": str(library)}




def test_a_message_that_crashed_the_scanner_is_held_after_the_restart(gateway_factory, upstream, tmp_path, fault):
    sections = {"scan": {"crash_journal": str(tmp_path / "state" / "scan-crashes")},
                "quarantine": {"database": str(tmp_path / "quarantine" / "quarantine.sqlite")}}
    url = f"smtp://127.0.0.1:{upstream.port}"
    marked = samples.message("du-lieu.bin", "application/octet-stream", b"header\n" + MARKER + b"\n" * 10)
    clean = samples.message("ghi-chu.txt", "text/plain", b"binh thuong\n")

    first = gateway_factory(url, sections=sections, env=fault)
    assert send(first, clean)[0] == 250, "the fault must fire only on the marker"
    with pytest.raises((smtplib.SMTPServerDisconnected, ConnectionError)):
        send(first, marked)
    assert first.proc.wait(30) != 0, "the injected fault did not kill the gateway"
    assert (tmp_path / "state" / "scan-crashes").stat().st_size > 0

    # Restarted with the fault still armed: the message is not scanned again.
    second = gateway_factory(url, sections=sections, env=fault)
    digest = hashlib.sha256(marked).hexdigest()
    assert second.wait_for_log(lambda line: "crash journal" in line and digest in line), "\n".join(second.log_lines)
    assert (tmp_path / "state" / "scan-crashes.crashed").read_text().split() == [digest]
    for attempt in range(2):  # the sender's retries: held each time, never a crash
        code, text = send(second, marked)
        assert code == 250 and "Held for review" in text, (code, text)
        assert second.proc.poll() is None
    held = held_messages(second.config_path)
    assert len(held) == 2
    found = findings_text(held[-1])
    assert "scan-crash: message sha256:" + digest in found
    assert "could not be checked" in found and held_raw(second.config_path, held[-1]["id"]) == marked
    assert second.wait_for_log(lambda line: "scan-crash" in line and "result=sent" in line)
    # Other mail is scanned and delivered as before.
    assert send(second, clean)[0] == 250
    assert len(upstream.wait_for_messages(2)) == 2 and all(m["content"].endswith(clean) for m in upstream.messages)
    assert second.proc.poll() is None
    assert second.terminate() == 0


def test_an_operator_lets_the_message_be_scanned_again(gateway_factory, upstream, tmp_path, fault):
    """Deleting its line from the .crashed list: the message is scanned (and, the fault gone, delivered)."""
    journal = tmp_path / "scan-crashes"
    sections = {"scan": {"crash_journal": str(journal)}, "quarantine": {"database": str(tmp_path / "q" / "quarantine.sqlite")}}
    url = f"smtp://127.0.0.1:{upstream.port}"
    marked = samples.message("x.bin", "application/octet-stream", MARKER)
    first = gateway_factory(url, sections=sections, env=fault)
    with pytest.raises((smtplib.SMTPServerDisconnected, ConnectionError)):
        send(first, marked)
    first.proc.wait(30)
    second = gateway_factory(url, sections=sections)
    assert send(second, marked)[0] == 250 and upstream.messages == []
    assert second.terminate() == 0
    (tmp_path / "scan-crashes.crashed").write_text("")
    third = gateway_factory(url, sections=sections)
    assert send(third, marked)[0] == 250
    assert len(upstream.wait_for_messages(1)) == 1
