# packetdtls.crypto — Crypto over dtls_crypto_*.
"""Godot's Crypto: random bytes, key and certificate generation, sign/verify, RSA, HMAC."""

from __future__ import annotations

import ctypes
from typing import Optional

from ._common import c_data, c_int, c_int_unbounded, c_str, instance, read_binary
from ._errors import Error, HashType
from ._library import lib, set_binding_error
from .crypto_key import CryptoKey
from .x509 import X509Certificate

__all__ = ["Crypto", "HashType"]

_SIGNATURE_CAP = 1024  # an RSA-8192 signature or ciphertext; EC signatures are far smaller
_DIGEST_CAP = 64


class Crypto:
    """Godot's Crypto. It holds no C state: the methods call the library's free functions, and
    ``close()`` only marks the object closed. Failures follow Godot: empty bytes or None, with the
    reason in ``packetdtls.last_error_message()``."""

    HashType = HashType
    HASH_MD5 = HashType.HASH_MD5
    HASH_SHA1 = HashType.HASH_SHA1
    HASH_SHA256 = HashType.HASH_SHA256

    def __init__(self) -> None:
        self._closed = False

    # MARK: Lifetime

    @property
    def closed(self) -> bool:
        return self._closed

    def _check(self) -> None:
        if self._closed:
            raise ValueError("I/O operation on a closed Crypto")

    def release(self) -> None:
        self._closed = True

    def close(self) -> None:
        self._closed = True

    def __enter__(self) -> "Crypto":
        self._check()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<packetdtls.Crypto{' closed' if self._closed else ''}>"

    # MARK: Godot's methods

    def generate_random_bytes(self, size: int) -> bytes:
        """`size` cryptographically secure random bytes (b"" for a negative size)."""
        self._check()
        count = c_int_unbounded("generate_random_bytes", "size", size)
        if count < 0:
            set_binding_error(f"generate_random_bytes: size {count} is negative")
            return b""
        buf = ctypes.create_string_buffer(count)
        if lib.dtls_crypto_generate_random_bytes(buf, count) != Error.OK:
            return b""
        return buf.raw

    def generate_rsa(self, size: int) -> Optional[CryptoKey]:
        """A new RSA private key of `size` bits (1024..8192, e = 65537), or None."""
        self._check()
        return CryptoKey._wrap(lib.dtls_crypto_generate_rsa(c_int("generate_rsa", "size", size)))

    def generate_ec_p256(self) -> Optional[CryptoKey]:
        """Beyond Godot: a new EC P-256 private key, the fast choice for DTLS handshakes."""
        self._check()
        return CryptoKey._wrap(lib.dtls_crypto_generate_ec_p256())

    def generate_self_signed_certificate(
        self,
        key: CryptoKey,
        issuer_name: str = "CN=myserver,O=myorganisation,C=IT",
        not_before: str = "20140101000000",
        not_after: str = "20340101000000",
    ) -> Optional[X509Certificate]:
        """A self-signed certificate for `key` (a private key), valid between the two UTC times
        (YYYYMMDDhhmmss), or None."""
        self._check()
        name = "generate_self_signed_certificate"
        key_h = instance(name, "key", key, CryptoKey)
        return X509Certificate._wrap(
            lib.dtls_crypto_generate_self_signed_certificate(
                key_h,
                c_str(name, "issuer_name", issuer_name),
                c_str(name, "not_before", not_before),
                c_str(name, "not_after", not_after),
            )
        )

    def sign(self, hash_type: int, hash: bytes, key: CryptoKey) -> bytes:
        """Signs the digest `hash` (of type `hash_type`) with the private `key`; b"" on failure."""
        self._check()
        kind = c_int("sign", "hash_type", hash_type)
        data, size, keep = c_data("sign", "hash", hash)
        key_h = instance("sign", "key", key, CryptoKey)
        return read_binary(lib.dtls_crypto_sign, (kind, data, size, key_h), _SIGNATURE_CAP)[1]

    def verify(self, hash_type: int, hash: bytes, signature: bytes, key: CryptoKey) -> bool:
        """True when `signature` over the digest `hash` verifies with `key`."""
        self._check()
        kind = c_int("verify", "hash_type", hash_type)
        data, size, keep = c_data("verify", "hash", hash)
        sig, sig_size, keep_sig = c_data("verify", "signature", signature)
        key_h = instance("verify", "key", key, CryptoKey)
        return bool(lib.dtls_crypto_verify(kind, data, size, sig, sig_size, key_h))

    def encrypt(self, key: CryptoKey, plaintext: bytes) -> bytes:
        """RSA-encrypts `plaintext` with (the public part of) `key`, PKCS#1 v1.5; b"" on failure."""
        self._check()
        key_h = instance("encrypt", "key", key, CryptoKey)
        data, size, keep = c_data("encrypt", "plaintext", plaintext)
        return read_binary(lib.dtls_crypto_encrypt, (key_h, data, size), _SIGNATURE_CAP)[1]

    def decrypt(self, key: CryptoKey, ciphertext: bytes) -> bytes:
        """RSA-decrypts `ciphertext` with the private `key`; b"" on failure."""
        self._check()
        key_h = instance("decrypt", "key", key, CryptoKey)
        data, size, keep = c_data("decrypt", "ciphertext", ciphertext)
        return read_binary(lib.dtls_crypto_decrypt, (key_h, data, size), _SIGNATURE_CAP)[1]

    def hmac_digest(self, hash_type: int, key: bytes, msg: bytes) -> bytes:
        """The HMAC of `msg` under the secret `key` (bytes) with `hash_type`; b"" on failure."""
        self._check()
        kind = c_int("hmac_digest", "hash_type", hash_type)
        key_data, key_size, keep_key = c_data("hmac_digest", "key", key)
        data, size, keep = c_data("hmac_digest", "msg", msg)
        return read_binary(lib.dtls_crypto_hmac_digest, (kind, key_data, key_size, data, size), _DIGEST_CAP)[1]

    def constant_time_compare(self, trusted: bytes, received: bytes) -> bool:
        """Compares in time that depends on the length only; False when the lengths differ."""
        self._check()
        a, a_size, keep_a = c_data("constant_time_compare", "trusted", trusted)
        b, b_size, keep_b = c_data("constant_time_compare", "received", received)
        return bool(lib.dtls_crypto_constant_time_compare(a, a_size, b, b_size))
