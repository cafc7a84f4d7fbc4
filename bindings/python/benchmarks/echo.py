"""echo.py — DTLS echo round trips through the Python binding, in one process over loopback.

The same loop as echo_c.c (the C baseline): client put_packet -> server poll/get_packet/put_packet
-> client poll/get_packet. Run: python3 benchmarks/echo.py [rounds] [size]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from packetdtls import Crypto, DTLSServer, PacketPeerDTLS, PacketPeerUDP, TLSOptions, UDPServer  # noqa: E402


def main(rounds: int = 20000, size: int = 64) -> float:
    crypto = Crypto()
    key = crypto.generate_ec_p256()
    cert = crypto.generate_self_signed_certificate(key)
    udp_server = UDPServer()
    udp_server.listen(0, "127.0.0.1")
    server = DTLSServer()
    server.setup(TLSOptions.server(key, cert))
    udp = PacketPeerUDP()
    udp.connect_to_host("127.0.0.1", udp_server.get_local_port())
    client = PacketPeerDTLS()
    client.connect_to_peer(udp, False)
    peer = None
    connected = PacketPeerDTLS.STATUS_CONNECTED
    for _ in range(100000):
        if peer is not None and peer.get_status() == connected and client.get_status() == connected:
            break
        udp_server.poll()
        while udp_server.is_connection_available():
            candidate = server.take_connection(udp_server.take_connection())
            if candidate.get_status() == PacketPeerDTLS.STATUS_HANDSHAKING:
                peer = candidate
        if peer is not None:
            peer.poll()
        client.poll()
    data = bytes(size)
    start = time.perf_counter()
    for _ in range(rounds):
        client.put_packet(data)
        while True:
            udp_server.poll()
            peer.poll()
            if peer.get_available_packet_count():
                break
        peer.put_packet(peer.get_packet())
        while True:
            client.poll()
            if client.get_available_packet_count():
                break
        client.get_packet()
    elapsed = time.perf_counter() - start
    print(f"Python: {rounds} round trips of {size} bytes in {elapsed:.3f} s: {rounds / elapsed:.0f} round trips/s")
    return rounds / elapsed


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
