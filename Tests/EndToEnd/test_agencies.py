"""`[[agency]]` tables as a postmaster writes them: `check-config` lists what it read, names the
line of a mistake, and `serve` runs with them."""
import re
import shutil
import smtplib
import subprocess
import threading

from conftest import BINARY, ROOT

TWO_AGENCIES = """\
[server]
hostname = "thugate.test"

[[agency]]
id = "quangninh"
name = "UBND tỉnh Quảng Ninh"
domains = ["quangninh.gov.vn", "*.QuangNinh.gov.vn"]
officer = ["antoan@quangninh.gov.vn"]
notify = ["vanthu@quangninh.gov.vn", "lanhdao@quangninh.gov.vn"]

[[agency]]
id = "quan4"
name = "UBND Quận 4"
domains = ["tphcm.gov.vn"]
local_part_suffixes = [".q4"]
addresses = ["q4@tphcm.gov.vn"]
"""


def check_config(path):
    return subprocess.run([str(BINARY), "check-config", "--config", str(path)], capture_output=True, text=True, timeout=30)


def test_check_config_prints_each_agency(tmp_path):
    config = tmp_path / "thugate.toml"
    config.write_text(TWO_AGENCIES)
    result = check_config(config)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{config}: OK")
    assert lines[1:] == [
        'agency quangninh "UBND tỉnh Quảng Ninh": quangninh.gov.vn, *.quangninh.gov.vn;'
        " officer antoan@quangninh.gov.vn; notify vanthu@quangninh.gov.vn, lanhdao@quangninh.gov.vn",
        'agency quan4 "UBND Quận 4": .q4@tphcm.gov.vn, q4@tphcm.gov.vn; officer -; notify -',
    ]


def test_the_shipped_file_has_no_agency_and_its_examples_work(tmp_path):
    shipped = (ROOT / "Config" / "thugate.toml").read_text()
    result = check_config(ROOT / "Config" / "thugate.toml")
    assert result.returncode == 0, result.stderr
    assert "agency" not in result.stdout
    # The commented-out examples (`#key = value`; prose is `# `), uncommented in a copy.
    uncommented = "\n".join(line[1:] if line.startswith("#") and not line.startswith("# ") and line != "#" else line
                            for line in shipped.splitlines())
    copy = tmp_path / "thugate.toml"
    copy.write_text(uncommented + "\n")
    # With agencies, notices are on: check-config reads the notice templates beside the file.
    shutil.copytree(ROOT / "Config" / "notices", tmp_path / "notices")
    result = check_config(copy)
    assert result.returncode == 0, result.stderr
    assert [line.split(":")[0] for line in result.stdout.splitlines()[1:]] == [
        'agency quangninh "UBND tỉnh Quảng Ninh"', 'agency quan4 "UBND Quận 4"']


