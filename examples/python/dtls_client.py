#!/usr/bin/env python3
"""dtls_client.py — Godot's DTLSServer example (client_node.gd) in Python, line by line.

    dtls_client.py [port] [--host ADDRESS] [--port N] [--timeout SECONDS]

Connects to ADDRESS:port (default 127.0.0.1:4242) without verifying the certificate, as the seed
does (`connect_to_peer(udp, false)`; use validation in production), sends "The answer is... 42!"
once connected, prints "Connected: <reply>" and exits 0 on the reply. Exits 1 when the session
fails or no reply came within the timeout (default 10 seconds).
"""

import argparse
import sys
import time

from packetdtls import Error, PacketPeerDTLS, PacketPeerUDP, last_error_message, status_string


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("port_arg", nargs="?", type=int, metavar="port")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4242)
    parser.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args()
    port = args.port_arg if args.port_arg is not None else args.port

    # var dtls = PacketPeerDTLS.new()
    dtls = PacketPeerDTLS()
    # var udp = PacketPeerUDP.new()
    udp = PacketPeerUDP()
    # var connected = false
    connected = False
    sent = False

    # func _ready():
    #     udp.connect_to_host("127.0.0.1", 4242)
    if udp.connect_to_host(args.host, port) != Error.OK:
        print(f"connect_to_host {args.host}:{port}: {last_error_message()}", file=sys.stderr)
        return 1
    #     dtls.connect_to_peer(udp, false) # Use true in production for certificate validation!
    if dtls.connect_to_peer(udp, False) != Error.OK:
        print(f"connect_to_peer: {last_error_message()}", file=sys.stderr)
        return 1

    deadline = time.monotonic() + args.timeout
    while not connected and time.monotonic() < deadline:
        # func _process(delta):
        #     dtls.poll()
        dtls.poll()
        status = dtls.get_status()
        #     if dtls.get_status() == PacketPeerDTLS.STATUS_CONNECTED:
        if status == PacketPeerDTLS.STATUS_CONNECTED:
            #     if !connected:
            #         # Try to contact the server
            #         dtls.put_packet("The answer is... 42!".to_utf8_buffer())
            # (The seed sends this every frame until the reply comes; once is enough here.)
            if not connected and not sent:
                sent = dtls.put_packet("The answer is... 42!".encode()) == Error.OK
            #     while dtls.get_available_packet_count() > 0:
            while dtls.get_available_packet_count() > 0:
                #     print("Connected: %s" % dtls.get_packet().get_string_from_utf8())
                print("Connected: %s" % dtls.get_packet().decode(), flush=True)
                #     connected = true
                connected = True
        elif status != PacketPeerDTLS.STATUS_HANDSHAKING:
            # Not in the seed: the session ended. A reply that arrived just before the server's
            # close_notify is still queued, so read it; otherwise say why and stop.
            while dtls.get_available_packet_count() > 0:
                print("Connected: %s" % dtls.get_packet().decode(), flush=True)
                connected = True
            if connected:
                break
            print(f"DTLS session ended: {status_string(status)}: {dtls.get_error_message()}", file=sys.stderr)
            break
        # The next frame.
        time.sleep(0.002)
    if not connected and time.monotonic() >= deadline:
        print(f"no reply within {args.timeout} seconds", file=sys.stderr)
    dtls.close()  # sends close_notify when connected
    return 0 if connected else 1


if __name__ == "__main__":
    sys.exit(main())
