"""PacketPeerDTLS and DTLSServer over loopback UDP: both API generations, the seeds' example
ported line by line, many peers, verification failures, and misuse."""

from __future__ import annotations

import gc
import time
from typing import Callable, List, Optional

import pytest

import packetdtls
from packetdtls import (
    Crypto,
    CryptoKey,
    DTLSServer,
    Error,
    PacketPeerDTLS,
    PacketPeerUDP,
    Status,
    TLSOptions,
    UDPServer,
    X509Certificate,
)

from .conftest import Timeout, pump

CONNECTED = PacketPeerDTLS.STATUS_CONNECTED
HANDSHAKING = PacketPeerDTLS.STATUS_HANDSHAKING


class Harness:
    """A UDPServer + DTLSServer that accepts as the seeds do, pumped together with clients."""

    def __init__(self, setup: Callable[[DTLSServer], Error]) -> None:
        self.udp = UDPServer()
        assert self.udp.listen(0, "127.0.0.1") == Error.OK
        self.port = self.udp.get_local_port()
        self.dtls = DTLSServer()
        assert setup(self.dtls) == Error.OK, packetdtls.last_error_message()
        self.peers: List[PacketPeerDTLS] = []
        self.refused = 0

    def step(self) -> None:
        self.udp.poll()
        while self.udp.is_connection_available():
            udp_peer = self.udp.take_connection()
            assert udp_peer is not None
            dtls_peer = self.dtls.take_connection(udp_peer)
            assert dtls_peer is not None, packetdtls.last_error_message()
            if dtls_peer.get_status() != HANDSHAKING:
                self.refused += 1  # the cookie exchange: normal
                continue
            self.peers.append(dtls_peer)
        for peer in self.peers:
            peer.poll()

    def connected(self) -> List[PacketPeerDTLS]:
        return [p for p in self.peers if p.get_status() == CONNECTED]


def client_for(port: int) -> PacketPeerUDP:
    udp = PacketPeerUDP()
    assert udp.connect_to_host("127.0.0.1", port) == Error.OK
    return udp


def run_until(harness: Harness, clients: List[PacketPeerDTLS], done: Callable[[], bool], timeout: float = 20) -> None:
    def step() -> None:
        harness.step()
        for client in clients:
            client.poll()

    pump(step, done, timeout=timeout)


def settled(client: PacketPeerDTLS) -> Callable[[], bool]:
    return lambda: client.get_status() != HANDSHAKING


@pytest.fixture
def server_4x(identity):
    return Harness(lambda dtls: dtls.setup(TLSOptions.server(identity.key, identity.cert)))


@pytest.fixture
def server_3x(identity):
    return Harness(lambda dtls: dtls.setup(identity.key, identity.cert))


def connect(harness: Harness, *args, **kwargs) -> PacketPeerDTLS:
    client = PacketPeerDTLS()
    udp = client_for(harness.port)
    assert client.connect_to_peer(udp, *args, **kwargs) == Error.OK, packetdtls.last_error_message()
    assert client.get_status() == HANDSHAKING
    run_until(harness, [client], settled(client))
    return client


def echo_once(harness: Harness, client: PacketPeerDTLS, payload: bytes) -> bytes:
    assert client.put_packet(payload) == Error.OK
    run_until(harness, [client], lambda: any(p.get_available_packet_count() for p in harness.connected()))
    for peer in harness.connected():
        if peer.get_available_packet_count():
            assert peer.get_packet() == payload
            assert peer.put_packet(payload[::-1]) == Error.OK
    run_until(harness, [client], lambda: client.get_available_packet_count() > 0)
    return client.get_packet()


# MARK: - The seeds' example, line by line


