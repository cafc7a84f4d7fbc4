"""Both ends agree whether a session is alive: an idle timeout tells the other end, keepalives keep a
quiet session alive (and are counted), and ICMP "connection refused" ends a handshake to a closed
port and a session whose server process was killed (a second Python process serving DTLS)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from typing import Optional, Tuple

import pytest

from packetdtls import Error, PacketPeerDTLS, TLSOptions

from .conftest import PACKAGE_ROOT, openssl_path, pump
from .test_dtls import Harness, client_for, run_until
from .test_interop import Output, stop

CONNECTED = PacketPeerDTLS.STATUS_CONNECTED
DISCONNECTED = PacketPeerDTLS.STATUS_DISCONNECTED
ERROR = PacketPeerDTLS.STATUS_ERROR


def connected_pair(identity, server_idle: int, client_idle: int, server_keepalive: int = 0):
    def setup(dtls):
        options = TLSOptions.server(identity.key, identity.cert)
        assert options.set_idle_timeout(server_idle) == Error.OK
        assert options.set_keepalive_ms(server_keepalive) == Error.OK
        return dtls.setup(options)

    harness = Harness(setup)
    options = TLSOptions.client_unsafe()
    assert options.set_idle_timeout(client_idle) == Error.OK
    client = PacketPeerDTLS()
    assert client.connect_to_peer(client_for(harness.port), "", options) == Error.OK
    run_until(harness, [client], lambda: client.get_status() == CONNECTED and len(harness.connected()) == 1)
    return harness, client, harness.connected()[0]


def times_of_ending(harness: Harness, client: PacketPeerDTLS, server_peer: PacketPeerDTLS) -> Tuple[float, float]:
    ended = {}

    def step() -> None:
        harness.step()
        client.poll()
        now = time.monotonic()
        if "server" not in ended and server_peer.get_status() != CONNECTED:
            ended["server"] = now
        if "client" not in ended and client.get_status() != CONNECTED:
            ended["client"] = now

    pump(step, lambda: len(ended) == 2, timeout=5)
    return ended["server"], ended["client"]


def test_server_idle_timeout_tells_the_quiet_client(identity):
    harness, client, server_peer = connected_pair(identity, server_idle=1000, client_idle=0)
    server_ended, client_ended = times_of_ending(harness, client, server_peer)
    assert server_peer.get_status() == ERROR
    assert server_peer.get_error_message().startswith("idle timeout")
    assert client.get_status() == DISCONNECTED
    assert "for inactivity" in client.get_error_message()
    assert client_ended - server_ended < 1.0


def test_client_idle_timeout_tells_the_quiet_server(identity):
    harness, client, server_peer = connected_pair(identity, server_idle=0, client_idle=1000)
    server_ended, client_ended = times_of_ending(harness, client, server_peer)
    assert client.get_status() == ERROR
    assert client.get_error_message().startswith("idle timeout")
    assert server_peer.get_status() == DISCONNECTED
    assert "for inactivity" in server_peer.get_error_message()
    assert server_ended - client_ended < 1.0


def test_keepalive_keeps_a_quiet_session_alive(identity):
    harness, client, server_peer = connected_pair(identity, server_idle=2000, client_idle=2000, server_keepalive=500)
    assert client.set_keepalive_ms(500) == Error.OK
    surfaced = 0
    until = time.monotonic() + 10

    def step() -> None:
        nonlocal surfaced
        harness.step()
        client.poll()
        surfaced += client.get_available_packet_count() + server_peer.get_available_packet_count()

    pump(step, lambda: time.monotonic() >= until or CONNECTED not in (client.get_status(), server_peer.get_status())
         or client.get_status() != server_peer.get_status(), timeout=12, max_rounds=2_000_000)
    assert client.get_status() == CONNECTED, client.get_error_message()
    assert server_peer.get_status() == CONNECTED, server_peer.get_error_message()
    assert surfaced == 0
    client_stats, server_stats = client.get_stats(), server_peer.get_stats()
    assert client_stats.keepalives_sent >= 15 and server_stats.keepalives_received >= 15, (client_stats, server_stats)
    assert server_stats.keepalives_sent >= 15 and client_stats.keepalives_received >= 15, (client_stats, server_stats)
    assert client_stats.packets_received == 0 and server_stats.packets_received == 0


def test_keepalive_arguments():
    assert TLSOptions.client_unsafe().set_keepalive_ms(-1) == Error.ERR_INVALID_PARAMETER
    assert PacketPeerDTLS().set_keepalive_ms(2**32) == Error.ERR_INVALID_PARAMETER
    assert PacketPeerDTLS().set_keepalive_ms(0) == Error.OK


def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("0.0.0.0", 0))  # free on every IPv4 address: tools bind the wildcard
        return probe.getsockname()[1]


def test_handshake_to_a_closed_port_fails_fast():
    client = PacketPeerDTLS()
    started = time.monotonic()
    assert client.connect_to_peer(client_for(closed_port()), False) == Error.OK
    pump(client.poll, lambda: client.get_status() != PacketPeerDTLS.STATUS_HANDSHAKING, timeout=3)
    took = time.monotonic() - started
    assert client.get_status() == ERROR
    assert "connection refused" in client.get_error_message()
    assert took < 1.5


# The second process: a DTLS echo server from this package, printing its port, serving until killed.
SERVER = """
import sys, time
from packetdtls import Crypto, DTLSServer, TLSOptions, UDPServer
crypto = Crypto()
key = crypto.generate_ec_p256()
cert = crypto.generate_self_signed_certificate(key, "CN=localhost")
udp = UDPServer()
assert udp.listen(0, "127.0.0.1") == 0
dtls = DTLSServer()
assert dtls.setup(TLSOptions.server(key, cert)) == 0
print(udp.get_local_port(), flush=True)
peers = []
while True:
    udp.poll()
    while udp.is_connection_available():
        peer = dtls.take_connection(udp.take_connection())
        if peer is not None and peer.get_status() == 1:
            peers.append(peer)
    for peer in peers:
        peer.poll()
        while peer.get_available_packet_count() > 0:
            peer.put_packet(peer.get_packet())
    time.sleep(0.001)
