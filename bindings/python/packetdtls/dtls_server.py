# packetdtls.dtls_server — DTLSServer over dtls_server_*.
"""Godot's DTLSServer: turns connected PacketPeerUDPs into server-side PacketPeerDTLSs."""

from __future__ import annotations

from typing import Any, Optional, overload

from ._common import HandleOwner, c_u32, instance, type_error
from ._errors import Error, to_error
from ._library import lib
from .crypto_key import CryptoKey
from .dtls import PacketPeerDTLS
from .tls_options import TLSOptions
from .udp import PacketPeerUDP
from .x509 import X509Certificate

__all__ = ["DTLSServer"]


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
        the server is not set up or `udp_peer` is not connected."""
        udp_h = instance("take_connection", "udp_peer", udp_peer, PacketPeerUDP)
        peer = PacketPeerDTLS._wrap(lib.dtls_server_take_connection(self._handle(), udp_h))
        if peer is not None:
            peer._udp = udp_peer
        return peer

    def stop(self) -> Error:
        """Forgets the identity and cookie secret; take_connection fails until the next setup."""
        return to_error(lib.dtls_server_stop(self._handle()))

    def set_hibernate_after_ms(self, ms: int) -> Error:
        """Quiet milliseconds after which the peers this server makes from now on hibernate; 0 = never.
        Default 10000."""
        h = self._handle()
        value = c_u32("set_hibernate_after_ms", "ms", ms)
        if value is None:
            return Error.ERR_INVALID_PARAMETER
        return to_error(lib.dtls_server_set_hibernate_after_ms(h, value))
