# packetdtls._errors — Godot's @GlobalScope Error, and the small enums next to it.
#
# Every number here is Godot's and the C header's (include/packetdtls.h); the table below is
# the one place Python spells them. The library's own names (dtls_error_string) are checked
# against it by the test suite.
"""Godot's ``Error``, ``PacketPeerDTLS.Status`` and ``Crypto.HashType`` as ``IntEnum``s."""

from __future__ import annotations

from enum import IntEnum
from typing import Tuple

__all__ = ["Error", "Status", "HashType", "ClientCertificateMode"]

#: Godot's Error names in number order: ``_ERROR_NAMES[n]`` is the name of error ``n``.
#: Append-only, as in the C header: a number never changes meaning.
_ERROR_NAMES: Tuple[str, ...] = (
    "OK",  # 0
    "FAILED",
    "ERR_UNAVAILABLE",
    "ERR_UNCONFIGURED",
    "ERR_UNAUTHORIZED",
    "ERR_PARAMETER_RANGE_ERROR",  # 5
    "ERR_OUT_OF_MEMORY",
    "ERR_FILE_NOT_FOUND",
    "ERR_FILE_BAD_DRIVE",
    "ERR_FILE_BAD_PATH",
    "ERR_FILE_NO_PERMISSION",  # 10
    "ERR_FILE_ALREADY_IN_USE",
    "ERR_FILE_CANT_OPEN",
    "ERR_FILE_CANT_WRITE",
    "ERR_FILE_CANT_READ",
    "ERR_FILE_UNRECOGNIZED",  # 15
    "ERR_FILE_CORRUPT",
    "ERR_FILE_MISSING_DEPENDENCIES",
    "ERR_FILE_EOF",
    "ERR_CANT_OPEN",
    "ERR_CANT_CREATE",  # 20
    "ERR_QUERY_FAILED",
    "ERR_ALREADY_IN_USE",
    "ERR_LOCKED",
    "ERR_TIMEOUT",
    "ERR_CANT_CONNECT",  # 25
    "ERR_CANT_RESOLVE",
    "ERR_CONNECTION_ERROR",
    "ERR_CANT_ACQUIRE_RESOURCE",
    "ERR_CANT_FORK",
    "ERR_INVALID_DATA",  # 30
    "ERR_INVALID_PARAMETER",
    "ERR_ALREADY_EXISTS",
    "ERR_DOES_NOT_EXIST",
    "ERR_DATABASE_CANT_READ",
    "ERR_DATABASE_CANT_WRITE",  # 35
    "ERR_COMPILATION_FAILED",
    "ERR_METHOD_NOT_FOUND",
    "ERR_LINK_FAILED",
    "ERR_SCRIPT_FAILED",
    "ERR_CYCLIC_LINK",  # 40
    "ERR_INVALID_DECLARATION",
    "ERR_DUPLICATE_SYMBOL",
    "ERR_PARSE_ERROR",
    "ERR_BUSY",
    "ERR_SKIP",  # 45
    "ERR_HELP",
    "ERR_BUG",
    "ERR_PRINTER_ON_FIRE",  # 48
)


class _GodotIntEnum(IntEnum):
    """An IntEnum whose str() is its Godot name, so ``print(err)`` reads like Godot's output."""

    def __str__(self) -> str:
        return self.name


# Generated from the table: the members are exactly _ERROR_NAMES, numbered by position.
Error = _GodotIntEnum(  # type: ignore[misc]
    "Error",
    [(name, number) for number, name in enumerate(_ERROR_NAMES)],
    module=__name__,
    qualname="Error",
)
Error.__doc__ = "Godot's @GlobalScope Error: ``Error.OK`` (0) ... ``Error.ERR_PRINTER_ON_FIRE`` (48)."

Status = _GodotIntEnum(  # type: ignore[misc]
    "Status",
    [
        ("STATUS_DISCONNECTED", 0),
        ("STATUS_HANDSHAKING", 1),
        ("STATUS_CONNECTED", 2),
        ("STATUS_ERROR", 3),
        ("STATUS_ERROR_HOSTNAME_MISMATCH", 4),
    ],
    module="packetdtls.dtls",
    qualname="PacketPeerDTLS.Status",
)
Status.__doc__ = "PacketPeerDTLS.Status with Godot's names and numbers."

HashType = _GodotIntEnum(  # type: ignore[misc]
    "HashType",
    [("HASH_MD5", 0), ("HASH_SHA1", 1), ("HASH_SHA256", 2)],
    module="packetdtls.crypto",
    qualname="Crypto.HashType",
)
HashType.__doc__ = "Crypto.HashType with Godot's numbers."

ClientCertificateMode = _GodotIntEnum(  # type: ignore[misc]
    "ClientCertificateMode",
    [("NONE", 0), ("REQUEST", 1), ("REQUIRE", 2)],
    module="packetdtls.tls_options",
    qualname="ClientCertificateMode",
)
ClientCertificateMode.__doc__ = (
    "How a server asks clients for certificates (beyond Godot; the header's dtls_client_cert_mode): "
    "NONE asks for none, REQUEST asks but lets clients without one in, REQUIRE insists on a valid one."
)

# Fast number -> member lookups for the per-packet paths (a tuple index beats Error(n)).
_ERRORS: Tuple[Error, ...] = tuple(Error)  # type: ignore[valid-type]
_STATUSES: Tuple[Status, ...] = tuple(Status)  # type: ignore[valid-type]


def to_error(code: int) -> "Error":  # type: ignore[valid-type]
    """The Error member for a number from C; a number this package does not know stays an int."""
    try:
        return _ERRORS[code]
    except IndexError:
        return code  # type: ignore[return-value]  # a newer library's error; the enum is append-only


def to_status(code: int) -> "Status":  # type: ignore[valid-type]
    try:
        return _STATUSES[code]
    except IndexError:
        return code  # type: ignore[return-value]