"""


def start_server_process() -> Tuple[subprocess.Popen, int]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(PACKAGE_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    process = subprocess.Popen([sys.executable, "-c", SERVER], stdout=subprocess.PIPE, env=env, text=True)
    assert process.stdout is not None
    line: Optional[str] = process.stdout.readline()
    assert line and line.strip().isdigit(), "the server process did not start"
    return process, int(line)


def test_session_whose_server_process_is_killed():
    process, port = start_server_process()
    try:
        client = PacketPeerDTLS()
        assert client.connect_to_peer(client_for(port), False) == Error.OK
        pump(client.poll, lambda: client.get_status() != PacketPeerDTLS.STATUS_HANDSHAKING, timeout=10)
        assert client.get_status() == CONNECTED, client.get_error_message()
        assert client.put_packet(b"ping") == Error.OK
        pump(client.poll, lambda: client.get_available_packet_count() > 0, timeout=10)
        assert client.get_packet() == b"ping"
    finally:
        process.kill()
        process.wait(10)
    killed = time.monotonic()
    last_put = 0.0

    def step() -> None:
        nonlocal last_put
        # A game keeps sending every 100 ms; put_packet stays OK while the session lasts.
        if time.monotonic() - last_put >= 0.1 and client.get_status() == CONNECTED:
            assert client.put_packet(b"tick") == Error.OK
            last_put = time.monotonic()
        client.poll()

    pump(step, lambda: client.get_status() != CONNECTED, timeout=4, max_rounds=2_000_000)
    took = time.monotonic() - killed
    assert client.get_status() == ERROR
    assert "connection refused" in client.get_error_message()
    assert 1.5 <= took < 3.0, took


@pytest.mark.interop
@pytest.mark.skipif(openssl_path() is None, reason="the openssl command-line tool is not installed")
def test_idle_timeout_ends_openssl_s_client_cleanly(identity):
    """Our server's idle timeout says goodbye to `openssl s_client`, which reads a plain close_notify
    (the inactivity mark behind it is ignored, as RFC 5246 wants) and ends without an error."""
    def setup(dtls):
        options = TLSOptions.server(identity.key, identity.cert)
        assert options.set_idle_timeout(1000) == Error.OK
        return dtls.setup(options)

    harness = Harness(setup)
    client = subprocess.Popen(
        [openssl_path(), "s_client", "-dtls1_2", "-connect", f"127.0.0.1:{harness.port}", "-CAfile", str(identity.cert_path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        output = Output(client)
        pump(harness.step, lambda: len(harness.connected()) == 1, timeout=20)
        server_peer = harness.connected()[0]
        pump(harness.step, lambda: client.poll() is not None, timeout=5)
        output.thread.join(5)  # the tool's last lines may still be on their way to the reader
        text = output.drain()
        assert server_peer.get_status() == ERROR
        assert server_peer.get_error_message().startswith("idle timeout")
        assert "closed" in text and ":error:" not in text, text
    finally:
        stop(client)
