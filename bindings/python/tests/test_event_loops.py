# Event loops: fileno() with selectors, the packetdtls.aio module, and waits that Ctrl-C interrupts.
from __future__ import annotations

import asyncio
import io
import os
import selectors
import signal
import subprocess
import sys
import time

import pytest

from packetdtls import (
    DTLSServer,
    Error,
    PacketPeerDTLS,
    PacketPeerUDP,
    Status,
    TLSOptions,
    UDPServer,
    aio,
)

from .conftest import PACKAGE_ROOT, Identity


def test_fileno_needs_a_socket() -> None:
    udp, server, peer = PacketPeerUDP(), UDPServer(), PacketPeerDTLS()
    for owner, reason in ((udp, "no socket"), (server, "not listening"), (peer, "no UDP peer")):
        with pytest.raises(io.UnsupportedOperation) as raised:
            owner.fileno()
        assert reason in str(raised.value)
        assert isinstance(raised.value, OSError) and isinstance(raised.value, ValueError)
    udp.bind(0, "127.0.0.1")
    assert udp.fileno() >= 0
    udp.release()
    with pytest.raises(ValueError):
        udp.fileno()


def test_selectors_udp_echo() -> None:
    """A UDPServer and a client PacketPeerUDP in one selector: each is read only when readable."""
    with UDPServer() as server, PacketPeerUDP() as client:
        assert server.listen(0, "127.0.0.1") == Error.OK
        assert client.connect_to_host("127.0.0.1", server.get_local_port()) == Error.OK
        with selectors.DefaultSelector() as selector:
            selector.register(server, selectors.EVENT_READ, "server")
            selector.register(client, selectors.EVENT_READ, "client")
            assert selector.select(timeout=0) == [], "nothing is readable before anything is sent"
            peers = []
            replies = []
            client.put_packet(b"ping 0")
            deadline = time.monotonic() + 10
            while len(replies) < 3 and time.monotonic() < deadline:
                for key, _ in selector.select(timeout=1):
                    if key.data == "server":
                        server.poll()
                        while server.is_connection_available():
                            peers.append(server.take_connection())
                        for peer in peers:
                            while peer.get_available_packet_count():
                                peer.put_packet(peer.get_packet().replace(b"ping", b"pong"))
                    else:
                        while client.get_available_packet_count():
                            replies.append(client.get_packet())
                            if len(replies) < 3:
                                client.put_packet(b"ping %d" % len(replies))
            assert replies == [b"pong 0", b"pong 1", b"pong 2"]
            assert len(peers) == 1 and peers[0].fileno() == server.fileno(), "a server's peer shares its socket"


def test_selectors_dtls_client(identity: Identity) -> None:
    """A DTLS client's fileno() is its UDP peer's: a selector wakes it for the server's replies."""
    with UDPServer() as udp_server:
        udp_server.listen(0, "127.0.0.1")
        dtls_server = DTLSServer()
        assert dtls_server.setup(TLSOptions.server(identity.key, identity.cert)) == Error.OK
        udp = PacketPeerUDP()
        udp.connect_to_host("127.0.0.1", udp_server.get_local_port())
        client = PacketPeerDTLS()
        assert client.connect_to_peer(udp, "localhost", TLSOptions.client(identity.cert)) == Error.OK
        assert client.fileno() == udp.fileno()
        server_peers = []
        with selectors.DefaultSelector() as selector:
            selector.register(udp_server, selectors.EVENT_READ, "server")
            selector.register(client, selectors.EVENT_READ, "client")
            deadline = time.monotonic() + 15
            echoed = None
            sent = False
            while echoed is None and time.monotonic() < deadline:
                # Handshakes retransmit on a timer: wake every 100 ms while one is in progress.
                selector.select(timeout=0.1)
                udp_server.poll()
                while udp_server.is_connection_available():
                    peer = dtls_server.take_connection(udp_server.take_connection())
                    if peer is not None and peer.get_status() == Status.STATUS_HANDSHAKING:
                        server_peers.append(peer)
                for peer in server_peers:
                    peer.poll()
                    while peer.get_available_packet_count():
                        peer.put_packet(peer.get_packet())
                client.poll()
                if client.get_status() == Status.STATUS_CONNECTED and not sent:
                    sent = client.put_packet(b"over dtls") == Error.OK
                if client.get_available_packet_count():
                    echoed = client.get_packet()
            assert echoed == b"over dtls", client.get_error_message()


