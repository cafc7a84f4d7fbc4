# packetdtls._library — finds libpacketdtls, checks it, and declares every C function once.
#
# The shape follows llvmlite's binding/ffi.py: one error that lists every place tried, one
# POINTER(Structure) type per handle kind so handles cannot be mixed up, argtypes/restype for
# every function grouped in one table. Functions are bound on first use, so a library that lacks
# a function still imports; the function itself then raises MissingFunctionError. The few per-packet
# calls also have a second, argtypes-free function object each (``hot``, at the end), bound at import.
"""Loading libpacketdtls.so and the ctypes declarations of include/packetdtls.h."""

from __future__ import annotations

import ctypes
import ctypes.util
import glob
import os
import threading
import warnings
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

__all__ = [
    "EXPECTED_MAJOR",
    "PacketDTLSLibraryNotFound",
    "MissingFunctionError",
    "lib",
    "library_path",
    "missing_functions",
    "last_error_message",
    "error_string",
]

#: The C library major version this package speaks (DTLS_VERSION_MAJOR in packetdtls.h).
EXPECTED_MAJOR = 0
#: The environment variable that names the library file (or a folder holding it).
ENV_VAR = "PACKETDTLS_LIBRARY"
LIBRARY_FILE = "libpacketdtls.so"


class PacketDTLSLibraryNotFound(ImportError):
    """libpacketdtls could not be loaded. ``tried`` lists (place, reason) for every candidate."""

    def __init__(self, tried: Sequence[Tuple[str, str]]) -> None:
        self.tried: List[Tuple[str, str]] = list(tried)
        lines = ["libpacketdtls could not be loaded; places tried, in order:"]
        lines += [f"  {place}: {reason}" for place, reason in self.tried]
        lines.append(
            f"Build it with `swift build --product packetdtls` in the repository, or set {ENV_VAR} "
            f"to the path of {LIBRARY_FILE}."
        )
        super().__init__("\n".join(lines))


class MissingFunctionError(NotImplementedError):
    """The loaded libpacketdtls does not export a function this package declares (an older build)."""


# MARK: - Handle types: one opaque struct per class, so ctypes refuses a udp handle where a key goes.


class _dtls_udp(ctypes.Structure):
    """Opaque ``dtls_udp`` (PacketPeerUDP)."""


class _dtls_udp_server(ctypes.Structure):
    """Opaque ``dtls_udp_server`` (UDPServer)."""


class _dtls_peer(ctypes.Structure):
    """Opaque ``dtls_peer`` (PacketPeerDTLS)."""


class _dtls_server(ctypes.Structure):
    """Opaque ``dtls_server`` (DTLSServer)."""


class _dtls_key(ctypes.Structure):
    """Opaque ``dtls_key`` (CryptoKey)."""


class _dtls_cert(ctypes.Structure):
    """Opaque ``dtls_cert`` (X509Certificate)."""


class _dtls_options(ctypes.Structure):
    """Opaque ``dtls_options`` (TLSOptions)."""


class _dtls_session(ctypes.Structure):
    """Opaque ``dtls_session`` (a client's saved session, beyond Godot)."""


class dtls_peer_stats(ctypes.Structure):
    """``struct dtls_peer_stats`` (append-only: new fields go at the end, as in the header)."""

    _fields_ = [
        ("packets_sent", ctypes.c_uint64),
        ("packets_received", ctypes.c_uint64),
        ("bytes_sent", ctypes.c_uint64),
        ("bytes_received", ctypes.c_uint64),
        ("datagrams_sent", ctypes.c_uint64),
        ("datagrams_received", ctypes.c_uint64),
        ("records_dropped_bad_mac", ctypes.c_uint64),
        ("datagrams_oversized", ctypes.c_uint64),
        ("handshake_retransmissions", ctypes.c_uint64),
        ("handshake_duration_ms", ctypes.c_uint64),
        ("keepalives_sent", ctypes.c_uint64),
        ("keepalives_received", ctypes.c_uint64),
        ("datagrams_dropped", ctypes.c_uint64),
        ("hibernations", ctypes.c_uint64),
        ("wakes", ctypes.c_uint64),
    ]