def test_seed_example_godot4_line_by_line(identity, capsys):
    """seeds/003 (Godot 4.x, DTLSServer.setup(TLSOptions.server(key, cert))), server and client in
    one process. Differences: port 0 instead of 4242 (the client learns the port), the files come
    from the session's identity, and the server calls server.poll() first in _process, which Godot 4's
    UDPServer needs (the seed's text predates that line in Godot's own docs)."""

    # server_node.gd
    dtls = DTLSServer()
    server = UDPServer()
    peers = []

    def server_ready():
        server.listen(0)  # 4242 in the seed
        key = packetdtls.load(str(identity.key_path))  # Your private key.
        cert = packetdtls.load(str(identity.cert_path))  # Your X509 certificate.
        dtls.setup(TLSOptions.server(key, cert))

    def server_process(delta):
        server.poll()
        while server.is_connection_available():
            peer = server.take_connection()
            dtls_peer = dtls.take_connection(peer)
            if dtls_peer.get_status() != PacketPeerDTLS.STATUS_HANDSHAKING:
                continue  # It is normal that 50% of the connections fails due to cookie exchange.
            print("Peer connected!")
            peers.append(dtls_peer)

        for p in peers:
            p.poll()  # Must poll to update the state.
            if p.get_status() == PacketPeerDTLS.STATUS_CONNECTED:
                while p.get_available_packet_count() > 0:
                    print("Received message from client: %s" % p.get_packet().decode())
                    p.put_packet("Hello DTLS client".encode())

    # client_node.gd
    client_dtls = PacketPeerDTLS()
    udp = PacketPeerUDP()
    connected = False

    def client_ready():
        udp.connect_to_host("127.0.0.1", server.get_local_port())  # 4242 in the seed
        client_dtls.connect_to_peer(udp, False)  # Use true in production for certificate validation!

    def client_process(delta):
        nonlocal connected
        client_dtls.poll()
        if client_dtls.get_status() == PacketPeerDTLS.STATUS_CONNECTED:
            if not connected:
                # Try to contact server
                client_dtls.put_packet("The answer is... 42!".encode())
            while client_dtls.get_available_packet_count() > 0:
                print("Connected: %s" % client_dtls.get_packet().decode())
                connected = True

    server_ready()
    client_ready()

    def frame():
        server_process(0.016)
        client_process(0.016)

    pump(frame, lambda: connected, timeout=20)
    out = capsys.readouterr().out
    assert "Peer connected!" in out
    assert "Received message from client: The answer is... 42!" in out
    assert "Connected: Hello DTLS client" in out


def test_seed_example_godot3_line_by_line(identity, capsys):
    """seeds/004 (Godot 3.x, dtls.setup(key, cert)), in Spanish as the seed is."""

    # server.gd
    dtlsServidor = DTLSServer()
    udpServidor = UDPServer()
    pares = []

    def server_ready():
        udpServidor.listen(0)  # 4242 en el ejemplo
        clave = packetdtls.load(str(identity.key_path))  # Tu clave privada.
        certificado = packetdtls.load(str(identity.cert_path))  # Tu certificado X509.
        dtlsServidor.setup(clave, certificado)

    def server_process(delta):
        udpServidor.poll()
        while udpServidor.is_connection_available():
            par = udpServidor.take_connection()
            dtls_par = dtlsServidor.take_connection(par)
            if dtls_par.get_status() != PacketPeerDTLS.STATUS_HANDSHAKING:
                continue  # Es normal que aproximadamente la mitad de las conexiones fallen debido al intercambio de cookies.
            print("Par conectado!")
            pares.append(dtls_par)
        for p in pares:
            p.poll()  # Debe hacer poll para actualizar el estado.
            if p.get_status() == PacketPeerDTLS.STATUS_CONNECTED:
                while p.get_available_packet_count() > 0:
                    print("Mensaje recibido desde el cliente: %s" % p.get_packet().decode())
                    p.put_packet("Hola cliente DTLS".encode())

    # client.gd
    dtls = PacketPeerDTLS()
    udp = PacketPeerUDP()
    conectado = False

    def client_ready():
        udp.connect_to_host("127.0.0.1", udpServidor.get_local_port())
        dtls.connect_to_peer(udp, False)  # Usa verdadero en producción para la validación del certifícado!

    def client_process(delta):
        nonlocal conectado
        dtls.poll()
        if dtls.get_status() == PacketPeerDTLS.STATUS_CONNECTED:
            if not conectado:
                # Intenta conectar con el servidor
                dtls.put_packet("La respuesta es ... 42!".encode())
            while dtls.get_available_packet_count() > 0:
                print("Conectado: %s" % dtls.get_packet().decode())
                conectado = True

    server_ready()
    client_ready()
    pump(lambda: (server_process(0.016), client_process(0.016)), lambda: conectado, timeout=20)
    out = capsys.readouterr().out
    assert "Par conectado!" in out
    assert "Mensaje recibido desde el cliente: La respuesta es ... 42!" in out
    assert "Conectado: Hola cliente DTLS" in out


