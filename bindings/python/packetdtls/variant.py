# packetdtls.variant — Python values <-> Godot Variants, through the library's dtls_var API.
"""Godot's put_var / get_var values as native Python values.

None, bool, int, float, str, list (and plain tuples) and dict map to null, bool, int, float,
String, Array and Dictionary; bytes / bytearray / memoryview to PackedByteArray. Godot's other
types have small classes here: Vector2, Vector2i, Rect2, Rect2i, Vector3, Vector3i, Vector4,
Vector4i, Plane, Quaternion, Color (named tuples), Transform2D, AABB, Basis, Transform3D,
Projection (tuples of their numbers), StringName and NodePath (str), RID and ObjectID (int),
Signal, CALLABLE, and the Packed*Array lists.

The encoding itself is the library's (dtls_var_encode / dtls_var_decode): this module only builds
and reads dtls_var values. ``godot_version`` (3 or 4) picks Godot's type numbers.
"""

from __future__ import annotations

import ctypes
from typing import Any, Dict, List, NamedTuple, Optional

from ._common import closed_error, read_binary, read_string
from ._errors import Error, to_error
from ._library import VarHandle, lib

__all__ = [
    "AABB", "Basis", "CALLABLE", "Color", "NodePath", "ObjectID", "PackedColorArray", "PackedFloat32Array",
    "PackedFloat64Array", "PackedInt32Array", "PackedInt64Array", "PackedStringArray", "PackedVector2Array",
    "PackedVector3Array", "PackedVector4Array", "Plane", "Projection", "Quaternion", "RID", "Rect2", "Rect2i",
    "Signal", "StringName", "Transform2D", "Transform3D", "Vector2", "Vector2i", "Vector3", "Vector3i", "Vector4",
    "Vector4i", "bytes_to_var", "var_to_bytes", "bytes2var", "var2bytes",
]

# Godot 4's Variant.Type numbers (dtls_var_type).
NIL, BOOL, INT, FLOAT, STRING = 0, 1, 2, 3, 4
STRING_NAME, NODE_PATH, RID_TYPE, OBJECT, CALLABLE_TYPE, SIGNAL, DICTIONARY, ARRAY = 21, 22, 23, 24, 25, 26, 27, 28
PACKED_BYTE_ARRAY = 29


# MARK: - Godot's types that Python lacks


class Vector2(NamedTuple):
    x: float
    y: float


class Vector2i(NamedTuple):
    x: int
    y: int


class Rect2(NamedTuple):
    x: float
    y: float
    width: float
    height: float


class Rect2i(NamedTuple):
    x: int
    y: int
    width: int
    height: int


class Vector3(NamedTuple):
    x: float
    y: float
    z: float


class Vector3i(NamedTuple):
    x: int
    y: int
    z: int


class Vector4(NamedTuple):
    x: float
    y: float
    z: float
    w: float


class Vector4i(NamedTuple):
    x: int
    y: int
    z: int
    w: int


class Plane(NamedTuple):
    x: float
    y: float
    z: float
    d: float


class Quaternion(NamedTuple):
    x: float
    y: float
    z: float
    w: float


class Color(NamedTuple):
    r: float
    g: float
    b: float
    a: float = 1.0


class _Numbers(tuple):
    """A fixed count of numbers (Transform2D, AABB, Basis, Transform3D, Projection)."""

    COUNT = 0

    def __new__(cls, *values: float) -> "_Numbers":
        if len(values) == 1 and not isinstance(values[0], (int, float)):
            values = tuple(values[0])
        if len(values) != cls.COUNT:
            raise ValueError(f"{cls.__name__} takes {cls.COUNT} numbers, not {len(values)}")
        return super().__new__(cls, (float(v) for v in values))

    def __repr__(self) -> str:
        return f"{type(self).__name__}{tuple(self)}"


class Transform2D(_Numbers):
    """x axis, y axis, origin (each x, y)."""

    COUNT = 6


class AABB(_Numbers):
    """position x, y, z, size x, y, z."""

    COUNT = 6


class Basis(_Numbers):
    """Nine numbers, row by row."""

    COUNT = 9


class Transform3D(_Numbers):
    """The basis row by row, then the origin."""

    COUNT = 12


class Projection(_Numbers):
    """Sixteen numbers, column by column."""

    COUNT = 16


class StringName(str):
    """Godot's StringName (Godot 4)."""


class NodePath(str):
    """Godot's NodePath, in its text form ("/root/Main:position")."""