def test_asyncio_dtls_echo(identity: Identity) -> None:
    """aio.accept / aio.connect / aio.recv / aio.send: two clients echo through one server task."""

    async def main() -> list:
        udp_server = UDPServer()
        assert udp_server.listen(0, "127.0.0.1") == Error.OK
        dtls_server = DTLSServer()
        assert dtls_server.setup(TLSOptions.server(identity.key, identity.cert)) == Error.OK

        async def serve_one(peer: PacketPeerDTLS) -> None:
            try:
                while True:
                    await aio.send(peer, (await aio.recv(peer)).upper())
            except ConnectionError:
                pass  # the client closed

        async def server() -> None:
            tasks = [asyncio.ensure_future(serve_one(await aio.accept(udp_server, dtls_server, timeout=15))) for _ in range(2)]
            await asyncio.gather(*tasks)

        async def client(name: bytes) -> list:
            udp = PacketPeerUDP()
            udp.connect_to_host("127.0.0.1", udp_server.get_local_port())
            peer = PacketPeerDTLS()
            await aio.connect(peer, udp, "localhost", TLSOptions.client(identity.cert), timeout=15)
            replies = []
            for i in range(3):
                await aio.send(peer, b"%s %d" % (name, i))
                replies.append(await aio.recv(peer, timeout=10))
            peer.disconnect_from_peer()
            return replies

        server_task = asyncio.ensure_future(server())
        results = await asyncio.gather(client(b"alice"), client(b"bob"))
        await asyncio.wait_for(server_task, 10)
        udp_server.stop()
        return results

    started = time.monotonic()
    results = asyncio.run(asyncio.wait_for(main(), 60))
    assert results == [[b"ALICE 0", b"ALICE 1", b"ALICE 2"], [b"BOB 0", b"BOB 1", b"BOB 2"]]
    assert time.monotonic() - started < 30


def test_asyncio_failures(identity: Identity, other_identity: Identity) -> None:
    """A handshake that fails raises ConnectionError with the reason; recv honours its timeout."""

    async def main() -> None:
        udp_server = UDPServer()
        udp_server.listen(0, "127.0.0.1")
        dtls_server = DTLSServer()
        dtls_server.setup(TLSOptions.server(identity.key, identity.cert))
        accepting = asyncio.ensure_future(aio.accept(udp_server, dtls_server, timeout=3))
        udp = PacketPeerUDP()
        udp.connect_to_host("127.0.0.1", udp_server.get_local_port())
        peer = PacketPeerDTLS()
        with pytest.raises(ConnectionError, match="(?i)verif|certificate"):
            await aio.connect(peer, udp, "localhost", TLSOptions.client(other_identity.cert), timeout=15)
        with pytest.raises(asyncio.TimeoutError):
            await accepting
        plain = PacketPeerUDP()
        plain.bind(0, "127.0.0.1")
        started = time.monotonic()
        with pytest.raises(asyncio.TimeoutError):
            await aio.recv(plain, timeout=0.3)
        assert 0.25 < time.monotonic() - started < 3

    asyncio.run(main())


_WAITER = """
import sys, time
sys.path.insert(0, {package!r})
import packetdtls
udp = packetdtls.PacketPeerUDP()
udp.bind(0, "127.0.0.1")
{setup}
print("waiting", flush=True)
started = time.monotonic()
try:
    {call}
except KeyboardInterrupt:
    print("interrupted after %.2f s" % (time.monotonic() - started), flush=True)
    sys.exit(0)
print("wait returned", flush=True)
sys.exit(1)
"""


@pytest.mark.parametrize(
    "setup, call",
    [
        ("", "udp.wait()"),
        ("", "udp.wait(600)"),
        ("server = packetdtls.UDPServer(); server.listen(0, '127.0.0.1')", "server.wait(600)"),
    ],
    ids=["udp-wait-forever", "udp-wait-timeout", "udpserver-wait"],
)
def test_sigint_interrupts_wait(setup: str, call: str) -> None:
    """Ctrl-C (SIGINT) during a blocking wait raises KeyboardInterrupt at once, not at the timeout."""
    script = _WAITER.format(package=str(PACKAGE_ROOT), setup=setup, call=call)
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "waiting"
        time.sleep(0.2)  # into the blocking call
        child.send_signal(signal.SIGINT)
        out, _ = child.communicate(timeout=5)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 0, out
    seconds = float(out.split("after ")[1].split(" s")[0])
    assert seconds < 1.5, out