# MARK: - Both generations of connect_to_peer and setup


def test_connect_3x_without_validation(server_4x):
    client = connect(server_4x, False)
    assert client.get_status() == CONNECTED
    assert echo_once(server_4x, client, b"3.x unverified") == b"deifirevnu x.3"
    assert server_4x.refused >= 1  # the first ClientHello had no cookie
    suite = client.get_cipher_suite()
    assert "ECDHE" in suite.upper() or "ECDSA" in suite.upper(), suite
    assert client.get_max_packet_size() > 1000
    assert client.get_error_message() == ""


def test_connect_3x_verifying_against_the_certificate(server_3x, identity):
    client = connect(server_3x, True, "localhost", identity.cert)
    assert client.get_status() == CONNECTED, client.get_error_message()
    assert echo_once(server_3x, client, b"verified") == b"deifirev"


def test_connect_3x_keywords(server_3x, identity):
    client = connect(server_3x, validate_certs=True, for_hostname="localhost", valid_certificate=identity.cert)
    assert client.get_status() == CONNECTED, client.get_error_message()


def test_connect_4x_with_trusted_chain(server_3x, identity):
    client = connect(server_3x, "localhost", TLSOptions.client(identity.cert))
    assert client.get_status() == CONNECTED, client.get_error_message()
    assert echo_once(server_3x, client, b"4.x") == b"x.4"


def test_connect_4x_keywords_and_common_name_override(server_4x, identity):
    client = connect(
        server_4x, hostname="127.0.0.1", client_options=TLSOptions.client(identity.cert, "localhost")
    )
    assert client.get_status() == CONNECTED, client.get_error_message()


def test_connect_4x_unsafe(server_4x):
    client = connect(server_4x, "whatever.example", TLSOptions.client_unsafe())
    assert client.get_status() == CONNECTED


def test_hostname_mismatch(server_4x, identity):
    client = connect(server_4x, "elsewhere.example", TLSOptions.client(identity.cert))
    assert client.get_status() == PacketPeerDTLS.STATUS_ERROR_HOSTNAME_MISMATCH
    assert client.get_error_message()


def test_untrusted_certificate(server_4x, other_identity):
    client = connect(server_4x, "localhost", TLSOptions.client(other_identity.cert))
    assert client.get_status() == PacketPeerDTLS.STATUS_ERROR
    assert client.get_error_message()
    assert client.put_packet(b"x") == Error.ERR_UNCONFIGURED


def test_3x_validation_without_a_certificate_uses_the_system_bundle(server_4x):
    client = PacketPeerDTLS()
    code = client.connect_to_peer(client_for(server_4x.port))  # validate_certs=True by default
    if code == Error.ERR_UNCONFIGURED:
        pytest.skip("no system CA bundle on this machine")
    assert code == Error.OK
    run_until(server_4x, [client], settled(client))
    assert client.get_status() in (PacketPeerDTLS.STATUS_ERROR, PacketPeerDTLS.STATUS_ERROR_HOSTNAME_MISMATCH)


