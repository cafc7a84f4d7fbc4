# packetdtls.dtls_server — DTLSServer over dtls_server_*.
"""Godot's DTLSServer: turns connected PacketPeerUDPs into server-side PacketPeerDTLSs."""

from __future__ import annotations

import ctypes
from typing import Any, NamedTuple, Optional, overload

from ._common import HandleOwner, PathLike, c_int, c_path, c_u32, instance, type_error
from ._errors import Error, to_error
from ._library import lib
from .crypto_key import CryptoKey
from .dtls import PacketPeerDTLS
from .tls_options import TLSOptions
from .udp import PacketPeerUDP
from .x509 import X509Certificate

__all__ = ["DTLSServer", "HandshakeLimits"]


class HandshakeLimits(NamedTuple):
    """Caps on handshakes in flight (0 = none) and the server-side handshake deadline in ms (0 = none)."""

    max_in_flight: int = 512
    max_per_address: int = 128
    deadline_ms: int = 20000


class DTLSServer(HandleOwner):
    """The DTLS server state: identity and cookie secret (Godot's DTLSServer)."""

    _free_name = "dtls_server_free"

    def __init__(self) -> None:
        super().__init__(lib.dtls_server_new())

    @overload
    def setup(self, key: CryptoKey, certificate: X509Certificate, chain: Optional[X509Certificate] = None) -> Error: ...

    @overload
    def setup(self, server_options: TLSOptions) -> Error: ...

    def setup(self, *args: Any, **kwargs: Any) -> Error:
        """Sets the server's identity.

        Godot 3.x: ``setup(key, certificate, chain=None)`` with a CryptoKey, its X509Certificate and
        optional intermediates. Godot 4.x: ``setup(server_options)`` with ``TLSOptions.server(...)``.
        The first argument's type (or the keyword names) chooses. May be called again to replace the
        identity; peers already taken keep theirs.
        """
        h = self._handle()
        first = args[0] if args else kwargs.get("server_options", kwargs.get("key"))
        if isinstance(first, TLSOptions) or ("server_options" in kwargs and not args):
            if len(args) + len(kwargs) != 1 or (kwargs and "server_options" not in kwargs):
                raise TypeError("setup(server_options) takes exactly one TLSOptions argument")
            options = args[0] if args else kwargs["server_options"]
            return to_error(lib.dtls_server_setup_with_options(h, instance("setup", "server_options", options, TLSOptions)))
        names = ("key", "certificate", "chain")
        unknown = [name for name in kwargs if name not in names]
        if unknown:
            raise TypeError(f"setup() got an unexpected keyword argument '{unknown[0]}'")
        if len(args) > 3:
            raise TypeError(f"setup() takes at most 3 arguments ({len(args)} given)")
        values: list = [None, None, None]
        for index, value in enumerate(args):
            values[index] = value
        for index, name in enumerate(names):
            if name in kwargs:
                if index < len(args):
                    raise TypeError(f"setup() got multiple values for argument '{name}'")
                values[index] = kwargs[name]
        key, certificate, chain = values
        if not isinstance(key, CryptoKey):
            raise type_error("setup", "key", "CryptoKey (3.x) or TLSOptions (4.x)", key)
        return to_error(
            lib.dtls_server_setup(
                h,
                instance("setup", "key", key, CryptoKey),
                instance("setup", "certificate", certificate, X509Certificate),
                instance("setup", "chain", chain, X509Certificate, allow_none=True),
            )
        )

    def take_connection(self, udp_peer: PacketPeerUDP) -> Optional[PacketPeerDTLS]:
        """Starts the server side of a handshake on the connected `udp_peer` (normally taken from a
        UDPServer). Keep the result only if its status is STATUS_HANDSHAKING: a first ClientHello
        without a cookie is answered with a HelloVerifyRequest and the peer is not kept. None when
        the server is not set up, `udp_peer` is not connected, or another PacketPeerDTLS's session
        runs over it already (last_error_message() says which).

        Beyond Godot: from then on the UDPServer answers cookie-less ClientHellos itself, so later
        connections arrive HANDSHAKING; a client that comes back on a live peer's address and port
        becomes a new connection, and the live peer ends STATUS_DISCONNECTED with a reason saying the
        client reconnected (on a connected PacketPeerUDP without a UDPServer, call take_connection
        again on the same udp_peer for the new session, once the old peer has ended). Beyond the
        handshake limits the peer is returned in STATUS_ERROR."""
        udp_h = instance("take_connection", "udp_peer", udp_peer, PacketPeerUDP)
        peer = PacketPeerDTLS._wrap(lib.dtls_server_take_connection(self._handle(), udp_h))
        if peer is not None:
            peer._udp = udp_peer
        return peer

    def set_handshake_threads(self, threads: int) -> Error:
        """Beyond Godot: runs the handshakes after the cookie exchange on `threads` worker threads of
        this server (0, the default, runs them in each peer's poll() as Godot does; -1 one per core).
        poll() of a handshaking peer then returns at once; its status becomes STATUS_CONNECTED (or an
        error) at the first poll() after its worker is done. The handshake deadline, ICMP refusals and
        UDPServer.stop() end a handshake on a worker as they end one in poll(), with the same status and
        message. ERR_INVALID_PARAMETER outside -1...64."""
        return to_error(lib.dtls_server_set_handshake_threads(
            self._handle(), c_int("set_handshake_threads", "threads", threads)))

    def set_handshake_threads_nice(self, increment: int) -> Error:
        """Beyond Godot: how much nicer (Linux nice, 0...19) than the thread that starts them the
        handshake threads run. 10, the default, keeps a game loop's ticks ahead of a join storm on a
        machine with few cores; 0 runs them at that thread's priority, for a loop with no tick to keep
        (one that only reads and echoes). Threads already running are restarted with it.
        ERR_INVALID_PARAMETER outside 0...19."""
        return to_error(lib.dtls_server_set_handshake_threads_nice(
            self._handle(), c_int("set_handshake_threads_nice", "increment", increment)))

    def set_handshake_limits(self, max_in_flight: int, max_per_address: int, deadline_ms: int) -> Error:
        """Beyond Godot: caps the handshakes in flight (those past the cookie exchange, not yet complete)
        in all and per client address (any port), and ends a server-side handshake not complete
        `deadline_ms` after it was taken in STATUS_ERROR. 0 = no cap / no deadline. A negative value is
        ERR_INVALID_PARAMETER and changes nothing. Defaults: 512, 128, 20000."""
        for name, value in (("max_in_flight", max_in_flight), ("max_per_address", max_per_address),
                            ("deadline_ms", deadline_ms)):
            if not isinstance(value, int) or isinstance(value, bool):
                raise type_error("set_handshake_limits", name, "int", value)
            if not -(2**31) <= value < 2**31:
                return Error.ERR_INVALID_PARAMETER
        return to_error(lib.dtls_server_set_handshake_limits(self._handle(), max_in_flight, max_per_address, deadline_ms))

    def get_handshake_limits(self) -> HandshakeLimits:
        """The limits in force."""
        values = [ctypes.c_int32() for _ in range(3)]
        lib.dtls_server_get_handshake_limits(self._handle(), *(ctypes.byref(v) for v in values))
        return HandshakeLimits(*(v.value for v in values))

    def get_handshakes_in_flight(self) -> int:
        """Handshakes holding a place now (pending in a UDPServer or taken, not yet complete)."""
        return int(lib.dtls_server_get_handshakes_in_flight(self._handle()))

    def stop(self) -> Error:
        """Forgets the identity (not the keys); take_connection fails until the next setup."""
        return to_error(lib.dtls_server_stop(self._handle()))

    # Beyond Godot: fleets and restarts (docs/BEYOND_GODOT.md)

    def load_keys(self, path: PathLike) -> Error:
        """Makes the cookie and session-ticket keys in the key file at `path` (from save_keys or
        ``packetdtls-cli gen-keys``) this server's, at once. Servers that load one file accept each
        other's cookies and resume each other's sessions; a restarted server resumes its old ones.
        ERR_INVALID_PARAMETER when the file can't be opened, ERR_FILE_UNRECOGNIZED when it is not a
        key file, ERR_FILE_CORRUPT when it is short or damaged; the keys are then unchanged."""
        return to_error(lib.dtls_server_load_keys(self._handle(), c_path("load_keys", "path", path)))

    def save_keys(self, path: PathLike) -> Error:
        """Writes the current and previous keys to `path` (mode 0600, replaced whole). From then on
        the keys change only by rotate_keys() or load_keys()."""
        return to_error(lib.dtls_server_save_keys(self._handle(), c_path("save_keys", "path", path)))

    def rotate_keys(self) -> Error:
        """New random keys become current; the current ones stay accepted as the previous, the
        previous ones are forgotten (their tickets then get a full handshake)."""
        return to_error(lib.dtls_server_rotate_keys(self._handle()))
    def set_hibernate_after_ms(self, ms: int) -> Error:
        """Quiet milliseconds after which the peers this server makes from now on hibernate; 0 = never.
        Default 10000."""
        h = self._handle()
        value = c_u32("set_hibernate_after_ms", "ms", ms)
        if value is None:
            return Error.ERR_INVALID_PARAMETER
        return to_error(lib.dtls_server_set_hibernate_after_ms(h, value))
