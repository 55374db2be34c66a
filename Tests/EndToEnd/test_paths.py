"""Every subcommand works from any directory: paths in a configuration file are relative to
that file, the built-in defaults to the installation, and errors name the path tried."""
import shutil
import smtplib
import subprocess
import time
from email.message import EmailMessage

from conftest import BINARY, ROOT

EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def eicar_message(path):
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "a@example.com", "b@quangninh.gov.vn", "paths"
    msg.set_content("see attachment")
    msg.add_attachment(EICAR, maintype="application", subtype="octet-stream", filename="eicar.com")
    path.write_bytes(bytes(msg))
    return path


def test_scan_from_another_directory_uses_the_installed_signatures(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    eicar_message(elsewhere / "m.eml")
    result = subprocess.run([str(BINARY), "scan", "m.eml"], cwd=elsewhere, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "m.eml: reject" in result.stdout and "ThuGate.Test.EICAR" in result.stdout


def test_config_paths_are_relative_to_the_config_file(tmp_path):
    etc = tmp_path / "etc"
    etc.mkdir()
    shutil.copytree(ROOT / "Config" / "signatures", etc / "sigs")
    config = etc / "thugate.toml"
    config.write_text(
        '[server]\nspool_directory = "spool"\npid_file = "run/thugate.pid"\n'
        '[upstream]\nurl = "maildir:mail"\n'
        f'[scan]\nsignatures = "sigs"\ntemporary_directory = "{tmp_path}/clamtmp"\n'
        'crash_journal = "run/scan-crashes"\n'
        '[quarantine]\ndatabase = "held/quarantine.sqlite"\n')
    (etc / "run").mkdir()
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    eicar_message(cwd / "m.eml")

    check = subprocess.run([str(BINARY), "check-config", "--config", "../etc/thugate.toml"], cwd=cwd,
                           capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stderr
    scan = subprocess.run([str(BINARY), "scan", "--config", "../etc/thugate.toml", "m.eml"], cwd=cwd,
                          capture_output=True, text=True, timeout=60)
    assert scan.returncode == 0 and "reject" in scan.stdout, scan.stdout + scan.stderr

    proc = subprocess.Popen([str(BINARY), "serve", "--config", "../etc/thugate.toml", "--listen", "127.0.0.1:0"], cwd=cwd,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        port = None
        log = []
        deadline = time.time() + 30
        while time.time() < deadline and port is None:
            line = proc.stderr.readline()
            log.append(line)
            if "listening on" in line:
                port = int(line.split("listening on ")[1].split(",")[0].rsplit(":", 1)[1])
        assert port, "".join(log)
        assert f"signatures from {etc}/sigs" in "".join(log)
        assert (etc / "run" / "thugate.pid").exists() and (etc / "run" / "scan-crashes").exists()
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
            client.sendmail("a@example.com", ["b@quangninh.gov.vn"], b"Subject: hi\r\n\r\nhello\r\n")
        assert len(list((etc / "mail" / "new").iterdir())) == 1
        assert (etc / "spool").is_dir()
        assert not (cwd / "mail").exists() and not (cwd / "var").exists()
        reload = subprocess.run([str(BINARY), "reload", "--config", str(config)], cwd="/", capture_output=True,
                                text=True, timeout=30)
        assert reload.returncode == 0, reload.stdout + reload.stderr
    finally:
        proc.terminate()
        proc.wait(30)


def test_errors_name_the_path_tried(tmp_path):
    config = tmp_path / "thugate.toml"
    config.write_text('[scan]\nsignatures = "no-such-signatures"\n')
    result = subprocess.run([str(BINARY), "scan", "--config", str(config), str(ROOT / "Corpus")], cwd="/",
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert f"{tmp_path}/no-such-signatures" in result.stderr, result.stderr
    missing = subprocess.run([str(BINARY), "check-config", "--config", "nowhere.toml"], cwd=tmp_path,
                             capture_output=True, text=True, timeout=30)
    assert missing.returncode == 78 and f"{tmp_path}/nowhere.toml" in missing.stderr, missing.stderr