class RID(int):
    """An RID's id."""


class ObjectID(int):
    """An Object sent by its instance ID (Godot's EncodedObjectAsID); 0 is a null object."""


class Signal(NamedTuple):
    name: str
    object_id: int


class _Callable:
    """Godot's Callable: it travels without data, so there is one value."""

    def __repr__(self) -> str:
        return "CALLABLE"


CALLABLE = _Callable()


class PackedInt32Array(list):
    pass


class PackedInt64Array(list):
    pass


class PackedFloat32Array(list):
    pass


class PackedFloat64Array(list):
    pass


class PackedStringArray(list):
    pass


class PackedVector2Array(list):
    pass


class PackedVector3Array(list):
    pass


class PackedColorArray(list):
    pass


class PackedVector4Array(list):
    pass


# Godot 4's number of each math type, and the reverse.
_MATH: Dict[type, int] = {
    Vector2: 5, Vector2i: 6, Rect2: 7, Rect2i: 8, Vector3: 9, Vector3i: 10, Vector4: 11, Vector4i: 12,
    Transform2D: 13, Plane: 14, Quaternion: 15, AABB: 16, Basis: 17, Transform3D: 18, Projection: 19, Color: 20,
}
_MATH_BY_NUMBER = {number: cls for cls, number in _MATH.items()}
_INTEGER_MATH = {Vector2i, Rect2i, Vector3i, Vector4i}
_PACKED: Dict[type, int] = {
    PackedInt32Array: 30, PackedInt64Array: 31, PackedFloat32Array: 32, PackedFloat64Array: 33,
    PackedStringArray: 34, PackedVector2Array: 35, PackedVector3Array: 36, PackedColorArray: 37,
    PackedVector4Array: 38,
}
_PACKED_BY_NUMBER = {number: cls for cls, number in _PACKED.items()}


# MARK: - Python value -> dtls_var


class _Var:
    """One owned dtls_var handle, freed on exit."""

    __slots__ = ("h",)

    def __init__(self, handle: Any) -> None:
        if not handle:
            raise ValueError(f"packetdtls: {lib.dtls_last_error_message().decode('utf-8', 'replace')}")
        self.h = handle

    def __enter__(self) -> Any:
        return self.h

    def __exit__(self, *exc_info: object) -> None:
        lib.dtls_var_free(self.h)


def _append(container: Any, item: Any, depth: int) -> None:
    with _Var(_to_var(item, depth + 1)) as element:
        code = lib.dtls_var_array_append(container, element)
    if code != Error.OK:
        raise TypeError(f"packetdtls: {lib.dtls_last_error_message().decode('utf-8', 'replace')}")


def _to_var(value: Any, depth: int = 0) -> Any:
    """A new dtls_var handle for `value` (the caller frees it). TypeError for what Godot cannot carry."""
    if depth > 256:
        raise ValueError("packetdtls: the value nests deeper than 256 levels")
    if value is None:
        return lib.dtls_var_new()
    if value is CALLABLE:
        return lib.dtls_var_new_of_type(CALLABLE_TYPE)
    if isinstance(value, bool):
        return lib.dtls_var_new_bool(value)
    if isinstance(value, (ObjectID, RID)):
        raise TypeError("packetdtls: ObjectID and RID values are received from Godot, not sent")
    if isinstance(value, int):
        if not -(2**63) <= value < 2**63:
            raise OverflowError(f"packetdtls: {value} does not fit in Godot's 64-bit int")
        return lib.dtls_var_new_int(value)
    if isinstance(value, float):
        return lib.dtls_var_new_float(value)
    if isinstance(value, (StringName, NodePath)):
        return _from_bytes_of(value)
    if isinstance(value, str):
        return lib.dtls_var_new_string(value.encode("utf-8", "surrogatepass"))
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
        return lib.dtls_var_new_bytes(data, len(data))
    number = _MATH.get(type(value))
    if number is not None:
        numbers = (ctypes.c_double * len(value))(*value)
        return lib.dtls_var_new_components(number, numbers, len(value))
    number = _PACKED.get(type(value))
    if number is not None:
        handle = lib.dtls_var_new_of_type(number)
        element_type = {35: Vector2, 36: Vector3, 37: Color, 38: Vector4}.get(number)
        try:
            for item in value:
                _append(handle, element_type(*item) if element_type else item, depth)
        except BaseException:
            lib.dtls_var_free(handle)
            raise
        return handle
    if isinstance(value, Signal):
        raise TypeError("packetdtls: Signal values are received from Godot, not sent")
    if isinstance(value, dict):
        handle = lib.dtls_var_new_dictionary()
        try:
            for key, item in value.items():
                with _Var(_to_var(key, depth + 1)) as k, _Var(_to_var(item, depth + 1)) as v:
                    lib.dtls_var_dict_set(handle, k, v)
        except BaseException:
            lib.dtls_var_free(handle)
            raise
        return handle
    if isinstance(value, (list, tuple)):
        handle = lib.dtls_var_new_array()
        try:
            for item in value:
                _append(handle, item, depth)
        except BaseException:
            lib.dtls_var_free(handle)
            raise
        return handle
    raise TypeError(f"packetdtls: a {type(value).__name__} has no Godot Variant type")


