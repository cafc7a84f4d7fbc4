#!/usr/bin/env python3
"""dtls_server.py — Godot's DTLSServer example (server_node.gd) in Python, line by line.

    dtls_server.py [port] [count] [--port N] [--count N] [--time-limit SECONDS] [--key FILE --cert FILE]

Listens on `port` (default 4242; 0 = any free port) and answers every message from a DTLS client
with "Hello DTLS client". Without --key/--cert it makes a throwaway EC P-256 key and self-signed
certificate (CN=localhost) with the library. For scripted runs: exits 0 after replying to `count`
messages (default: never), and stops after --time-limit seconds (exit 0 when no count was asked
for, 1 when the count was not reached).
"""

import argparse
import sys
import time

from packetdtls import (Crypto, CryptoKey, DTLSServer, Error, PacketPeerDTLS, TLSOptions, UDPServer,
                        X509Certificate, last_error_message)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("port_arg", nargs="?", type=int, metavar="port")
    parser.add_argument("count_arg", nargs="?", type=int, metavar="count")
    parser.add_argument("--port", type=int, default=4242)
    parser.add_argument("--count", type=int, default=0, help="exit 0 after this many replies (0 = never)")
    parser.add_argument("--time-limit", type=float, default=0, help="seconds (0 = none)")
    parser.add_argument("--key")
    parser.add_argument("--cert")
    args = parser.parse_args()
    port = args.port_arg if args.port_arg is not None else args.port
    count = args.count_arg if args.count_arg is not None else args.count
    if (args.key is None) != (args.cert is None):
        parser.error("--key and --cert go together")

    # var dtls = DTLSServer.new()
    dtls = DTLSServer()
    # var server = UDPServer.new()
    server = UDPServer()
    # var peers = []
    peers = []

    # func _ready():
    #     server.listen(4242)
    if server.listen(port) != Error.OK:
        print(f"listen on port {port}: {last_error_message()}", file=sys.stderr)
        return 1
    #     var key = load("key.key") # Your private key.
    #     var cert = load("cert.crt") # Your X509 certificate.
    if args.key:
        key = CryptoKey()
        cert = X509Certificate()
        if key.load(args.key) != Error.OK or cert.load(args.cert) != Error.OK:
            print(f"load key/certificate: {last_error_message()}", file=sys.stderr)
            return 1
    else:
        # No files given: a throwaway key and self-signed certificate, made by the library.
        crypto = Crypto()
        key = crypto.generate_ec_p256()
        cert = crypto.generate_self_signed_certificate(key, "CN=localhost")
    #     dtls.setup(TLSOptions.server(key, cert))
    if dtls.setup(TLSOptions.server(key, cert)) != Error.OK:
        print(f"setup: {last_error_message()}", file=sys.stderr)
        return 1
    print(f"Listening on port {server.get_local_port()}", flush=True)

    replies = 0
    deadline = time.monotonic() + args.time_limit if args.time_limit > 0 else None
    while count == 0 or replies < count:
        if deadline is not None and time.monotonic() >= deadline:
            if count:
                print(f"time limit reached after {replies} of {count} replies", file=sys.stderr)
            break
        # func _process(delta):
        server.poll()
        #     while server.is_connection_available():
        while server.is_connection_available():
            #     var peer = server.take_connection()
            peer = server.take_connection()
            #     var dtls_peer = dtls.take_connection(peer)
            dtls_peer = dtls.take_connection(peer)
            #     if dtls_peer.get_status() != PacketPeerDTLS.STATUS_HANDSHAKING:
            if dtls_peer is None or dtls_peer.get_status() != PacketPeerDTLS.STATUS_HANDSHAKING:
                continue  # It is normal that 50% of the connections fails due to cookie exchange.
            #     print("Peer connected!")
            print("Peer connected!", flush=True)
            #     peers.append(dtls_peer)
            peers.append(dtls_peer)

        #     for p in peers:
        for p in peers:
            #     p.poll() # Must poll to update the state.
            p.poll()
            #     if p.get_status() == PacketPeerDTLS.STATUS_CONNECTED:
            if p.get_status() == PacketPeerDTLS.STATUS_CONNECTED:
                #     while p.get_available_packet_count() > 0:
                while p.get_available_packet_count() > 0:
                    # print("Received message from client: %s" % p.get_packet().get_string_from_utf8())
                    print("Received message from client: %s" % p.get_packet().decode(), flush=True)
                    # p.put_packet("Hello DTLS client".to_utf8_buffer())
                    if p.put_packet("Hello DTLS client".encode()) == Error.OK:
                        replies += 1

        # Not in the seed: forget peers whose session ended, so a long run does not grow.
        peers = [p for p in peers
                 if p.get_status() in (PacketPeerDTLS.STATUS_HANDSHAKING, PacketPeerDTLS.STATUS_CONNECTED)]
        # The next frame.
        time.sleep(0.002)

    for p in peers:
        p.close()  # sends close_notify when connected
    return 1 if count and replies < count else 0


if __name__ == "__main__":
    sys.exit(main())
