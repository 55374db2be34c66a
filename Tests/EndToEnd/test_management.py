"""The management listener (issue 16): /metrics scraped after a load and read by the Prometheus
project's own parser (prometheus_client), /readyz flipping on a removed signature directory, a
store that cannot take a write and an unreachable upstream, /livez staying 200, and SIGTERM's
drain: /readyz 503 at once, still accepting for the grace period, then a clean stop; behind
HAProxy with health checks on /readyz, a node drained while 50 clients send loses no message."""
import json
import re
import shutil
import signal
import smtplib
import sqlite3
import subprocess
import threading
import time
import urllib.error
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from conftest import ROOT
from postfix import free_port, wait_port
from test_content import EICAR

CLEAN = b"From: vanthu@quangninh.gov.vn\r\nTo: lanhdao@quangninh.gov.vn\r\nSubject: bao cao\r\n\r\nXin chao.\r\n"
VIRUS = b"From: a@example.org\r\nTo: lanhdao@quangninh.gov.vn\r\nSubject: x\r\n\r\nTest: " + EICAR + b"\r\n"

# Every family ThuGate exports, with its label names (Sources/GatewayServer/Metrics/GatewayMetrics.swift).
FAMILIES = {
    "thugate_smtp_connections_active": set(),
    "thugate_messages": {"mode", "outcome"},
    "thugate_rule_hits": {"rule"},
    "thugate_transaction_duration_seconds": {"stage"},
    "thugate_upstream_replies": {"class"},
    "thugate_clamav_db_timestamp_seconds": set(),
    "thugate_quarantine_held": {"category"},
    "thugate_outbox_pending": set(),
    "thugate_store_up": set(),
    "thugate_verdicts_dropped": set(),
    "thugate_ready": set(),
}


def get(port, path, timeout=10):
    """(status, body) of GET http://127.0.0.1:port/path."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def scrape(port):
    status, text = get(port, "/metrics")
    assert status == 200
    families = {family.name: family for family in text_string_to_metric_families(text)}
    samples = {}
    for family in families.values():
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return families, samples


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0)


def send(port, data, sender="vanthu@quangninh.gov.vn"):
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as smtp:
        smtp.ehlo("client.test")
        try:
            smtp.sendmail(sender, ["lanhdao@quangninh.gov.vn"], data)
            return 250
        except smtplib.SMTPDataError as error:
            return error.smtp_code


def wait_ready(port, want, timeout=30):
    """The /readyz answer once its status is `want` (200 or 503)."""
    deadline = time.time() + timeout
    while True:
        status, body = get(port, "/readyz")
        if status == want or time.time() > deadline:
            assert status == want, body
            return json.loads(body)
        time.sleep(0.2)


def test_metrics_after_a_load_are_monotonic_and_bounded(gateway):
    codes = []
    threads = [threading.Thread(target=lambda d=d: codes.append(send(gateway.port, d))) for d in [CLEAN] * 10 + [VIRUS] * 3]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes) == [250] * 10 + [554] * 3 or sorted(codes) == [250] * 10 + [550] * 3, codes
    first_families, first = scrape(gateway.management_port)
    for _ in range(5):
        assert send(gateway.port, CLEAN) == 250
    families, second = scrape(gateway.management_port)

    assert value(first, "thugate_messages_total", mode="proxy", outcome="delivered") == 10
    assert value(first, "thugate_messages_total", mode="proxy", outcome="refused") == 3
    assert value(second, "thugate_messages_total", mode="proxy", outcome="delivered") == 15
    assert value(second, "thugate_rule_hits_total", rule="virus") == 3
    assert value(second, "thugate_transaction_duration_seconds_count", stage="total") == 18
    assert value(second, "thugate_transaction_duration_seconds_count", stage="inspect") == 18
    assert value(second, "thugate_transaction_duration_seconds_count", stage="relay") == 15
    assert value(second, "thugate_upstream_replies_total", **{"class": "2xx"}) >= 15
    assert value(second, "thugate_smtp_connections_active") == 0
    assert value(second, "thugate_verdicts_dropped_total") == 0
    assert value(second, "thugate_clamav_db_timestamp_seconds") > 1e9

    # Counters and histograms only grow between scrapes.
    for key, before in first.items():
        if first_families[re.sub(r"_(bucket|count|sum|total|created)$", "", key[0])].type in ("counter", "histogram"):
            assert second.get(key, 0) >= before, key
    # Only ThuGate's families, each with its help text and its own label names; no label value is
    # an address, a domain or anything a sender chose.
    for name, family in families.items():
        assert name in FAMILIES, name
        assert family.documentation, name
        for sample in family.samples:
            assert set(sample.labels) - {"le"} == FAMILIES[name], (name, sample.labels)
            for label, text in sample.labels.items():
                assert re.fullmatch(r"[a-z0-9+.\-]+|\+Inf|[0-9.]+", text), (name, label, text)
                assert "@" not in text and not re.fullmatch(r"\d+\.\d+\.\d+\.\d+", text)


def test_readyz_flips_on_signatures_store_and_upstream_and_livez_stays(gateway_factory, upstream, tmp_path):
    signatures = tmp_path / "signatures"
    shutil.copytree(ROOT / "Config" / "signatures", signatures)
    gateway = gateway_factory(
        f"smtp://127.0.0.1:{upstream.port}",
        sections={
            "scan": {"signatures": str(signatures)},
            "management": {"listen": "127.0.0.1:0", "store_probe_interval": "1s", "upstream_within": "2s"},
        },
    )
    port = gateway.management_port
    ready = wait_ready(port, 200)
    assert ready["ready"] is True
    assert list(ready["checks"]) == ["listeners", "signatures", "store", "upstream", "draining"]

    shutil.rmtree(signatures)
    body = wait_ready(port, 503)
    assert body["checks"]["signatures"]["ok"] is False and "no signature files" in body["checks"]["signatures"]["detail"]
    assert get(port, "/livez") == (200, "ok\n")
    shutil.copytree(ROOT / "Config" / "signatures", signatures)
    wait_ready(port, 200)

    # Another process holds the store's write lock: no write can be committed, /readyz says so.
    store = sqlite3.connect(gateway.tmp / "var" / "quarantine" / "quarantine.sqlite", isolation_level=None, timeout=30)
    store.execute("BEGIN EXCLUSIVE")
    try:
        body = wait_ready(port, 503, timeout=40)
        assert body["checks"]["store"]["ok"] is False, body
        _, metrics = scrape(port)
        assert value(metrics, "thugate_store_up") == 0
        assert get(port, "/livez")[0] == 200
    finally:
        store.execute("ROLLBACK")
        store.close()
    wait_ready(port, 200, timeout=40)

    upstream.stop()
    body = wait_ready(port, 503, timeout=30)
    assert body["checks"]["upstream"]["ok"] is False and "unreachable" in body["checks"]["upstream"]["detail"]
    assert get(port, "/livez")[0] == 200
    assert get(port, "/nothing")[0] == 404


def test_sigterm_turns_readyz_503_keeps_accepting_for_the_grace_then_stops(gateway_factory, upstream):
    gateway = gateway_factory(
        f"smtp://127.0.0.1:{upstream.port}",
        sections={"management": {"listen": "127.0.0.1:0", "drain_grace": "3s", "store_probe_interval": "1s"}},
    )
    port = gateway.management_port
    wait_ready(port, 200)
    gateway.proc.send_signal(signal.SIGTERM)
    started = time.time()
    body = wait_ready(port, 503, timeout=2)
    assert time.time() - started < 1.5
    assert body["checks"]["draining"]["ok"] is False
    # Still accepting: a load balancer has not taken the node out yet.
    assert send(gateway.port, CLEAN) == 250
    assert gateway.proc.wait(30) == 0
    assert time.time() - started >= 3
    assert gateway.wait_for_log(lambda line: "SIGTERM: draining" in line)


HAPROXY_DRAIN = """\
global
    log stdout format raw local0 info
