"""DTLSServer.set_handshake_threads: the seeds' loop with the handshakes on worker threads, and every
status path of a handshake that runs there (success, bad certificate, hostname mismatch, timeout, a
peer or the server freed mid-handshake, the handshake deadline, a refused client, the UDPServer stopped
mid-handshake)."""

from __future__ import annotations

import gc

import pytest

import packetdtls
from packetdtls import DTLSServer, Error, PacketPeerDTLS, PacketPeerUDP, TLSOptions

from .conftest import pump
from .test_dtls import CONNECTED, HANDSHAKING, Harness, client_for, run_until, settled

ERROR = PacketPeerDTLS.STATUS_ERROR
DISCONNECTED = PacketPeerDTLS.STATUS_DISCONNECTED


def threaded(identity, threads: int = 2, options: TLSOptions = None) -> Harness:
    def setup(dtls: DTLSServer) -> Error:
        err = dtls.setup(options or TLSOptions.server(identity.key, identity.cert))
        return err if err != Error.OK else dtls.set_handshake_threads(threads)

    return Harness(setup)


def start(harness: Harness, hostname: str = "", options: TLSOptions = None) -> PacketPeerDTLS:
    client = PacketPeerDTLS()
    err = client.connect_to_peer(client_for(harness.port), hostname, options or TLSOptions.client_unsafe())
    assert err == Error.OK, packetdtls.last_error_message()
    return client


def hold_a_peer(harness: Harness, client: PacketPeerDTLS) -> PacketPeerDTLS:
    """Steps until the server holds a HANDSHAKING peer; the client is not stepped after that."""

    def step() -> None:
        harness.step()
        if not harness.peers:
            client.poll()

    pump(step, lambda: bool(harness.peers), timeout=10)
    return harness.peers[0]


def test_thread_counts_are_checked():
    server = DTLSServer()
    assert server.set_handshake_threads(-2) == Error.ERR_INVALID_PARAMETER
    assert "set_handshake_threads" in packetdtls.last_error_message()
    assert server.set_handshake_threads(65) == Error.ERR_INVALID_PARAMETER
    assert server.set_handshake_threads(-1) == Error.OK
    assert server.set_handshake_threads(2) == Error.OK
    assert server.set_handshake_threads(0) == Error.OK


def test_thread_nice_is_checked():
    server = DTLSServer()
    assert server.set_handshake_threads_nice(-1) == Error.ERR_INVALID_PARAMETER
    assert "set_handshake_threads_nice" in packetdtls.last_error_message()
    assert server.set_handshake_threads_nice(20) == Error.ERR_INVALID_PARAMETER
    with pytest.raises(TypeError):
        server.set_handshake_threads_nice("0")
    assert server.set_handshake_threads_nice(0) == Error.OK
    assert server.set_handshake_threads(2) == Error.OK
    assert server.set_handshake_threads_nice(10) == Error.OK


def test_seeds_loop_connects_and_echoes_with_workers(identity):
    harness = threaded(identity)
    client = start(harness)
    run_until(harness, [client], settled(client))
    assert client.get_status() == CONNECTED, client.get_error_message()
    assert harness.refused >= 1, "take_connection answered the cookie exchange"
    run_until(harness, [client], lambda: len(harness.connected()) == 1)
    assert client.put_packet(b"ping") == Error.OK
    run_until(harness, [client], lambda: harness.connected()[0].get_available_packet_count() > 0)
    assert harness.connected()[0].get_packet() == b"ping"


def test_bad_certificate_with_workers(identity, other_identity):
    harness = threaded(identity)
    client = start(harness, "localhost", TLSOptions.client(other_identity.cert))
    run_until(harness, [client], settled(client))
    assert client.get_status() == ERROR
    run_until(harness, [], lambda: harness.peers and harness.peers[0].get_status() != HANDSHAKING)
    assert harness.peers[0].get_status() == ERROR
    assert "fatal alert" in harness.peers[0].get_error_message()


def test_hostname_mismatch_with_workers(identity):
    harness = threaded(identity)
    client = start(harness, "wrong.example", TLSOptions.client(identity.cert))
    run_until(harness, [client], settled(client))
    assert client.get_status() == PacketPeerDTLS.STATUS_ERROR_HOSTNAME_MISMATCH
    run_until(harness, [], lambda: harness.peers and harness.peers[0].get_status() != HANDSHAKING)
    assert harness.peers[0].get_status() == ERROR


