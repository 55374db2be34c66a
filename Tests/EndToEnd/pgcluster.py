"""A throw-away PostgreSQL 15 cluster for the several-nodes tests (issue 16): `initdb` into a
directory in /tmp, `pg_ctl start` with a Unix socket in it and no TCP listener, as `nobody` when
the tests run as root (initdb refuses root); trust authentication, a superuser named `thugate`.
Stopped (and its directory removed) by the test that made it."""
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from postfix import free_port

USER = "thugate"


def _tool(name):
    for directory in [*os.environ.get("PATH", "").split(":"), "/usr/lib/postgresql/15/bin"]:
        path = Path(directory) / name
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
    raise RuntimeError(f"{name} not found: the several-nodes tests need PostgreSQL 15 (apt-get install postgresql-15)")


class PostgresCluster:
    def __init__(self, fsync=False):
        # Tests need no durability across a power cut; a benchmark beside SQLite's synchronous =
        # FULL does (fsync=True, PostgreSQL's default).
        self.fsync = fsync
        self.directory = Path(tempfile.mkdtemp(prefix="thugate-pg-"))
        self.directory.chmod(0o755)
        self.data = self.directory / "data"
        self.socket_directory = self.directory / "socket"
        self.socket_directory.mkdir()
        self.port = free_port()
        self.as_user = []
        if os.geteuid() == 0:
            shutil.chown(self.directory, "nobody", "nogroup")
            shutil.chown(self.socket_directory, "nobody", "nogroup")
            self.as_user = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"]
        self._run(_tool("initdb"), "-D", self.data, "-A", "trust", "-U", USER, "-E", "UTF8", "--no-sync")
        self.start()
        self.psql("CREATE DATABASE thugate")

    def _run(self, *args):
        result = subprocess.run(self.as_user + [str(a) for a in args], capture_output=True, text=True, timeout=120,
                                cwd=self.directory)
        assert result.returncode == 0, (args, result.stdout, result.stderr)
        return result.stdout

    def start(self):
        options = f"-c listen_addresses='' -c unix_socket_directories='{self.socket_directory}' -p {self.port}"
        if not self.fsync:
            options += " -c fsync=off"
        self._run(_tool("pg_ctl"), "-D", self.data, "-l", self.directory / "log", "-w", "-t", "60", "-o", options, "start")

    def stop(self, mode="fast"):
        self._run(_tool("pg_ctl"), "-D", self.data, "-w", "-m", mode, "stop")

    def psql(self, sql, database="postgres"):
        return subprocess.run(["psql", "-h", str(self.socket_directory), "-p", str(self.port), "-U", USER, "-d", database,
                               "-v", "ON_ERROR_STOP=1", "-At", "-c", sql], capture_output=True, text=True, check=True,
                              timeout=60).stdout

    def store_section(self, node):
        return {"backend": "postgresql", "host": str(self.socket_directory), "port": self.port, "database": "thugate",
                "user": USER, "node": node}

    def cleanup(self):
        subprocess.run(self.as_user + [_tool("pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
                       capture_output=True, timeout=60, cwd=self.directory)
        shutil.rmtree(self.directory, ignore_errors=True)