def test_setup_both_generations_and_errors(identity, other_identity):
    server = DTLSServer()
    assert server.setup(identity.key, identity.cert) == Error.OK
    assert server.setup(identity.key, identity.cert, None) == Error.OK
    assert server.setup(identity.key, identity.cert, other_identity.cert) == Error.OK
    assert server.setup(key=identity.key, certificate=identity.cert) == Error.OK
    assert server.setup(TLSOptions.server(identity.key, identity.cert)) == Error.OK
    assert server.setup(server_options=TLSOptions.server(identity.key, identity.cert)) == Error.OK
    assert server.setup(TLSOptions.client()) == Error.ERR_INVALID_PARAMETER
    assert server.setup(identity.key, other_identity.cert) == Error.ERR_INVALID_PARAMETER  # mismatched
    assert server.setup(CryptoKey(), identity.cert) == Error.ERR_INVALID_PARAMETER
    public = CryptoKey()
    assert public.load_from_string(identity.key.save_to_string(True), True) == Error.OK
    assert server.setup(public, identity.cert) == Error.ERR_INVALID_PARAMETER
    with pytest.raises(TypeError):
        server.setup()
    with pytest.raises(TypeError):
        server.setup(None)  # type: ignore[call-overload]
    with pytest.raises(TypeError):
        server.setup(identity.key)  # type: ignore[call-overload]
    with pytest.raises(TypeError):
        server.setup(identity.cert, identity.key)  # type: ignore[call-overload]
    with pytest.raises(TypeError):
        server.setup(TLSOptions.server(identity.key, identity.cert), identity.cert)  # type: ignore[call-overload]
    with pytest.raises(TypeError):
        server.setup(identity.key, identity.cert, "chain")  # type: ignore[call-overload]
    with pytest.raises(TypeError):
        server.setup(identity.key, certificate=identity.cert, server_options=None)  # type: ignore[call-overload]
    with pytest.raises(TypeError):
        server.setup(identity.key, identity.cert, key=identity.key)  # type: ignore[call-overload]


def test_connect_to_peer_dispatch_errors(identity):
    client = PacketPeerDTLS()
    udp = PacketPeerUDP()
    with pytest.raises(TypeError):
        client.connect_to_peer(None)  # type: ignore[call-overload]
    with pytest.raises(TypeError):
        client.connect_to_peer(udp, 1)  # type: ignore[call-overload]
    with pytest.raises(TypeError):
        client.connect_to_peer(udp, None)  # type: ignore[call-overload]
    with pytest.raises(TypeError):
        client.connect_to_peer(udp, True, "host", identity.cert, "extra")  # type: ignore[call-overload]
    with pytest.raises(TypeError):
        client.connect_to_peer(udp, "host", TLSOptions.client(), "extra")  # type: ignore[call-overload]
    with pytest.raises(TypeError):
        client.connect_to_peer(udp, validate_certs=False, hostname="x")  # type: ignore[call-overload]
    with pytest.raises(TypeError):
        client.connect_to_peer(udp, "host", validate_certs=False)  # type: ignore[call-overload]
    with pytest.raises(TypeError):
        client.connect_to_peer(udp, False, client_options=None)  # type: ignore[call-overload]
    with pytest.raises(TypeError):
        client.connect_to_peer(udp, False, bogus=1)  # type: ignore[call-overload]
    with pytest.raises(TypeError):
        client.connect_to_peer(udp, "host", identity.cert)  # type: ignore[call-overload]
    with pytest.raises(TypeError):
        client.connect_to_peer(udp, True, None)  # type: ignore[call-overload]
    with pytest.raises(TypeError):
        client.connect_to_peer(udp, True, "", identity.key)  # type: ignore[call-overload]
    with pytest.raises(TypeError):
        client.connect_to_peer(udp, client_options=TLSOptions.client())  # 4.x needs a hostname
    with pytest.raises(TypeError):
        client.connect_to_peer(udp, False, for_hostname="x", validate_certs=True)  # type: ignore[call-overload]


