"""Issue 19 from Python, over loopback: what the kernel kept arrives or is counted, replies leave from
the address the client used, stopping a server ends its DTLS sessions, misuse is refused, and a Godot 3
Variant read with the Godot 4 numbering is refused with a reason."""

from __future__ import annotations

import threading
import time
from typing import List

import packetdtls
from packetdtls import (
    DTLSServer,
    Error,
    PacketPeerDTLS,
    PacketPeerUDP,
    TLSOptions,
    UDPServer,
    UDPStats,
)

from .conftest import pump

CONNECTED = PacketPeerDTLS.STATUS_CONNECTED
DISCONNECTED = PacketPeerDTLS.STATUS_DISCONNECTED
HANDSHAKING = PacketPeerDTLS.STATUS_HANDSHAKING


def listening(bind_address: str = "127.0.0.1") -> UDPServer:
    server = UDPServer()
    assert server.listen(0, bind_address) == Error.OK, packetdtls.last_error_message()
    return server


def connected(host: str, port: int) -> PacketPeerUDP:
    udp = PacketPeerUDP()
    assert udp.connect_to_host(host, port) == Error.OK, packetdtls.last_error_message()
    return udp


def take(server: UDPServer) -> PacketPeerUDP:
    pump(server.poll, server.is_connection_available, timeout=3)
    peer = server.take_connection()
    assert peer is not None
    return peer


# MARK: - Bursts


def test_a_burst_of_500_while_the_server_is_busy_arrives_whole():
    server = listening()
    client = connected("127.0.0.1", server.get_local_port())
    assert client.put_packet(b"\x00") == Error.OK
    peer = take(server)
    assert peer.get_packet() == b"\x00"
    for i in range(500):
        assert client.put_packet(bytes([i & 0xFF]) * 1024) == Error.OK
    time.sleep(0.3)  # busy: the kernel keeps the burst
    assert server.poll() == Error.OK
    assert peer.get_available_packet_count() == 500
    assert [peer.get_packet()[0] for _ in range(500)] == [i & 0xFF for i in range(500)]
    stats = server.get_stats()
    assert isinstance(stats, UDPStats)
    assert stats.datagrams_received == 501 and stats.datagrams_dropped == 0
    assert stats.datagrams_dropped_by_kernel == 0
    assert peer.get_stats().datagrams_received == 501


def test_uploads_of_16_kib_at_full_speed_to_a_60_hz_server_arrive_or_are_counted():
    server = listening()
    client = connected("127.0.0.1", server.get_local_port())
    assert client.put_packet(b"\x00") == Error.OK
    peer = take(server)
    peer.get_packet()
    payload = b"\x5a" * 16384
    sent = [0]

    def upload() -> None:
        for _ in range(200):
            if client.put_packet(payload) == Error.OK:
                sent[0] += 1

    sender = threading.Thread(target=upload)
    sender.start()
    delivered = 0
    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline:
        server.poll()
        while peer.get_available_packet_count():
            delivered += peer.get_packet() == payload
        time.sleep(1 / 60)
    sender.join()
    assert client.put_packet(b"end") == Error.OK  # carries the kernel's last drop count
    ended = [False]

    def drain() -> None:
        nonlocal delivered
        server.poll()
        while peer.get_available_packet_count():
            packet = peer.get_packet()
            if packet == b"end":
                ended[0] = True
            else:
                delivered += packet == payload

    pump(drain, lambda: ended[0], timeout=3)
    stats = server.get_stats()
    lost = stats.datagrams_dropped + stats.datagrams_dropped_by_kernel
    assert sent[0] == delivered + lost, (sent[0], delivered, stats)
    assert stats.datagrams_dropped == 0


def test_queue_limits_are_settable_and_an_unread_peer_drops_and_counts():
    server = listening()
    assert server.get_peer_queue_limit() == 1 << 20
    assert server.get_total_queue_limit() == 16 << 20
    assert server.set_peer_queue_limit(0) == Error.ERR_INVALID_PARAMETER
    assert server.set_total_queue_limit(8 << 20) == Error.OK and server.get_total_queue_limit() == 8 << 20
    assert server.set_peer_queue_limit(4 * (100 + 24)) == Error.OK
    client = connected("127.0.0.1", server.get_local_port())
    assert client.put_packet(bytes(100)) == Error.OK
    peer = take(server)
    for _ in range(9):
        assert client.put_packet(bytes(100)) == Error.OK
    pump(server.poll, lambda: peer.get_stats().datagrams_dropped == 6, timeout=3)
    assert peer.get_stats().packets_queued == 4
    assert server.get_stats().datagrams_dropped == 6


# MARK: - Replies from the address the client used


def test_udp_replies_via_127_0_0_5_and_ipv6_to_a_wildcard_server():
    for host in ("127.0.0.5", "::1"):
        server = listening("*")
        client = connected(host, server.get_local_port())
        assert client.put_packet(b"ping") == Error.OK
        peer = take(server)
        assert peer.get_packet() == b"ping"
        assert peer.put_packet(b"pong") == Error.OK
        pump(lambda: None, lambda: client.get_available_packet_count() > 0, timeout=3)
        assert client.get_packet() == b"pong"
        server.stop()


