"""put_var / get_var and var_to_bytes / bytes_to_var: Python values as Godot Variants.

Byte strings follow the layout tables of Godot's "Binary serialization API" page (godot-docs,
tutorials/io/binary_serialization_api.rst): a little-endian type header, the documented fields,
padding to 4 bytes.
"""

from __future__ import annotations

import struct

import pytest

from packetdtls import Error, PacketPeerDTLS, PacketPeerUDP, bytes_to_var, var_to_bytes
from packetdtls import variant as v

from .conftest import pump


def words(*values: int) -> bytes:
    return b"".join(struct.pack("<I", value) for value in values)


def test_documented_layouts():
    assert var_to_bytes(None) == words(0)
    assert var_to_bytes(True) == words(1, 1)
    assert var_to_bytes(-2) == words(2, 0xFFFFFFFE)
    assert var_to_bytes(1 << 40) == words(2 | 1 << 16, 0, 1 << 8)
    assert var_to_bytes(1.5) == words(3) + struct.pack("<f", 1.5)
    assert var_to_bytes("Hello") == words(4, 5) + b"Hello\0\0\0"
    assert var_to_bytes(b"\x01\x02\x03") == words(29, 3) + b"\x01\x02\x03\0"
    assert var_to_bytes(b"\x01\x02\x03", godot_version=3) == words(20, 3) + b"\x01\x02\x03\0"
    # Vector3 is 9 in Godot 4 and 7 in Godot 3; Color 20 and 14.
    assert var_to_bytes(v.Vector3(1, 2, 3)) == words(9) + struct.pack("<3f", 1, 2, 3)
    assert var_to_bytes(v.Vector3(1, 2, 3), godot_version=3) == words(7) + struct.pack("<3f", 1, 2, 3)
    assert var_to_bytes(v.Color(1, 0, 0), godot_version=3) == words(14) + struct.pack("<4f", 1, 0, 0, 1)
    assert var_to_bytes({"a": 1}) == words(27, 1, 4, 1) + b"a\0\0\0" + words(2, 1)
    assert var_to_bytes([7, None], godot_version=3) == words(19, 2, 2, 7, 0)


@pytest.mark.parametrize("godot_version", [3, 4])
def test_round_trips(godot_version):
    values = [
        None, True, 0, -(2**63), 2**63 - 1, 0.1, 1.5, "", "héllo ✓", b"", b"\x00\xff",
        [1, "two", [3.5, None]], {"hp": 100, "pos": v.Vector2(1.5, 2.0), 3: [1]},
        v.Vector2(1, 2), v.Rect2(1, 2, 3, 4), v.Vector3(1, 2, 3), v.Plane(0, 1, 0, 5), v.Quaternion(0, 0, 0, 1),
        v.Color(1, 0.5, 0.25, 1), v.Transform2D(1, 0, 0, 1, 10, 20), v.AABB(0, 0, 0, 1, 2, 3),
        v.Basis(1, 0, 0, 0, 1, 0, 0, 0, 1), v.Transform3D(range(12)), v.NodePath("/root/Main:position:x"),
        v.PackedInt32Array([1, -2]), v.PackedFloat32Array([1.5, -2.0]), v.PackedStringArray(["a", "bcd"]),
        v.PackedVector2Array([v.Vector2(1, 2)]), v.PackedVector3Array([v.Vector3(1, 2, 3)]),
        v.PackedColorArray([v.Color(1, 0, 0, 1)]),
    ]
    if godot_version == 4:
        values += [
            v.Vector2i(1, -2), v.Rect2i(1, 2, 3, 4), v.Vector3i(1, 2, 3), v.Vector4(1, 2, 3, 4),
            v.Vector4i(1, 2, 3, 4), v.Projection(range(16)), v.StringName("jump"), v.CALLABLE,
            v.PackedInt64Array([-(2**63), 2**63 - 1]), v.PackedFloat64Array([0.1]),
            v.PackedVector4Array([v.Vector4(1, 2, 3, 4)]),
        ]
    for value in values:
        back = bytes_to_var(var_to_bytes(value, godot_version), godot_version)
        assert back == value, value
        assert type(back) is type(value), value


def test_types_and_errors():
    assert isinstance(bytes_to_var(var_to_bytes(v.Vector2i(1, 2))), v.Vector2i)
    assert isinstance(bytes_to_var(words(24 | 1 << 16, 5, 0)), v.ObjectID)
    with pytest.raises(ValueError, match="Godot 3"):
        var_to_bytes(v.Vector2i(1, 2), godot_version=3)
    with pytest.raises(ValueError):
        bytes_to_var(words(4, 0x7FFFFFFF))
    with pytest.raises(ValueError):
        bytes_to_var(words(4, 2) + b"\xc3\x28\0\0")
    with pytest.raises(ValueError):
        var_to_bytes(1, godot_version=5)
    with pytest.raises(TypeError):
        var_to_bytes(object())
    with pytest.raises(OverflowError):
        var_to_bytes(2**64)
    with pytest.raises(ValueError):
        v.Transform2D(1, 2)


def test_put_var_and_get_var_over_loopback():
    a, b = PacketPeerUDP(), PacketPeerUDP()
    with a, b:
        assert b.bind(0, "127.0.0.1") == Error.OK
        assert a.connect_to_host("127.0.0.1", b.get_local_port()) == Error.OK
        assert b.get_var() is None
        message = {"type": "move", "to": v.Vector2(3, 4), "ids": [1, 2, 3], "blob": b"\x01"}
        for version in (3, 4):
            assert a.put_var(message, godot_version=version) == Error.OK
            pump(lambda: None, lambda: b.get_available_packet_count() > 0, timeout=5.0)
            assert b.get_var(godot_version=version) == message
        assert a.encode_buffer_max_size == 8388608
        assert a.set_encode_buffer_max_size(1000) == Error.ERR_INVALID_PARAMETER
        a.encode_buffer_max_size = 1025
        assert a.get_encode_buffer_max_size() == 2048
        assert a.put_var(b"x" * 3000) == Error.ERR_OUT_OF_MEMORY
    with pytest.raises(ValueError):
        a.put_var(1)
    peer = PacketPeerDTLS()
    with peer:
        assert peer.put_var(1) == Error.ERR_UNCONFIGURED
        assert peer.get_var() is None
        assert peer.encode_buffer_max_size == 8388608