def test_connect_to_peer_needs_a_connected_udp_peer(server_4x):
    client = PacketPeerDTLS()
    assert client.connect_to_peer(PacketPeerUDP(), False) == Error.ERR_INVALID_PARAMETER
    assert client.connect_to_peer(PacketPeerUDP(), "localhost", TLSOptions.client_unsafe()) == Error.ERR_INVALID_PARAMETER
    assert client.get_status() == PacketPeerDTLS.STATUS_DISCONNECTED
    udp = client_for(server_4x.port)
    assert client.connect_to_peer(udp, False) == Error.OK
    assert client.connect_to_peer(udp, False) == Error.ERR_ALREADY_IN_USE
    server_options = TLSOptions.server(*_identity_pair())
    other = PacketPeerDTLS()
    assert other.connect_to_peer(client_for(server_4x.port), "localhost", server_options) == Error.ERR_INVALID_PARAMETER


def _identity_pair():
    crypto = Crypto()
    key = crypto.generate_ec_p256()
    return key, crypto.generate_self_signed_certificate(key)


# MARK: - Session behaviour


def test_packets_before_connection_and_empty_queue():
    client = PacketPeerDTLS()
    assert client.put_packet(b"x") == Error.ERR_UNCONFIGURED
    assert client.get_packet() == b""
    assert client.get_packet_error() != Error.OK
    assert client.get_available_packet_count() == 0
    assert client.get_max_packet_size() == 0
    assert client.get_cipher_suite() == ""
    assert client.poll() == Error.ERR_UNCONFIGURED


def test_big_packets_and_bytes_likes(server_4x):
    client = connect(server_4x, False)
    server_peer = server_4x.connected()[0]
    limit = client.get_max_packet_size()
    # DTLS carries no empty packet; refusing beats an OK for a packet that never leaves (Godot says OK).
    assert client.put_packet(b"") == Error.ERR_INVALID_PARAMETER
    for payload in (b"x", bytes(2048), bytes(range(256)) * 12, bytes(limit)):
        assert client.put_packet(payload) == Error.OK
        run_until(server_4x, [client], lambda: server_peer.get_available_packet_count() > 0)
        got = server_peer.get_packet()
        assert got == payload and server_peer.get_packet_error() == Error.OK
    assert client.put_packet(bytes(limit + 1)) == Error.ERR_INVALID_PARAMETER
    assert client.put_packet(bytes(1 << 20)) == Error.ERR_INVALID_PARAMETER
    assert client.put_packet(bytearray(b"ba")) == Error.OK
    assert client.put_packet(memoryview(b"mv")) == Error.OK
    run_until(server_4x, [client], lambda: server_peer.get_available_packet_count() >= 2)
    assert server_peer.get_packet() == b"ba" and server_peer.get_packet() == b"mv"
    with pytest.raises(TypeError):
        client.put_packet("text")  # type: ignore[arg-type]


