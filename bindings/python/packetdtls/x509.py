# packetdtls.x509 — X509Certificate over dtls_cert_*.
"""Godot's X509Certificate: one certificate or a chain."""

from __future__ import annotations

from ._common import HandleOwner, PathLike, c_path, c_str, read_binary, read_string
from ._errors import Error, to_error
from ._library import lib

__all__ = ["X509Certificate"]


class X509Certificate(HandleOwner):
    """A certificate or a chain of them (Godot's X509Certificate). Starts empty."""

    _free_name = "dtls_cert_free"

    def __init__(self) -> None:
        super().__init__(lib.dtls_cert_new())

    def load(self, path: PathLike) -> Error:
        """Loads a PEM or DER file holding one certificate or a chain. ERR_INVALID_PARAMETER when the
        file can't be opened, ERR_PARSE_ERROR when it does not parse (the object keeps what it had)."""
        return to_error(lib.dtls_cert_load(self._handle(), c_path("load", "path", path)))

    def save(self, path: PathLike) -> Error:
        """Writes every certificate of the chain, in order, as PEM."""
        return to_error(lib.dtls_cert_save(self._handle(), c_path("save", "path", path)))

    def load_from_string(self, string: str) -> Error:
        """As load() from a PEM string."""
        return to_error(lib.dtls_cert_load_from_string(self._handle(), c_str("load_from_string", "string", string)))

    def save_to_string(self) -> str:
        """The whole chain as PEM ("" when empty)."""
        return read_string(lib.dtls_cert_save_to_string, self._handle())

    # MARK: Beyond Godot

    def get_public_key_sha256(self) -> bytes:
        """SHA-256 of the leaf certificate's SubjectPublicKeyInfo (32 bytes): the value that
        TLSOptions.pin_public_key() compares. b"" for an empty certificate."""
        code, digest = read_binary(lib.dtls_cert_get_public_key_sha256, (self._handle(),), 32)
        return digest