class dtls_udp_stats(ctypes.Structure):
    """``struct dtls_udp_stats`` (append-only, as in the header)."""

    _fields_ = [
        ("datagrams_received", ctypes.c_uint64),
        ("datagrams_dropped", ctypes.c_uint64),
        ("datagrams_dropped_by_kernel", ctypes.c_uint64),
        ("packets_queued", ctypes.c_uint64),
        ("bytes_queued", ctypes.c_uint64),
        ("datagrams_sent_batched", ctypes.c_uint64),
        ("datagrams_send_failed", ctypes.c_uint64),
        ("datagrams_waiting_to_send", ctypes.c_uint64),
        ("send_batch_calls", ctypes.c_uint64),
    ]


class _dtls_var(ctypes.Structure):
    """Opaque ``dtls_var`` (a Variant value for put_var / get_var)."""


UdpHandle = ctypes.POINTER(_dtls_udp)
UdpServerHandle = ctypes.POINTER(_dtls_udp_server)
PeerHandle = ctypes.POINTER(_dtls_peer)
ServerHandle = ctypes.POINTER(_dtls_server)
KeyHandle = ctypes.POINTER(_dtls_key)
CertHandle = ctypes.POINTER(_dtls_cert)
OptionsHandle = ctypes.POINTER(_dtls_options)
SessionHandle = ctypes.POINTER(_dtls_session)
VarHandle = ctypes.POINTER(_dtls_var)

# MARK: - Every function of include/packetdtls.h: name -> (restype, argtypes)
#
# C types: dtls_error / dtls_status / dtls_hash_type are C enums (int). Data in
# (`const uint8_t *`) is c_void_p so bytes pass without a copy; data out (`uint8_t *`,
# `char *`) is c_void_p too and receives ctypes buffers. Strings in are c_char_p (UTF-8).

_err = ctypes.c_int  # dtls_error
_status = ctypes.c_int  # dtls_status
_hash = ctypes.c_int  # dtls_hash_type
_bool = ctypes.c_bool
_int = ctypes.c_int
_u32 = ctypes.c_uint32
_i32 = ctypes.c_int32
_i32_p = ctypes.POINTER(ctypes.c_int32)
_size = ctypes.c_size_t
_size_p = ctypes.POINTER(ctypes.c_size_t)
_str = ctypes.c_char_p
_data = ctypes.c_void_p
_str_array = ctypes.POINTER(ctypes.c_char_p)  # const char *const *
_cert_mode = ctypes.c_int  # dtls_client_cert_mode
_stats_p = ctypes.POINTER(dtls_peer_stats)
_udp_stats_p = ctypes.POINTER(dtls_udp_stats)
_none = None

