# packetdtls — Godot Engine's DTLS networking API for Python, over libpacketdtls (pure ctypes).
"""Godot's PacketPeerUDP, UDPServer, PacketPeerDTLS, DTLSServer, TLSOptions, CryptoKey,
X509Certificate and Crypto, with Godot's names, parameters, defaults and Error numbers.

GDScript ports line by line: ``"text".to_utf8_buffer()`` becomes ``"text".encode()``,
``get_string_from_utf8()`` becomes ``.decode()``, and ``load("key.key")`` becomes
``packetdtls.load("key.key")``. Error codes are returned (``Error`` members), never raised;
wrong argument types raise TypeError and closed objects ValueError.

The library is found through $PACKETDTLS_LIBRARY, a copy inside this package, the repository's
build folders, then the system linker path (see ``packetdtls._library.candidates()``).
"""

from __future__ import annotations

import os
from typing import Union

from ._errors import ClientCertificateMode, Error, HashType, Status
from ._library import (
    MissingFunctionError,
    PacketDTLSLibraryNotFound,
    error_string,
    last_error_message,
    lib as _lib,
    library_path,
    missing_functions,
)
from .crypto import Crypto
from .crypto_key import CryptoKey
from .dtls import PacketPeerDTLS, PeerStats
from .dtls_server import DTLSServer, HandshakeLimits
from .tls_options import TLSOptions
from .session import DTLSSession
from .udp import PacketPeerUDP
from .udp_server import UDPServer
from .udp_stats import UDPStats
from .x509 import X509Certificate
from . import aio, variant
from .variant import bytes_to_var, var_to_bytes

__version__ = "0.1.0"

__all__ = [
    "ClientCertificateMode",
    "Crypto",
    "CryptoKey",
    "DTLSServer",
    "DTLSSession",
    "Error",
    "HandshakeLimits",
    "HashType",
    "MissingFunctionError",
    "PacketDTLSLibraryNotFound",
    "PacketPeerDTLS",
    "PacketPeerUDP",
    "PeerStats",
    "Status",
    "TLSOptions",
    "UDPServer",
    "UDPStats",
    "X509Certificate",
    "aio",
    "bytes_to_var",
    "var_to_bytes",
    "variant",
    "error_string",
    "last_error_message",
    "library_path",
    "load",
    "missing_functions",
    "status_string",
    "version_number",
    "version_string",
]


def version_number() -> int:
    """The loaded library's version as major * 10000 + minor * 100 + patch."""
    return int(_lib.dtls_version_number())


def version_string() -> str:
    """The loaded library's version and the mbedTLS it runs on."""
    return (_lib.dtls_version_string() or b"").decode()


def status_string(status: int) -> str:
    """Godot's name of a PacketPeerDTLS status ("STATUS_CONNECTED")."""
    if isinstance(status, bool) or not isinstance(status, int):
        raise TypeError(f"status_string() takes an int or Status, not {type(status).__name__}")
    if not -(2**31) <= status < 2**31:
        return "STATUS_UNKNOWN"
    return (_lib.dtls_status_string(status) or b"").decode()


def load(path: Union[str, "os.PathLike[str]"]) -> Union[CryptoKey, X509Certificate]:
    """Godot's ``load()`` for the two resource kinds this library reads, chosen by extension as
    Godot's resource loaders do: ``.key`` a CryptoKey, ``.pub`` a public-only CryptoKey, ``.crt``
    an X509Certificate. Unlike the methods, a failure raises (OSError, or ValueError for an
    unknown extension or a file that does not parse), as ``load`` returning null would in Godot
    only fail later."""
    text = os.fspath(path)
    extension = os.path.splitext(text)[1].lower()
    resource: Union[CryptoKey, X509Certificate]
    if extension in (".key", ".pub"):
        resource = CryptoKey()
        error = resource.load(path, extension == ".pub")
    elif extension == ".crt":
        resource = X509Certificate()
        error = resource.load(path)
    else:
        raise ValueError(f"load({text!r}): unknown extension; use .key, .pub or .crt (or CryptoKey().load)")
    if error != Error.OK:
        resource.release()
        if not os.path.exists(text):
            raise FileNotFoundError(2, "No such file or directory", text)
        raise ValueError(f"load({text!r}): {error_string(error)}: {last_error_message()}")
    return resource
