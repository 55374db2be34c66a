"""Several nodes (issue 16): two ThuGate nodes behind Debian's HAProxy 2.6 (one server with
send-proxy, one with send-proxy-v2, clients bound to 127.0.0.2) sharing one PostgreSQL 15
store. Mail spread over both is held in one quarantine any node lists, shows and releases; a
message held by node A is released from node B once; 50 releases of one message started at once
from both nodes deliver it exactly once; the reports read from either node are the same; the
store stopped and started under load loses no message and accepts none wrongly."""
import json
import re
import smtplib
from datetime import datetime, timedelta, timezone
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import BINARY, held_messages, quarantine_cli
from pgcluster import PostgresCluster
from postfix import free_port, wait_port
from test_management import get, wait_ready
from test_quarantine import held_message

CLEAN = "From: vanthu@quangninh.gov.vn\r\nTo: lanhdao@quangninh.gov.vn\r\nSubject: {subject}\r\n\r\nXin chao.\r\n"

HAPROXY = """\
global
    log stdout format raw local0 info
defaults
    mode tcp
    log global
    timeout connect 5s
    timeout client 120s
    timeout server 120s
frontend smtp
    bind 127.0.0.1:{front}
    default_backend gateways
backend gateways
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
    server a 127.0.0.1:{a} send-proxy check port {a_mgmt} inter 500ms
    server b 127.0.0.1:{b} send-proxy-v2 check port {b_mgmt} inter 500ms
"""


@pytest.fixture
def cluster():
    cluster = PostgresCluster()
    yield cluster
    cluster.cleanup()


