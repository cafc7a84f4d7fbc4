# packetdtls.tls_options — TLSOptions over dtls_options_*.
"""Godot 4's TLSOptions: client or server configuration, made by static methods."""

from __future__ import annotations

import ctypes
from typing import Optional, Sequence

from ._common import (
    HandleOwner,
    PathLike,
    c_bool,
    c_data,
    c_int,
    c_path,
    c_str,
    c_u32,
    instance,
    read_string,
    type_error,
)
from ._errors import ClientCertificateMode, Error, to_error
from ._library import last_error_message, lib
from .crypto_key import CryptoKey
from .x509 import X509Certificate

__all__ = ["TLSOptions", "ClientCertificateMode"]


class TLSOptions(HandleOwner):
    """TLS/DTLS options (Godot's TLSOptions). ``TLSOptions()`` is the same as ``TLSOptions.client()``:
    verify the server against the system CA bundle. Use the static methods as in Godot."""

    _free_name = "dtls_options_free"

    ClientCertificateMode = ClientCertificateMode

    def __init__(self) -> None:
        super().__init__(lib.dtls_options_new())

    # MARK: Godot's static constructors

    @staticmethod
    def client(trusted_chain: Optional[X509Certificate] = None, common_name_override: str = "") -> "TLSOptions":
        """Client options that verify the server's chain against `trusted_chain` (None = the system CA
        bundle) and its name against the hostname, or `common_name_override` when not empty."""
        chain = instance("client", "trusted_chain", trusted_chain, X509Certificate, allow_none=True)
        override = c_str("client", "common_name_override", common_name_override)
        return _made("client", lib.dtls_options_client(chain, override))

    @staticmethod
    def client_unsafe(trusted_chain: Optional[X509Certificate] = None) -> "TLSOptions":
        """Client options that do not check the server's name; without `trusted_chain` nothing is
        verified at all (an explicit opt-out, for tests and pinned set-ups)."""
        chain = instance("client_unsafe", "trusted_chain", trusted_chain, X509Certificate, allow_none=True)
        return _made("client_unsafe", lib.dtls_options_client_unsafe(chain))

    @staticmethod
    def server(key: CryptoKey, certificate: X509Certificate) -> "TLSOptions":
        """Server options with a private key and its certificate (chain). ValueError with the
        library's reason when it refuses them (an empty or public-only key, an empty certificate, a
        key that does not belong to the certificate)."""
        key_h = instance("server", "key", key, CryptoKey)
        cert_h = instance("server", "certificate", certificate, X509Certificate)
        return _made("server", lib.dtls_options_server(key_h, cert_h))

    # MARK: Getters

    def is_server(self) -> bool:
        return bool(lib.dtls_options_is_server(self._handle()))

    def is_unsafe_client(self) -> bool:
        return bool(lib.dtls_options_is_unsafe_client(self._handle()))

    def get_common_name_override(self) -> str:
        return read_string(lib.dtls_options_get_common_name_override, self._handle())

    def get_trusted_ca_chain(self) -> Optional[X509Certificate]:
        """A new reference to the trusted chain, or None."""
        return X509Certificate._wrap(lib.dtls_options_get_trusted_ca_chain(self._handle()))

    def get_private_key(self) -> Optional[CryptoKey]:
        """A new reference to the server's private key, or None."""
        return CryptoKey._wrap(lib.dtls_options_get_private_key(self._handle()))

    def get_own_certificate(self) -> Optional[X509Certificate]:
        """A new reference to the server's certificate, or None."""
        return X509Certificate._wrap(lib.dtls_options_get_own_certificate(self._handle()))

    # MARK: Beyond Godot

    def set_handshake_timeout(self, min_ms: int, max_ms: int) -> Error:
        """Handshake retransmission: first wait `min_ms`, doubling up to `max_ms`, then the handshake
        fails (defaults 1000 and 60000). ERR_INVALID_PARAMETER unless 1 <= min_ms <= max_ms."""
        h = self._handle()
        low = c_u32("set_handshake_timeout", "min_ms", min_ms)
        high = c_u32("set_handshake_timeout", "max_ms", max_ms)
        if low is None or high is None:
            return Error.ERR_INVALID_PARAMETER
        return to_error(lib.dtls_options_set_handshake_timeout(h, low, high))

    def set_idle_timeout(self, timeout_ms: int) -> Error:
        """A connected peer that receives nothing for `timeout_ms` ends in STATUS_ERROR, telling the other
        end, which becomes STATUS_DISCONNECTED ("closed for inactivity"). 0 = never; default 300000."""
        h = self._handle()
        value = c_u32("set_idle_timeout", "timeout_ms", timeout_ms)
        if value is None:
            return Error.ERR_INVALID_PARAMETER
        return to_error(lib.dtls_options_set_idle_timeout(h, value))

    def set_keepalive_ms(self, interval_ms: int) -> Error:
        """Beyond Godot: peers set up with these options (a client, or every peer a DTLSServer makes) send a
        keepalive whenever nothing was sent for `interval_ms` (0 = off, the default)."""
        h = self._handle()
        value = c_u32("set_keepalive_ms", "interval_ms", interval_ms)
        if value is None:
            return Error.ERR_INVALID_PARAMETER
        return to_error(lib.dtls_options_set_keepalive_ms(h, value))

    def set_mtu(self, mtu: int) -> Error:
        """The largest datagram the handshake sends (default 1400; 0 = no limit; else 256..16384)."""
        h = self._handle()
        value = c_u32("set_mtu", "mtu", mtu)
        if value is None:
            return Error.ERR_INVALID_PARAMETER
        return to_error(lib.dtls_options_set_mtu(h, value))

    # MARK: Beyond Godot: pre-shared keys

    @staticmethod
    def client_psk(identity: str, key: bytes) -> "TLSOptions":
        """Client options that authenticate with a pre-shared key instead of certificates (ECDHE-PSK
        and PSK suites, AEAD only). `identity` 1..128 bytes of UTF-8, `key` 1..32 bytes (mbedTLS's
        limit). ValueError with the library's reason when it refuses them."""
        name = c_str("client_psk", "identity", identity)
        data, size, keep = c_data("client_psk", "key", key)
        return _made("client_psk", lib.dtls_options_client_psk(name, data, size))

    @staticmethod
    def server_psk() -> "TLSOptions":
        """Server options for PSK clients only (no certificate); add identities with add_psk()."""
        return _made("server_psk", lib.dtls_options_server_psk())

    def add_psk(self, identity: str, key: bytes) -> Error:
        """Lets a server accept `identity` with `key`; on certificate server options it adds the PSK
        suites too. ERR_INVALID_PARAMETER on client options or a bad identity or key."""
        h = self._handle()
        name = c_str("add_psk", "identity", identity)
        data, size, keep = c_data("add_psk", "key", key)
        return to_error(lib.dtls_options_add_psk(h, name, data, size))

    # MARK: Beyond Godot: ALPN, pinning, client certificates

    def set_alpn_protocols(self, protocols: Sequence[str]) -> Error:
        """ALPN protocols a client offers or a server accepts, in order of preference (each 1..255
        bytes, at most 16; an empty list turns ALPN off)."""
        return self._call_with_names(lib.dtls_options_set_alpn_protocols, "set_alpn_protocols", "protocols",
                                     protocols)

    def set_cipher_suites(self, names: Sequence[str]) -> Error:
        """Narrows or reorders the cipher suites by IANA name (only PacketDTLS's AEAD suites are
        accepted: the defaults, and the AES-CCM ones constrained devices and CoAP use, e.g.
        "TLS_PSK_WITH_AES_128_CCM_8", which are offered only when named here; an empty list
        restores the default order)."""
        return self._call_with_names(lib.dtls_options_set_cipher_suites, "set_cipher_suites", "names", names)

    def _call_with_names(self, function, method: str, parameter: str, names: Sequence[str]) -> Error:
        """Calls a C function taking (options, const char *const *names, size_t count)."""
        h = self._handle()
        if isinstance(names, (str, bytes)) or not isinstance(names, (list, tuple)):
            raise type_error(method, parameter, "a list of str", names)
        encoded = [c_str(method, parameter + "[]", name) for name in names]
        array = (ctypes.c_char_p * max(len(encoded), 1))(*encoded)
        return to_error(function(h, array, len(encoded)))

    def pin_public_key(self, sha256: bytes) -> Error:
        """Accepts the server only if the SHA-256 of its SubjectPublicKeyInfo (32 bytes, as
        X509Certificate.get_public_key_sha256() gives) is one of the pins. With a trusted chain both
        must hold; on client_unsafe() without a chain the pin alone admits the server."""
        h = self._handle()
        data, size, keep = c_data("pin_public_key", "sha256", sha256)
        return to_error(lib.dtls_options_pin_public_key(h, data, size))

    def pin_certificate(self, certificate: X509Certificate) -> Error:
        """Pins the public key of the leaf of `certificate`."""
        h = self._handle()
        cert_h = instance("pin_certificate", "certificate", certificate, X509Certificate)
        return to_error(lib.dtls_options_pin_certificate(h, cert_h))

    def set_client_certificate(self, key: CryptoKey, certificate: X509Certificate) -> Error:
        """The key and certificate (chain) a client presents when the server asks. Client options only."""
        h = self._handle()
        key_h = instance("set_client_certificate", "key", key, CryptoKey)
        cert_h = instance("set_client_certificate", "certificate", certificate, X509Certificate)
        return to_error(lib.dtls_options_set_client_certificate(h, key_h, cert_h))

    def set_client_certificate_mode(
        self, mode: ClientCertificateMode, authorities: Optional[X509Certificate] = None
    ) -> Error:
        """Makes a server request (REQUEST) or require (REQUIRE) client certificates issued by
        `authorities` (needed unless mode is NONE). Server options only."""
        h = self._handle()
        number = c_int("set_client_certificate_mode", "mode", mode)
        chain = instance("set_client_certificate_mode", "authorities", authorities, X509Certificate, allow_none=True)
        return to_error(lib.dtls_options_set_client_certificate_mode(h, number, chain))

    # MARK: Beyond Godot: revocation, tickets, key log

    def load_crl(self, path: PathLike) -> Error:
        """Checks peer certificates against the CRLs in a PEM or DER file (a revoked peer fails the
        handshake). ERR_PARSE_ERROR when no CRL parses."""
        h = self._handle()
        return to_error(lib.dtls_options_load_crl(h, c_path("load_crl", "path", path)))

    def load_crl_from_string(self, pem: str) -> Error:
        """As load_crl() from PEM text."""
        h = self._handle()
        return to_error(lib.dtls_options_load_crl_from_string(h, c_str("load_crl_from_string", "pem", pem)))

    def set_session_tickets(self, enabled: bool) -> Error:
        """Whether a server issues session tickets so clients can resume (default on; the ticket
        keys rotate daily)."""
        h = self._handle()
        return to_error(lib.dtls_options_set_session_tickets(h, c_bool("set_session_tickets", "enabled", enabled)))

    def set_extended_master_secret_required(self, required: bool) -> Error:
        """Whether handshakes must agree on the extended master secret (RFC 7627); True by default
        on both sides. False admits old peers without it (weaker: no triple-handshake protection)."""
        h = self._handle()
        flag = c_bool("set_extended_master_secret_required", "required", required)
        return to_error(lib.dtls_options_set_extended_master_secret_required(h, flag))

    def set_key_log_file(self, path: Optional[PathLike]) -> Error:
        """Appends each session's secrets to `path` in the NSS key log format (SSLKEYLOGFILE), so
        Wireshark or tshark can decrypt a capture; None or "" turns it off. Opened once, here: created
        mode 0600, and refused (FILE_CANT_OPEN / FILE_NO_PERMISSION, the log stays off) when it can't
        be appended to, is a symlink, or exists readable by others or owned by another user."""
        h = self._handle()
        encoded = None if path is None else c_path("set_key_log_file", "path", path)
        return to_error(lib.dtls_options_set_key_log_file(h, encoded))


def _made(factory: str, handle) -> TLSOptions:
    """The options a C factory made, or ValueError with the library's reason when it returned NULL:
    a NULL means the library refused the arguments (TypeError was raised before C for a wrong type),
    and the caller must learn why at once rather than from a None failing later."""
    options = TLSOptions._wrap(handle)
    if options is None:
        raise ValueError(f"TLSOptions.{factory}: {last_error_message() or 'the library refused the arguments'}")
    return options