def test_get_packet_after_a_bigger_packet_returns_exact_bytes(server_4x):
    """get_packet reads into one reused buffer per peer, grown by the size the library reports: after a
    packet that made it grow, smaller ones come back exact (nothing of the bigger one's tail), and the
    bytes returned earlier stay as they were. Both directions (the client's buffer too)."""
    client = connect(server_4x, False)
    server_peer = server_4x.connected()[0]
    limit = client.get_max_packet_size()
    big = (bytes(range(256)) * ((limit + 255) // 256))[: min(limit, 5000)]
    assert len(big) > 2048  # past the first buffer: it must grow
    payloads = [b"first", big, b"small", big[:3000][::-1], b"x", bytes(range(7)) * 100, b"last"]
    got_server: List[bytes] = []
    got_client: List[bytes] = []
    for payload in payloads:
        assert client.put_packet(payload) is Error.OK
        run_until(server_4x, [client], lambda: server_peer.get_available_packet_count() > 0)
        got_server.append(server_peer.get_packet())
        assert server_peer.get_packet_error() is Error.OK
        assert server_peer.put_packet(memoryview(bytearray(got_server[-1]))) is Error.OK  # a writable buffer
        run_until(server_4x, [client], lambda: client.get_available_packet_count() > 0)
        got_client.append(client.get_packet())
    assert got_server == payloads and got_client == payloads
    assert all(type(packet) is bytes for packet in got_server + got_client)
    assert server_peer.get_packet() == b"" and server_peer.get_packet_error() is Error.ERR_UNAVAILABLE


def test_per_packet_calls_keep_their_types_and_errors(server_4x):
    """The per-packet calls skip ctypes' argument checks (packetdtls._library.hot): what a caller gets
    wrong is still a TypeError before C is called, the peer keeps working, and the results are the
    Error / Status members."""
    client = connect(server_4x, False)
    server_peer = server_4x.connected()[0]
    for wrong in (None, 42, 4.2, "text", [1, 2], object(), PacketPeerUDP(), client):
        with pytest.raises(TypeError):
            client.put_packet(wrong)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        client.put_packet()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        client.get_packet(b"x")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        client.poll(1)  # type: ignore[call-arg]
    assert client.poll() is Error.OK and server_peer.poll() is Error.OK
    assert client.get_status() is Status.STATUS_CONNECTED
    assert type(client.get_available_packet_count()) is int
    assert client.put_packet(b"still fine") is Error.OK
    run_until(server_4x, [client], lambda: server_peer.get_available_packet_count() > 0)
    assert server_peer.get_packet() == b"still fine"
    limit = client.get_max_packet_size()
    assert client.put_packet(bytes(limit + 1)) is Error.ERR_INVALID_PARAMETER
    assert packetdtls.last_error_message() != ""  # the library's reason, as before


def test_a_burst_arrives_whole(server_4x):
    client = connect(server_4x, False)
    server_peer = server_4x.connected()[0]
    for index in range(50):
        assert client.put_packet(b"packet %d" % index) == Error.OK
    got: List[bytes] = []

    def collect() -> bool:
        while server_peer.get_available_packet_count() > 0:
            got.append(server_peer.get_packet())
        return len(got) == 50

    run_until(server_4x, [client], collect)
    assert got == [b"packet %d" % i for i in range(50)]


def test_disconnect_reaches_the_other_side(server_4x):
    client = connect(server_4x, False)
    server_peer = server_4x.connected()[0]
    assert client.disconnect_from_peer() == Error.OK
    assert client.get_status() == PacketPeerDTLS.STATUS_DISCONNECTED
    run_until(server_4x, [], lambda: server_peer.get_status() == PacketPeerDTLS.STATUS_DISCONNECTED)
    assert server_peer.put_packet(b"x") == Error.ERR_UNCONFIGURED


def test_idle_timeout(identity):
    def setup(dtls: DTLSServer) -> Error:
        options = TLSOptions.server(identity.key, identity.cert)
        assert options.set_idle_timeout(300) == Error.OK
        return dtls.setup(options)

    harness = Harness(setup)
    client = connect(harness, False)
    assert client.get_status() == CONNECTED
    server_peer = harness.connected()[0]
    pump(harness.step, lambda: server_peer.get_status() == PacketPeerDTLS.STATUS_ERROR, timeout=10)
    assert "idle" in server_peer.get_error_message().lower()


def test_handshake_timeout_against_a_silent_server():
    silent = PacketPeerUDP()
    assert silent.bind(0, "127.0.0.1") == Error.OK
    options = TLSOptions.client_unsafe()
    assert options.set_handshake_timeout(50, 200) == Error.OK
    client = PacketPeerDTLS()
    assert client.connect_to_peer(client_for(silent.get_local_port()), "localhost", options) == Error.OK
    pump(client.poll, lambda: client.get_status() != HANDSHAKING, timeout=10)
    assert client.get_status() == PacketPeerDTLS.STATUS_ERROR
    assert client.get_error_message()


def test_many_peers_on_one_server(server_4x, identity):
    count = 12
    clients = []
    for _ in range(count):
        client = PacketPeerDTLS()
        assert client.connect_to_peer(client_for(server_4x.port), "localhost", TLSOptions.client(identity.cert)) == Error.OK
        clients.append(client)
    run_until(server_4x, clients, lambda: all(c.get_status() == CONNECTED for c in clients), timeout=60)
    run_until(server_4x, clients, lambda: len(server_4x.connected()) == count, timeout=20)
    for index, client in enumerate(clients):
        assert client.put_packet(b"client %d" % index) == Error.OK
    answered: dict = {}

    def serve_and_collect() -> bool:
        for peer in server_4x.connected():
            while peer.get_available_packet_count() > 0:
                peer.put_packet(b"echo " + peer.get_packet())
        for index, client in enumerate(clients):
            while client.get_available_packet_count() > 0:
                answered[index] = client.get_packet()
        return len(answered) == count

    run_until(server_4x, clients, serve_and_collect, timeout=30)
    assert answered == {index: b"echo client %d" % index for index in range(count)}


def test_take_connection_misuse(identity):
    server = DTLSServer()
    assert server.take_connection(PacketPeerUDP()) is None  # not set up
    assert server.setup(identity.key, identity.cert) == Error.OK
    assert server.take_connection(PacketPeerUDP()) is None  # not connected
    with pytest.raises(TypeError):
        server.take_connection(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        server.take_connection(PacketPeerDTLS())  # type: ignore[arg-type]
    assert server.stop() == Error.OK
    udp = PacketPeerUDP()
    assert udp.connect_to_host("127.0.0.1", 9) == Error.OK
    assert server.take_connection(udp) is None  # stopped


# MARK: - Lifetimes


def test_closed_objects_raise_value_error():
    client = PacketPeerDTLS()
    client.close()
    client.close()
    for call in (
        client.poll,
        client.get_status,
        client.get_packet,
        client.get_available_packet_count,
        client.get_packet_error,
        client.disconnect_from_peer,
        client.get_error_message,
        client.get_cipher_suite,
        client.get_max_packet_size,
        lambda: client.put_packet(b"x"),
        lambda: client.connect_to_peer(PacketPeerUDP(), False),
    ):
        with pytest.raises(ValueError):
            call()
    with DTLSServer() as server:
        pass
    with pytest.raises(ValueError):
        server.stop()
    closed_udp = PacketPeerUDP()
    closed_udp.release()
    with pytest.raises(ValueError):
        PacketPeerDTLS().connect_to_peer(closed_udp, False)


def test_a_dtls_peer_keeps_its_udp_peer_alive(server_4x):
    client = PacketPeerDTLS()
    udp = client_for(server_4x.port)
    udp_finalizer = udp._finalizer
    assert client.connect_to_peer(udp, False) == Error.OK
    del udp
    gc.collect()
    assert udp_finalizer.alive
    run_until(server_4x, [client], settled(client))
    assert client.get_status() == CONNECTED
    client_finalizer = client._finalizer
    del client
    gc.collect()
    assert not client_finalizer.alive and not udp_finalizer.alive


def test_server_side_peers_are_freed_on_their_own(server_4x):
    client = connect(server_4x, False)
    peer = server_4x.connected()[0]
    finalizer = peer._finalizer
    assert peer._udp is not None
    server_4x.peers.clear()
    del peer
    gc.collect()
    assert not finalizer.alive
    server_4x.dtls.close()
    assert client.get_status() == CONNECTED  # the client does not notice


def test_with_statement_for_a_session(server_4x):
    with PacketPeerDTLS() as client:
        assert client.connect_to_peer(client_for(server_4x.port), False) == Error.OK
        run_until(server_4x, [client], settled(client))
        server_peer = server_4x.connected()[0]
    assert client.closed
    # the last reference went: close_notify was sent
    run_until(server_4x, [], lambda: server_peer.get_status() == PacketPeerDTLS.STATUS_DISCONNECTED)