defaults
    mode tcp
    log global
    option tcplog
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    retries 3
    option redispatch
frontend smtp
    bind 127.0.0.1:{front}
    default_backend gateways
backend gateways
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
    server a 127.0.0.1:{a} send-proxy-v2 check port {a_mgmt} inter 300ms fall 1 rise 2
    server b 127.0.0.1:{b} send-proxy-v2 check port {b_mgmt} inter 300ms fall 1 rise 2
"""


def test_a_node_drained_under_haproxy_while_50_clients_send_loses_nothing(gateway_factory, upstream, tmp_path):
    sections = {"management": {"listen": "127.0.0.1:0", "drain_grace": "3s", "store_probe_interval": "1s"}}
    server = {"proxy_protocol": "required", "trusted_proxies": ["127.0.0.0/8"], "max_connections_per_ip": 200}
    a = gateway_factory(f"smtp://127.0.0.1:{upstream.port}", server=server, sections=sections, name="a")
    b = gateway_factory(f"smtp://127.0.0.1:{upstream.port}", server=server, sections=sections, name="b")
    wait_ready(a.management_port, 200)
    wait_ready(b.management_port, 200)
    front = free_port()
    config = tmp_path / "haproxy.cfg"
    config.write_text(HAPROXY_DRAIN.format(front=front, a=a.port, b=b.port, a_mgmt=a.management_port,
                                           b_mgmt=b.management_port))
    haproxy = subprocess.Popen(["haproxy", "-db", "-f", str(config)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    results, errors = [], []
    stop = threading.Event()

    def client(n):
        i = 0
        while not stop.is_set():
            data = CLEAN.replace(b"bao cao", f"drain {n}-{i}".encode())
            try:
                results.append(send(front, data))
            except (OSError, smtplib.SMTPException) as error:
                errors.append(f"{n}-{i}: {error!r}")
            i += 1

    try:
        wait_port(front, timeout=20)
        time.sleep(1.5)  # both servers up in HAProxy's eyes (rise 2)
        threads = [threading.Thread(target=client, args=(n,)) for n in range(50)]
        for thread in threads:
            thread.start()
        time.sleep(2)
        a.proc.send_signal(signal.SIGTERM)
        assert a.proc.wait(30) == 0
        time.sleep(1)
        stop.set()
        for thread in threads:
            thread.join(60)
    finally:
        stop.set()
        haproxy.terminate()
        log = haproxy.communicate(timeout=10)[0].decode(errors="replace")
    assert not errors, (errors[:5], log[-2000:])
    assert results and all(code == 250 for code in results), results
    # Every message answered 250 reached the upstream, once; node A took some before it left.
    upstream.wait_for_messages(len(results), timeout=30)
    subjects = [re.search(rb"Subject: (drain \S+)", m["content"]).group(1) for m in upstream.messages]
    assert len(subjects) == len(set(subjects)) == len(results)
    assert a.wait_for_log(lambda line: "result=sent" in line)
    assert a.wait_for_log(lambda line: "SIGTERM: draining" in line)