def _from_bytes_of(value: str) -> Any:
    """StringName and NodePath have no constructor of their own: they are decoded from their bytes."""
    data = value.encode("utf-8", "surrogatepass")
    header = STRING_NAME if isinstance(value, StringName) else NODE_PATH
    if header == STRING_NAME:
        padded = data + b"\0" * (-len(data) % 4)
        encoded = header.to_bytes(4, "little") + len(data).to_bytes(4, "little") + padded
    else:
        absolute = value.startswith("/")
        body = value[1:] if absolute else value
        head, *subs = body.split(":")
        names = [n for n in head.split("/") if n]
        subnames = [s for s in subs if s]
        encoded = header.to_bytes(4, "little") + (len(names) | 0x80000000).to_bytes(4, "little")
        encoded += len(subnames).to_bytes(4, "little") + int(absolute).to_bytes(4, "little")
        for part in names + subnames:
            raw = part.encode("utf-8", "surrogatepass")
            encoded += len(raw).to_bytes(4, "little") + raw + b"\0" * (-len(raw) % 4)
    return lib.dtls_var_decode(encoded, len(encoded), 4)


# MARK: - dtls_var -> Python value


def _child(handle: Any) -> Any:
    with _Var(handle) as h:
        return _from_var(h)


def _from_var(h: Any) -> Any:
    t = lib.dtls_var_get_type(h)
    if t == NIL:
        return None
    if t == BOOL:
        return bool(lib.dtls_var_get_bool(h))
    if t == INT:
        return int(lib.dtls_var_get_int(h))
    if t == FLOAT:
        return float(lib.dtls_var_get_float(h))
    if t == STRING:
        return read_string(lib.dtls_var_get_string, h)
    if t == STRING_NAME:
        return StringName(read_string(lib.dtls_var_get_string, h))
    if t == NODE_PATH:
        return NodePath(read_string(lib.dtls_var_get_string, h))
    if t == RID_TYPE:
        return RID(lib.dtls_var_get_int(h) & 0xFFFFFFFFFFFFFFFF)
    if t == OBJECT:
        return ObjectID(lib.dtls_var_get_int(h) & 0xFFFFFFFFFFFFFFFF)
    if t == CALLABLE_TYPE:
        return CALLABLE
    if t == SIGNAL:
        return Signal(read_string(lib.dtls_var_get_string, h), 0)
    cls = _MATH_BY_NUMBER.get(t)
    if cls is not None:
        count = lib.dtls_var_get_components(h, None, 0)
        numbers = (ctypes.c_double * count)()
        lib.dtls_var_get_components(h, numbers, count)
        if cls in _INTEGER_MATH:
            return cls(*(int(n) for n in numbers))
        return cls(*numbers)
    if t == DICTIONARY:
        result: Dict[Any, Any] = {}
        for index in range(lib.dtls_var_dict_size(h)):
            key = _child(lib.dtls_var_dict_key_at(h, index))
            if isinstance(key, list):
                key = tuple(key)  # an Array key: lists cannot be dict keys in Python
            elif isinstance(key, dict):
                key = tuple(key.items())
            result[key] = _child(lib.dtls_var_dict_value_at(h, index))
        return result
    if t == PACKED_BYTE_ARRAY:
        _, data = read_binary(lib.dtls_var_get_bytes, (h,), 256)
        return data
    items: List[Any] = [_child(lib.dtls_var_array_get(h, index)) for index in range(lib.dtls_var_array_size(h))]
    if t == ARRAY:
        return items
    cls = _PACKED_BY_NUMBER.get(t)
    if cls is not None:
        return cls(items)
    raise ValueError(f"packetdtls: unknown Variant type {t}")