FUNCTIONS: Dict[str, Tuple[Any, Tuple[Any, ...]]] = {
    # Library
    "dtls_version_number": (_u32, ()),
    "dtls_version_string": (_str, ()),
    "dtls_error_string": (_str, (_err,)),
    "dtls_status_string": (_str, (_status,)),
    "dtls_last_error_message": (_str, ()),
    # PacketPeerUDP
    "dtls_udp_new": (UdpHandle, ()),
    "dtls_udp_free": (_none, (UdpHandle,)),
    "dtls_udp_bind": (_err, (UdpHandle, _int, _str, _int)),
    "dtls_udp_listen": (_err, (UdpHandle, _int, _str, _int)),
    "dtls_udp_close": (_err, (UdpHandle,)),
    "dtls_udp_is_bound": (_bool, (UdpHandle,)),
    "dtls_udp_is_listening": (_bool, (UdpHandle,)),
    "dtls_udp_connect_to_host": (_err, (UdpHandle, _str, _int)),
    "dtls_udp_is_socket_connected": (_bool, (UdpHandle,)),
    "dtls_udp_is_connected_to_host": (_bool, (UdpHandle,)),
    "dtls_udp_set_dest_address": (_err, (UdpHandle, _str, _int)),
    "dtls_udp_wait": (_err, (UdpHandle,)),
    "dtls_udp_wait_timeout": (_err, (UdpHandle, _int)),
    "dtls_udp_get_packet_ip": (_size, (UdpHandle, _data, _size)),
    "dtls_udp_get_packet_port": (_int, (UdpHandle,)),
    "dtls_udp_get_local_port": (_int, (UdpHandle,)),
    "dtls_udp_get_fd": (_int, (UdpHandle,)),
    "dtls_udp_set_broadcast_enabled": (_err, (UdpHandle, _bool)),
    "dtls_udp_join_multicast_group": (_err, (UdpHandle, _str, _str)),
    "dtls_udp_leave_multicast_group": (_err, (UdpHandle, _str, _str)),
    "dtls_udp_put_packet": (_err, (UdpHandle, _data, _size)),
    "dtls_udp_get_packet": (_err, (UdpHandle, _data, _size, _size_p)),
    "dtls_udp_get_available_packet_count": (_int, (UdpHandle,)),
    "dtls_udp_get_packet_error": (_err, (UdpHandle,)),
    # UDPServer
    "dtls_udp_server_new": (UdpServerHandle, ()),
    "dtls_udp_server_free": (_none, (UdpServerHandle,)),
    "dtls_udp_server_listen": (_err, (UdpServerHandle, _int, _str)),
    "dtls_udp_server_poll": (_err, (UdpServerHandle,)),
    "dtls_udp_server_wait_timeout": (_err, (UdpServerHandle, _int)),
    "dtls_udp_server_is_connection_available": (_bool, (UdpServerHandle,)),
    "dtls_udp_server_take_connection": (UdpHandle, (UdpServerHandle,)),
    "dtls_udp_server_is_listening": (_bool, (UdpServerHandle,)),
    "dtls_udp_server_get_local_port": (_int, (UdpServerHandle,)),
    "dtls_udp_server_get_fd": (_int, (UdpServerHandle,)),
    "dtls_udp_server_stop": (_err, (UdpServerHandle,)),
    "dtls_udp_server_set_max_pending_connections": (_err, (UdpServerHandle, _int)),
    "dtls_udp_server_set_reuse_port": (_err, (UdpServerHandle, _bool)),
    "dtls_udp_server_set_send_batching": (_err, (UdpServerHandle, _bool)),
    "dtls_udp_server_is_send_batching": (_bool, (UdpServerHandle,)),
    "dtls_udp_server_flush_sends": (_err, (UdpServerHandle,)),
    "dtls_udp_server_get_max_pending_connections": (_int, (UdpServerHandle,)),
    "dtls_udp_get_stats": (_err, (UdpHandle, _udp_stats_p, _size)),
    "dtls_udp_server_get_stats": (_err, (UdpServerHandle, _udp_stats_p, _size)),
    "dtls_udp_server_set_peer_queue_limit": (_err, (UdpServerHandle, _int)),
    "dtls_udp_server_get_peer_queue_limit": (_int, (UdpServerHandle,)),
    "dtls_udp_server_set_total_queue_limit": (_err, (UdpServerHandle, _int)),
    "dtls_udp_server_get_total_queue_limit": (_int, (UdpServerHandle,)),
    # CryptoKey
    "dtls_key_new": (KeyHandle, ()),
    "dtls_key_free": (_none, (KeyHandle,)),
    "dtls_key_load": (_err, (KeyHandle, _str, _bool)),
    "dtls_key_save": (_err, (KeyHandle, _str, _bool)),
    "dtls_key_load_from_string": (_err, (KeyHandle, _str, _bool)),
    "dtls_key_save_to_string": (_size, (KeyHandle, _bool, _data, _size)),
    "dtls_key_is_public_only": (_bool, (KeyHandle,)),
    # X509Certificate
    "dtls_cert_new": (CertHandle, ()),
    "dtls_cert_free": (_none, (CertHandle,)),
    "dtls_cert_load": (_err, (CertHandle, _str)),
    "dtls_cert_save": (_err, (CertHandle, _str)),
    "dtls_cert_load_from_string": (_err, (CertHandle, _str)),
    "dtls_cert_save_to_string": (_size, (CertHandle, _data, _size)),
    # Crypto
    "dtls_crypto_generate_random_bytes": (_err, (_data, _size)),
    "dtls_crypto_generate_rsa": (KeyHandle, (_int,)),
    "dtls_crypto_generate_ec_p256": (KeyHandle, ()),
    "dtls_crypto_generate_self_signed_certificate": (CertHandle, (KeyHandle, _str, _str, _str)),
    "dtls_crypto_sign": (_err, (_hash, _data, _size, KeyHandle, _data, _size, _size_p)),
    "dtls_crypto_verify": (_bool, (_hash, _data, _size, _data, _size, KeyHandle)),
    "dtls_crypto_encrypt": (_err, (KeyHandle, _data, _size, _data, _size, _size_p)),
    "dtls_crypto_decrypt": (_err, (KeyHandle, _data, _size, _data, _size, _size_p)),
    "dtls_crypto_hmac_digest": (_err, (_hash, _data, _size, _data, _size, _data, _size, _size_p)),
    "dtls_crypto_constant_time_compare": (_bool, (_data, _size, _data, _size)),
    # TLSOptions
    "dtls_options_new": (OptionsHandle, ()),
    "dtls_options_free": (_none, (OptionsHandle,)),
    "dtls_options_client": (OptionsHandle, (CertHandle, _str)),
    "dtls_options_client_unsafe": (OptionsHandle, (CertHandle,)),
    "dtls_options_server": (OptionsHandle, (KeyHandle, CertHandle)),
    "dtls_options_is_server": (_bool, (OptionsHandle,)),
    "dtls_options_is_unsafe_client": (_bool, (OptionsHandle,)),
    "dtls_options_get_common_name_override": (_size, (OptionsHandle, _data, _size)),
    "dtls_options_get_trusted_ca_chain": (CertHandle, (OptionsHandle,)),
    "dtls_options_get_private_key": (KeyHandle, (OptionsHandle,)),
    "dtls_options_get_own_certificate": (CertHandle, (OptionsHandle,)),
    "dtls_options_set_handshake_timeout": (_err, (OptionsHandle, _u32, _u32)),
    "dtls_options_set_idle_timeout": (_err, (OptionsHandle, _u32)),
    "dtls_options_set_keepalive_ms": (_err, (OptionsHandle, _u32)),
    "dtls_options_set_mtu": (_err, (OptionsHandle, _u32)),
    # PacketPeerDTLS
    "dtls_peer_new": (PeerHandle, ()),
    "dtls_peer_free": (_none, (PeerHandle,)),
    "dtls_peer_connect_to_peer": (_err, (PeerHandle, UdpHandle, _bool, _str, CertHandle)),
    "dtls_peer_connect_to_peer_with_options": (_err, (PeerHandle, UdpHandle, _str, OptionsHandle)),
    "dtls_peer_poll": (_err, (PeerHandle,)),
    "dtls_peer_get_status": (_status, (PeerHandle,)),
    "dtls_peer_disconnect_from_peer": (_err, (PeerHandle,)),
    "dtls_peer_put_packet": (_err, (PeerHandle, _data, _size)),
    "dtls_peer_get_packet": (_err, (PeerHandle, _data, _size, _size_p)),
    "dtls_peer_get_available_packet_count": (_int, (PeerHandle,)),
    "dtls_peer_get_packet_error": (_err, (PeerHandle,)),
    "dtls_peer_get_error_message": (_size, (PeerHandle, _data, _size)),
    "dtls_peer_get_ciphersuite": (_size, (PeerHandle, _data, _size)),
    "dtls_peer_get_max_packet_size": (_int, (PeerHandle,)),
    # DTLSServer
    "dtls_server_new": (ServerHandle, ()),
    "dtls_server_free": (_none, (ServerHandle,)),
    "dtls_server_setup": (_err, (ServerHandle, KeyHandle, CertHandle, CertHandle)),
    "dtls_server_setup_with_options": (_err, (ServerHandle, OptionsHandle)),
    "dtls_server_take_connection": (PeerHandle, (ServerHandle, UdpHandle)),
    "dtls_server_stop": (_err, (ServerHandle,)),
    "dtls_server_set_handshake_threads": (_err, (ServerHandle, ctypes.c_int32)),
    "dtls_server_set_handshake_threads_nice": (_err, (ServerHandle, ctypes.c_int32)),
    "dtls_server_set_handshake_limits": (_err, (ServerHandle, _i32, _i32, _i32)),
    "dtls_server_get_handshake_limits": (_err, (ServerHandle, _i32_p, _i32_p, _i32_p)),
    "dtls_server_get_handshakes_in_flight": (_i32, (ServerHandle,)),
    "dtls_server_load_keys": (_err, (ServerHandle, _str)),
    "dtls_server_save_keys": (_err, (ServerHandle, _str)),
    "dtls_server_rotate_keys": (_err, (ServerHandle,)),
    # Beyond Godot: pre-shared keys, ALPN, pinning, client certificates, CRLs, resumption
    "dtls_options_client_psk": (OptionsHandle, (_str, _data, _size)),
    "dtls_options_server_psk": (OptionsHandle, ()),
    "dtls_options_add_psk": (_err, (OptionsHandle, _str, _data, _size)),
    "dtls_options_set_alpn_protocols": (_err, (OptionsHandle, _str_array, _size)),
    "dtls_options_set_cipher_suites": (_err, (OptionsHandle, _str_array, _size)),
    "dtls_options_pin_public_key": (_err, (OptionsHandle, _data, _size)),
    "dtls_options_pin_certificate": (_err, (OptionsHandle, CertHandle)),
    "dtls_options_set_client_certificate": (_err, (OptionsHandle, KeyHandle, CertHandle)),
    "dtls_options_set_client_certificate_mode": (_err, (OptionsHandle, _cert_mode, CertHandle)),
    "dtls_options_load_crl": (_err, (OptionsHandle, _str)),
    "dtls_options_load_crl_from_string": (_err, (OptionsHandle, _str)),
    "dtls_options_set_session_tickets": (_err, (OptionsHandle, _bool)),
    "dtls_options_set_extended_master_secret_required": (_err, (OptionsHandle, _bool)),
    "dtls_options_set_key_log_file": (_err, (OptionsHandle, _str)),
    "dtls_cert_get_public_key_sha256": (_err, (CertHandle, _data, _size, _size_p)),
    "dtls_session_new": (SessionHandle, ()),
    "dtls_session_free": (_none, (SessionHandle,)),
    "dtls_peer_get_session": (SessionHandle, (PeerHandle,)),
    "dtls_peer_set_session": (_err, (PeerHandle, SessionHandle)),
    "dtls_peer_is_session_resumed": (_bool, (PeerHandle,)),
    "dtls_peer_get_alpn_protocol": (_size, (PeerHandle, _data, _size)),
    "dtls_peer_get_peer_certificate": (CertHandle, (PeerHandle,)),
    "dtls_peer_get_verify_flags": (_u32, (PeerHandle,)),
    "dtls_peer_get_verify_text": (_size, (PeerHandle, _data, _size)),
    "dtls_peer_get_last_alert": (_int, (PeerHandle,)),
    "dtls_peer_get_stats": (_err, (PeerHandle, _stats_p, _size)),
    "dtls_peer_set_keepalive_ms": (_err, (PeerHandle, _u32)),
    # Hibernation of idle sessions
    "dtls_server_set_hibernate_after_ms": (_err, (ServerHandle, _u32)),
    "dtls_peer_set_hibernate_after_ms": (_err, (PeerHandle, _u32)),
    "dtls_peer_is_hibernated": (_bool, (PeerHandle,)),
    # Variant values (dtls_var) and put_var / get_var
    "dtls_var_new": (VarHandle, ()),
    "dtls_var_new_of_type": (VarHandle, (_int,)),
    "dtls_var_new_bool": (VarHandle, (_bool,)),
    "dtls_var_new_int": (VarHandle, (ctypes.c_int64,)),
    "dtls_var_new_float": (VarHandle, (ctypes.c_double,)),
    "dtls_var_new_string": (VarHandle, (_str,)),
    "dtls_var_new_bytes": (VarHandle, (_data, _size)),
    "dtls_var_new_array": (VarHandle, ()),
    "dtls_var_new_dictionary": (VarHandle, ()),
    "dtls_var_new_components": (VarHandle, (_int, ctypes.POINTER(ctypes.c_double), _size)),
    "dtls_var_free": (_none, (VarHandle,)),
    "dtls_var_get_type": (_int, (VarHandle,)),
    "dtls_var_get_bool": (_bool, (VarHandle,)),
    "dtls_var_get_int": (ctypes.c_int64, (VarHandle,)),
    "dtls_var_get_float": (ctypes.c_double, (VarHandle,)),
    "dtls_var_get_string": (_size, (VarHandle, _data, _size)),
    "dtls_var_get_bytes": (_err, (VarHandle, _data, _size, _size_p)),
    "dtls_var_get_components": (_size, (VarHandle, ctypes.POINTER(ctypes.c_double), _size)),
    "dtls_var_array_size": (_size, (VarHandle,)),
    "dtls_var_array_get": (VarHandle, (VarHandle, _size)),
    "dtls_var_array_append": (_err, (VarHandle, VarHandle)),
    "dtls_var_dict_size": (_size, (VarHandle,)),
    "dtls_var_dict_key_at": (VarHandle, (VarHandle, _size)),
    "dtls_var_dict_value_at": (VarHandle, (VarHandle, _size)),
    "dtls_var_dict_get": (VarHandle, (VarHandle, VarHandle)),
    "dtls_var_dict_set": (_err, (VarHandle, VarHandle, VarHandle)),
    "dtls_var_encode": (_err, (VarHandle, _int, _data, _size, _size_p)),
    "dtls_var_decode": (VarHandle, (_data, _size, _int)),
    "dtls_udp_put_var": (_err, (UdpHandle, VarHandle, _bool, _int)),
    "dtls_udp_get_var": (_err, (UdpHandle, _bool, _int, ctypes.POINTER(VarHandle))),
    "dtls_udp_set_encode_buffer_max_size": (_err, (UdpHandle, _int)),
    "dtls_udp_get_encode_buffer_max_size": (_int, (UdpHandle,)),
    "dtls_udp_set_godot_version": (_err, (UdpHandle, _int)),
    "dtls_udp_get_godot_version": (_int, (UdpHandle,)),
    "dtls_peer_put_var": (_err, (PeerHandle, VarHandle, _bool, _int)),
    "dtls_peer_get_var": (_err, (PeerHandle, _bool, _int, ctypes.POINTER(VarHandle))),
    "dtls_peer_set_encode_buffer_max_size": (_err, (PeerHandle, _int)),
    "dtls_peer_get_encode_buffer_max_size": (_int, (PeerHandle,)),
    "dtls_peer_set_godot_version": (_err, (PeerHandle, _int)),
    "dtls_peer_get_godot_version": (_int, (PeerHandle,)),
}


