# packetdtls.tls_options — TLSOptions over dtls_options_*.
"""Godot 4's TLSOptions: client or server configuration, made by static methods."""

from __future__ import annotations

from typing import Optional

from ._common import HandleOwner, c_str, c_u32, instance, read_string
from ._errors import Error, to_error
from ._library import lib
from .crypto_key import CryptoKey
from .x509 import X509Certificate

__all__ = ["TLSOptions"]


class TLSOptions(HandleOwner):
    """TLS/DTLS options (Godot's TLSOptions). ``TLSOptions()`` is the same as ``TLSOptions.client()``:
    verify the server against the system CA bundle. Use the static methods as in Godot."""

    _free_name = "dtls_options_free"

    def __init__(self) -> None:
        super().__init__(lib.dtls_options_new())

    # MARK: Godot's static constructors

    @staticmethod
    def client(trusted_chain: Optional[X509Certificate] = None, common_name_override: str = "") -> "TLSOptions":
        """Client options that verify the server's chain against `trusted_chain` (None = the system CA
        bundle) and its name against the hostname, or `common_name_override` when not empty."""
        chain = instance("client", "trusted_chain", trusted_chain, X509Certificate, allow_none=True)
        override = c_str("client", "common_name_override", common_name_override)
        options = TLSOptions._wrap(lib.dtls_options_client(chain, override))
        if options is None:
            raise MemoryError("the library could not create TLSOptions")
        return options

    @staticmethod
    def client_unsafe(trusted_chain: Optional[X509Certificate] = None) -> "TLSOptions":
        """Client options that do not check the server's name; without `trusted_chain` nothing is
        verified at all (an explicit opt-out, for tests and pinned set-ups)."""
        chain = instance("client_unsafe", "trusted_chain", trusted_chain, X509Certificate, allow_none=True)
        options = TLSOptions._wrap(lib.dtls_options_client_unsafe(chain))
        if options is None:
            raise MemoryError("the library could not create TLSOptions")
        return options

    @staticmethod
    def server(key: CryptoKey, certificate: X509Certificate) -> Optional["TLSOptions"]:
        """Server options with a private key and its certificate (chain). None when the library
        refuses them (an empty key or certificate; see last_error_message())."""
        key_h = instance("server", "key", key, CryptoKey)
        cert_h = instance("server", "certificate", certificate, X509Certificate)
        return TLSOptions._wrap(lib.dtls_options_server(key_h, cert_h))

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
        """A connected peer that receives nothing for `timeout_ms` ends in STATUS_ERROR (0 = never;
        default 120000)."""
        h = self._handle()
        value = c_u32("set_idle_timeout", "timeout_ms", timeout_ms)
        if value is None:
            return Error.ERR_INVALID_PARAMETER
        return to_error(lib.dtls_options_set_idle_timeout(h, value))

    def set_mtu(self, mtu: int) -> Error:
        """The largest datagram the handshake sends (default 1400; 0 = no limit; else 256..16384)."""
        h = self._handle()
        value = c_u32("set_mtu", "mtu", mtu)
        if value is None:
            return Error.ERR_INVALID_PARAMETER
        return to_error(lib.dtls_options_set_mtu(h, value))
