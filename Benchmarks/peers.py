#!/usr/bin/env python3
"""ThuGate side by side with its peers (issue 14), in one run on this machine: the same messages,
the same concurrency, the same sink (Postfix's smtp-sink), every process inside a network
namespace with only loopback.

    Benchmarks/peers.py [--systems direct,thugate,clamsmtp,postfix-milter,postfix-thugate,postfix-rspamd,amavis] [--sizes small,medium,large]
                        [--corpus DIR] [--connections 1,10,50] [--seconds 10] [--reps 2]
                        [--load-tool CMD] [--thugate BIN] [--markdown FILE] [--smoke-only]

Systems:
- direct: the load client straight into the sink, the raw limit;
- thugate: `thugate serve` with the shipped Config/thugate.toml (every rule on), only its
  listen address, upstream, paths and temporary directory changed, scanning with the project's
  own test signatures (Config/signatures);
- clamsmtp: clamsmtpd (Debian's /etc/clamsmtpd.conf, Listen/OutAddress/paths changed) in front
  of clamd (Debian's /etc/clamav/clamd.conf, its socket, database and paths changed) loaded
  with the same test signatures, relaying to the sink;
- postfix-thugate: the same private Postfix calling `thugate serve --mode milter` (shipped
  defaults) over loopback TCP (issue 15);
- postfix-rspamd: the same private Postfix calling rspamd's milter proxy (Debian's rspamd
  configuration, its antivirus module on its own clamd with the same signatures, no Redis, DNS
  refused at once on loopback);
- postfix-milter: a private Postfix instance (`postfix -c DIR start`, its own queue) with
  smtpd_milters to clamav-milter (Debian's configuration, OnInfected Reject) on its own clamd,
  relayhost the sink. Store and forward: its rate is end to end, messages counted arriving at
  the sink (smtp-sink -c) from the start of the load until the queue has drained;
- amavis: amavisd-new (`amavisd -c FILE foreground`, its default 2 children, virus check only,
  D_REJECT) on its own clamd, forwarding to the sink.

Before the measured runs a smoke step sends one clean and one EICAR message to each system and
checks that the clean one reaches the sink and the EICAR one is refused. Messages: --corpus DIR
(.eml files) or three built-in sizes generated here (small ~4 KB text; medium ~112 KB: text, a
zip of a 59 KB text and a 29 KB binary, a 29 KB PDF; large: a 5 MiB attachment), distinct bytes
per message for a load tool that sends a corpus. Missing Debian packages are installed with
apt-get (no recommends, their services kept from starting). Everything this script starts is
stopped at the end, on failure and on Ctrl-C too: the namespace, the daemons, the temporary
directories. Progress goes to stderr; the Markdown tables to stdout (and --markdown FILE)."""
import argparse
import atexit
import io
import json
import os
import random
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
import zlib
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NAMESPACE = "thugate-peers"
SINK_PORT, THUGATE_PORT, CLAMSMTP_PORT, POSTFIX_PORT, AMAVIS_PORT, THUGATE_MILTER_PORT = 2600, 2601, 2602, 2603, 2604, 2605
RSPAMD_MILTER_PORT, RSPAMD_NORMAL_PORT, RSPAMD_CONTROLLER_PORT = 2606, 2607, 2608
SYSTEMS = ["direct", "thugate", "clamsmtp", "postfix-milter", "postfix-thugate", "postfix-rspamd", "amavis"]
LABELS = {
    "direct": "client → sink directly",
    "thugate": "ThuGate, shipped defaults (every rule on)",
    "clamsmtp": "clamsmtp + clamd (inline)",
    "postfix-milter": "Postfix + clamav-milter (store and forward, end to end)",
    "postfix-thugate": "Postfix + ThuGate as its milter (store and forward, end to end)",
    "postfix-rspamd": "Postfix + rspamd (milter proxy, antivirus on clamd; store and forward)",
    "amavis": "amavisd-new + clamd (inline)",
}
PACKAGES = {
    "direct": ["postfix"],
    "thugate": ["postfix"],
    "clamsmtp": ["postfix", "clamsmtp", "clamav-daemon"],
    "postfix-milter": ["postfix", "clamav-daemon", "clamav-milter"],
    "postfix-thugate": ["postfix"],
    "postfix-rspamd": ["postfix", "clamav-daemon", "rspamd"],
    "amavis": ["postfix", "clamav-daemon", "amavisd-new"],
}
# The daemons the Debian packages would start; any that appear during the install are stopped.
SERVICE_NAMES = {"clamd", "clamsmtpd", "freshclam", "clamav-milter", "master", "amavisd-new", "amavisd", "rspamd"}
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def log(text):
    print(text, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Cleanup: every start registers its undo; they run in reverse order exactly once, at the end,
# on an exception, on Ctrl-C (KeyboardInterrupt) and on SIGTERM/SIGHUP (turned into SystemExit).

_undo = []


def on_cleanup(action, what):
    _undo.append((action, what))


def cleanup():
    while _undo:
        action, what = _undo.pop()
        try:
            action()
        except Exception as error:  # one failed undo must not keep the others from running
            log(f"cleanup of {what}: {error}")


atexit.register(cleanup)


def _terminate(signum, _frame):
    raise SystemExit(128 + signum)


def in_namespace(args):
    return ["ip", "netns", "exec", NAMESPACE] + [str(a) for a in args]


def stop_process(proc, grace=20):
    """SIGTERM to the process group (the daemon and any helper it forked), SIGKILL after grace."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


def start(args, name, log_path, stdout=None):
    """A daemon in the namespace, in its own session (Ctrl-C reaches us, and we stop it)."""
    # `ip netns exec` execs the command: the pid is the daemon's own (for its RSS and CPU).
    proc = subprocess.Popen(in_namespace(args), stdin=subprocess.DEVNULL, stdout=stdout or open(log_path, "ab"),
                            stderr=open(log_path, "ab"), start_new_session=True)
    on_cleanup(lambda: stop_process(proc), name)
    return proc


def stop_pid_file(path, name):
    try:
        pid = int(Path(path).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    for _ in range(100):
        if not Path(f"/proc/{pid}").exists():
            return
        time.sleep(0.1)
    log(f"{name} (pid {pid}) ignores SIGTERM: SIGKILL")
    os.kill(pid, signal.SIGKILL)


def wait_port(port, timeout=30, proc=None):
    """Whether something accepts on 127.0.0.1:port inside the namespace."""
    deadline = time.time() + timeout
    probe = f"import socket; socket.create_connection(('127.0.0.1', {port}), timeout=1).close()"
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the server for port {port} exited with {proc.returncode}")
        if subprocess.run(in_namespace([sys.executable, "-c", probe]), capture_output=True).returncode == 0:
            return
        time.sleep(0.2)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} in {NAMESPACE}")


def wait_path(path, timeout=60, proc=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if Path(path).exists():
            return
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{path}: the server exited with {proc.returncode}")
        time.sleep(0.1)
    raise RuntimeError(f"{path} did not appear")


def peak_rss_mb(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def cpu_seconds(pid):
    """User plus system CPU time of a process so far; a callable is asked instead (Postfix)."""
    if callable(pid):
        return pid()
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------------------------------------
# Setup: packages, namespace.

def tree_cpu(pid):
    """CPU so far of a pre-forking server: its own, its reaped children's (cutime, cstime) and
    its live children's."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    ticks = sum(int(f) for f in fields[11:15])
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                child = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(child[1]) == pid:
                ticks += int(child[11]) + int(child[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def package_version(name):
    out = subprocess.run(["dpkg-query", "-W", "-f=${Status}\t${Version}", name], capture_output=True, text=True)
    status, _, version = out.stdout.partition("\t")
    return version if out.returncode == 0 and status.endswith(" installed") else None


def service_pids():
    pids = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() in SERVICE_NAMES:
                    pids.add(int(entry.name))
            except OSError:
                pass
    return pids


def install(packages):
    missing = [p for p in dict.fromkeys(packages) if package_version(p) is None]
    if not missing:
        return
    log(f"installing {' '.join(missing)} (apt-get, no recommends, services kept from starting) ...")
    guard = Path("/usr/sbin/policy-rc.d")
    own_guard = not guard.exists()
    if own_guard:
        # invoke-rc.d asks policy-rc.d before starting a service: 101 means "not allowed".
        guard.write_text("#!/bin/sh\nexit 101\n")
        guard.chmod(0o755)
    before = service_pids()
    try:
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "install", "-y", "--no-install-recommends"] + missing, check=True, env=env,
                       stdout=sys.stderr)
    finally:
        if own_guard:
            guard.unlink()
        for pid in service_pids() - before:
            log(f"stopping pid {pid}, started by the package install")
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass


def make_namespace():
    if subprocess.run(["ip", "netns", "pids", NAMESPACE], capture_output=True).returncode == 0:
        raise SystemExit(f"network namespace {NAMESPACE} exists: another run, or a leftover "
                         f"(`ip netns del {NAMESPACE}`)")
    subprocess.run(["ip", "netns", "add", NAMESPACE], check=True)
    on_cleanup(lambda: subprocess.run(["ip", "netns", "del", NAMESPACE], check=True), "the network namespace")
    subprocess.run(in_namespace(["ip", "link", "set", "lo", "up"]), check=True)


# ---------------------------------------------------------------------------------------------
# Messages.

def vietnamese_text(rng, size, token):
    words = ("Ủy ban nhân dân tỉnh Quảng Ninh thông báo lịch họp giao ban tuần của các sở ban ngành về "
             "việc triển khai kế hoạch chuyển đổi số năm 2026 đề nghị các đơn vị chuẩn bị báo cáo đúng hạn "
             "trân trọng kính gửi văn phòng công văn số quyết định phê duyệt dự toán ngân sách").split()
    lines = [f"Mã văn bản: {token}"]
    length = 0
    while length < size:
        line = " ".join(rng.choice(words) for _ in range(12)).capitalize() + "."
        lines.append(line)
        length += len(line.encode()) + 1
    return "\n".join(lines) + "\n"


def pdf_document(rng, size, token):
    """A small valid PDF: one page whose content stream holds text lines (deflated) up to size."""
    text_lines, raw = [], b""
    while len(raw) < size:
        # Random hex keeps the deflated stream from shrinking much: about 30 bytes a line.
        for _ in range(max(1, (size - len(raw)) // 30)):
            text_lines.append(f"({token} {rng.getrandbits(64):016x} bao cao tien do thang {rng.randint(1, 12)}) Tj T*\n")
        raw = zlib.compress(("BT /F1 9 Tf 11 TL 40 800 Td\n" + "".join(text_lines) + "ET\n").encode(), 6)
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> "
               b"/Contents 4 0 R >>",
               b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(raw) + raw + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def message(size, index, rng, eicar=False):
    token = f"peers-{size}-{index:04d}-{rng.getrandbits(32):08x}"
    msg = EmailMessage()
    msg["From"] = "Văn phòng UBND <vanphong@quangninh.gov.vn>"
    msg["To"] = "sink@quangninh.gov.vn"
    msg["Subject"] = f"Thông báo lịch họp giao ban ({token})"
    msg["Message-ID"] = f"<{token}@quangninh.gov.vn>"
    msg["Date"] = "Tue, 01 Dec 2026 08:00:00 +0700"
    if size == "small":
        msg.set_content(vietnamese_text(rng, 3600, token))
    elif size == "medium":
        msg.set_content(vietnamese_text(rng, 7000, token))
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("bao-cao.txt", vietnamese_text(rng, 59 * 1024, token))
            z.writestr("so-lieu.bin", rng.randbytes(29 * 1024))
        msg.add_attachment(archive.getvalue(), maintype="application", subtype="zip", filename="tai-lieu.zip")
        msg.add_attachment(pdf_document(rng, 29 * 1024, token), maintype="application", subtype="pdf",
                           filename="cong-van.pdf")
    elif size == "large":
        msg.set_content(vietnamese_text(rng, 1000, token))
        msg.add_attachment(rng.randbytes(5 * 1024 * 1024), maintype="application", subtype="octet-stream",
                           filename="ban-do.dat")
    else:
        raise ValueError(size)
    if eicar:
        msg.add_attachment(EICAR, maintype="application", subtype="octet-stream", filename="eicar.com")
    return msg.as_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def built_in_corpus(work, sizes, count):
    corpora = {}
    for size in sizes:
        directory = Path(work) / "corpus" / size
        directory.mkdir(parents=True)
        rng = random.Random(f"peers-{size}")
        for index in range(count if size != "large" else max(1, count // 30)):
            (directory / f"{size}-{index:04d}.eml").write_bytes(message(size, index, rng))
        sample = next(directory.iterdir()).stat().st_size
        log(f"corpus {size}: {len(list(directory.iterdir()))} messages of about {sample / 1024:.0f} KB")
        corpora[size] = directory
    return corpora


# ---------------------------------------------------------------------------------------------
# The load tool: the only place that knows its command line and its output.

def run_load(tool, port, corpus, connections, seconds):
    """One measured run; returns {"messages_per_second", "messages", "failures", "p50_ms", "p99_ms"}.

    `thugate bench` (tool "…/thugate bench") sends the corpus round robin, one message per
    connection, pipelining only when the server announces it. `thugate-load` (the tool before
    it) sends the corpus's first file over and over on each connection, always pipelined: servers
    that do not announce PIPELINING (clamsmtpd) cut it off."""
    if Path(tool[0]).name == "thugate-load":
        first = sorted(Path(corpus).glob("*.eml"))[0]
        args = tool + ["--server", f"127.0.0.1:{port}", "--connections", connections, "--seconds", seconds,
                       "--message-file", first]
    else:
        args = tool + ["--smtp", f"127.0.0.1:{port}", "--corpus", corpus, "--connections", connections,
                       "--duration", seconds, "--warm-up", 1, "--format", "json"]
    out = subprocess.run(in_namespace(args), capture_output=True, text=True, timeout=seconds + 900)
    if out.returncode != 0:
        hint = " (thugate-load pipelines even when PIPELINING is not announced)" if "thugate-load" in tool[0] else ""
        raise RuntimeError(f"load tool failed ({out.returncode}){hint}: {out.stderr.strip()[-2000:]}")
    try:
        report = json.loads(out.stdout)
    except ValueError:
        report = json.loads(out.stdout.strip().splitlines()[-1])
    failures = report.get("failures", 0)
    rate = float(report["messages_per_second"])
    if "accepted" in report and report.get("seconds"):
        rate = report["accepted"] / report["seconds"]  # replies other than 250 are not throughput
    return {
        "messages_per_second": rate,
        "messages": int(report.get("accepted", report.get("messages", 0))),
        "failures": int(failures) + sum((report.get("errors") or {}).values()),
        "p50_ms": report.get("p50_ms"),
        "p99_ms": report.get("p99_ms"),
    }


# ---------------------------------------------------------------------------------------------
# The sink and the systems.

class Sink:
    """smtp-sink on 127.0.0.1:2600 in the namespace; -c prints a running count of messages."""

    def __init__(self, work):
        self.count = 0
        self.changed = time.time()
        args = ["smtp-sink", "-c"] + (["-u", "nobody"] if os.geteuid() == 0 else []) + [f"127.0.0.1:{SINK_PORT}", "1024"]
        self.proc = start(args, "smtp-sink", Path(work) / "smtp-sink.log", stdout=subprocess.PIPE)
        threading.Thread(target=self._read, daemon=True).start()
        wait_port(SINK_PORT, proc=self.proc)

    def _read(self):
        pending = b""
        while True:
            chunk = self.proc.stdout.read1(4096)
            if not chunk:
                return
            pending += chunk
            counts = re.findall(rb"mesg=(\d+)", pending)
            if counts and int(counts[-1]) != self.count:
                self.count = int(counts[-1])
                self.changed = time.time()
            pending = pending[-64:]

    def settle(self, quiet=2.0, timeout=600, busy=lambda: False):
        """Waits until no message has arrived for `quiet` seconds and `busy()` is false; the
        time the last one arrived."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if time.time() - self.changed >= quiet and not busy():
                return self.changed
            time.sleep(0.1)
        raise RuntimeError("the sink kept receiving (or the queue did not drain)")


class Direct:
    port = SINK_PORT
    store_and_forward = False

    def __init__(self, work, sink, options):
        self.processes = {}

    def stop(self):
        pass


def shipped_config(home):
    """The shipped Config/thugate.toml under home/etc, its relative paths resolving beside it
    (../var is home/var), its own notices and test signatures; only what would collide on this
    machine is changed. Returns the file's path."""
    etc = home / "etc"
    etc.mkdir(parents=True)
    shutil.copytree(ROOT / "Config" / "signatures", etc / "signatures")
    shutil.copytree(ROOT / "Config" / "notices", etc / "notices")
    text = (ROOT / "Config" / "thugate.toml").read_text()
    text, n = re.subn(r'(?m)^temporary_directory = ".*"$', f'temporary_directory = "{home}/tmp"', text)
    assert n == 1, "Config/thugate.toml: [scan] temporary_directory not found"
    (etc / "thugate.toml").write_text(text)
    return etc / "thugate.toml"


class ThuGateSystem:
    port = THUGATE_PORT
    store_and_forward = False

    def __init__(self, work, sink, options):
        home = Path(work) / "thugate"
        config = shipped_config(home)
        self.log_path = home / "thugate.log"
        self.proc = start([options.thugate, "serve", "--config", config, "--listen",
                           f"127.0.0.1:{THUGATE_PORT}", "--upstream", f"smtp://127.0.0.1:{SINK_PORT}"],
                          "thugate", self.log_path)
        wait_port(THUGATE_PORT, proc=self.proc)
        self.processes = {"thugate": self.proc.pid}

    def stop(self):
        stop_process(self.proc, grace=60)


def debian_config(path, overrides, drop=()):
    """Debian's shipped file with some keys replaced (clamd.conf, clamav-milter.conf, clamsmtpd.conf)."""
    names = {key.lower() for key in overrides} | {key.lower() for key in drop}
    lines = []
    for line in Path(path).read_text().splitlines():
        key = line.split(":")[0].split()[0].lower() if line.strip() and not line.startswith("#") else None
        if key not in names:
            lines.append(line)
    return "\n".join(lines + [f"{key} {value}" for key, value in overrides.items()]) + "\n"


class Clamd:
    def __init__(self, directory):
        directory.mkdir(parents=True)
        directory.chmod(0o755)  # Postfix's smtpd (user postfix) reaches the milter socket here
        shutil.copytree(ROOT / "Config" / "signatures", directory / "db")
        (directory / "tmp").mkdir()
        self.socket = directory / "clamd.sock"
        config = directory / "clamd.conf"
        config.write_text(debian_config("/etc/clamav/clamd.conf", {
            "LocalSocket": self.socket, "DatabaseDirectory": directory / "db", "TemporaryDirectory": directory / "tmp",
            "Foreground": "true", "LogFile": directory / "clamd.log", "PidFile": directory / "clamd.pid",
        }, drop=("User", "LocalSocketGroup", "LogRotate")))
        self.proc = start(["clamd", "--config-file", config], "clamd", directory / "clamd.out")
        wait_path(self.socket, proc=self.proc)


class ClamSMTP:
    port = CLAMSMTP_PORT
    store_and_forward = False

    def __init__(self, work, sink, options):
        directory = Path(work) / "clamsmtp"
        self.clamd = Clamd(directory / "clamd")
        (directory / "tmp").mkdir()
        self.pid_file = directory / "clamsmtpd.pid"
        # Keys take a colon in clamsmtpd.conf ("Listen: 127.0.0.1:10026").
        config = directory / "clamsmtpd.conf"
        text = debian_config("/etc/clamsmtpd.conf", {}, drop=("User", "Listen", "OutAddress", "ClamAddress",
                                                              "TempDirectory", "PidFile", "Action"))
        # Action: bounce answers 550 to the client, as the other systems refuse; Debian's default
        # (drop) answers 250 and discards.
        text += ("Action: bounce\n"
                 f"Listen: 127.0.0.1:{CLAMSMTP_PORT}\nOutAddress: 127.0.0.1:{SINK_PORT}\n"
                 f"ClamAddress: {self.clamd.socket}\nTempDirectory: {directory / 'tmp'}\nPidFile: {self.pid_file}\n")
        config.write_text(text)
        # clamsmtpd forks into the background (its -d debug mode would log every message).
        proc = start(["clamsmtpd", "-f", config, "-p", self.pid_file], "clamsmtpd", directory / "clamsmtpd.log")
        on_cleanup(lambda: stop_pid_file(self.pid_file, "clamsmtpd"), "clamsmtpd")
        proc.wait(30)
        wait_path(self.pid_file)
        wait_port(CLAMSMTP_PORT)
        self.processes = {"clamsmtpd": int(self.pid_file.read_text().split()[0]), "clamd": self.clamd.proc.pid}

    def stop(self):
        stop_pid_file(self.pid_file, "clamsmtpd")
        stop_process(self.clamd.proc)


MASTER_CF = """\
127.0.0.1:{port} inet n - n - - smtpd
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
smtp      unix  - - n - - smtp
relay     unix  - - n - - smtp
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
"""


class PostfixMilter:
    port = POSTFIX_PORT
    store_and_forward = True

    def __init__(self, work, sink, options):
        directory = Path(work) / "postfix"
        self.clamd = Clamd(directory / "clamd")
        milter_socket = directory / "clamd" / "milter.sock"
        milter_config = directory / "clamav-milter.conf"
        milter_config.write_text(debian_config("/etc/clamav/clamav-milter.conf", {
            "MilterSocket": f"unix:{milter_socket}", "ClamdSocket": f"unix:{self.clamd.socket}", "Foreground": "true",
            # Debian quarantines (Postfix's hold queue); refused is what the other systems do.
            "OnInfected": "Reject", "RejectMsg": '"Virus found: %v"', "PidFile": directory / "clamav-milter.pid",
            "LogFile": directory / "clamav-milter.log", "TemporaryDirectory": directory / "clamd" / "tmp",
        }, drop=("User", "MilterSocketGroup", "LogRotate")))
        self.milter = start(["clamav-milter", "--config-file", milter_config], "clamav-milter",
                            directory / "clamav-milter.out")
        wait_path(milter_socket, proc=self.milter)

        self._start_postfix(directory, f"unix:{milter_socket}")
        self.processes = {"clamd": self.clamd.proc.pid, "clamav-milter": self.milter.pid, "postfix": self.cpu}

    def _start_postfix(self, directory, milter):
        """The private Postfix instance, calling `milter` (its `smtpd_milters`), relaying to the sink."""
        self.etc = directory / "etc"
        self.etc.mkdir()
        self.queue = directory / "queue"
        self.queue.mkdir()  # `postfix check` makes its subdirectories with their owners
        (directory / "data").mkdir()
        shutil.chown(directory / "data", "postfix", "postfix")
        (self.etc / "master.cf").write_text(MASTER_CF.format(port=POSTFIX_PORT))
        (self.etc / "main.cf").write_text(f"""\
compatibility_level = 3.6
queue_directory = {self.queue}
data_directory = {directory / 'data'}
mail_owner = postfix
setgid_group = postdrop
myhostname = postfix-peer.localdomain
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost = [127.0.0.1]:{SINK_PORT}
smtp_dns_support_level = disabled
smtp_host_lookup = native
alias_maps =
alias_database =
local_recipient_maps =
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_milters = {milter}
milter_default_action = tempfail
maillog_file_prefixes = {directory}
maillog_file = {directory / 'maillog'}
message_size_limit = 36700160
""")
        subprocess.run(in_namespace(["postfix", "-c", self.etc, "check"]), check=True, stdout=sys.stderr,
                       stderr=sys.stderr)
        on_cleanup(self._stop_postfix, "postfix")
        subprocess.run(in_namespace(["postfix", "-c", self.etc, "start"]), check=True, stdout=sys.stderr,
                       stderr=sys.stderr)
        wait_port(POSTFIX_PORT)

    def cpu(self):
        """Postfix's CPU so far: master's, with its children's (smtpd, cleanup, qmgr, smtp, ...)."""
        try:
            return tree_cpu(int((self.queue / "pid" / "master.pid").read_text().split()[0]))
        except (OSError, ValueError, IndexError):
            return float("nan")

    def queued(self):
        for name in ("incoming", "active", "deferred", "maildrop"):
            for _, _, files in os.walk(self.queue / name):
                if files:
                    return True
        return False

    def _stop_postfix(self):
        if (self.queue / "pid" / "master.pid").exists():
            subprocess.run(in_namespace(["postfix", "-c", self.etc, "stop"]), stdout=sys.stderr, stderr=sys.stderr)
            stop_pid_file(self.queue / "pid" / "master.pid", "postfix master")

    def stop(self):
        self._stop_postfix()
        stop_process(self.milter)
        stop_process(self.clamd.proc)


class PostfixThuGate(PostfixMilter):
    """The same private Postfix, calling `thugate serve --mode milter` (shipped defaults, every
    rule on) on loopback TCP instead of clamav-milter (issue 15)."""

    def __init__(self, work, sink, options):
        directory = Path(work) / "postfix-thugate"
        directory.mkdir(parents=True)
        home = Path(work) / "thugate-milter"
        config = shipped_config(home)
        self.thugate = start([options.thugate, "serve", "--config", config, "--mode", "milter",
                              "--milter-listen", f"inet:127.0.0.1:{THUGATE_MILTER_PORT}",
                              "--upstream", f"smtp://127.0.0.1:{SINK_PORT}"], "thugate (milter)", home / "thugate.log")
        wait_port(THUGATE_MILTER_PORT, proc=self.thugate)
        self._start_postfix(directory, f"inet:127.0.0.1:{THUGATE_MILTER_PORT}")
        self.processes = {"thugate": self.thugate.pid, "postfix": self.cpu}

    def stop(self):
        self._stop_postfix()
        stop_process(self.thugate, grace=60)


class PostfixRspamd(PostfixMilter):
    """The same private Postfix calling rspamd's proxy worker in milter mode (Debian's
    configuration: the proxy hands each message to the normal workers), with rspamd's antivirus
    module on its own clamd (the same test signatures, action reject, text parts scanned too).
    No Redis and no network: rspamd's DNS goes to 127.0.0.1:53, which refuses at once, so no
    lookup waits (its RBL, SPF and DKIM checks find nothing)."""

    def __init__(self, work, sink, options):
        directory = Path(work) / "postfix-rspamd"
        directory.mkdir(parents=True)
        self.clamd = Clamd(directory / "clamd")
        home = directory / "rspamd"
        local = home / "local.d"
        local.mkdir(parents=True)
        for name in ("run", "db", "log"):
            (home / name).mkdir()
            shutil.chown(home / name, "_rspamd", "_rspamd")
        (local / "worker-proxy.inc").write_text(
            f'bind_socket = "127.0.0.1:{RSPAMD_MILTER_PORT}";\n'
            f'upstream "local" {{ default = yes; hosts = "127.0.0.1:{RSPAMD_NORMAL_PORT}"; }}\n')
        (local / "worker-normal.inc").write_text(f'bind_socket = "127.0.0.1:{RSPAMD_NORMAL_PORT}";\n')
        (local / "worker-controller.inc").write_text(f'bind_socket = "127.0.0.1:{RSPAMD_CONTROLLER_PORT}";\n')
        (local / "options.inc").write_text('dns { nameserver = ["127.0.0.1:53"]; timeout = 0.2s; retransmits = 1; }\n')
        (local / "antivirus.conf").write_text(
            f'clamav {{ type = "clamav"; servers = "{self.clamd.socket}"; action = "reject"; '
            'symbol = "CLAM_VIRUS"; scan_mime_parts = true; scan_text_mime = true; scan_image_mime = true; '
            'message = "Virus found: ${VIRUS}"; }\n')
        self.rspamd = start(["rspamd", "-f", "-u", "_rspamd", "-g", "_rspamd", "-c", "/etc/rspamd/rspamd.conf",
                             f"--var=LOCAL_CONFDIR={home}", f"--var=RUNDIR={home / 'run'}", f"--var=DBDIR={home / 'db'}",
                             f"--var=LOGDIR={home / 'log'}"], "rspamd", directory / "rspamd.out")
        wait_port(RSPAMD_MILTER_PORT, timeout=120, proc=self.rspamd)
        wait_port(RSPAMD_NORMAL_PORT, timeout=120, proc=self.rspamd)
        self._start_postfix(directory, f"inet:127.0.0.1:{RSPAMD_MILTER_PORT}")
        self.processes = {"clamd": self.clamd.proc.pid, "rspamd": lambda: tree_cpu(self.rspamd.pid), "postfix": self.cpu}

    def stop(self):
        self._stop_postfix()
        stop_process(self.rspamd, grace=30)
        stop_process(self.clamd.proc)


AMAVISD_CONF = """\
use strict;
$MYHOME = '{home}/var';
$TEMPBASE = '{home}/tmp';
$db_home = '{home}/db';
$pid_file = '{home}/var/amavisd.pid';
$lock_file = '{home}/var/amavisd.lock';
$LOGFILE = '{home}/var/amavis.log';
$do_syslog = 0;
$log_level = 0;
$daemon_user = 'amavis';
$daemon_group = 'amavis';
$myhostname = 'amavis-peer.localdomain';
$mydomain = 'localdomain';
# amavisd's own default: two scanning children.
$max_servers = 2;
$inet_socket_bind = '127.0.0.1';
$inet_socket_port = {port};
@inet_acl = qw(127.0.0.1);
$forward_method = 'smtp:[127.0.0.1]:{sink}';
$notify_method = $forward_method;
# No SpamAssassin, no DKIM, no notices: the virus scan only, as the other peers.
@bypass_spam_checks_maps = (1);
$enable_dkim_verification = 0;
$enable_dkim_signing = 0;
$final_virus_destiny = D_REJECT;
$final_banned_destiny = D_PASS;
$final_spam_destiny = D_PASS;
$final_bad_header_destiny = D_PASS;
$virus_admin = undef;
$QUARANTINEDIR = undef;
$virus_quarantine_method = undef;
@av_scanners = (['ClamAV-clamd', \\&ask_daemon, ["CONTSCAN {{}}\\n", '{socket}'],
  qr/\\bOK$/m, qr/\\bFOUND$/m, qr/^.*?: (?!Infected Archive)(.*) FOUND$/m ]);
@av_scanners_backup = ();
1;
"""


class Amavis:
    """amavisd-new (its own decoders, one clamd) as an inline SMTP proxy in front of the sink."""
    port = AMAVIS_PORT
    store_and_forward = False

    def __init__(self, work, sink, options):
        home = Path(work) / "amavis"
        self.clamd = Clamd(home / "clamd")
        for name in ("var", "tmp", "db"):
            (home / name).mkdir()
            shutil.chown(home / name, "amavis", "amavis")
        # amavisd refuses a configuration file it could write itself: root's, in root's directory.
        config = home / "amavisd.conf"
        config.write_text(AMAVISD_CONF.format(home=home, port=AMAVIS_PORT, sink=SINK_PORT, socket=self.clamd.socket))
        self.proc = start(["amavisd", "-c", config, "foreground"], "amavisd", home / "amavisd.out")
        wait_port(AMAVIS_PORT, timeout=120, proc=self.proc)
        self.processes = {"clamd": self.clamd.proc.pid, "amavisd": lambda: tree_cpu(self.proc.pid)}

    def stop(self):
        stop_process(self.proc, grace=30)
        stop_process(self.clamd.proc)


CLASSES = {"amavis": Amavis, "direct": Direct, "thugate": ThuGateSystem, "clamsmtp": ClamSMTP, "postfix-milter": PostfixMilter,
           "postfix-thugate": PostfixThuGate, "postfix-rspamd": PostfixRspamd}


# ---------------------------------------------------------------------------------------------
# Smoke: one clean and one EICAR message through each system.

SMOKE_CLIENT = """
import smtplib, sys
data = open(sys.argv[2], "rb").read()
try:
    s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=120)
    s.sendmail("vanphong@quangninh.gov.vn", ["sink@quangninh.gov.vn"], data)
    s.quit()
    print("250")
except smtplib.SMTPResponseException as e:
    print(e.smtp_code, e.smtp_error.decode(errors="replace"))
except smtplib.SMTPRecipientsRefused as e:
    print(*list(e.recipients.values())[0])
"""


def smoke(system, sink, work):
    rng = random.Random(f"smoke-{system.__class__.__name__}")
    results = {}
    for kind in ("clean", "EICAR"):
        path = Path(work) / f"smoke-{kind}.eml"
        path.write_bytes(message("small", 0, rng, eicar=(kind == "EICAR")))
        before = sink.count
        reply = subprocess.run(in_namespace([sys.executable, "-c", SMOKE_CLIENT, system.port, path]),
                               capture_output=True, text=True, timeout=180).stdout.strip()
        busy = system.queued if system.store_and_forward else (lambda: False)
        sink.settle(quiet=1.5 if system.store_and_forward else 0.3, timeout=60, busy=busy)
        results[kind] = (reply, sink.count - before)
    clean_ok = results["clean"][0].startswith("250") and results["clean"][1] == 1
    eicar_ok = results["EICAR"][0][:1] in ("4", "5") and results["EICAR"][1] == 0
    return results, clean_ok, eicar_ok


# ---------------------------------------------------------------------------------------------

def measure(system, sink, tool, corpus, connections, seconds):
    cpu_before = {name: cpu_seconds(pid) for name, pid in system.processes.items()}
    sink.settle(quiet=0.2, timeout=60)
    before, started = sink.count, time.time()
    result = run_load(tool, system.port, corpus, connections, seconds)
    loaded = time.time()
    if system.store_and_forward:
        last = sink.settle(quiet=2.0, busy=system.queued)
        arrived = sink.count - before
        result["accepted_per_second"] = result["messages_per_second"]
        result["messages_per_second"] = arrived / max(last - started, 0.001)
        result["drain_s"] = max(last - loaded, 0)
    else:
        sink.settle(quiet=0.3, timeout=120)
        arrived = sink.count - before
    result["arrived"] = arrived
    result["cpu_s"] = {name: cpu_seconds(pid) - cpu_before[name] for name, pid in system.processes.items()}
    return result


def default_load_tool(thugate, bin_dir):
    """`thugate bench` when this checkout has it (issue 14), else the older thugate-load."""
    # ArgumentParser answers --help of an unknown subcommand with the top-level help, status 0.
    if "--smtp" in subprocess.run([thugate, "bench", "--help"], capture_output=True, text=True).stdout:
        return f"{shlex.quote(thugate)} bench"
    subprocess.run(["swift", "build", "-c", "release", "--product", "thugate-load"], cwd=ROOT, check=True,
                   stdout=sys.stderr)
    return shlex.quote(f"{bin_dir}/thugate-load")


def versions(options, systems):
    packages = sorted({p for s in systems for p in PACKAGES[s]} | {"libclamav12"})
    rows = [(p, package_version(p) or "not installed") for p in packages]
    commit = subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"], capture_output=True,
                            text=True).stdout.strip()
    rows.insert(0, ("thugate", f"{commit} ({options.thugate})"))
    rows.insert(1, ("load tool", " ".join(options.load_tool)))
    return rows


def fmt(value, digits=0):
    """digits decimals below 100, none above (1,228 / 93.4 / 4.0)."""
    if value is None or value != value:
        return "–"
    return f"{value:,.0f}" if value >= 100 else f"{value:,.{digits}f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--systems", default=",".join(SYSTEMS), help=f"comma list of {', '.join(SYSTEMS)}")
    parser.add_argument("--sizes", default="small,medium,large", help="built-in sizes (without --corpus)")
    parser.add_argument("--corpus", type=Path, action="append",
                        help="a directory of .eml files instead of the built-in sizes (repeatable)")
    parser.add_argument("--corpus-count", type=int, default=300,
                        help="distinct built-in messages per size (large: a thirtieth)")
    parser.add_argument("--connections", default="1,10,50")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--reps", type=int, default=2, help="repetitions; the tables give medians")
    parser.add_argument("--load-tool", help="load command, e.g. \"BIN/thugate bench\" (default: the release `thugate bench` when it exists, else thugate-load)")
    parser.add_argument("--thugate", help="thugate binary (default: build release in this checkout)")
    parser.add_argument("--markdown", type=Path, help="also write the tables to this file")
    parser.add_argument("--smoke-only", action="store_true", help="only the clean/EICAR check of each system")
    parser.add_argument("--no-install", action="store_true", help="do not apt-get missing packages")
    options = parser.parse_args()
    systems = [s for s in options.systems.split(",") if s]
    unknown = set(systems) - set(SYSTEMS)
    if unknown:
        parser.error(f"unknown systems: {', '.join(sorted(unknown))}")
    connections = [int(c) for c in options.connections.split(",")]
    if os.geteuid() != 0:
        parser.error("run as root: it installs packages and makes a network namespace")
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _terminate)
    # Ctrl-C even when started from a shell that ignores SIGINT for background jobs.
    signal.signal(signal.SIGINT, signal.default_int_handler)

    if not options.thugate or not options.load_tool:
        log("building release binaries ...")
        for product in ("thugate", "thugate-pdftext"):
            subprocess.run(["swift", "build", "-c", "release", "--product", product], cwd=ROOT, check=True,
                           stdout=sys.stderr)
        bin_dir = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT, check=True,
                                 capture_output=True, text=True).stdout.strip()
        options.thugate = options.thugate or f"{bin_dir}/thugate"
        options.load_tool = options.load_tool or default_load_tool(options.thugate, bin_dir)
    options.load_tool = shlex.split(options.load_tool)

    if not options.no_install:
        install([p for s in systems for p in PACKAGES[s]])
    work = tempfile.mkdtemp(prefix="thugate-peers-")
    os.chmod(work, 0o755)  # daemons that drop to their own user (smtp-sink, Postfix) reach their sockets
    on_cleanup(lambda: shutil.rmtree(work, ignore_errors=True), "the temporary directory")
    try:
        if options.corpus:
            corpora = {path.name: path.resolve() for path in options.corpus}
        else:
            corpora = built_in_corpus(work, options.sizes.split(","), options.corpus_count)
        make_namespace()
        sink = Sink(work)

        smoke_rows, results, problems = [], {}, []
        for name in systems:
            log(f"{name}: starting ...")
            try:
                system = CLASSES[name](work, sink, options)
            except Exception as error:  # one system that does not start must not cost the others
                log(f"{name}: did not start: {error}")
                problems.append(f"{LABELS[name]}: did not start: {error}")
                continue
            try:
                if name != "direct":
                    outcome, clean_ok, eicar_ok = smoke(system, sink, work)
                    smoke_rows.append((name, outcome, clean_ok, eicar_ok))
                    log(f"{name}: smoke clean {outcome['clean']} EICAR {outcome['EICAR']} "
                        f"-> {'ok' if clean_ok and eicar_ok else 'FAILED'}")
                    if not (clean_ok and eicar_ok):
                        problems.append(f"{LABELS[name]}: failed the smoke test, not measured")
                        continue
                if options.smoke_only:
                    continue
                for size, corpus in corpora.items():
                    for c in connections:
                        for rep in range(1, options.reps + 1):
                            log(f"{name}: {size}, {c} connections, rep {rep} ...")
                            try:
                                r = measure(system, sink, options.load_tool, corpus, c, options.seconds)
                            except (RuntimeError, subprocess.SubprocessError, ValueError, KeyError) as error:
                                log(f"  failed: {error}")
                                problems.append(f"{LABELS[name]} {size} c={c} rep {rep}: {str(error)[:300]}")
                                continue
                            log(f"  {r['messages_per_second']:.1f} messages/s, {r['messages']} accepted, "
                                f"{r['failures']} failures, {r['arrived']} at the sink")
                            results.setdefault((name, size, c), []).append(r)
                system_rss = {proc: peak_rss_mb(pid) if isinstance(pid, int) else None
                              for proc, pid in system.processes.items()}
                for key in results:
                    if key[0] == name:
                        for r in results[key]:
                            r.setdefault("rss", system_rss)
            finally:
                system.stop()
        report = tables(options, systems, corpora, connections, results, smoke_rows, problems)
        print(report)
        if options.markdown:
            options.markdown.write_text(report)
    finally:
        cleanup()


def tables(options, systems, corpora, connections, results, smoke_rows, problems):
    out = []
    columns = [(size, c) for size in corpora for c in connections]
    out.append(f"Machine: {os.cpu_count()} cores, every process on 127.0.0.1 in a network namespace, "
               f"all sharing the cores; {options.seconds:g} s per run after a 1 s warm-up, medians of "
               f"{options.reps} rep(s); one sink (smtp-sink).\n")

    def median(name, size, c, field):
        values = [r[field] for r in results.get((name, size, c), []) if r.get(field) is not None]
        return statistics.median(values) if values else None

    if results:
        out.append("| messages/s | " + " | ".join(f"{s} c={c}" for s, c in columns) + " |")
        out.append("|---|" + "---:|" * len(columns))
        for name in systems:
            out.append(f"| {LABELS[name]} | " + " | ".join(fmt(median(name, s, c, "messages_per_second"), 1)
                                                           for s, c in columns) + " |")
        if "direct" in systems:
            out.append("\n| ratio to direct | " + " | ".join(f"{s} c={c}" for s, c in columns) + " |")
            out.append("|---|" + "---:|" * len(columns))
            for name in systems:
                if name == "direct":
                    continue
                cells = []
                for s, c in columns:
                    mine, direct = median(name, s, c, "messages_per_second"), median("direct", s, c, "messages_per_second")
                    cells.append(f"{mine / direct:.0%}" if mine is not None and direct else "–")
                out.append(f"| {LABELS[name]} | " + " | ".join(cells) + " |")
        out.append("\n| latency p50 / p99 ms (client side) | " + " | ".join(f"{s} c={c}" for s, c in columns) + " |")
        out.append("|---|" + "---:|" * len(columns))
        for name in systems:
            cells = [f"{fmt(median(name, s, c, 'p50_ms'), 1)} / {fmt(median(name, s, c, 'p99_ms'), 1)}" for s, c in columns]
            out.append(f"| {LABELS[name]} | " + " | ".join(cells) + " |")
        failures = [(name, s, c, sum(r["failures"] for r in rs)) for (name, s, c), rs in results.items()
                    if any(r["failures"] for r in rs)]
        if failures:
            out.append("\nFailed messages (non-250 replies): " +
                       "; ".join(f"{LABELS[n]} {s} c={c}: {f}" for n, s, c, f in failures) + ".")
        for postfix in ("postfix-milter", "postfix-thugate", "postfix-rspamd"):
            if postfix in systems:
                out.append(f"\n{LABELS[postfix]}: accepted (client-side rate) before delivering: " + "; ".join(
                    f"{s} c={c} {fmt(median(postfix, s, c, 'accepted_per_second'), 1)}/s, drained "
                    f"{fmt(median(postfix, s, c, 'drain_s'), 1)} s after" for s, c in columns) + ".")
        out.append("\n| peak RSS MB, CPU ms per message | process | " + " | ".join(f"{s} c={c}" for s, c in columns) + " |")
        out.append("|---|---|" + "---:|" * len(columns))
        for name in systems:
            rs = [r for (n, _, _), rr in results.items() if n == name for r in rr]
            if not rs:
                continue
            for proc, rss in rs[0]["rss"].items():
                cells = []
                for s, c in columns:
                    per = [r["cpu_s"][proc] * 1000 / r["arrived"] for r in results.get((name, s, c), []) if r["arrived"]]
                    cells.append(fmt(statistics.median(per), 2) if per else "–")
                peak = f" (peak {rss:.0f} MB)" if rss is not None else " (all its processes)"
                out.append(f"| {LABELS[name]} | {proc}{peak} | " + " | ".join(cells) + " |")
    if smoke_rows:
        out.append("\nSmoke (one clean and one EICAR message each; reply, messages at the sink):\n")
        out.append("| system | clean | EICAR | ok |")
        out.append("|---|---|---|---|")
        for name, outcome, clean_ok, eicar_ok in smoke_rows:
            cells = [f"`{outcome[k][0][:60]}`, {outcome[k][1]} at the sink" for k in ("clean", "EICAR")]
            out.append(f"| {LABELS[name]} | {cells[0]} | {cells[1]} | {'yes' if clean_ok and eicar_ok else 'NO'} |")
    if problems:
        out.append("\nProblems:\n\n" + "\n".join(f"- {p}" for p in problems))
    out.append("\n| component | version |")
    out.append("|---|---|")
    for name, version in versions(options, systems):
        out.append(f"| {name} | {version} |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        log("interrupted; everything started was stopped")
        sys.exit(130)
