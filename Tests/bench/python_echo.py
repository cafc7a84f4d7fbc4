"""python_echo.py — the echo workload of `packetdtls-cli bench echo` through the Python binding.

    python3 Tests/bench/python_echo.py N SIZE cert.pem key.pem

Prints the same line: "echo <count> <seconds> <per_second> <ciphersuite>". The library is the one
PACKETDTLS_LIBRARY names (scripts/bench points it at the release build).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bindings" / "python"))

from packetdtls import (  # noqa: E402
    CryptoKey, DTLSServer, PacketPeerDTLS, PacketPeerUDP, TLSOptions, UDPServer, X509Certificate)


def main(rounds: int, size: int, cert_path: str, key_path: str) -> None:
    key, cert = CryptoKey(), X509Certificate()
    if key.load(key_path) != 0 or cert.load(cert_path) != 0:
        sys.exit("python_echo: cannot load the key or the certificate")
    udp_server = UDPServer()
    udp_server.listen(0, "127.0.0.1")
    server = DTLSServer()
    server.setup(TLSOptions.server(key, cert))
    udp = PacketPeerUDP()
    udp.connect_to_host("127.0.0.1", udp_server.get_local_port())
    client = PacketPeerDTLS()
    client.connect_to_peer(udp, "", TLSOptions.client_unsafe())
    peer = None
    connected = PacketPeerDTLS.STATUS_CONNECTED
    deadline = time.monotonic() + 30
    while not (peer is not None and peer.get_status() == connected and client.get_status() == connected):
        if time.monotonic() > deadline:
            sys.exit("python_echo: the handshake did not finish within 30 s")
        client.poll()
        udp_server.poll()
        while udp_server.is_connection_available():
            candidate = server.take_connection(udp_server.take_connection())
            if candidate is not None and candidate.get_status() == PacketPeerDTLS.STATUS_HANDSHAKING:
                peer = candidate
        if peer is not None:
            peer.poll()
    data = b"x" * size
    start = time.perf_counter()
    for _ in range(rounds):
        client.put_packet(data)
        while not peer.get_available_packet_count():
            udp_server.poll()
            peer.poll()
        peer.put_packet(peer.get_packet())
        while not client.get_available_packet_count():
            client.poll()
        if len(client.get_packet()) != size:
            sys.exit("python_echo: short echo")
    elapsed = time.perf_counter() - start
    print(f"echo {rounds} {elapsed:.4f} {rounds / elapsed:.1f} {client.get_cipher_suite()}")


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit("usage: python_echo.py N SIZE cert.pem key.pem")
    main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4])