# MARK: - Finding the library


def _package_dir() -> Path:
    return Path(__file__).resolve().parent


def candidates() -> List[Tuple[str, Optional[str]]]:
    """Every place to try, in order, as (description, path-or-name). A None path is a note only."""
    found: List[Tuple[str, Optional[str]]] = []
    env = os.environ.get(ENV_VAR)
    if env:
        path = Path(env)
        if path.is_dir():
            path = path / LIBRARY_FILE
        found.append((f"${ENV_VAR} ({path})", str(path)))
    else:
        found.append((f"${ENV_VAR}", None))
    found.append(("inside the package", str(_package_dir() / LIBRARY_FILE)))

    root = _package_dir().parent.parent.parent  # packetdtls/ -> python/ -> bindings/ -> repository
    if (root / "Package.swift").is_file():
        seen = set()
        paths = [root / folder / LIBRARY_FILE for folder in (".build/debug", ".build/release", "build")]
        # Other SwiftPM layouts (.build/<triple>/<config>/, CMake presets): only the ones that exist.
        for pattern in (".build/*/*/" + LIBRARY_FILE, ".build/*/" + LIBRARY_FILE, "build/*/" + LIBRARY_FILE):
            paths += [Path(p) for p in sorted(glob.glob(str(root / pattern)))]
        for lib_path in paths:
            key = os.path.realpath(lib_path)
            if key in seen:
                continue
            seen.add(key)
            found.append(("repository build folder", str(lib_path)))
    else:
        found.append((f"repository build folders (no Package.swift at {root})", None))

    system = ctypes.util.find_library("packetdtls")
    if system:
        found.append(("system linker path (ctypes.util.find_library)", system))
    found.append(("system linker path (dlopen)", LIBRARY_FILE))
    return found