def test_an_address_two_agencies_claim_is_an_error_naming_both_and_its_line(tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text(TWO_AGENCIES + '\n[[agency]]\nid = "tphcm-q4"\nname = "Quận 4 again"\n'
                      'domains = ["hcm.vn", "TPHCM.gov.vn"]\nlocal_part_suffixes = [".Q4"]\n')
    result = check_config(config)
    assert result.returncode == 78, result.stdout + result.stderr
    line = TWO_AGENCIES.count("\n") + 6  # the blank line, the header, id, name, domains, then this one
    assert (f'{config}:{line}: agency[2].local_part_suffixes: .q4@tphcm.gov.vn is claimed by both agency "quan4" and '
            'agency "tphcm-q4"') in result.stderr
    serve = subprocess.run([str(BINARY), "serve", "--config", str(config), "--listen", "127.0.0.1:0"],
                           capture_output=True, text=True, timeout=30)
    assert serve.returncode != 0 and "agency[2].local_part_suffixes" in serve.stderr


def test_a_bad_domain_and_a_duplicate_id_name_their_lines(tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text('[[agency]]\nid = "dongnai"\nname = "UBND tỉnh Đồng Nai"\n\ndomains = ["dongnai..gov.vn"]\n')
    result = check_config(config)
    assert result.returncode == 78
    assert f'{config}:5: agency[0].domains: "dongnai..gov.vn" is not a domain' in result.stderr
    config.write_text(TWO_AGENCIES + '[[agency]]\nid = "quan4"\nname = "x"\ndomains = ["x.gov.vn"]\n')
    result = check_config(config)
    assert result.returncode == 78
    assert f'{config}:{TWO_AGENCIES.count(chr(10)) + 2}: agency[2].id: "quan4" is also the id of agency "UBND Quận 4"' in result.stderr


def test_serve_with_agencies_relays_and_keeps_its_log_line(tmp_path, upstream):
    config = tmp_path / "thugate.toml"
    config.write_text(TWO_AGENCIES.replace('hostname = "thugate.test"\n', 'hostname = "thugate.test"\n'
                                           f'spool_directory = "{tmp_path}/spool"\npid_file = "{tmp_path}/pid"\n')
                      + f'\n[scan]\nsignatures = "{ROOT}/Config/signatures"\ntemporary_directory = "{tmp_path}/tmp"\n'
                      f'crash_journal = "{tmp_path}/crashes"\n[quarantine]\ndatabase = "{tmp_path}/quarantine/quarantine.sqlite"\n'
                      f'[notify]\nkey_file = "{tmp_path}/notice.key"\n')
    proc = subprocess.Popen([str(BINARY), "serve", "--config", str(config), "--listen", "127.0.0.1:0",
                             "--upstream", f"smtp://127.0.0.1:{upstream.port}"], stderr=subprocess.PIPE, text=True)
    lines, port, ready = [], [], threading.Event()

    def read():
        for line in proc.stderr:
            lines.append(line)
            if m := re.search(r"listening on [0-9.]+:(\d+)", line):
                port.append(int(m.group(1)))
                ready.set()
    threading.Thread(target=read, daemon=True).start()
    try:
        assert ready.wait(30), "".join(lines)
        with smtplib.SMTP("127.0.0.1", port[0], timeout=60) as client:
            client.ehlo("client.test")
            client.mail("an@sotttt.quangninh.gov.vn")
            client.rcpt("b.q4@tphcm.gov.vn")
            client.rcpt("c@gmail.com")
            code, _ = client.data(b"Subject: agencies\r\n\r\nhello\r\n")
        assert code == 250
        assert upstream.wait_for_messages(1)
        proc.terminate()
        assert proc.wait(30) == 0
        logged = [line for line in lines if "result=sent" in line]
        assert len(logged) == 1
        assert re.search(r": client=client\.test\[127\.0\.0\.1\], from=<an@sotttt\.quangninh\.gov\.vn>, "
                         r"to=<b\.q4@tphcm\.gov\.vn>,<c@gmail\.com>, size=\d+, result=sent, reply=\"250 [^\"]*\", ms=\d+( |$)",
                         logged[0].rstrip("\n")), logged[0]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def test_check_config_prints_the_domains_and_names_a_bad_entry(tmp_path):
    config = tmp_path / "thugate.toml"
    config.write_text(TWO_AGENCIES + '\n[domains]\nown = ["hoabinh.gov.vn"]\nstate_suffixes = ["gov.vn", "dcs.vn"]\n')
    result = check_config(config)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1] == "domains: own hoabinh.gov.vn; state-issued gov.vn, dcs.vn"
    config.write_text('[domains]\nown = []\n\nstate_suffixes = ["*.gov.vn"]\n')
    result = check_config(config)
    assert result.returncode == 78
    assert (f'{config}:4: domains.state_suffixes: "*.gov.vn" is not a domain: write "gov.vn": a domain here covers '
            'its subdomains already') in result.stderr