class DTLSHarness:
    def __init__(self, identity, bind_address: str = "127.0.0.1") -> None:
        self.udp = listening(bind_address)
        self.dtls = DTLSServer()
        assert self.dtls.setup(TLSOptions.server(identity.key, identity.cert)) == Error.OK
        self.peers: List[PacketPeerDTLS] = []

    def step(self) -> None:
        self.udp.poll()
        while self.udp.is_connection_available():
            peer = self.dtls.take_connection(self.udp.take_connection())
            if peer is not None and peer.get_status() == HANDSHAKING:
                self.peers.append(peer)
        for peer in self.peers:
            peer.poll()
            while peer.get_status() == CONNECTED and peer.get_available_packet_count():
                peer.put_packet(peer.get_packet())

    def client(self, host: str = "127.0.0.1") -> PacketPeerDTLS:
        client = PacketPeerDTLS()
        assert client.connect_to_peer(connected(host, self.udp.get_local_port()), False) == Error.OK
        return client


def test_dtls_via_127_0_0_5_and_ipv6_to_a_wildcard_server(identity):
    for host in ("127.0.0.5", "::1"):
        harness = DTLSHarness(identity, "*")
        client = harness.client(host)
        echoed: List[bytes] = []

        def step() -> None:
            harness.step()
            client.poll()
            if client.get_status() == CONNECTED and not echoed and client.put_packet(b"hello") == Error.OK:
                echoed.append(b"")
            if client.get_available_packet_count():
                echoed.append(client.get_packet())

        pump(step, lambda: b"hello" in echoed, timeout=10)


# MARK: - stop() ends the sessions


def test_stop_with_ten_connected_clients_disconnects_every_client_within_a_second(identity):
    harness = DTLSHarness(identity)
    clients = [harness.client() for _ in range(10)]

    def step() -> None:
        harness.step()
        for client in clients:
            client.poll()

    pump(step, lambda: all(c.get_status() == CONNECTED for c in clients)
         and sum(p.get_status() == CONNECTED for p in harness.peers) == 10, timeout=20)
    assert harness.udp.stop() == Error.OK
    for peer in harness.peers:
        assert peer.get_status() == DISCONNECTED
        assert "UDPServer stopped" in peer.get_error_message()
    start = time.monotonic()
    pump(lambda: [c.poll() for c in clients], lambda: all(c.get_status() == DISCONNECTED for c in clients), timeout=1)
    assert time.monotonic() - start < 1.0


# MARK: - Misuse


def test_misuse_is_refused(identity):
    harness = DTLSHarness(identity)
    udp = connected("127.0.0.1", harness.udp.get_local_port())
    first, second = PacketPeerDTLS(), PacketPeerDTLS()
    assert first.connect_to_peer(udp, False) == Error.OK
    assert second.connect_to_peer(udp, False) == Error.ERR_ALREADY_IN_USE
    assert "connect_to_peer: another" in packetdtls.last_error_message()

    def step() -> None:
        harness.step()
        first.poll()

    pump(step, lambda: first.get_status() == CONNECTED, timeout=10)
    udp.close()
    assert first.poll() == Error.ERR_CONNECTION_ERROR
    assert first.get_status() == PacketPeerDTLS.STATUS_ERROR


def test_take_connection_twice_with_one_udp_peer_is_refused(identity):
    udp_server = listening()
    dtls = DTLSServer()
    assert dtls.setup(TLSOptions.server(identity.key, identity.cert)) == Error.OK
    client = PacketPeerDTLS()
    assert client.connect_to_peer(connected("127.0.0.1", udp_server.get_local_port()), False) == Error.OK
    accepted = []

    def step() -> None:
        udp_server.poll()
        client.poll()
        while udp_server.is_connection_available():
            taken = udp_server.take_connection()
            peer = dtls.take_connection(taken)
            if peer is not None and peer.get_status() == HANDSHAKING:
                accepted.append((taken, peer))

    pump(step, lambda: bool(accepted), timeout=10)
    taken, peer = accepted[0]
    assert dtls.take_connection(taken) is None
    assert "take_connection: another" in packetdtls.last_error_message()

    def finish() -> None:
        udp_server.poll()
        peer.poll()
        client.poll()

    pump(finish, lambda: client.get_status() == CONNECTED and peer.get_status() == CONNECTED, timeout=10)


# MARK: - Variant numbering


def test_a_godot3_dictionary_read_with_the_4x_default_is_refused_with_a_reason():
    receiver = PacketPeerUDP()
    assert receiver.bind(0, "127.0.0.1") == Error.OK
    sender = connected("127.0.0.1", receiver.get_local_port())
    value = {"alpha": 1, "beta": "long enough for a Transform3D's 48 bytes"}
    assert sender.get_godot_version() == 4
    assert sender.set_godot_version(3) == Error.OK and sender.get_godot_version() == 3
    assert sender.put_var(value) == Error.OK
    assert sender.put_var(value) == Error.OK
    pump(lambda: None, lambda: receiver.get_available_packet_count() == 2, timeout=3)
    assert receiver.get_var() is None
    assert "Godot 3" in packetdtls.last_error_message()
    receiver.set_godot_version(3)
    assert receiver.get_var() == value
    # An explicit godot_version still wins over the peer's setting.
    assert sender.put_var(value, godot_version=4) == Error.OK
    pump(lambda: None, lambda: receiver.get_available_packet_count() == 1, timeout=3)
    assert receiver.get_var(godot_version=4) == value
