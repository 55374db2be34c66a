"""The PROXY protocol in front of the SMTP listener (issue 16): `proxy_protocol = "required"`
with `trusted_proxies`, as HAProxy's `send-proxy` / `send-proxy-v2` send it. The header's client
address is the client's in the log, the Received: header and the per-client limits; a connection
without a valid header, or from a peer that is not a trusted proxy, is closed before the banner."""
import smtplib
import socket
import struct
import time

from conftest import strip_trace
from postfix import free_port, wait_port

SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"


def v1(client="203.0.113.9", port=40000):
    return f"PROXY TCP4 {client} 127.0.0.1 {port} 25\r\n".encode()


def v2(client=(203, 0, 113, 10), port=40001, local=False):
    if local:
        return SIGNATURE + bytes([0x20, 0x00, 0, 0])
    block = bytes(client) + bytes([127, 0, 0, 1]) + struct.pack(">HH", port, 25)
    # A TLV as HAProxy adds (PP2_TYPE_UNIQUE_ID): skipped.
    block += bytes([0x05, 0, 4]) + b"abcd"
    return SIGNATURE + bytes([0x21, 0x11]) + struct.pack(">H", len(block)) + block


class ProxiedSMTP(smtplib.SMTP):
    """smtplib behind a load balancer: the PROXY header goes first on the new socket."""

    def __init__(self, header, *args, **kwargs):
        self.proxy_header = header
        super().__init__(*args, **kwargs)

    def _get_socket(self, host, port, timeout):
        sock = super()._get_socket(host, port, timeout)
        sock.sendall(self.proxy_header)
        return sock


def proxied_gateway(gateway_factory, upstream, **server):
    server = {"proxy_protocol": "required", "trusted_proxies": ["127.0.0.0/8"], **server}
    return gateway_factory(f"smtp://127.0.0.1:{upstream.port}", server=server)


MESSAGE = b"From: a@example.org\r\nTo: lanhdao@quangninh.gov.vn\r\nSubject: qua HAProxy\r\n\r\nXin chao.\r\n"


def first_bytes(port, data, timeout=10):
    """What the gateway says to a connection that sends `data` (b"": it closed without a word)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        if data:
            s.sendall(data)
        received = b""
        try:
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    return received
                received += chunk
                if received.endswith(b"\r\n"):
                    return received
        except ConnectionResetError:
            return received


def test_the_headers_client_is_the_client_everywhere(gateway_factory, upstream):
    gateway = proxied_gateway(gateway_factory, upstream)
    for header, client in ((v1(), "203.0.113.9"), (v2(), "203.0.113.10")):
        with ProxiedSMTP(header, "127.0.0.1", gateway.port, timeout=30) as smtp:
            smtp.ehlo("client.example")
            smtp.sendmail("a@example.org", ["lanhdao@quangninh.gov.vn"], MESSAGE)
        received, rest = strip_trace(upstream.messages[-1]["content"])
        assert f"[{client}]".encode() in received, received
        assert rest == MESSAGE
        assert gateway.wait_for_log(lambda line: f"client=client.example[{client}]" in line and "result=sent" in line)


def test_a_health_check_keeps_the_sockets_address(gateway_factory, upstream):
    gateway = proxied_gateway(gateway_factory, upstream)
    with ProxiedSMTP(v2(local=True), "127.0.0.1", gateway.port, timeout=30) as smtp:
        smtp.ehlo("haproxy.check")
        smtp.sendmail("a@example.org", ["lanhdao@quangninh.gov.vn"], MESSAGE)
    received, _ = strip_trace(upstream.messages[-1]["content"])
    assert b"[127.0.0.1]" in received


def test_no_header_no_banner(gateway_factory, upstream):
    gateway = proxied_gateway(gateway_factory, upstream, proxy_protocol_timeout="1s")
    # SMTP straight away, a header cut short then closed, a v1 line past 107 bytes: closed, no 220.
    assert first_bytes(gateway.port, b"EHLO client.example\r\n") == b""
    assert first_bytes(gateway.port, b"PROXY TCP4 203.0.113.9 127.0.0.1 40000 25\n" + b" " * 100) == b""
    assert first_bytes(gateway.port, b"PROXY TCP4 203.0.113.9 127.0.0.1 99999 25\r\n") == b""
    # Silent: closed after proxy_protocol_timeout, still without a banner.
    started = time.time()
    assert first_bytes(gateway.port, b"PROXY TCP4 ") == b""
    assert 0.8 <= time.time() - started < 8
    assert gateway.wait_for_log(lambda line: "connection closed before the banner" in line)
    # And the listener still serves a proxied client.
    assert first_bytes(gateway.port, v1()).startswith(b"220 ")


def test_a_peer_outside_the_trusted_proxies_is_closed_before_a_byte_is_read(gateway_factory, upstream):
    gateway = proxied_gateway(gateway_factory, upstream, trusted_proxies=["10.0.0.0/8"])
    assert first_bytes(gateway.port, v1()) == b""
    assert gateway.wait_for_log(lambda line: "is not in trusted_proxies" in line)


def test_per_client_limits_count_the_headers_client(gateway_factory, upstream):
    gateway = proxied_gateway(gateway_factory, upstream, max_connections_per_ip=1)
    # All three come from 127.0.0.1 (the balancer); two of them for one client.
    first = socket.create_connection(("127.0.0.1", gateway.port), timeout=10)
    first.sendall(v1("198.51.100.20"))
    assert first.recv(4096).startswith(b"220 ")
    try:
        assert first_bytes(gateway.port, v1("198.51.100.20")).startswith(b"421 ")
        assert first_bytes(gateway.port, v1("198.51.100.21")).startswith(b"220 ")
    finally:
        first.close()


HAPROXY_CFG = """\
global
    maxconn 100
defaults
    mode tcp
    timeout connect 5s
    timeout client 60s
    timeout server 60s
frontend v1
    bind 127.0.0.1:{v1}
    default_backend send_proxy
frontend v2
    bind 127.0.0.1:{v2}
    default_backend send_proxy_v2
backend send_proxy
    server thugate 127.0.0.1:{gateway} send-proxy
backend send_proxy_v2
    server thugate 127.0.0.1:{gateway} send-proxy-v2
"""


def test_behind_debians_haproxy_with_send_proxy_and_send_proxy_v2(gateway_factory, upstream, tmp_path):
    """Debian's HAProxy 2.6 in front of ThuGate; the client binds 127.0.0.2, so the address in
    the log and the Received: header can only have come from the header HAProxy wrote."""
    import subprocess
    gateway = proxied_gateway(gateway_factory, upstream)
    ports = {"v1": free_port(), "v2": free_port(), "gateway": gateway.port}
    config = tmp_path / "haproxy.cfg"
    config.write_text(HAPROXY_CFG.format(**ports))
    haproxy = subprocess.Popen(["haproxy", "-db", "-f", str(config)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_port(ports["v2"], timeout=20)
        for name in ("v1", "v2"):
            with smtplib.SMTP("127.0.0.1", ports[name], timeout=30, source_address=("127.0.0.2", 0)) as smtp:
                smtp.ehlo(f"client-{name}.example")
                smtp.sendmail("a@example.org", ["lanhdao@quangninh.gov.vn"], MESSAGE)
            received, rest = strip_trace(upstream.messages[-1]["content"])
            assert b"[127.0.0.2]" in received, received
            assert rest == MESSAGE
            assert gateway.wait_for_log(lambda line: f"client=client-{name}.example[127.0.0.2]" in line)
    finally:
        haproxy.terminate()
        haproxy.wait(10)
