"""A DTLS echo server for the fleet tests, run as its own process:

    python fleet_server.py TAG PORT KEY_FILE CERT_FILE KEY_FILE_OR_- [--reuse-port]

It listens on 127.0.0.1:PORT (0 = any), loads the shared key file (unless "-"), prints
"ready PORT" on stdout, and answers every packet with TAG, then "R" (the session resumed) or
"F" (a full handshake), then the packet. It ends when its stdin closes or after 120 seconds."""

from __future__ import annotations

import os
import select
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import packetdtls  # noqa: E402
from packetdtls import CryptoKey, DTLSServer, Error, PacketPeerDTLS, TLSOptions, UDPServer, X509Certificate  # noqa: E402


def main() -> int:
    tag, port, key_path, cert_path, keys = sys.argv[1:6]
    reuse = "--reuse-port" in sys.argv[6:]
    key, cert = CryptoKey(), X509Certificate()
    assert key.load(key_path) == Error.OK and cert.load(cert_path) == Error.OK
    dtls = DTLSServer()
    if keys != "-" and dtls.load_keys(keys) != Error.OK:
        print(f"error {packetdtls.last_error_message()}", flush=True)
        return 1
    assert dtls.setup(TLSOptions.server(key, cert)) == Error.OK
    udp = UDPServer()
    if reuse:
        assert udp.set_reuse_port(True) == Error.OK
    if udp.listen(int(port), "127.0.0.1") != Error.OK:
        print(f"error {packetdtls.last_error_message()}", flush=True)
        return 1
    print(f"ready {udp.get_local_port()}", flush=True)
    peers = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if select.select([sys.stdin], [], [], 0)[0] and not os.read(sys.stdin.fileno(), 1):
            break
        udp.wait(0.005)
        udp.poll()
        while udp.is_connection_available():
            peer = dtls.take_connection(udp.take_connection())
            if peer is not None and peer.get_status() == PacketPeerDTLS.STATUS_HANDSHAKING:
                peers.append(peer)
        for peer in peers:
            peer.poll()
            while peer.get_available_packet_count() > 0:
                resumed = b"R" if peer.is_session_resumed() else b"F"
                peer.put_packet(tag.encode() + resumed + peer.get_packet())
        peers = [p for p in peers if p.get_status() in (PacketPeerDTLS.STATUS_HANDSHAKING, PacketPeerDTLS.STATUS_CONNECTED)]
    return 0


if __name__ == "__main__":
    sys.exit(main())
