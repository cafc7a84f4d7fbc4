# packetdtls.crypto_key — CryptoKey over dtls_key_*.
"""Godot's CryptoKey: an RSA or EC key, private or public only."""

from __future__ import annotations

from ._common import HandleOwner, PathLike, c_bool, c_path, c_str, read_string
from ._errors import Error, to_error
from ._library import lib

__all__ = ["CryptoKey"]


class CryptoKey(HandleOwner):
    """A private key, or with public_only a public key (Godot's CryptoKey). Starts empty."""

    _free_name = "dtls_key_free"

    def __init__(self) -> None:
        super().__init__(lib.dtls_key_new())

    def load(self, path: PathLike, public_only: bool = False) -> Error:
        """Loads a PEM or DER key file. ERR_INVALID_PARAMETER when the file can't be opened (Godot's
        number), ERR_PARSE_ERROR when it does not parse; on failure the key keeps what it had."""
        return to_error(
            lib.dtls_key_load(self._handle(), c_path("load", "path", path), c_bool("load", "public_only", public_only))
        )

    def save(self, path: PathLike, public_only: bool = False) -> Error:
        """Writes the key as PEM (the private key, or with public_only the public key), mode 0600."""
        return to_error(
            lib.dtls_key_save(self._handle(), c_path("save", "path", path), c_bool("save", "public_only", public_only))
        )

    def load_from_string(self, string_key: str, public_only: bool = False) -> Error:
        """As load() from a PEM string."""
        return to_error(
            lib.dtls_key_load_from_string(
                self._handle(),
                c_str("load_from_string", "string_key", string_key),
                c_bool("load_from_string", "public_only", public_only),
            )
        )

    def save_to_string(self, public_only: bool = False) -> str:
        """The key as PEM ("" for an empty key)."""
        return read_string(
            lib.dtls_key_save_to_string, self._handle(), c_bool("save_to_string", "public_only", public_only)
        )

    def is_public_only(self) -> bool:
        return bool(lib.dtls_key_is_public_only(self._handle()))
