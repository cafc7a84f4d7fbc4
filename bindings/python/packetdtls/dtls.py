# packetdtls.dtls — PacketPeerDTLS over dtls_peer_*.
"""Godot's PacketPeerDTLS: one DTLS session over a connected PacketPeerUDP."""

from __future__ import annotations

import ctypes
import io
from typing import Any, NamedTuple, Optional, overload

from ._common import (
    HandleOwner,
    PacketBuffer,
    c_bool,
    c_data,
    c_str,
    c_u32,
    closed_error,
    instance,
    read_packet,
    read_string,
    type_error,
)
from ._errors import _ERRORS, _STATUSES, Error, Status, to_error
from ._library import dtls_peer_stats, hot, lib
from .session import DTLSSession
from .variant import VarPeer
from .tls_options import TLSOptions
from .udp import PacketPeerUDP
from .x509 import X509Certificate

__all__ = ["PacketPeerDTLS", "PeerStats"]


class PeerStats(NamedTuple):
    """Traffic and handshake figures of a peer's current (or last) session (``struct dtls_peer_stats``)."""

    packets_sent: int  #: application packets put
    packets_received: int  #: application packets decrypted
    bytes_sent: int  #: application payload bytes put
    bytes_received: int  #: application payload bytes decrypted
    datagrams_sent: int  #: datagrams sent, handshake included
    datagrams_received: int  #: datagrams taken in, handshake and garbage included
    records_dropped_bad_mac: int  #: records whose MAC did not verify (forged or corrupted)
    datagrams_oversized: int  #: datagrams too large for a record, discarded
    handshake_retransmissions: int  #: flights sent again after their timer ran out
    handshake_duration_ms: int  #: connect (or accept) to CONNECTED; 0 until then
    keepalives_sent: int  #: keepalive records sent (answers and refusal probes included)
    keepalives_received: int  #: keepalives received (duplicates of records already accepted)
    datagrams_dropped: int  #: dropped below DTLS: its UDPServer peer's queue stayed full
    hibernations: int  #: times the session hibernated after a quiet spell
    wakes: int  #: times a hibernated session woke again

# The per-packet calls: bound once, without argtypes (_library.hot); only the binding's own objects go in.
_poll = hot["dtls_peer_poll"]
_get_status = hot["dtls_peer_get_status"]
_put_packet = hot["dtls_peer_put_packet"]
_get_packet = hot["dtls_peer_get_packet"]
_get_available_packet_count = hot["dtls_peer_get_available_packet_count"]
_size_t = ctypes.c_size_t

_NAMES_3X = ("validate_certs", "for_hostname", "valid_certificate")
_NAMES_4X = ("hostname", "client_options")


