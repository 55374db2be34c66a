"""End-to-end test harness: the real `thugate` binary between a real SMTP client and a real
upstream (aiosmtpd), all on 127.0.0.1 with ports picked by the kernel."""
import asyncio
import os
import re
import signal
import smtplib
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
from aiosmtpd.smtp import SMTP as AioSMTP

ROOT = Path(__file__).resolve().parents[2]
BINARY = Path(os.environ.get("THUGATE_BIN", ROOT / ".build" / "debug" / "thugate"))


class Upstream:
    """An aiosmtpd server playing the main mail server. It records every message and can be
    told to refuse recipients, defer or refuse messages, or answer slowly."""

    def __init__(self, tls_context=None, require_starttls=False, smtputf8=True):
        self.messages = []          # dicts: mail_from, rcpt_tos, content (bytes), mail_options
        self.recipients_seen = []   # every RCPT address, accepted or not
        self.connections = 0
        self.closed = 0
        self.refuse_recipients = {}  # address -> reply
        self.data_reply = None       # e.g. "451 4.3.0 Try later"
        self.data_delay = 0.0
        self.rcpt_delay = 0.0
        self.close_after_message = False
        self._tls_context = tls_context
        self._require_starttls = require_starttls
        self._smtputf8 = smtputf8
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        self._ready.wait(10)

    # aiosmtpd handler hooks
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_delay:
            await asyncio.sleep(self.rcpt_delay)
        self.recipients_seen.append(address)
        if address in self.refuse_recipients:
            return self.refuse_recipients[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        if self.data_reply:
            return self.data_reply
        self.messages.append({
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "content": envelope.original_content,
            "mail_options": list(envelope.mail_options),
        })
        if self.close_after_message:
            # As an upstream dropping idle connections would: after the reply has gone out.
            asyncio.get_running_loop().call_later(0.1, server.transport.close)
        return "250 2.0.0 Ok: queued upstream"

    def _factory(self):
        self.connections += 1
        upstream = self

        class CountingSMTP(AioSMTP):
            # As Postfix: message lines longer than 1000 octets are taken (aiosmtpd says 500).
            line_length_limit = 4 * 1024 * 1024

            def connection_lost(self, error):
                upstream.closed += 1
                super().connection_lost(error)

        return CountingSMTP(self, enable_SMTPUTF8=self._smtputf8, decode_data=False, hostname="upstream.test",
                       tls_context=self._tls_context, require_starttls=self._require_starttls,
                       data_size_limit=200 * 1024 * 1024)

    def _run(self):
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            self._loop.create_server(self._factory, "127.0.0.1", 0))
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    def wait_for_messages(self, count, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline and len(self.messages) < count:
            time.sleep(0.02)
        return self.messages

    def stop(self):
        def _stop():
            self._server.close()
            self._loop.stop()
        self._loop.call_soon_threadsafe(_stop)
        self._thread.join(5)


class Gateway:
    """A running `thugate serve` process."""

    def __init__(self, tmp_path, upstream_url, server=None, upstream=None, sections=None, env=None, raw=None, args=()):
        self.tmp = tmp_path
        server = dict(server or {})
        server.setdefault("spool_directory", str(tmp_path / "spool"))
        server.setdefault("hostname", "thugate.test")
        sections = {"server": server, "upstream": dict(upstream or {}), **(sections or {}), "log": {"level": "info"}}
        # The gateway runs in its own directory: point it at the project's test signatures.
        scan = sections["scan"] = dict(sections.get("scan", {}))
        scan.setdefault("signatures", str(ROOT / "Config" / "signatures"))
        scan.setdefault("temporary_directory", str(tmp_path / "tmp"))
        # Paths in the file are relative to its directory (this gateway's own); without them the
        # installation's var/ (the checkout's) would be shared by every test.
        server.setdefault("pid_file", "var/thugate.pid")
        sections.setdefault("quarantine", {}).setdefault("database", "var/quarantine/quarantine.sqlite")
        # The notices' HMAC key is made on first start when agencies are configured: this gateway's own,
        # never the checkout's Config/notice.key (the built-in default).
        sections.setdefault("notify", {}).setdefault("key_file", "var/notice.key")
        # /metrics, /livez, /readyz on a port of its own (the default 9100 is one per machine).
        sections.setdefault("management", {}).setdefault("listen", "127.0.0.1:0")
        # A gateway killed by a test leaves its in-flight hashes in the crash journal: each gateway
        # keeps its own, or one test's SIGKILL would hold another run's identical message.
        scan.setdefault("crash_journal", "var/scan-crashes")
        lines = []
        # A list of tables is an array of tables: {"agency": [{...}, {...}]} writes [[agency]] twice.
        tables = [(f"[[{name}]]", t) for name, v in sections.items() if isinstance(v, list) for t in v]
        tables += [(f"[{name}]", v) for name, v in sections.items() if not isinstance(v, list)]
        for name, values in tables:
            lines.append(name)
            for key, value in values.items():
                if isinstance(value, bool):
                    lines.append(f"{key} = {'true' if value else 'false'}")
                elif isinstance(value, int):
                    lines.append(f"{key} = {value}")
                elif isinstance(value, list):
                    lines.append(f"{key} = [" + ", ".join(f'"{item}"' for item in value) + "]")
                else:
                    lines.append(f'{key} = "{value}"')
        self.config_path = tmp_path / "thugate.toml"
        # `raw`: TOML appended as written (arrays of tables such as [[agency]]).
        self.config_path.write_text("\n".join(lines) + "\n" + (raw or ""))
        self.log_lines = []
        self.proc = subprocess.Popen(
            [str(BINARY), "serve", "--config", str(self.config_path), "--listen", "127.0.0.1:0",
             "--upstream", upstream_url, *args],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=tmp_path,
            env={**os.environ, **env} if env else None)
        self._listening = threading.Event()
        # `--mode milter`: the milter's listener is what is waited for (no SMTP port).
        self._milter_only = "milter" in args and args[list(args).index("milter") - 1] == "--mode"
        self.milter_port = None
        self.management_port = None
        threading.Thread(target=self._read_log, daemon=True).start()
        if not self._listening.wait(30):
            self.kill()
            raise RuntimeError("thugate did not start:\n" + "\n".join(self.log_lines))

    def _read_log(self):
        for raw in self.proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self.log_lines.append(line)
            m = re.search(r"management: /metrics /livez /readyz at [0-9.]+:(\d+)", line)
            if m:
                self.management_port = int(m.group(1))
                continue
            m = re.search(r"milter listening on (?:inet:[0-9.]+:(\d+)|unix:)", line)
            if m:
                if m.group(1):
                    self.milter_port = int(m.group(1))
                if self._milter_only:
                    self._listening.set()
                continue
            m = re.search(r"listening on [0-9.]+:(\d+)", line)
            if m:
                self.port = int(m.group(1))
                if not self._milter_only:
                    self._listening.set()

    def wait_for_log(self, predicate, timeout=10):
        """True once a log line matching `predicate` was read (the log is read by a thread)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if any(predicate(line) for line in list(self.log_lines)):
                return True
            time.sleep(0.02)
        return False

    def connect(self, timeout=10):
        return socket.create_connection(("127.0.0.1", self.port), timeout=timeout)

    def terminate(self, timeout=30):
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture
def upstream():
    server = Upstream()
    yield server
    server.stop()


@pytest.fixture
def gateway_factory(tmp_path):
    started = []

    def make(upstream_url, server=None, upstream=None, sections=None, name="gw", env=None, raw=None, args=()):
        directory = tmp_path / f"{name}{len(started)}"
        directory.mkdir()
        gateway = Gateway(directory, upstream_url, server=server, upstream=upstream, sections=sections, env=env, raw=raw,
                          args=args)
        started.append(gateway)
        return gateway

    yield make
    for gateway in started:
        gateway.kill()


@pytest.fixture
def gateway(gateway_factory, upstream):
    return gateway_factory(f"smtp://127.0.0.1:{upstream.port}")


def send_message(gateway, data, timeout=120):
    """Sends one message from vanthu@ to lanhdao@quangninh.gov.vn with smtplib; returns the code
    and text of the reply to the final dot (250 included)."""
    with smtplib.SMTP("127.0.0.1", gateway.port, timeout=timeout) as client:
        client.ehlo("client.test")
        client.mail("vanthu@quangninh.gov.vn")
        client.rcpt("lanhdao@quangninh.gov.vn")
        code, text = client.data(data)
        return code, text.decode("utf-8", "replace")


class RawClient:
    """A byte-level SMTP client, for what smtplib will not send (pipelining in one write,
    bare LF, over-long lines)."""

    def __init__(self, sock):
        self.sock = sock
        self.buffer = b""

    def send(self, data: bytes):
        self.sock.sendall(data)

    def reply(self):
        """Reads one (possibly multi-line) reply; returns (code, text)."""
        lines = []
        while True:
            while b"\r\n" not in self.buffer:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise ConnectionError("closed; got so far: %r" % self.buffer)
                self.buffer += chunk
            line, self.buffer = self.buffer.split(b"\r\n", 1)
            lines.append(line.decode("utf-8", "replace"))
            if len(line) < 4 or line[3:4] == b" ":
                return int(lines[0][:3]), "\n".join(l[4:] for l in lines)

    def replies(self, n):
        return [self.reply() for _ in range(n)]

    def close(self):
        self.sock.close()


@pytest.fixture
def raw(gateway):
    client = RawClient(gateway.connect())
    assert client.reply()[0] == 220
    yield client
    client.close()


def make_certificate(directory: Path):
    """A self-signed certificate for 127.0.0.1, made at test time with openssl."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=thugate.test", "-addext", "subjectAltName=IP:127.0.0.1,DNS:thugate.test",
                    "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


def quarantine_cli(config_path, *args, check=True):
    """Runs `thugate quarantine ARGS` against the store `config_path` names, as a postmaster would."""
    result = subprocess.run([str(BINARY), "quarantine", *args, "--config", str(config_path)],
                            capture_output=True, timeout=60)
    if check:
        assert result.returncode == 0, (result.returncode, result.stderr.decode(errors="replace"))
    return result


def held_messages(config_path):
    """The held messages, newest first, as `thugate quarantine list --format json` prints them."""
    import json
    out = quarantine_cli(config_path, "list", "--format", "json").stdout.decode()
    return [json.loads(line) for line in out.splitlines()]


def held_raw(config_path, message_id):
    """The original bytes of a held message (`thugate quarantine show ID --raw`)."""
    return quarantine_cli(config_path, "show", message_id, "--raw").stdout


def findings_text(held):
    """A held message's findings as the log writes them: `rule(part): detail; ...`."""
    def one(f):
        return f"{f['rule']}({f['part'] or 'message'}): {f['detail']}" if f["part"] is not None else f"{f['rule']}: {f['detail']}"
    return "; ".join(one(f) for f in held["findings"])


def strip_trace(content: bytes):
    """Splits off the one Received: header ThuGate prepends; returns (header, rest)."""
    assert content.startswith(b"Received: "), content[:200]
    end = content.index(b"\r\n", 0)
    while content[end + 2:end + 3] in (b"\t", b" "):
        end = content.index(b"\r\n", end + 2)
    return content[:end + 2], content[end + 2:]


def has_bare_line_ending(data: bytes) -> bool:
    return re.search(rb"(?<!\r)\n|\r(?!\n)", data) is not None


# Real programs, compiled at test time: Windows PE with Debian's MinGW-w64 cross compilers
# (packages gcc-mingw-w64-{x86-64,i686}-win32, installed by Scripts/setup) and Linux ELF with gcc.
WINDOWS_PROGRAM = b"""#include <windows.h>
int main(void) { MessageBoxA(0, "Xin chao", "ThuGate", MB_OK); return 0; }
"""
WINDOWS_LIBRARY = b"""__declspec(dllexport) int cong(int a, int b) { return a + b; }
"""
LINUX_PROGRAM = b"""#include <stdio.h>
int main(void) { puts("xin chao"); return 0; }
"""
LINUX_LIBRARY = b"""int cong(int a, int b) { return a + b; }
"""


@pytest.fixture(scope="session")
def programs(tmp_path_factory):
    """Real executables by name: `pe64.exe`, `pe32.exe`, `pe64.dll`, `pe32.dll` (MinGW-w64),
    `elf` (PIE), `elf-static`, `elf.so` (gcc), `macho-x86_64.o`, `macho-arm64.o` (clang). A
    missing compiler fails the tests that need one, never skips them."""
    work = tmp_path_factory.mktemp("programs")
    (work / "program.c").write_bytes(WINDOWS_PROGRAM)
    (work / "library.c").write_bytes(WINDOWS_LIBRARY)
    (work / "linux.c").write_bytes(LINUX_PROGRAM)
    (work / "linuxlib.c").write_bytes(LINUX_LIBRARY)
    builds = {
        "pe64.exe": ["x86_64-w64-mingw32-gcc", "-Os", "-o", "pe64.exe", "program.c"],
        "pe32.exe": ["i686-w64-mingw32-gcc", "-Os", "-o", "pe32.exe", "program.c"],
        "pe64.dll": ["x86_64-w64-mingw32-gcc", "-shared", "-o", "pe64.dll", "library.c"],
        "pe32.dll": ["i686-w64-mingw32-gcc", "-shared", "-o", "pe32.dll", "library.c"],
        "elf": ["gcc", "-Os", "-o", "elf", "linux.c"],
        "elf-static": ["gcc", "-Os", "-static", "-o", "elf-static", "linux.c"],
        "elf.so": ["gcc", "-shared", "-fPIC", "-o", "elf.so", "linuxlib.c"],
        # Mach-O objects (MH_OBJECT) from the Swift toolchain's clang; there is no Apple linker here.
        "macho-x86_64.o": ["clang", "-target", "x86_64-apple-macos11", "-c", "-o", "macho-x86_64.o", "linuxlib.c"],
        "macho-arm64.o": ["clang", "-target", "arm64-apple-macos11", "-c", "-o", "macho-arm64.o", "linuxlib.c"],
    }
    built = {}
    for name, command in builds.items():
        result = subprocess.run(command, cwd=work, capture_output=True, text=True)
        assert result.returncode == 0, f"{' '.join(command)} failed (Scripts/setup installs the compilers):\n{result.stderr}"
        built[name] = (work / name).read_bytes()
    return built


# Tests run their gateways in their own directories: nothing may appear in the checkout's Config/
# (a built-in default path such as the notice key resolves there).
CONFIG_FILES_AT_START = {p.relative_to(ROOT) for p in (ROOT / "Config").rglob("*")}


def pytest_sessionfinish(session, exitstatus):
    """A run of the end-to-end suite that ran nothing, or less than it collected, fails: a
    missing tool or an import error must never look like a green run. (pytest itself exits 5
    when nothing is collected and 2 on a collection error; skips are caught here.)"""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    stats = reporter.stats if reporter else {}
    ran = sum(len(stats.get(key, [])) for key in ("passed", "failed", "error", "xfailed", "xpassed"))
    skipped = len(stats.get("skipped", []))
    created = {p.relative_to(ROOT) for p in (ROOT / "Config").rglob("*")} - CONFIG_FILES_AT_START
    if created:
        if reporter:
            reporter.write_line(f"end-to-end: FAILED: tests wrote into the checkout: {sorted(map(str, created))}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    if exitstatus == 0 and (session.testscollected == 0 or ran == 0 or skipped):
        if reporter:
            reporter.write_line(f"end-to-end: FAILED: {session.testscollected} collected, {ran} ran, {skipped} skipped; "
                                "every collected test must run", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