@pytest.fixture
def nodes(cluster, gateway_factory, upstream, tmp_path):
    server = {"proxy_protocol": "required", "trusted_proxies": ["127.0.0.0/8"], "max_connections_per_ip": 500}

    def node(name):
        sections = {"store": cluster.store_section(name),
                    "management": {"listen": "127.0.0.1:0", "store_probe_interval": "1s"},
                    # Short, so the test of a release killed midway need not wait 15 minutes.
                    "quarantine": {"release_lease": "4s"}}
        # The URL in the file too: `thugate quarantine release` reads it there.
        url = f"smtp://127.0.0.1:{upstream.port}"
        return gateway_factory(url, server={**server, "hostname": f"{name}.thugate.test"}, upstream={"url": url},
                               sections=sections, name=name)

    a, b = node("node-a"), node("node-b")
    for gateway in (a, b):
        wait_ready(gateway.management_port, 200)
    front = free_port()
    config = tmp_path / "haproxy.cfg"
    config.write_text(HAPROXY.format(front=front, a=a.port, b=b.port, a_mgmt=a.management_port, b_mgmt=b.management_port))
    haproxy = subprocess.Popen(["haproxy", "-db", "-f", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(front, timeout=20)
    time.sleep(1.5)  # both servers checked up
    yield a, b, front
    haproxy.terminate()
    haproxy.wait(10)


def send(port, data, recipients=("lanhdao@quangninh.gov.vn",), timeout=120):
    with smtplib.SMTP("127.0.0.1", port, timeout=timeout, source_address=("127.0.0.2", 0)) as smtp:
        smtp.ehlo("client.example")
        try:
            smtp.sendmail("vanthu@quangninh.gov.vn", list(recipients), data)
            return 250
        except smtplib.SMTPDataError as error:
            return error.smtp_code
        except smtplib.SMTPRecipientsRefused as error:
            return list(error.recipients.values())[0][0]


def test_two_nodes_share_one_quarantine_and_one_set_of_reports(nodes, upstream, tmp_path):
    a, b, front = nodes
    held_data = held_message(tmp_path, payload=b"so lieu mat\n")
    work = [CLEAN.format(subject=f"thu {i}").encode() for i in range(990)]
    with ThreadPoolExecutor(20) as pool:
        codes = list(pool.map(lambda data: send(front, data), work))
    # Ten to hold, one after the other: HAProxy's round robin gives each node five.
    codes += [send(front, held_data) for _ in range(10)]
    assert codes == [250] * 1000
    assert len(upstream.wait_for_messages(990, timeout=60)) == 990
    # Both nodes took mail, and saw the client behind HAProxy as itself.
    for gateway in (a, b):
        assert gateway.wait_for_log(lambda line: "client=client.example[127.0.0.2]" in line and "result=sent" in line)
        assert gateway.wait_for_log(lambda line: "Held for review as" in line)
    # One quarantine: either node lists the same ten held messages, held by both nodes.
    from_a, from_b = held_messages(a.config_path), held_messages(b.config_path)
    assert len(from_a) == 10 and [m["id"] for m in from_a] == [m["id"] for m in from_b]
    assert {m["node"] for m in from_a} == {"node-a.thugate.test", "node-b.thugate.test"}, [m["node"] for m in from_a]

    # A message node A held, released from node B: delivered once, with B's release recorded.
    held_by_a = next(m for m in from_a if m["node"] == "node-a.thugate.test")
    quarantine_cli(b.config_path, "release", held_by_a["id"], "--reason", "nham lan")
    assert len(upstream.wait_for_messages(991, timeout=30)) == 991
    assert upstream.messages[-1]["content"].endswith(held_data)
    shown = json.loads(quarantine_cli(a.config_path, "show", held_by_a["id"], "--format", "json").stdout)
    assert {r["state"] for r in shown["recipients"]} == {"released"}
    # Released again from node A: nothing is left to send.
    again = quarantine_cli(a.config_path, "release", held_by_a["id"], "--reason", "lan hai", check=False)
    assert again.returncode != 0 or b"nothing" in again.stderr.lower()
    time.sleep(1)
    assert len(upstream.messages) == 991

    # 50 releases of one message at once, from both nodes: exactly one copy arrives.
    target = next(m for m in from_a if m["id"] != held_by_a["id"])

    def release(i):
        config = (a if i % 2 else b).config_path
        return subprocess.run([str(BINARY), "quarantine", "release", target["id"], "--reason", f"dong thoi {i}",
                               "--config", str(config)], capture_output=True, timeout=120)

    with ThreadPoolExecutor(50) as pool:
        results = list(pool.map(release, range(50)))
    succeeded = [r for r in results if r.returncode == 0 and b": 250 2.0.0" in r.stderr]
    assert len(succeeded) == 1, [r.stderr[-300:] for r in results[:5]]
    time.sleep(2)
    assert len(upstream.messages) == 992
    assert sum(1 for m in upstream.messages if m["content"].endswith(held_data)) == 2

    # One set of reports: the same numbers from either node (the verdict log is written in
    # batches each second).
    time.sleep(2.5)
    month = datetime.now(timezone(timedelta(hours=7))).strftime("%Y-%m")
    reports = [subprocess.run([str(BINARY), "report", "--period", month, "--format", "json", "--config", str(g.config_path)],
                              capture_output=True, timeout=60) for g in (a, b)]
    for report in reports:
        assert report.returncode == 0, report.stderr
    first, second = (json.loads(report.stdout) for report in reports)
    for key in ("totals", "directions", "breakdown"):
        assert first[key] == second[key], key
    assert {k: first["totals"][k] for k in ("handled", "delivered", "held")} == {"handled": 1000, "delivered": 990, "held": 10}


def test_a_release_killed_midway_on_node_a_is_finished_by_node_b_after_the_lease(nodes, upstream, tmp_path):
    a, b, front = nodes
    held_data = held_message(tmp_path, payload=b"giua chung\n")
    assert send(front, held_data) == 250
    [held] = held_messages(a.config_path)

    def states():
        shown = json.loads(quarantine_cli(b.config_path, "show", held["id"], "--format", "json").stdout)
        return {r["state"] for r in shown["recipients"]}

    # Node A's release claims the recipient, then hangs at RCPT (the upstream is slow) and is killed.
    upstream.rcpt_delay = 60
    release = subprocess.Popen([str(BINARY), "quarantine", "release", held["id"], "--reason", "lan mot",
                                "--config", str(a.config_path)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 30
    while states() != {"releasing"} and time.time() < deadline:
        time.sleep(0.1)
    assert states() == {"releasing"}
    started = time.time()
    release.kill()
    release.wait(10)
    upstream.rcpt_delay = 0
    # Within the lease, node B finds nothing it may send: the claim is still A's.
    early = quarantine_cli(b.config_path, "release", held["id"], "--reason", "lan hai")
    assert b"nothing sent" in early.stderr, early.stderr
    assert states() == {"releasing"}
    # Past the lease, node B claims it again and delivers it, once.
    time.sleep(max(0, 4.5 - (time.time() - started)))
    late = quarantine_cli(b.config_path, "release", held["id"], "--reason", "lan ba")
    assert b": 250 2.0.0" in late.stderr, late.stderr
    assert states() == {"released"}
    time.sleep(1)
    assert sum(1 for m in upstream.messages if m["content"].endswith(held_data)) == 1
    audit = quarantine_cli(a.config_path, "audit", held["id"]).stdout.decode()
    assert audit.count("release-claim") == 2, audit


def test_the_store_stopped_and_started_under_load_loses_nothing(cluster, nodes, upstream, tmp_path):
    a, b, front = nodes
    held_data = held_message(tmp_path, payload=b"giu lai\n")
    results = []
    stop = threading.Event()

    def client(n):
        i = 0
        while not stop.is_set():
            hold = i % 5 == 0
            data = held_data if hold else CLEAN.format(subject=f"tai {n}-{i}").encode()
            try:
                results.append((hold, send(front, data, timeout=30)))
            except (OSError, smtplib.SMTPException):
                # No node in rotation (HAProxy took both out while the store was down): the
                # client keeps its message and tries again, as SMTP clients do.
                results.append((hold, None))
                time.sleep(0.2)
            i += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(10)]
    for thread in threads:
        thread.start()
    time.sleep(2)
    cluster.stop()
    # Down: /readyz says so on both nodes (within a connect timeout); /livez stays.
    for gateway in (a, b):
        assert wait_ready(gateway.management_port, 503, timeout=20)["checks"]["store"]["ok"] is False
        assert get(gateway.management_port, "/livez")[0] == 200
    time.sleep(2)
    cluster.start()
    for gateway in (a, b):
        wait_ready(gateway.management_port, 200, timeout=30)
    time.sleep(2)
    stop.set()
    for thread in threads:
        thread.join(120)
    clean = [code for hold, code in results if not hold and code is not None]
    holds = [code for hold, code in results if hold and code is not None]
    # Clean mail flowed all along; a message to hold was held (250) or answered 451 (fail
    # closed): never accepted unheld, never refused for good.
    assert clean and set(clean) == {250}, set(clean)
    assert holds and set(holds) <= {250, 451} and 451 in holds and 250 in holds, holds
    time.sleep(2)
    delivered = [m for m in upstream.messages if b"Subject: tai " in m["content"]]
    assert len(delivered) == len(clean)
    assert not any(m["content"].endswith(held_data) for m in upstream.messages)
    assert len(held_messages(a.config_path)) == holds.count(250)


def test_store_migrate_and_copy_move_a_one_node_store_into_postgresql(cluster, gateway_factory, upstream, tmp_path):
    # A one-node gateway on its SQLite file holds mail and relays some.
    single = gateway_factory(f"smtp://127.0.0.1:{upstream.port}", name="single")
    held_data = held_message(tmp_path, payload=b"chuyen kho\n")
    for i in range(3):
        assert send(single.port, held_data) == 250
        assert send(single.port, CLEAN.format(subject=f"sach {i}").encode()) == 250
    time.sleep(1.5)  # the verdict log's batch
    single.terminate()
    before = held_messages(single.config_path)
    assert len(before) == 3

    # The same installation pointed at PostgreSQL: migrate, then copy the file in.
    config = single.config_path.read_text() + "\n[store]\n" + "".join(
        f'{key} = {value}\n' if isinstance(value, int) else f'{key} = "{value}"\n'
        for key, value in cluster.store_section("single").items())
    shared = tmp_path / "shared.toml"
    shared.write_text(config)
    migrate = subprocess.run([str(BINARY), "store", "migrate", "--config", str(shared)], capture_output=True, timeout=60)
    assert migrate.returncode == 0 and b"schema version" in migrate.stderr, migrate.stderr
    again = subprocess.run([str(BINARY), "store", "migrate", "--config", str(shared)], capture_output=True, timeout=60)
    assert again.returncode == 0 and b"nothing to do" in again.stderr, again.stderr
    sqlite_file = single.tmp / "var" / "quarantine" / "quarantine.sqlite"
    copy = subprocess.run([str(BINARY), "store", "copy", "--from", str(sqlite_file), "--config", str(shared)],
                          capture_output=True, timeout=120)
    assert copy.returncode == 0, copy.stderr
    assert b"copied" in copy.stderr and b"3 messages" in copy.stderr, copy.stderr
    after = held_messages(shared)
    assert [(m["id"], m["sha256"]) for m in after] == [(m["id"], m["sha256"]) for m in before]
    assert quarantine_cli(shared, "audit", "--verify").returncode == 0
    raw = subprocess.run([str(BINARY), "quarantine", "export", after[0]["id"], "-o", str(tmp_path / "m.eml"),
                          "--config", str(shared)], capture_output=True, timeout=60)
    assert raw.returncode == 0, raw.stderr
    assert (tmp_path / "m.eml").read_bytes() == held_data
    # A second copy into the now full store is refused, nothing written.
    refused = subprocess.run([str(BINARY), "store", "copy", "--from", str(sqlite_file), "--config", str(shared)],
                             capture_output=True, timeout=120)
    assert refused.returncode == 69, refused.stderr
    assert len(held_messages(shared)) == 3
    # `store` on a SQLite configuration says what to set.
    wrong = subprocess.run([str(BINARY), "store", "migrate", "--config", str(single.config_path)], capture_output=True, timeout=60)
    assert wrong.returncode == 78 and b'backend = "postgresql"' in wrong.stderr
