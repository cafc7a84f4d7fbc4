"""The stateless front door: a client that comes back on the same address and port gets in at
once (issue 18), and the handshake limits (issue 20)."""

from __future__ import annotations

import time

import packetdtls
from packetdtls import DTLSServer, Error, HandshakeLimits, PacketPeerDTLS, PacketPeerUDP, TLSOptions

from .test_dtls import CONNECTED, Harness, run_until


def fixed_port_client(server_port: int, local_port: int = 0):
    udp = PacketPeerUDP()
    assert udp.bind(local_port, "127.0.0.1") == Error.OK, packetdtls.last_error_message()
    assert udp.connect_to_host("127.0.0.1", server_port) == Error.OK
    client = PacketPeerDTLS()
    assert client.connect_to_peer(udp, False) == Error.OK
    return udp, client


def connect_and_echo(harness: Harness, client: PacketPeerDTLS) -> float:
    """Runs the seeds' loop until `client` is connected and its packet came back; seconds taken."""
    started = time.monotonic()
    answers = []

    def done() -> bool:
        for peer in harness.connected():
            while peer.get_available_packet_count() > 0:
                peer.put_packet(peer.get_packet())
        if client.get_status() == CONNECTED:
            if not answers:
                answers.append(None)
                assert client.put_packet(b"ping") == Error.OK
            while client.get_available_packet_count() > 0:
                answers.append(client.get_packet())
        return b"ping" in answers

    run_until(harness, [client], done, timeout=5)
    return time.monotonic() - started


def test_reconnect_from_the_same_address_and_port(identity):
    harness = Harness(lambda dtls: dtls.setup(TLSOptions.server(identity.key, identity.cert)))
    udp, first = fixed_port_client(harness.port)
    local_port = udp.get_local_port()
    connect_and_echo(harness, first)
    old_peer = harness.connected()[0]
    udp.close()  # the crash: the socket goes first, nothing says goodbye
    del first
    udp2, second = fixed_port_client(harness.port, local_port)
    took = connect_and_echo(harness, second)
    assert took < 1.5, f"reconnected in {took:.3f} s"
    assert old_peer.get_status() == PacketPeerDTLS.STATUS_DISCONNECTED
    assert "reconnected" in old_peer.get_error_message()
    assert harness.dtls.get_handshakes_in_flight() == 0


def test_handshake_limits():
    server = DTLSServer()
    assert server.get_handshake_limits() == HandshakeLimits(512, 128, 20000)
    assert server.set_handshake_limits(4, -1, 100) == Error.ERR_INVALID_PARAMETER
    assert server.set_handshake_limits(4, 2, 100) == Error.OK
    assert server.get_handshake_limits() == HandshakeLimits(max_in_flight=4, max_per_address=2, deadline_ms=100)
    assert server.get_handshakes_in_flight() == 0