def test_timeout_on_a_worker(identity):
    options = TLSOptions.server(identity.key, identity.cert)
    assert options.set_handshake_timeout(20, 80) == Error.OK
    harness = threaded(identity, options=options)
    client = start(harness)
    peer = hold_a_peer(harness, client)
    del client
    gc.collect()
    run_until(harness, [], lambda: peer.get_status() != HANDSHAKING, timeout=5)
    assert peer.get_status() == ERROR
    assert "timeout" in peer.get_error_message()


def test_peer_and_server_freed_mid_handshake(identity):
    for round in range(6):
        harness = threaded(identity)
        client = start(harness)
        hold_a_peer(harness, client)
        if round % 2:
            harness.peers.clear()  # the peer alone
            gc.collect()
            harness.step()
        del harness  # the server and anything left, the worker maybe mid-handshake
        gc.collect()
    harness = threaded(identity)
    client = start(harness)
    run_until(harness, [client], settled(client))
    assert client.get_status() == CONNECTED


def test_server_freed_the_handshake_finishes(identity):
    harness = threaded(identity)
    client = start(harness)
    peer = hold_a_peer(harness, client)
    harness.dtls = None
    gc.collect()

    def step() -> None:
        harness.udp.poll()
        peer.poll()
        client.poll()

    pump(step, lambda: peer.get_status() != HANDSHAKING and client.get_status() != HANDSHAKING, timeout=10)
    assert client.get_status() == CONNECTED
    assert peer.get_status() == CONNECTED


def test_deadline_on_a_worker(identity):
    options = TLSOptions.server(identity.key, identity.cert)
    assert options.set_handshake_timeout(50, 20000) == Error.OK
    harness = threaded(identity, options=options)
    assert harness.dtls.set_handshake_limits(512, 128, 300) == Error.OK
    client = start(harness)
    peer = hold_a_peer(harness, client)
    run_until(harness, [], lambda: peer.get_status() != HANDSHAKING, timeout=5)
    assert peer.get_status() == ERROR
    assert peer.get_error_message().startswith(
        "handshake deadline: the client did not complete its handshake within 300 ms"), peer.get_error_message()
    assert client.get_status() == HANDSHAKING, "the client, never stepped, still waits"


def test_udp_server_stop_during_worker_handshake(identity):
    for round in range(4):
        harness = threaded(identity)
        client = start(harness)
        peer = hold_a_peer(harness, client)
        if round % 2:
            client.poll()  # the client's flight under way: a worker may be stepping
        harness.udp.stop()
        peer.poll()
        assert peer.get_status() == DISCONNECTED
        assert peer.get_error_message() == "the UDPServer stopped during the handshake"
        del harness, peer
        gc.collect()


def refused_client(identity, threads: int) -> PacketPeerDTLS:
    """A server-side peer over a UDP peer of its own, its client gone after its ClientHello with cookie."""
    options = TLSOptions.server(identity.key, identity.cert)
    assert options.set_handshake_timeout(100, 20000) == Error.OK
    server = DTLSServer()
    assert server.setup(options) == Error.OK
    assert server.set_handshake_threads(threads) == Error.OK
    client_udp = PacketPeerUDP()
    server_udp = PacketPeerUDP()
    assert client_udp.bind(0, "127.0.0.1") == Error.OK
    assert server_udp.bind(0, "127.0.0.1") == Error.OK
    assert server_udp.connect_to_host("127.0.0.1", client_udp.get_local_port()) == Error.OK
    assert client_udp.connect_to_host("127.0.0.1", server_udp.get_local_port()) == Error.OK
    client = PacketPeerDTLS()
    assert client.connect_to_peer(client_udp, "", TLSOptions.client_unsafe()) == Error.OK
    taken = []

    def step() -> None:
        client.poll()
        peer = server.take_connection(server_udp)
        if peer is not None and peer.get_status() == HANDSHAKING:
            taken.append(peer)

    pump(step, lambda: bool(taken), timeout=5)
    del client, client_udp  # the port closes: the server's flights are refused
    gc.collect()
    peer = taken[0]
    pump(lambda: peer.poll(), lambda: peer.get_status() != HANDSHAKING, timeout=10)
    return peer


def test_refused_client_on_a_worker(identity):
    for threads in (2, 0):
        peer = refused_client(identity, threads)
        assert peer.get_status() == ERROR
        assert peer.get_error_message().startswith("connection refused: nothing listens on 127.0.0.1 port"), \
            peer.get_error_message()
