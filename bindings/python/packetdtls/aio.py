# packetdtls.aio — asyncio over the same objects: the event loop watches their sockets.
"""asyncio for PacketDTLS (beyond Godot): awaitable connect, accept, recv and send.

The coroutines take the ordinary objects (PacketPeerUDP, UDPServer, PacketPeerDTLS, DTLSServer)
and wait on their sockets with ``loop.add_reader`` (their ``fileno()``), so nothing polls in a
busy loop. A handshake also needs ``poll()`` when nothing arrives (retransmission), so while
handshaking a wait lasts at most HANDSHAKE_TICK seconds; a connected session is polled at least
every IDLE_TICK seconds, so it notices its idle timeout.

A client::

    udp = PacketPeerUDP()
    udp.connect_to_host("127.0.0.1", port)
    peer = PacketPeerDTLS()
    await aio.connect(peer, udp, "localhost", TLSOptions.client(cert))
    await aio.send(peer, b"hello")
    reply = await aio.recv(peer, timeout=5)

A server (peers from ``accept`` share the UDPServer's socket; ``recv`` polls the server for them)::

    udp_server = UDPServer(); udp_server.listen(port, "127.0.0.1")
    dtls_server = DTLSServer(); dtls_server.setup(TLSOptions.server(key, cert))
    while True:
        peer = await aio.accept(udp_server, dtls_server)
        asyncio.create_task(serve(peer))

Everything runs on the event loop's thread; do not use the same objects from other threads meanwhile.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Dict, List, Optional, Union

from ._errors import Error, Status
from .dtls import PacketPeerDTLS
from .dtls_server import DTLSServer
from .tls_options import TLSOptions
from .udp import PacketPeerUDP
from .udp_server import UDPServer

__all__ = ["connect", "accept", "recv", "send", "wait_readable", "HANDSHAKE_TICK", "IDLE_TICK"]

#: The longest wait while a handshake is in progress: its retransmission timer needs poll() calls.
HANDSHAKE_TICK = 0.05
#: The longest wait of a connected DTLS session, so that poll() sees its idle timeout.
IDLE_TICK = 1.0

Peer = Union[PacketPeerDTLS, PacketPeerUDP]


# MARK: - Waiting for a socket


class _Watchers:
    """One ``add_reader`` per descriptor, however many coroutines wait on it (a UDPServer's peers all
    share its socket, and asyncio keeps one reader per descriptor): readable wakes them all."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.waiting: Dict[int, List[asyncio.Future[None]]] = {}

    def wait(self, fd: int) -> asyncio.Future[None]:
        future: asyncio.Future[None] = self.loop.create_future()
        waiters = self.waiting.get(fd)
        if waiters is None:
            waiters = self.waiting[fd] = []
            self.loop.add_reader(fd, self._readable, fd)
        waiters.append(future)
        return future

    def forget(self, fd: int, future: asyncio.Future[None]) -> None:
        waiters = self.waiting.get(fd)
        if waiters is None:
            return
        if future in waiters:
            waiters.remove(future)
        if not waiters:
            del self.waiting[fd]
            self.loop.remove_reader(fd)

    def _readable(self, fd: int) -> None:
        waiters = self.waiting.pop(fd, [])
        self.loop.remove_reader(fd)
        for future in waiters:
            if not future.done():
                future.set_result(None)


_watchers: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Watchers]" = weakref.WeakKeyDictionary()


async def wait_readable(owner: Union[Peer, UDPServer], timeout: Optional[float] = None) -> bool:
    """Waits until `owner`'s socket (its ``fileno()``) is readable: True, or False after `timeout`
    seconds. The descriptor is read anew on each call, so a socket reopened between calls is followed."""
    loop = asyncio.get_running_loop()
    watchers = _watchers.get(loop)
    if watchers is None:
        watchers = _watchers[loop] = _Watchers(loop)
    fd = owner.fileno()
    future = watchers.wait(fd)
    try:
        await asyncio.wait_for(asyncio.shield(future), timeout)
        return True
    except asyncio.TimeoutError:
        return False
    finally:
        watchers.forget(fd, future)


def _server_of(peer: Peer) -> Optional[UDPServer]:
    """The UDPServer whose socket `peer` shares (a peer taken from it), else None."""
    udp = peer._udp if isinstance(peer, PacketPeerDTLS) else peer
    server = getattr(udp, "_server", None) if udp is not None else None
    return server if isinstance(server, UDPServer) else None


def _remaining(deadline: Optional[float]) -> Optional[float]:
    if deadline is None:
        return None
    return max(0.0, deadline - asyncio.get_running_loop().time())


def _deadline(timeout: Optional[float]) -> Optional[float]:
    return None if timeout is None else asyncio.get_running_loop().time() + timeout


def _tick(deadline: Optional[float], tick: float) -> float:
    left = _remaining(deadline)
    return tick if left is None else min(tick, left)


# MARK: - Sessions


