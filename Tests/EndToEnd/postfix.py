"""A private Postfix instance for the milter tests (issue 15): Debian's Postfix 3.7 started with
its own main.cf, master.cf and queue in a temporary directory (`postfix -c DIR start`), listening
on loopback only, relaying everything to a loopback sink, and calling ThuGate as its milter.

Two smtpd listeners: `port` calls the milter (`smtpd_milters`), `reinject_port` does not (`-o
smtpd_milters=`): the port a message released from ThuGate's quarantine goes back through, as
the README tells a postmaster to set it up. Postfix needs root to start (it drops to the
`postfix` user, which Debian's package creates)."""
import json
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

MASTER_CF = """\
127.0.0.1:{port} inet n - n - - smtpd
127.0.0.1:{reinject_port} inet n - n - - smtpd -o smtpd_milters= -o non_smtpd_milters=
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


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


class Postfix:
    def __init__(self, milter: str, sink_port: int, extra: dict | None = None):
        # Its own directory that the `postfix` user can reach (pytest's are root's alone).
        directory = self.directory = Path(tempfile.mkdtemp(prefix="thugate-postfix-"))
        directory.chmod(0o755)
        self.etc = directory / "etc"
        self.queue = directory / "queue"
        self.log = directory / "maillog"
        self.port = free_port()
        self.reinject_port = free_port()
        self.etc.mkdir()
        self.queue.mkdir()  # `postfix check` makes its subdirectories with their owners
        (directory / "data").mkdir()
        shutil.chown(directory / "data", "postfix", "postfix")
        (self.etc / "master.cf").write_text(MASTER_CF.format(port=self.port, reinject_port=self.reinject_port))
        settings = {
            "compatibility_level": "3.6",
            "queue_directory": self.queue,
            "data_directory": directory / "data",
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "myhostname": "mail.quangninh.gov.vn",
            "mydestination": "",
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "mynetworks": "127.0.0.0/8",
            "relayhost": f"[127.0.0.1]:{sink_port}",
            "smtp_dns_support_level": "disabled",
            "smtp_host_lookup": "native",
            "alias_maps": "",
            "alias_database": "",
            "local_recipient_maps": "",
            "smtpd_relay_restrictions": "permit_mynetworks, reject_unauth_destination",
            "smtpd_milters": milter,
            "milter_default_action": "tempfail",
            "milter_protocol": "6",
            "maillog_file_prefixes": directory,
            "maillog_file": self.log,
            "message_size_limit": 36700160,
            # The sink answers at once; a message is tried again quickly when it did not.
            "minimal_backoff_time": "5s",
            "queue_run_delay": "5s",
        }
        settings.update(extra or {})
        (self.etc / "main.cf").write_text("".join(f"{key} = {value}\n" for key, value in settings.items()))
        subprocess.run(["postfix", "-c", str(self.etc), "check"], check=True, capture_output=True)
        subprocess.run(["postfix", "-c", str(self.etc), "start"], check=True, capture_output=True)
        wait_port(self.port)
        wait_port(self.reinject_port)

    def queue_json(self):
        """`postqueue -j`: one JSON object per queued message (the hold queue's included)."""
        out = subprocess.run(["postqueue", "-c", str(self.etc), "-j"], capture_output=True, text=True, check=True).stdout
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def log_text(self):
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self):
        subprocess.run(["postfix", "-c", str(self.etc), "stop"], capture_output=True)
        pid_file = self.queue / "pid" / "master.pid"
        deadline = time.time() + 15
        while pid_file.exists() and time.time() < deadline:
            try:
                pid = int(pid_file.read_text().split()[0])
                Path(f"/proc/{pid}").stat()
            except (OSError, ValueError, IndexError):
                break
            time.sleep(0.1)
        shutil.rmtree(self.directory, ignore_errors=True)
