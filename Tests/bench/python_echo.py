"""python_echo.py — the echo workload of `packetdtls-cli bench echo` through the Python binding.

    python3 Tests/bench/python_echo.py N SIZE cert.pem key.pem [connected|udpserver]

Prints the same line: "echo <count> <seconds> <per_second> <ciphersuite>". The server end sits on its
own PacketPeerUDP connected to the client (default: two connected sockets, as in the plain-C baseline)
or behind a UDPServer shared by all clients. The library is the one PACKETDTLS_LIBRARY names
(scripts/bench points it at the release build).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bindings" / "python"))

from packetdtls import (  # noqa: E402
    CryptoKey, DTLSServer, PacketPeerDTLS, PacketPeerUDP, TLSOptions, UDPServer, X509Certificate)


def shared_server_side(server: DTLSServer):
    """The server end behind a UDPServer. Returns (the client's UDP peer, a step, the UDPServer)."""
    udp_server = UDPServer()
    udp_server.listen(0, "127.0.0.1")
    udp = PacketPeerUDP()
    udp.connect_to_host("127.0.0.1", udp_server.get_local_port())

    def step(peer):
        udp_server.poll()
        while udp_server.is_connection_available():
            candidate = server.take_connection(udp_server.take_connection())
            if candidate is not None and candidate.get_status() == PacketPeerDTLS.STATUS_HANDSHAKING:
                peer = candidate
        return peer
    return udp, step, udp_server


def connected_server_side(server: DTLSServer):
    """The server end on its own PacketPeerUDP connected to the client (Godot 4's take_connection
    wants "a udp_peer which must be already connected"), as in the plain-C baseline."""
    server_udp, udp = PacketPeerUDP(), PacketPeerUDP()
    server_udp.bind(0, "127.0.0.1")
    udp.bind(0, "127.0.0.1")
    udp.connect_to_host("127.0.0.1", server_udp.get_local_port())
    server_udp.connect_to_host("127.0.0.1", udp.get_local_port())

    def step(peer):
        # A ClientHello waits: a new server end takes it (the first one only earns a cookie).
        busy = peer is not None and peer.get_status() == PacketPeerDTLS.STATUS_HANDSHAKING
        if not busy and server_udp.get_available_packet_count() > 0:
            peer = server.take_connection(server_udp)
        return peer
    return udp, step, None


def connect(cert_path: str, key_path: str, shared: bool = False):
    """One connected session. Returns (client, server end, the UDPServer or None, what must stay alive)."""
    key, cert = CryptoKey(), X509Certificate()
    if key.load(key_path) != 0 or cert.load(cert_path) != 0:
        sys.exit("python_echo: cannot load the key or the certificate")
    server = DTLSServer()
    server.setup(TLSOptions.server(key, cert))
    udp, step, udp_server = (shared_server_side if shared else connected_server_side)(server)
    client = PacketPeerDTLS()
    client.connect_to_peer(udp, "", TLSOptions.client_unsafe())
    peer = None
    connected = PacketPeerDTLS.STATUS_CONNECTED
    deadline = time.monotonic() + 30
    while not (peer is not None and peer.get_status() == connected and client.get_status() == connected):
        if time.monotonic() > deadline:
            sys.exit("python_echo: the handshake did not finish within 30 s")
        client.poll()
        peer = step(peer)
        if peer is not None:
            peer.poll()
    return client, peer, udp_server, (server, udp, key, cert)


def main(rounds: int, size: int, cert_path: str, key_path: str, shared: bool) -> None:
    client, peer, udp_server, _alive = connect(cert_path, key_path, shared)
    data = b"x" * size
    start = time.perf_counter()
    for _ in range(rounds):
        client.put_packet(data)
        while True:  # Godot's loop: poll, then see what came
            if udp_server is not None:
                udp_server.poll()
            peer.poll()
            if peer.get_available_packet_count():
                break
        peer.put_packet(peer.get_packet())
        client.poll()
        while not client.get_available_packet_count():
            client.poll()
        if len(client.get_packet()) != size:
            sys.exit("python_echo: short echo")
    elapsed = time.perf_counter() - start
    print(f"echo {rounds} {elapsed:.4f} {rounds / elapsed:.1f} {client.get_cipher_suite()}")


if __name__ == "__main__":
    if len(sys.argv) not in (5, 6) or (len(sys.argv) == 6 and sys.argv[5] not in ("connected", "udpserver")):
        sys.exit("usage: python_echo.py N SIZE cert.pem key.pem [connected|udpserver]")
    main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], len(sys.argv) == 6 and sys.argv[5] == "udpserver")