def _open(path: str) -> Tuple[Optional[ctypes.CDLL], str]:
    """Opens and checks one candidate; returns (library, "") or (None, why it failed)."""
    if os.sep in path and not os.path.exists(path):
        return None, "no such file"
    try:
        cdll = ctypes.CDLL(path)
    except OSError as error:
        return None, f"could not be loaded ({error})"
    try:
        version_number = cdll.dtls_version_number
    except AttributeError:
        return None, "not libpacketdtls (no dtls_version_number)"
    version_number.argtypes = []
    version_number.restype = ctypes.c_uint32
    number = int(version_number())
    major, minor, patch = number // 10000, number // 100 % 100, number % 100
    if major != EXPECTED_MAJOR:
        return None, f"version {major}.{minor}.{patch}, this package needs {EXPECTED_MAJOR}.x"
    return cdll, ""


def load_first(places: Sequence[Tuple[str, Optional[str]]]) -> Tuple[ctypes.CDLL, str]:
    """The first place that opens and checks, or PacketDTLSLibraryNotFound listing them all."""
    tried: List[Tuple[str, str]] = []
    for description, path in places:
        if path is None:
            tried.append((description, "not set" if description.startswith("$") else "skipped"))
            continue
        cdll, why = _open(path)
        if cdll is not None:
            if tried and tried[0][0].startswith(f"${ENV_VAR} ("):
                warnings.warn(
                    f"{ENV_VAR} is set but {tried[0][0]} {tried[0][1]}; loaded {path} instead",
                    RuntimeWarning,
                    stacklevel=3,
                )
            return cdll, path
        tried.append((f"{description}: {path}" if path not in description else description, why))
    raise PacketDTLSLibraryNotFound(tried)


