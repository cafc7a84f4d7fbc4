# packetdtls.udp_server — UDPServer over dtls_udp_server_*.
"""Godot's UDPServer: one socket for many peers, each taken as a connected PacketPeerUDP."""

from __future__ import annotations

import math

from typing import Optional

from ._common import HandleOwner, c_bool, c_int, c_str, closed_error, descriptor, type_error, wait_in_slices
from ._errors import _ERRORS, Error, to_error
from ._library import hot, lib
from .udp import PacketPeerUDP
from .udp_stats import UDPStats, read_udp_stats

__all__ = ["UDPServer"]

_poll = hot["dtls_udp_server_poll"]  # bound once, without argtypes (_library.hot)


class UDPServer(HandleOwner):
    """A UDP server (Godot's UDPServer). ``close()`` stops it and releases the C handle."""

    _free_name = "dtls_udp_server_free"

    def __init__(self) -> None:
        super().__init__(lib.dtls_udp_server_new())

    def listen(self, port: int, bind_address: str = "*") -> Error:
        """Opens the socket on `port` (0 = any free port) and `bind_address` ("*" = every address)."""
        return to_error(
            lib.dtls_udp_server_listen(
                self._handle(), c_int("listen", "port", port), c_str("listen", "bind_address", bind_address)
            )
        )

    def set_reuse_port(self, enabled: bool) -> Error:
        """Beyond Godot, off by default: the next listen() sets SO_REUSEPORT, so several servers can
        listen on one port and the kernel spreads clients over them (they should share a key file,
        DTLSServer.load_keys). ERR_ALREADY_IN_USE while listening."""
        return to_error(lib.dtls_udp_server_set_reuse_port(self._handle(), c_bool("set_reuse_port", "enabled", enabled)))

    def set_send_batching(self, enabled: bool) -> Error:
        """Beyond Godot, off by default: the datagrams of this server's peers (DTLS records too) are
        queued and leave together in one sendmmsg per up to 512, at flush_sends(), the next poll(), or
        when the queue is full. Turning it off sends what is queued; ERR_BUSY (batching stays on) when
        the send buffer is full, FAILED when the kernel refused some (counted in
        get_stats().datagrams_send_failed)."""
        return to_error(
            lib.dtls_udp_server_set_send_batching(self._handle(), c_bool("set_send_batching", "enabled", enabled))
        )

    def is_send_batching(self) -> bool:
        """Beyond Godot: True while send batching is on."""
        return bool(lib.dtls_udp_server_is_send_batching(self._handle()))

    def flush_sends(self) -> Error:
        """Beyond Godot: sends every queued datagram now, in order (call it once a tick after the last
        put_packet). OK also with batching off; ERR_BUSY when the send buffer filled (the rest stays
        queued); FAILED when the kernel refused some (dropped, counted); ERR_UNCONFIGURED when not
        listening."""
        return to_error(lib.dtls_udp_server_flush_sends(self._handle()))

    def poll(self) -> Error:
        """Reads every waiting datagram and routes it to its peer (ERR_UNCONFIGURED when not listening)."""
        h = self._h
        if h is None:
            raise closed_error(self)
        code = _poll(h)
        try:  # to_error() inline: this is the per-packet path
            return _ERRORS[code]
        except IndexError:
            return code

    def wait(self, timeout: float) -> Error:
        """Beyond Godot: blocks until a datagram waits on the socket or `timeout` seconds pass
        (ERR_TIMEOUT), so a server loop can sleep instead of spinning; call poll() afterwards. A signal
        handler runs at once (Ctrl-C raises KeyboardInterrupt): the wait is made of short slices.
        Under a ClientHello flood that the last poll kept up with, it first lets the flood gather
        for 1 ms."""
        h = self._handle()
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or math.isnan(timeout):
            raise type_error("wait", "timeout", "a number of seconds", timeout)
        milliseconds = max(0, math.ceil(timeout * 1000))
        return to_error(wait_in_slices(lib.dtls_udp_server_wait_timeout, h, min(milliseconds, 2**31 - 1)))

    def fileno(self) -> int:
        """Beyond Godot: the socket's file descriptor, for ``selectors``, ``select`` or asyncio to
        watch (see ``packetdtls.aio``). Readable means poll() has datagrams to route. Watch it only: the
        server owns it. io.UnsupportedOperation (an OSError and a ValueError) when not listening."""
        return descriptor(lib.dtls_udp_server_get_fd, self._handle())

    def is_connection_available(self) -> bool:
        h = self._h
        if h is None:
            raise closed_error(self)
        return lib.dtls_udp_server_is_connection_available(h)  # restype c_bool: already a bool

    def take_connection(self) -> Optional[PacketPeerUDP]:
        """The oldest pending peer as a connected PacketPeerUDP, or None when none waits."""
        peer = PacketPeerUDP._wrap(lib.dtls_udp_server_take_connection(self._handle()))
        if peer is not None:
            peer._server = self  # the peer shares this server's socket: keep the server alive with it
        return peer

    def is_listening(self) -> bool:
        return bool(lib.dtls_udp_server_is_listening(self._handle()))

    def get_local_port(self) -> int:
        return int(lib.dtls_udp_server_get_local_port(self._handle()))

    def stop(self) -> Error:
        """Closes the socket, drops pending peers and closes every taken peer. A DTLS session over one
        of its peers ends first: close_notify to a connected client, the server-side peer DISCONNECTED."""
        return to_error(lib.dtls_udp_server_stop(self._handle()))

    def set_max_pending_connections(self, max_pending_connections: int) -> Error:
        """How many peers may wait for take_connection (default 16; 0 refuses new peers)."""
        return to_error(
            lib.dtls_udp_server_set_max_pending_connections(
                self._handle(),
                c_int("set_max_pending_connections", "max_pending_connections", max_pending_connections),
            )
        )

    def get_max_pending_connections(self) -> int:
        return int(lib.dtls_udp_server_get_max_pending_connections(self._handle()))

    @property
    def max_pending_connections(self) -> int:
        """Godot's property; assigning a value the library refuses (negative) raises ValueError."""
        return self.get_max_pending_connections()

    @max_pending_connections.setter
    def max_pending_connections(self, value: int) -> None:
        error = self.set_max_pending_connections(value)
        if error != Error.OK:
            raise ValueError(f"max_pending_connections = {value!r}: {error.name if isinstance(error, Error) else error}")

    def release(self) -> None:
        """Stops the server and releases the C handle; afterwards the object raises ValueError."""
        h = self._h
        if h is not None:
            lib.dtls_udp_server_stop(h)
        HandleOwner.release(self)

    def set_peer_queue_limit(self, bytes_: int) -> Error:
        """Beyond Godot: the bytes each peer made from now on may queue (default 1 MiB, 24 bytes of
        bookkeeping per datagram included). ERR_INVALID_PARAMETER below 1."""
        return to_error(
            lib.dtls_udp_server_set_peer_queue_limit(self._handle(), c_int("set_peer_queue_limit", "bytes", bytes_))
        )

    def get_peer_queue_limit(self) -> int:
        return int(lib.dtls_udp_server_get_peer_queue_limit(self._handle()))

    def set_total_queue_limit(self, bytes_: int) -> Error:
        """Beyond Godot: the bytes all peers may queue together (default 16 MiB). ERR_INVALID_PARAMETER below 1."""
        return to_error(
            lib.dtls_udp_server_set_total_queue_limit(self._handle(), c_int("set_total_queue_limit", "bytes", bytes_))
        )

    def get_total_queue_limit(self) -> int:
        return int(lib.dtls_udp_server_get_total_queue_limit(self._handle()))

    def get_stats(self) -> UDPStats:
        """Beyond Godot: what the server routed and dropped, what the kernel dropped, what is queued."""
        return read_udp_stats(lib.dtls_udp_server_get_stats, self._handle())
