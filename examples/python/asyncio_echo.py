#!/usr/bin/env python3
"""asyncio_echo.py — a DTLS echo server and its clients as asyncio tasks, with packetdtls.aio.

    asyncio_echo.py [--clients N] [--messages M] [--port P] [--timeout SECONDS]

Makes a throwaway key and self-signed certificate for CN=localhost, listens on 127.0.0.1 (port 0 =
a free one), and runs N clients at once that each send M messages and print the server's upper-case
echo. The event loop sleeps on the sockets (loop.add_reader on fileno()); nothing busy-polls.
Prints "asyncio echo: K replies" and exits 0 when every reply came back; 1 otherwise.
"""

import argparse
import asyncio
import sys

from packetdtls import Crypto, DTLSServer, Error, PacketPeerDTLS, PacketPeerUDP, TLSOptions, UDPServer, aio


async def serve(peer: PacketPeerDTLS) -> None:
    """Echoes one client's packets in upper case until it disconnects."""
    try:
        while True:
            message = await aio.recv(peer)
            await aio.send(peer, message.upper())
    except ConnectionError:
        pass  # the client said goodbye (close_notify) or went away


async def server(udp_server: UDPServer, dtls_server: DTLSServer, clients: int, timeout: float) -> None:
    sessions = []
    for _ in range(clients):
        peer = await aio.accept(udp_server, dtls_server, timeout=timeout)
        sessions.append(asyncio.ensure_future(serve(peer)))
    await asyncio.gather(*sessions)


async def client(number: int, port: int, trusted: TLSOptions, messages: int, timeout: float) -> int:
    udp = PacketPeerUDP()
    udp.connect_to_host("127.0.0.1", port)
    peer = PacketPeerDTLS()
    await aio.connect(peer, udp, "localhost", trusted, timeout=timeout)
    replies = 0
    for i in range(messages):
        await aio.send(peer, f"hello {i} from client {number}".encode())
        print(f"client {number}: {(await aio.recv(peer, timeout=timeout)).decode()}")
        replies += 1
    peer.disconnect_from_peer()
    return replies


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=3)
    parser.add_argument("--messages", type=int, default=2)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=15.0)
    args = parser.parse_args()

    crypto = Crypto()
    key = crypto.generate_ec_p256()
    cert = crypto.generate_self_signed_certificate(key, "CN=localhost")
    udp_server = UDPServer()
    if udp_server.listen(args.port, "127.0.0.1") != Error.OK:
        print(f"listen on port {args.port} failed", file=sys.stderr)
        return 1
    dtls_server = DTLSServer()
    dtls_server.setup(TLSOptions.server(key, cert))
    port = udp_server.get_local_port()
    print(f"Listening on port {port}")

    serving = asyncio.ensure_future(server(udp_server, dtls_server, args.clients, args.timeout))
    try:
        counts = await asyncio.gather(
            *(client(n, port, TLSOptions.client(cert), args.messages, args.timeout) for n in range(args.clients))
        )
        await asyncio.wait_for(serving, args.timeout)
    except (ConnectionError, asyncio.TimeoutError) as error:
        print(f"asyncio echo failed: {error}", file=sys.stderr)
        return 1
    finally:
        udp_server.stop()
    print(f"asyncio echo: {sum(counts)} replies")
    return 0 if sum(counts) == args.clients * args.messages else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