# MARK: - Binding functions on first use


def _missing(name: str, path: str) -> MissingFunctionError:
    return MissingFunctionError(f"{name} is declared in packetdtls.h but {path} does not export it (rebuild the library)")


class _Library:
    """The loaded library. ``lib.dtls_x`` is the declared ctypes function, bound on first access."""

    def __init__(self, cdll: ctypes.CDLL, path: str) -> None:
        self._cdll = cdll
        self.path = path

    def __getattr__(self, name: str) -> Callable[..., Any]:
        try:
            restype, argtypes = FUNCTIONS[name]
        except KeyError:
            raise AttributeError(name) from None
        try:
            function = getattr(self._cdll, name)
        except AttributeError:
            raise _missing(name, self.path) from None
        function.restype = restype
        function.argtypes = list(argtypes)
        setattr(self, name, function)  # later look-ups hit the instance dict, not __getattr__
        return function

    def has(self, name: str) -> bool:
        return hasattr(self._cdll, name)


_cdll, _path = load_first(candidates())
lib = _Library(_cdll, _path)

# MARK: - The per-packet calls, bound once without argtypes
#
# With argtypes, ctypes passes every argument through its type's from_param, and for a handle
# (POINTER of a Structure) that check runs isinstance/issubclass through the ctypes metaclasses: most
# of what a short call costs (docs/PERFORMANCE.md, "The Python binding's per-call cost"). The calls
# below are the per-packet ones, and the binding passes them only objects it made itself, which ctypes
# passes as exactly the declared C types without argtypes: a handle of the declared kind (pointer),
# bytes or a ctypes array (uint8_t *), a ctypes.c_size_t (size_t), a pointer to a c_size_t (size_t *).
# Never a Python int (that would go as a C int). Each is a second function object for the symbol:
# ``lib.X`` keeps its argtypes for every other use. The restype is the declared one.