class PacketPeerDTLS(VarPeer, HandleOwner):
    """A DTLS peer (Godot's PacketPeerDTLS): a client made with ``PacketPeerDTLS()`` and
    ``connect_to_peer``, or a server-side peer returned by ``DTLSServer.take_connection``.

    It keeps its PacketPeerUDP alive as long as it lives. ``close()`` releases the handle; the
    library sends close_notify when the session was connected and nothing else holds it.
    """

    _free_name = "dtls_peer_free"
    _var_prefix = "dtls_peer"

    Status = Status
    STATUS_DISCONNECTED = Status.STATUS_DISCONNECTED
    STATUS_HANDSHAKING = Status.STATUS_HANDSHAKING
    STATUS_CONNECTED = Status.STATUS_CONNECTED
    STATUS_ERROR = Status.STATUS_ERROR
    STATUS_ERROR_HOSTNAME_MISMATCH = Status.STATUS_ERROR_HOSTNAME_MISMATCH

    def __init__(self) -> None:
        super().__init__(lib.dtls_peer_new())
        self._after_wrap()

    def _after_wrap(self) -> None:
        self._packets = [PacketBuffer()]  # spare receive buffers (PacketBuffer)
        self._udp: Optional[PacketPeerUDP] = None  # the transport: a child keeps its parent alive

    # MARK: connect_to_peer, both generations in one method

    @overload
    def connect_to_peer(
        self,
        packet_peer: PacketPeerUDP,
        validate_certs: bool = True,
        for_hostname: str = "",
        valid_certificate: Optional[X509Certificate] = None,
    ) -> Error: ...

    @overload
    def connect_to_peer(
        self, packet_peer: PacketPeerUDP, hostname: str, client_options: Optional[TLSOptions] = None
    ) -> Error: ...

    def connect_to_peer(self, packet_peer: PacketPeerUDP, *args: Any, **kwargs: Any) -> Error:
        """Starts a client handshake over `packet_peer`, which must be connected (connect_to_host).

        Godot 3.x: ``connect_to_peer(packet_peer, validate_certs=True, for_hostname="",
        valid_certificate=None)`` -- chosen when the second argument is a bool, or by those keywords,
        or when only `packet_peer` is given.

        Godot 4.x: ``connect_to_peer(packet_peer, hostname, client_options=None)`` -- chosen when the
        second argument is a str, or by those keywords. None options are ``TLSOptions.client()``.
        """
        h = self._handle()
        udp_h = instance("connect_to_peer", "packet_peer", packet_peer, PacketPeerUDP)
        generation = _generation(args, kwargs)
        if generation == 4:
            hostname, options = _bind_arguments(args, kwargs, _NAMES_4X, (None, None))
            if hostname is None:
                raise TypeError("connect_to_peer() missing required argument: 'hostname'")
            code = lib.dtls_peer_connect_to_peer_with_options(
                h,
                udp_h,
                c_str("connect_to_peer", "hostname", hostname),
                instance("connect_to_peer", "client_options", options, TLSOptions, allow_none=True),
            )
        else:
            validate, for_hostname, certificate = _bind_arguments(args, kwargs, _NAMES_3X, (True, "", None))
            code = lib.dtls_peer_connect_to_peer(
                h,
                udp_h,
                c_bool("connect_to_peer", "validate_certs", validate),
                c_str("connect_to_peer", "for_hostname", for_hostname),
                instance("connect_to_peer", "valid_certificate", certificate, X509Certificate, allow_none=True),
            )
        if code == Error.OK:
            self._udp = packet_peer
        return to_error(code)

    # MARK: Session

    def poll(self) -> Error:
        """Reads what arrived, advances the handshake, queues decrypted packets. Call it often."""
        h = self._h
        if h is None:
            raise closed_error(self)
        code = _poll(h)
        try:  # to_error() inline: this is the per-packet path
            return _ERRORS[code]
        except IndexError:
            return code

    def fileno(self) -> int:
        """Beyond Godot: the descriptor of the UDP peer this session runs over (its ``fileno()``), for
        ``selectors`` or asyncio: when it is readable, call poll(). A handshake also needs poll() when
        nothing arrives (retransmission), so wake at least every 100 ms while handshaking.
        io.UnsupportedOperation (an OSError and a ValueError) before connect_to_peer / take_connection,
        or once the transport is gone."""
        self._handle()
        udp = self._udp
        if udp is None or udp.closed:
            raise io.UnsupportedOperation("PacketPeerDTLS.fileno: no UDP peer under this session yet")
        return udp.fileno()

    def get_status(self) -> Status:
        h = self._h
        if h is None:
            raise closed_error(self)
        code = _get_status(h)
        try:
            return _STATUSES[code]
        except IndexError:
            return code

    def disconnect_from_peer(self) -> Error:
        """Sends close_notify (once, without waiting) and becomes STATUS_DISCONNECTED."""
        return to_error(lib.dtls_peer_disconnect_from_peer(self._handle()))

    # MARK: PacketPeer

    def put_packet(self, buffer: bytes) -> Error:
        """Encrypts and sends one packet (any bytes-like object; bytes pass without a copy)."""
        h = self._h
        if h is None:
            raise closed_error(self)
        if type(buffer) is bytes:
            code = _put_packet(h, buffer, _size_t(len(buffer)))
        else:
            data, size, keep = c_data("put_packet", "buffer", buffer)
            code = _put_packet(h, data, _size_t(size))
        try:
            return _ERRORS[code]
        except IndexError:
            return code

    def get_packet(self) -> bytes:
        """The next decrypted packet, or b"" (then get_packet_error() says why)."""
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
        return to_error(lib.dtls_peer_get_packet_error(self._handle()))

    # MARK: Beyond Godot

    def get_error_message(self) -> str:
        """Why the peer ended in an error status ("" otherwise): the reason, verification flags, alert."""
        return read_string(lib.dtls_peer_get_error_message, self._handle())

    def get_cipher_suite(self) -> str:
        """The negotiated cipher suite's name once connected ("" before)."""
        return read_string(lib.dtls_peer_get_ciphersuite, self._handle())

    def get_max_packet_size(self) -> int:
        """The largest packet put_packet accepts now (0 when not connected)."""
        return int(lib.dtls_peer_get_max_packet_size(self._handle()))

    # MARK: Beyond Godot: resumption, ALPN, the peer's certificate, alerts, figures

    def get_session(self) -> Optional[DTLSSession]:
        """The session of a CONNECTED client, to resume later with set_session(); None otherwise."""
        return DTLSSession._wrap(lib.dtls_peer_get_session(self._handle()))

    def set_session(self, session: Optional[DTLSSession]) -> Error:
        """Offers `session` (None = none) on this peer's next connect_to_peer."""
        h = self._handle()
        return to_error(lib.dtls_peer_set_session(h, instance("set_session", "session", session, DTLSSession, True)))

    def is_session_resumed(self) -> bool:
        """True when the last handshake resumed a saved session (an abbreviated handshake)."""
        return bool(lib.dtls_peer_is_session_resumed(self._handle()))

    def set_hibernate_after_ms(self, ms: int) -> Error:
        """Quiet milliseconds after which the session hibernates (frees its mbedTLS context, keeps
        a few hundred saved bytes) until the next datagram, put or disconnect; 0 = never. Default 10000."""
        h = self._handle()
        value = c_u32("set_hibernate_after_ms", "ms", ms)
        if value is None:
            return Error.ERR_INVALID_PARAMETER
        return to_error(lib.dtls_peer_set_hibernate_after_ms(h, value))

    def is_hibernated(self) -> bool:
        """True while the session is hibernated."""
        return bool(lib.dtls_peer_is_hibernated(self._handle()))

    def get_alpn_protocol(self) -> str:
        """The ALPN protocol both ends agreed on ("" when none)."""
        return read_string(lib.dtls_peer_get_alpn_protocol, self._handle())

    def get_peer_certificate(self) -> Optional[X509Certificate]:
        """The peer's certificate chain while CONNECTED; None when it sent none (PSK, a resumed
        session, a client without a certificate)."""
        return X509Certificate._wrap(lib.dtls_peer_get_peer_certificate(self._handle()))

    def get_verify_flags(self) -> int:
        """mbedTLS's verification flags (MBEDTLS_X509_BADCERT_*) for the peer's certificate; 0 when
        it verified or was not checked."""
        return int(lib.dtls_peer_get_verify_flags(self._handle()))

    def get_verify_text(self) -> str:
        """The verification flags as sentences separated by "; " ("" when none)."""
        return read_string(lib.dtls_peer_get_verify_text, self._handle())

    def get_last_alert(self) -> int:
        """The description number (RFC 5246) of the last fatal alert the peer sent; -1 when none."""
        return int(lib.dtls_peer_get_last_alert(self._handle()))

    def set_keepalive_ms(self, interval_ms: int) -> Error:
        """Beyond Godot: sends a keepalive (this end's Finished record again: a duplicate the other end drops
        silently, hearing a live peer, and never surfaces as a packet) whenever nothing was sent for
        `interval_ms`; 0 turns it off. Applies to the
        running session and later ones, whatever the options say (``TLSOptions.set_keepalive_ms``)."""
        h = self._handle()
        value = c_u32("set_keepalive_ms", "interval_ms", interval_ms)
        if value is None:
            return Error.ERR_INVALID_PARAMETER
        return to_error(lib.dtls_peer_set_keepalive_ms(h, value))

    def get_stats(self) -> PeerStats:
        """Traffic and handshake figures of the current (or last) session."""
        h = self._handle()
        stats = dtls_peer_stats()
        code = lib.dtls_peer_get_stats(h, ctypes.byref(stats), ctypes.sizeof(stats))
        if code != Error.OK:
            return PeerStats(*([0] * len(PeerStats._fields)))
        return PeerStats(*(int(getattr(stats, name)) for name in PeerStats._fields))

    def release(self) -> None:
        HandleOwner.release(self)
        self._udp = None


