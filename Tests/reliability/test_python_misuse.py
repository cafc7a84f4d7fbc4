# test_python_misuse.py — the Python bindings called the wrong way: None, closed objects,
# objects of another class, None buffers, zero and huge lengths, bad ports, strings that are not
# valid UTF-8. Nothing crashes the interpreter; each call returns its Error (or the neutral value)
# or raises an ordinary Python exception (TypeError, ValueError, OverflowError, UnicodeError,
# MemoryError) before reaching C.
#
# Run by scripts/reliability (item `python`), with PYTHONPATH=bindings/python.
from __future__ import annotations

import inspect
import itertools
import os
import stat
import tempfile

import pytest

import packetdtls
from packetdtls import (
    Crypto,
    CryptoKey,
    DTLSServer,
    Error,
    PacketPeerDTLS,
    PacketPeerUDP,
    Status,
    TLSOptions,
    UDPServer,
    X509Certificate,
)

ALLOWED = (TypeError, ValueError, OverflowError, UnicodeError, MemoryError)
BAD_UTF8 = "\udcff\udcfe host \ud800"  # lone surrogates: not encodable as UTF-8
HUGE = 1 << 62

BAD_VALUES = [None, -1, 0, HUGE, -HUGE, 2**31, "", BAD_UTF8, "\0", b"", b"\xff" * 70000, 1.5, object(), [], True]


def new_objects():
    crypto = Crypto()
    key = crypto.generate_ec_p256()
    cert = crypto.generate_self_signed_certificate(key, "CN=misuse")
    return {
        "udp": PacketPeerUDP(),
        "udp_server": UDPServer(),
        "peer": PacketPeerDTLS(),
        "server": DTLSServer(),
        "key": key,
        "cert": cert,
        "options": TLSOptions.client_unsafe(),
        "crypto": crypto,
    }


def public_methods(obj, instance_only=False):
    for name, member in inspect.getmembers(type(obj)):
        if name.startswith("_") or name in ("release", "close") or not callable(member):
            continue
        if instance_only and (isinstance(member, type)
                              or isinstance(inspect.getattr_static(type(obj), name), (staticmethod, classmethod))):
            continue
        yield name


def call_quietly(function, *arguments):
    try:
        return function(*arguments)
    except ALLOWED:
        return None


def test_every_method_with_every_bad_argument_does_not_crash():
    objects = new_objects()
    others = list(objects.values())
    calls = 0
    for obj in objects.values():
        for name in public_methods(obj):
            method = getattr(obj, name)
            try:
                parameters = [p for p in inspect.signature(method).parameters.values()
                              if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
            except (TypeError, ValueError):
                parameters = []
            count = min(len(parameters), 3)
            if name in ("wait",):
                continue  # blocks by design; covered with a timeout below
            pool = BAD_VALUES + others
            combos = itertools.product(pool, repeat=count) if count <= 1 else \
                ([v] * count for v in pool)
            for combo in combos:
                if name == "generate_rsa" and combo and isinstance(combo[0], int) and 1024 <= combo[0] <= 8192:
                    continue  # a real key: slow, not misuse
                call_quietly(method, *combo)
                calls += 1
            # Also every argument of another class, one position at a time.
            for position in range(count):
                for other in others:
                    combo = [None] * count
                    combo[position] = other
                    call_quietly(method, *combo)
                    calls += 1
    print(f"FIGURE python calls: {calls}")
    assert calls > 500


def test_closed_objects_raise_value_error():
    silent = []
    for obj in new_objects().values():
        if not hasattr(obj, "release"):
            continue
        obj.release()
        obj.release()  # twice is fine
        for name in public_methods(obj, instance_only=True):
            method = getattr(obj, name)
            try:
                parameters = [p for p in inspect.signature(method).parameters.values()
                              if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
            except (TypeError, ValueError):
                parameters = []
            if name == "wait":
                continue
            try:
                method(*([0] * len(parameters)))
            except ALLOWED:
                continue
            silent.append(f"{type(obj).__name__}.{name}")
    assert silent == [], f"methods that accepted a closed object: {silent}"



def test_bad_ports_and_names_return_errors():
    udp = PacketPeerUDP()
    for port in (-1, -65535, 65536, 1 << 40, -(1 << 40)):
        assert udp.bind(port, "127.0.0.1") == Error.ERR_INVALID_PARAMETER
        assert udp.connect_to_host("127.0.0.1", port) == Error.ERR_INVALID_PARAMETER
        assert udp.set_dest_address("127.0.0.1", port) == Error.ERR_INVALID_PARAMETER
    assert udp.connect_to_host("127.0.0.1", 0) == Error.ERR_INVALID_PARAMETER
    for name in (BAD_UTF8, "\xff\xfe", "a" * 10000, ""):
        try:
            result = udp.connect_to_host(name, 9)
        except ALLOWED:
            continue
        assert result != Error.OK
    assert not udp.is_socket_connected()
    server = UDPServer()
    assert server.listen(-1, "127.0.0.1") == Error.ERR_INVALID_PARAMETER
    assert server.set_max_pending_connections(-1) == Error.ERR_INVALID_PARAMETER
    assert server.poll() == Error.ERR_UNCONFIGURED


def test_other_class_objects_are_type_errors():
    objects = new_objects()
    peer = objects["peer"]
    with pytest.raises(TypeError):
        peer.connect_to_peer(objects["key"], False)
    with pytest.raises(TypeError):
        objects["server"].take_connection(objects["cert"])
    with pytest.raises(TypeError):
        objects["server"].setup(objects["udp"], objects["cert"])
    with pytest.raises(TypeError):
        TLSOptions.server(objects["cert"], objects["key"])
    with pytest.raises(TypeError):
        objects["crypto"].sign(2, b"x" * 32, objects["cert"])


def test_buffers_and_lengths():
    objects = new_objects()
    udp = objects["udp"]
    assert udp.bind(0, "127.0.0.1") == Error.OK
    assert udp.set_dest_address("127.0.0.1", udp.get_local_port()) == Error.OK
    assert udp.put_packet(b"\0" * 65508) == Error.ERR_INVALID_PARAMETER
    with pytest.raises(TypeError):
        udp.put_packet(None)
    with pytest.raises(TypeError):
        udp.put_packet("text")
    assert udp.put_packet(b"") == Error.OK
    assert udp.wait(0.01) in (Error.OK, Error.ERR_TIMEOUT)
    crypto = objects["crypto"]
    assert crypto.generate_random_bytes(0) == b""
    assert crypto.generate_random_bytes(-5) == b""
    with pytest.raises((MemoryError, OverflowError)):
        crypto.generate_random_bytes(HUGE)
    assert crypto.generate_rsa(-1) is None
    assert crypto.generate_rsa(1 << 40) is None
    peer = objects["peer"]
    assert peer.put_packet(b"x") == Error.ERR_UNCONFIGURED
    assert peer.get_packet() == b""
    assert peer.get_status() == Status.STATUS_DISCONNECTED
    assert peer.poll() == Error.ERR_UNCONFIGURED
    key = CryptoKey()
    assert key.load_from_string("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n") != Error.OK
    assert key.load("/nonexistent/key") != Error.OK
    assert key.save_to_string() == ""


def test_key_files_are_private():
    key = new_objects()["key"]
    with tempfile.TemporaryDirectory() as directory:
        old = os.umask(0)
        try:
            path = os.path.join(directory, "k.key")
            assert key.save(path) == Error.OK
            assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        finally:
            os.umask(old)
