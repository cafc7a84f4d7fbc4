"""UDPServer send batching (beyond Godot): off by default; on, the datagrams of the server's peers
leave together at flush_sends() or the next poll(), in order and exactly once, counted in get_stats()."""
from __future__ import annotations

from typing import List

import pytest

from packetdtls import Error, PacketPeerDTLS, PacketPeerUDP, TLSOptions, UDPServer

from .conftest import pump
from .test_dtls import CONNECTED, Harness, client_for


def server_with_client() -> tuple[UDPServer, PacketPeerUDP, PacketPeerUDP]:
    server = UDPServer()
    assert server.listen(0, "127.0.0.1") == Error.OK
    client = client_for(server.get_local_port())
    assert client.put_packet(b"hi") == Error.OK
    pump(server.poll, server.is_connection_available, timeout=5)
    peer = server.take_connection()
    assert peer is not None
    return server, client, peer


def drain(client: PacketPeerUDP) -> List[bytes]:
    got = []
    while client.get_available_packet_count() > 0:
        got.append(client.get_packet())
    return got


def test_off_by_default_each_put_packet_leaves_at_once():
    server, client, peer = server_with_client()
    assert not server.is_send_batching()
    assert peer.put_packet(b"now") == Error.OK
    pump(lambda: None, lambda: client.get_available_packet_count() == 1, timeout=5)
    assert drain(client) == [b"now"]
    assert server.get_stats().datagrams_sent_batched == 0
    server.close()


def test_queued_until_flush_or_poll_in_order_exactly_once():
    server, client, peer = server_with_client()
    assert server.set_send_batching(True) == Error.OK
    assert server.is_send_batching()
    for i in range(30):
        assert peer.put_packet(b"%d" % i) == Error.OK
    assert drain(client) == []  # loopback delivers within the send call: nothing was sent
    assert server.get_stats().datagrams_waiting_to_send == 30
    assert server.flush_sends() == Error.OK
    pump(lambda: None, lambda: client.get_available_packet_count() >= 30, timeout=5)
    assert drain(client) == [b"%d" % i for i in range(30)]
    assert server.flush_sends() == Error.OK
    assert drain(client) == []

    assert peer.put_packet(b"polled") == Error.OK
    assert drain(client) == []
    assert server.poll() == Error.OK
    pump(lambda: None, lambda: client.get_available_packet_count() == 1, timeout=5)
    assert drain(client) == [b"polled"]

    stats = server.get_stats()
    assert (stats.datagrams_sent_batched, stats.datagrams_send_failed, stats.datagrams_waiting_to_send) == (31, 0, 0)
    assert stats.send_batch_calls == 2
    assert server.set_send_batching(False) == Error.OK
    assert not server.is_send_batching()
    server.stop()
    assert server.flush_sends() == Error.ERR_UNCONFIGURED
    with pytest.raises(TypeError):
        server.set_send_batching("yes")  # type: ignore[arg-type]
    server.close()
    with pytest.raises(ValueError):
        server.flush_sends()


def test_seeds_loop_unchanged_with_batching_on(identity):
    harness = Harness(lambda dtls: dtls.setup(TLSOptions.server(identity.key, identity.cert)))
    assert harness.udp.set_send_batching(True) == Error.OK
    clients = []
    for _ in range(3):
        client = PacketPeerDTLS()
        assert client.connect_to_peer(client_for(harness.port), validate_certs=False) == Error.OK
        clients.append(client)
    replies: List[List[bytes]] = [[] for _ in clients]
    sent = [0] * len(clients)

    def step() -> None:
        harness.step()  # the seeds' server loop as written; replies leave at its next poll()
        for peer in harness.connected():
            while peer.get_available_packet_count() > 0:
                assert peer.put_packet(peer.get_packet()) == Error.OK
        for index, client in enumerate(clients):
            client.poll()
            if client.get_status() != CONNECTED:
                continue
            while sent[index] < 5:
                assert client.put_packet(b"m%d" % sent[index]) == Error.OK
                sent[index] += 1
            while client.get_available_packet_count() > 0:
                replies[index].append(client.get_packet())

    pump(step, lambda: all(len(r) == 5 for r in replies), timeout=20)
    for reply in replies:
        assert reply == [b"m%d" % i for i in range(5)]
    assert harness.udp.get_stats().datagrams_sent_batched > 0
    assert harness.udp.get_stats().datagrams_send_failed == 0