async def connect(
    peer: PacketPeerDTLS,
    udp: PacketPeerUDP,
    hostname: str,
    options: Optional[TLSOptions] = None,
    timeout: Optional[float] = None,
) -> None:
    """Starts a client handshake over the connected `udp` (``connect_to_peer``) and waits until it ends.

    Returns once STATUS_CONNECTED. Raises ConnectionError with the peer's reason when the handshake
    fails, asyncio.TimeoutError after `timeout` seconds (the peer is then disconnected), and
    ValueError when connect_to_peer refuses its arguments."""
    code = peer.connect_to_peer(udp, hostname, options)
    if code != Error.OK:
        raise ValueError(f"connect_to_peer: {code.name}: {peer.get_error_message() or 'refused'}")
    deadline = _deadline(timeout)
    while True:
        peer.poll()
        status = peer.get_status()
        if status == Status.STATUS_CONNECTED:
            return
        if status != Status.STATUS_HANDSHAKING:
            raise ConnectionError(f"DTLS handshake failed ({status.name}): {peer.get_error_message()}")
        if deadline is not None and _remaining(deadline) == 0:
            peer.disconnect_from_peer()
            raise asyncio.TimeoutError(f"DTLS handshake with {hostname!r} did not finish within {timeout} s")
        await wait_readable(peer, _tick(deadline, HANDSHAKE_TICK))


class _Handshakes:
    """The server-side handshakes a UDPServer has in progress, kept between accept() calls."""

    def __init__(self) -> None:
        self.peers: List[PacketPeerDTLS] = []
        self.ready: List[PacketPeerDTLS] = []


_handshakes: "weakref.WeakKeyDictionary[UDPServer, _Handshakes]" = weakref.WeakKeyDictionary()


def _advance(udp_server: UDPServer, dtls_server: DTLSServer, state: _Handshakes) -> None:
    """Routes what arrived, starts handshakes for new clients, and moves finished ones to `ready`."""
    udp_server.poll()
    while udp_server.is_connection_available():
        udp = udp_server.take_connection()
        if udp is None:
            break
        peer = dtls_server.take_connection(udp)
        if peer is not None and peer.get_status() == Status.STATUS_HANDSHAKING:
            state.peers.append(peer)
    still: List[PacketPeerDTLS] = []
    for peer in state.peers:
        peer.poll()
        status = peer.get_status()
        if status == Status.STATUS_CONNECTED:
            state.ready.append(peer)
        elif status == Status.STATUS_HANDSHAKING:
            still.append(peer)
        # Anything else failed (a bad client): dropped, as a Godot server loop drops it.
    state.peers = still


async def accept(udp_server: UDPServer, dtls_server: DTLSServer, timeout: Optional[float] = None) -> PacketPeerDTLS:
    """Waits for the next client whose DTLS handshake completes and returns its connected peer.

    `udp_server` listens; `dtls_server` is set up. Handshakes in progress are kept between calls (one
    accept() per client). Raises asyncio.TimeoutError after `timeout` seconds with no new session."""
    state = _handshakes.get(udp_server)
    if state is None:
        state = _handshakes[udp_server] = _Handshakes()
    deadline = _deadline(timeout)
    while True:
        _advance(udp_server, dtls_server, state)
        if state.ready:
            return state.ready.pop(0)
        if deadline is not None and _remaining(deadline) == 0:
            raise asyncio.TimeoutError(f"no DTLS client completed a handshake within {timeout} s")
        tick = HANDSHAKE_TICK if state.peers else IDLE_TICK
        await wait_readable(udp_server, _tick(deadline, tick))


async def recv(peer: Peer, timeout: Optional[float] = None) -> bytes:
    """The next packet from `peer` (a connected PacketPeerDTLS, or a PacketPeerUDP), waiting for it.

    Raises ConnectionError when a DTLS session ends (with its reason; close_notify included),
    asyncio.TimeoutError after `timeout` seconds."""
    server = _server_of(peer)
    is_dtls = isinstance(peer, PacketPeerDTLS)
    deadline = _deadline(timeout)
    while True:
        if server is not None:
            server.poll()
        if is_dtls:
            peer.poll()  # type: ignore[union-attr]
        if peer.get_available_packet_count() > 0:
            return peer.get_packet()
        if is_dtls:
            status = peer.get_status()  # type: ignore[union-attr]
            if status != Status.STATUS_CONNECTED:
                reason = peer.get_error_message() or "the session ended"  # type: ignore[union-attr]
                raise ConnectionError(f"DTLS session is {status.name}: {reason}")
        if deadline is not None and _remaining(deadline) == 0:
            raise asyncio.TimeoutError(f"no packet arrived within {timeout} s")
        await wait_readable(server if server is not None else peer, _tick(deadline, IDLE_TICK))


async def send(peer: Peer, data: bytes) -> None:
    """Sends one packet (put_packet). UDP does not block, so this only raises: ConnectionError when
    put_packet fails, with the reason. A coroutine, to read the same as recv()."""
    code = peer.put_packet(data)
    if code != Error.OK:
        reason = peer.get_error_message() if isinstance(peer, PacketPeerDTLS) else ""
        raise ConnectionError(f"put_packet: {code.name}{': ' + reason if reason else ''}")