HOT_FUNCTIONS: Tuple[str, ...] = (
    "dtls_peer_poll",
    "dtls_peer_get_status",
    "dtls_peer_put_packet",
    "dtls_peer_get_packet",
    "dtls_peer_get_available_packet_count",
    "dtls_udp_put_packet",
    "dtls_udp_get_packet",
    "dtls_udp_get_available_packet_count",
    "dtls_udp_server_poll",
)


def _unchecked(name: str) -> Callable[..., Any]:
    """`name` without argtypes (see above); a library without it gets a function raising
    MissingFunctionError when called, as ``lib.name`` would."""
    try:
        function = _cdll[name]  # CDLL.__getitem__ makes a new function object; getattr would share lib's
    except AttributeError:

        def missing(*_: Any) -> Any:
            raise _missing(name, _path)

        return missing
    function.restype = FUNCTIONS[name][0]
    return function


#: name -> the function without argtypes, for the per-packet paths of the class modules.
hot: Dict[str, Callable[..., Any]] = {name: _unchecked(name) for name in HOT_FUNCTIONS}


def library_path() -> str:
    """The path (or name) of the libpacketdtls that was loaded."""
    return lib.path


def missing_functions() -> List[str]:
    """Functions of packetdtls.h that the loaded library does not export (empty for a complete build)."""
    return [name for name in FUNCTIONS if not lib.has(name)]


# MARK: - Errors the binding reports itself
#
# A few values have the right Python type but no C representation (a negative timeout for a
# uint32_t parameter). The binding returns ERR_INVALID_PARAMETER for them without calling C and
# keeps its sentence here; last_error_message() prefers it while the C message is unchanged.

_local = threading.local()


def _c_last_error() -> bytes:
    return lib.dtls_last_error_message() or b""


def set_binding_error(message: str) -> None:
    _local.binding = (message, _c_last_error())


def last_error_message() -> str:
    """A sentence on the last failure in this thread (the mbedTLS reason, the socket errno, ...)."""
    current = _c_last_error()
    binding = getattr(_local, "binding", None)
    if binding is not None:
        if binding[1] == current:
            return binding[0]
        _local.binding = None
    return current.decode("utf-8", "replace")


def error_string(error: int) -> str:
    """Godot's name of an error number ("ERR_INVALID_PARAMETER"); "ERR_UNKNOWN" outside the enum."""
    if isinstance(error, bool) or not isinstance(error, int):
        raise TypeError(f"error_string() takes an int or Error, not {type(error).__name__}")
    if not -(2**31) <= error < 2**31:
        return "ERR_UNKNOWN"
    return (lib.dtls_error_string(error) or b"").decode()