# MARK: - Public helpers


def _major(godot_version: object) -> int:
    if isinstance(godot_version, bool) or godot_version not in (3, 4):
        raise ValueError(f"packetdtls: godot_version must be 3 or 4, not {godot_version!r}")
    return int(godot_version)  # type: ignore[arg-type]


def var_to_bytes(value: Any, godot_version: int = 4) -> bytes:
    """Godot's var_to_bytes(): the bytes put_var sends for `value`. ValueError when Godot cannot encode it."""
    major = _major(godot_version)
    with _Var(_to_var(value)) as h:
        code, data = read_binary(lambda *a: lib.dtls_var_encode(a[0], major, *a[1:]), (h,), 256)
    if code != Error.OK:
        raise ValueError(f"packetdtls: {lib.dtls_last_error_message().decode('utf-8', 'replace')}")
    return data


def bytes_to_var(data: bytes, godot_version: int = 4) -> Any:
    """Godot's bytes_to_var(). ValueError for bytes that are not a valid encoding."""
    major = _major(godot_version)
    raw = bytes(data)
    with _Var(lib.dtls_var_decode(raw, len(raw), major)) as h:
        return _from_var(h)


var2bytes = var_to_bytes  # Godot 3.x names
bytes2var = bytes_to_var


class VarPeer:
    """put_var / get_var / encode_buffer_max_size for PacketPeerUDP and PacketPeerDTLS (Godot's PacketPeer)."""

    _var_prefix = ""  # "dtls_udp" or "dtls_peer"

    def put_var(self, var: Any, full_objects: bool = False, godot_version: Optional[int] = None) -> Error:
        """Encodes `var` and sends it as one packet, with Godot `godot_version`'s type numbers (None: this
        peer's set_godot_version(), 4 unless set). TypeError for a value Godot cannot carry."""
        h = self._h  # type: ignore[attr-defined]
        if h is None:
            raise closed_error(self)
        major = 0 if godot_version is None else _major(godot_version)
        with _Var(_to_var(var)) as v:
            return to_error(getattr(lib, self._var_prefix + "_put_var")(h, v, bool(full_objects), major))

    def get_var(self, allow_objects: bool = False, godot_version: Optional[int] = None) -> Any:
        """The next packet, decoded (godot_version as in put_var); None when none is queued or it does
        not decode (as in Godot, where get_var returns null; last_error_message() says why). Unlike
        Godot, a packet must hold exactly one value: one encoded with the other Godot's numbers is
        refused (ERR_INVALID_DATA, the reason naming the version it reads as), never read as garbage."""
        h = self._h  # type: ignore[attr-defined]
        if h is None:
            raise closed_error(self)
        out = VarHandle()
        major = 0 if godot_version is None else _major(godot_version)
        code = getattr(lib, self._var_prefix + "_get_var")(h, bool(allow_objects), major, ctypes.byref(out))
        if code != Error.OK or not out:
            return None
        with _Var(out) as v:
            return _from_var(v)

    def set_godot_version(self, godot_version: int) -> Error:
        """Beyond Godot: the type numbers put_var / get_var use when given none, 3 or 4 (default 4).
        ValueError for another number."""
        major = _major(godot_version)
        setter = getattr(lib, self._var_prefix + "_set_godot_version")
        return to_error(setter(self._handle(), major))  # type: ignore[attr-defined]

    def get_godot_version(self) -> int:
        return int(getattr(lib, self._var_prefix + "_get_godot_version")(self._handle()))  # type: ignore[attr-defined]

    def set_encode_buffer_max_size(self, max_size: int) -> Error:
        if isinstance(max_size, bool) or not isinstance(max_size, int):
            raise TypeError(f"set_encode_buffer_max_size: max_size must be int, not {type(max_size).__name__}")
        size = max(min(max_size, 2**31 - 1), -(2**31))
        return to_error(getattr(lib, self._var_prefix + "_set_encode_buffer_max_size")(self._handle(), size))  # type: ignore[attr-defined]

    def get_encode_buffer_max_size(self) -> int:
        return int(getattr(lib, self._var_prefix + "_get_encode_buffer_max_size")(self._handle()))  # type: ignore[attr-defined]

    @property
    def encode_buffer_max_size(self) -> int:
        return self.get_encode_buffer_max_size()

    @encode_buffer_max_size.setter
    def encode_buffer_max_size(self, value: int) -> None:
        self.set_encode_buffer_max_size(value)