def _generation(args: tuple, kwargs: dict) -> int:
    """3 or 4: which connect_to_peer the arguments spell."""
    named_3x = [name for name in kwargs if name in _NAMES_3X]
    named_4x = [name for name in kwargs if name in _NAMES_4X]
    unknown = [name for name in kwargs if name not in _NAMES_3X and name not in _NAMES_4X]
    if unknown:
        raise TypeError(f"connect_to_peer() got an unexpected keyword argument '{unknown[0]}'")
    if named_3x and named_4x:
        raise TypeError(
            f"connect_to_peer() mixes Godot 3.x ({', '.join(named_3x)}) and 4.x ({', '.join(named_4x)}) arguments"
        )
    if args:
        first = args[0]
        if isinstance(first, bool):
            generation = 3
        elif isinstance(first, str):
            generation = 4
        else:
            raise type_error("connect_to_peer", "validate_certs/hostname", "bool (3.x) or str (4.x)", first)
        if (generation == 3 and named_4x) or (generation == 4 and named_3x):
            raise TypeError("connect_to_peer() mixes Godot 3.x and 4.x arguments")
        return generation
    return 4 if named_4x else 3


def _bind_arguments(args: tuple, kwargs: dict, names: tuple, defaults: tuple) -> list:
    if len(args) > len(names):
        raise TypeError(f"connect_to_peer() takes at most {len(names) + 1} arguments ({len(args) + 1} given)")
    values = list(defaults)
    for index, value in enumerate(args):
        values[index] = value
    for index, name in enumerate(names):
        if name in kwargs:
            if index < len(args):
                raise TypeError(f"connect_to_peer() got multiple values for argument '{name}'")
            values[index] = kwargs[name]
    return values
