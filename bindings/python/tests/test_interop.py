"""Interop with OpenSSL over loopback UDP: our client against `openssl s_server -dtls1_2`, and
`openssl s_client -dtls1_2` against our server. The key and certificate are made by the library."""

from __future__ import annotations

import queue
import socket
import subprocess
import threading
import time
from typing import List

import pytest

import packetdtls
from packetdtls import DTLSServer, Error, PacketPeerDTLS, PacketPeerUDP, TLSOptions, UDPServer

from .conftest import openssl_path, pump

pytestmark = [
    pytest.mark.interop,
    pytest.mark.skipif(openssl_path() is None, reason="the openssl command-line tool is not installed"),
]


class Output:
    """Collects a subprocess's stdout lines on a thread, so the test loop never blocks on it."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.lines: "queue.Queue[str]" = queue.Queue()
        self.seen: List[str] = []
        self.thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self.thread.start()

    def _read(self, process: subprocess.Popen) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self.lines.put(line)

    def drain(self) -> str:
        while True:
            try:
                self.seen.append(self.lines.get_nowait())
            except queue.Empty:
                return "".join(self.seen)

    def wait_for(self, text: str, timeout: float = 15.0) -> None:
        pump(lambda: None, lambda: text in self.drain(), timeout=timeout)


def free_udp_port() -> int:
    """A port the kernel just handed out for UDP on 127.0.0.1 (openssl needs a number up front)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("0.0.0.0", 0))  # free on every IPv4 address: tools bind the wildcard
        return probe.getsockname()[1]


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def test_our_client_against_openssl_s_server(identity):
    port = free_udp_port()
    server = subprocess.Popen(
        [
            openssl_path(), "s_server", "-dtls1_2", "-accept", f"127.0.0.1:{port}",
            "-key", str(identity.key_path), "-cert", str(identity.cert_path), "-listen", "-naccept", "1",
        ],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        output = Output(server)
        output.wait_for("ACCEPT")
        udp = PacketPeerUDP()
        assert udp.connect_to_host("127.0.0.1", port) == Error.OK
        client = PacketPeerDTLS()
        assert client.connect_to_peer(udp, "localhost", TLSOptions.client(identity.cert)) == Error.OK
        pump(client.poll, lambda: client.get_status() != PacketPeerDTLS.STATUS_HANDSHAKING, timeout=20)
        assert client.get_status() == PacketPeerDTLS.STATUS_CONNECTED, (client.get_error_message(), output.drain())

        assert client.put_packet(b"hello from packetdtls\n") == Error.OK
        output.wait_for("hello from packetdtls")

        assert server.stdin is not None
        server.stdin.write("hello from openssl\n")
        server.stdin.flush()
        pump(client.poll, lambda: client.get_available_packet_count() > 0, timeout=15)
        assert client.get_packet() == b"hello from openssl\n"

        assert client.disconnect_from_peer() == Error.OK
        server.wait(15)  # -naccept 1: it ends after our close_notify
    finally:
        stop(server)


def test_openssl_s_client_against_our_server(identity):
    udp_server = UDPServer()
    assert udp_server.listen(0, "127.0.0.1") == Error.OK
    dtls = DTLSServer()
    assert dtls.setup(TLSOptions.server(identity.key, identity.cert)) == Error.OK
    peers: List[PacketPeerDTLS] = []
    received: List[bytes] = []

    def serve() -> None:
        udp_server.poll()
        while udp_server.is_connection_available():
            dtls_peer = dtls.take_connection(udp_server.take_connection())
            if dtls_peer is not None and dtls_peer.get_status() == PacketPeerDTLS.STATUS_HANDSHAKING:
                peers.append(dtls_peer)
        for peer in peers:
            peer.poll()
            while peer.get_available_packet_count() > 0:
                packet = peer.get_packet()
                received.append(packet)
                peer.put_packet(b"reply: " + packet)

    client = subprocess.Popen(
        [
            openssl_path(), "s_client", "-dtls1_2", "-connect", f"127.0.0.1:{udp_server.get_local_port()}",
            "-CAfile", str(identity.cert_path), "-verify_return_error", "-verify_hostname", "localhost",
            "-servername", "localhost",
        ],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        output = Output(client)
        pump(serve, lambda: "Verify return code: 0 (ok)" in output.drain(), timeout=20)
        assert peers and peers[-1].get_status() == PacketPeerDTLS.STATUS_CONNECTED
        assert client.stdin is not None
        client.stdin.write("hello from openssl\n")
        client.stdin.flush()
        pump(serve, lambda: bool(received), timeout=15)
        assert received == [b"hello from openssl\n"]
        pump(serve, lambda: "reply: hello from openssl" in output.drain(), timeout=15)
        client.stdin.close()  # s_client sends close_notify and quits at end of input
        pump(serve, lambda: peers[-1].get_status() == PacketPeerDTLS.STATUS_DISCONNECTED, timeout=15)
        client.wait(15)
    finally:
        stop(client)
    assert "ECDHE" in output.drain() or "ECDSA" in output.drain()
    assert packetdtls.last_error_message() is not None
