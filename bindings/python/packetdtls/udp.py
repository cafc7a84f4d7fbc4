# packetdtls.udp — PacketPeerUDP over dtls_udp_*.
"""Godot's PacketPeerUDP: a UDP socket with a packet queue, in both API generations' spellings."""

from __future__ import annotations

import ctypes
import math
from typing import Optional

from ._common import (
    HandleOwner,
    PacketBuffer,
    c_bool,
    c_data,
    c_int,
    c_str,
    closed_error,
    descriptor,
    read_packet,
    read_string,
    type_error,
    wait_in_slices,
)
from ._errors import _ERRORS, Error, to_error
from ._library import hot, lib
from .udp_stats import UDPStats, read_udp_stats
from .variant import VarPeer

__all__ = ["PacketPeerUDP"]

# The per-packet calls: bound once, without argtypes (_library.hot); only the binding's own objects go in.
_put_packet = hot["dtls_udp_put_packet"]
_get_packet = hot["dtls_udp_get_packet"]
_get_available_packet_count = hot["dtls_udp_get_available_packet_count"]
_size_t = ctypes.c_size_t


class PacketPeerUDP(VarPeer, HandleOwner):
    """A UDP peer (Godot's PacketPeerUDP).

    ``close()`` is Godot's: it closes the socket and forgets the destination, and the object stays
    usable (``bind`` again works). ``release()`` closes the socket and releases the C handle (then
    the object raises ValueError when used); leaving a ``with`` block releases, and so does garbage
    collection.
    """

    _free_name = "dtls_udp_free"
    _var_prefix = "dtls_udp"

    def __init__(self) -> None:
        super().__init__(lib.dtls_udp_new())
        self._after_wrap()

    def _after_wrap(self) -> None:
        self._packets = [PacketBuffer()]  # spare receive buffers (PacketBuffer)
        self._server: object = None  # the UDPServer this peer was taken from, kept alive with it

    # MARK: Socket

    def bind(self, port: int, bind_address: str = "*", recv_buf_size: int = 65536) -> Error:
        """Binds to `port` (0 = any free port) on `bind_address` ("*" = every address, IPv4 and IPv6)."""
        return to_error(
            lib.dtls_udp_bind(
                self._handle(),
                c_int("bind", "port", port),
                c_str("bind", "bind_address", bind_address),
                c_int("bind", "recv_buf_size", recv_buf_size),
            )
        )

    def listen(self, port: int, bind_address: str = "*", recv_buf_size: int = 65536) -> Error:
        """Godot 3.x name of bind()."""
        return to_error(
            lib.dtls_udp_listen(
                self._handle(),
                c_int("listen", "port", port),
                c_str("listen", "bind_address", bind_address),
                c_int("listen", "recv_buf_size", recv_buf_size),
            )
        )

    def close(self) -> None:  # type: ignore[override]
        """Closes the socket (Godot's close()); the object may bind or connect again. A peer taken
        from a UDPServer leaves it. Does nothing on a released object."""
        h = self._h
        if h is not None:
            lib.dtls_udp_close(h)

    def release(self) -> None:
        """Closes the socket and releases the C handle now; the object is unusable afterwards."""
        h = self._h
        if h is not None:
            lib.dtls_udp_close(h)
        HandleOwner.release(self)
        self._server = None

    def is_bound(self) -> bool:
        return bool(lib.dtls_udp_is_bound(self._handle()))

    def is_listening(self) -> bool:
        """Godot 3.x name of is_bound()."""
        return bool(lib.dtls_udp_is_listening(self._handle()))

    def connect_to_host(self, host: str, port: int) -> Error:
        """Connects the socket to `host`:`port`: afterwards only that host's datagrams are received."""
        return to_error(
            lib.dtls_udp_connect_to_host(
                self._handle(), c_str("connect_to_host", "host", host), c_int("connect_to_host", "port", port)
            )
        )

    def is_socket_connected(self) -> bool:
        return bool(lib.dtls_udp_is_socket_connected(self._handle()))

    def is_connected_to_host(self) -> bool:
        """Godot 3.x name of is_socket_connected()."""
        return bool(lib.dtls_udp_is_connected_to_host(self._handle()))

    def set_dest_address(self, host: str, port: int) -> Error:
        """Sets where put_packet sends on an unconnected socket."""
        return to_error(
            lib.dtls_udp_set_dest_address(
                self._handle(), c_str("set_dest_address", "host", host), c_int("set_dest_address", "port", port)
            )
        )

    def wait(self, timeout: Optional[float] = None) -> Error:
        """Blocks until a datagram can be read (Godot's wait()). Beyond Godot: with `timeout` in
        seconds it gives up after that long with ERR_TIMEOUT. Other threads run meanwhile, and a
        signal handler runs at once (Ctrl-C raises KeyboardInterrupt): the wait is made of short
        slices."""
        h = self._handle()
        if timeout is None:
            return to_error(wait_in_slices(lib.dtls_udp_wait_timeout, h, None))
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
            raise type_error("wait", "timeout", "a number of seconds or None", timeout)
        if math.isnan(timeout):
            raise ValueError("wait() timeout must not be NaN")
        milliseconds = math.ceil(timeout * 1000) if timeout > 0 else (0 if timeout == 0 else -1)
        if milliseconds < 0:
            return to_error(lib.dtls_udp_wait_timeout(h, milliseconds))  # the library's own error
        return to_error(wait_in_slices(lib.dtls_udp_wait_timeout, h, min(milliseconds, 2**31 - 1)))

    def fileno(self) -> int:
        """Beyond Godot: the socket's file descriptor, for ``selectors``, ``select`` or asyncio to
        watch (see ``packetdtls.aio``). Readable means get_packet has something; for a peer taken from
        a UDPServer it is the server's socket, and the server's poll() routes what came. Watch it only:
        the peer owns it. io.UnsupportedOperation (an OSError and a ValueError) when the peer has no
        socket yet."""
        return descriptor(lib.dtls_udp_get_fd, self._handle())

    def get_packet_ip(self) -> str:
        """The source address of the last packet read ("" before any)."""
        return read_string(lib.dtls_udp_get_packet_ip, self._handle())

    def get_stats(self) -> UDPStats:
        """Beyond Godot: what this peer queued, and what its server dropped for it (a full queue)."""
        return read_udp_stats(lib.dtls_udp_get_stats, self._handle())

    def get_packet_port(self) -> int:
        return int(lib.dtls_udp_get_packet_port(self._handle()))

    def get_local_port(self) -> int:
        return int(lib.dtls_udp_get_local_port(self._handle()))

    def set_broadcast_enabled(self, enabled: bool) -> Error:
        return to_error(
            lib.dtls_udp_set_broadcast_enabled(self._handle(), c_bool("set_broadcast_enabled", "enabled", enabled))
        )

    def join_multicast_group(self, address: str, interface_name: str) -> Error:
        """Joins a multicast group on the named interface ("" = any). The socket must be bound."""
        return to_error(
            lib.dtls_udp_join_multicast_group(
                self._handle(),
                c_str("join_multicast_group", "address", address),
                c_str("join_multicast_group", "interface_name", interface_name),
            )
        )

    def leave_multicast_group(self, address: str, interface_name: str) -> Error:
        return to_error(
            lib.dtls_udp_leave_multicast_group(
                self._handle(),
                c_str("leave_multicast_group", "address", address),
                c_str("leave_multicast_group", "interface_name", interface_name),
            )
        )

    # MARK: PacketPeer

    def put_packet(self, buffer: bytes) -> Error:
        """Sends one datagram. `buffer` is any bytes-like object (bytes pass without a copy)."""
        h = self._h
        if h is None:
            raise closed_error(self)
        if type(buffer) is bytes:
            code = _put_packet(h, buffer, _size_t(len(buffer)))
        else:
            data, size, keep = c_data("put_packet", "buffer", buffer)
            code = _put_packet(h, data, _size_t(size))
        try:  # to_error() inline: this is the per-packet path
            return _ERRORS[code]
        except IndexError:
            return code

    def get_packet(self) -> bytes:
        """The next queued datagram, or b"" (then get_packet_error() says why)."""
        h = self._h
        if h is None:
            raise closed_error(self)
        return read_packet(self._packets, _get_packet, h)

    def get_available_packet_count(self) -> int:
        h = self._h
        if h is None:
            raise closed_error(self)
        return _get_available_packet_count(h)  # restype c_int: already an int

    def get_packet_error(self) -> Error:
        return to_error(lib.dtls_udp_get_packet_error(self._handle()))
