# packetdtls._common — what every class module shares: the handle owner base class, argument
# checks (TypeError for a wrong type, before C is called), and the two C result conventions
# (snprintf-style strings, (buf, cap, *out_len) binary).
"""Internal helpers shared by the class modules."""

from __future__ import annotations

import ctypes
import io
import math
import operator
import os
import time
import weakref
from typing import Any, Callable, Optional, Tuple, Type, TypeVar, Union

from ._errors import Error
from ._library import last_error_message, lib, set_binding_error

_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1
_U32_MAX = 2**32 - 1

# Bytes-like input as C sees it: (pointer argument, length, object to keep alive during the call).
CData = Tuple[Any, int, Any]
PathLike = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]

T = TypeVar("T", bound="HandleOwner")
_ERR_TIMEOUT = int(Error.ERR_TIMEOUT)
_ERR_PARAMETER_RANGE_ERROR = int(Error.ERR_PARAMETER_RANGE_ERROR)


class HandleOwner:
    """Owns one C handle; frees it exactly once, on close() or when garbage collected.

    ``_h`` is the handle while open and None once closed, so the per-packet paths test one
    attribute. ``_as_parameter_`` lets an instance stand for its handle in a ctypes call, and
    raises ValueError once closed (llvmlite's "poisoned" closed objects).
    """

    #: The name of the class's C free function ("dtls_udp_free"); set by each subclass.
    _free_name: str = ""

    def __init__(self, handle: Any) -> None:
        if not handle:
            raise MemoryError(f"the library could not create a {type(self).__name__}")
        self._h: Any = handle
        self._finalizer = weakref.finalize(self, getattr(lib, self._free_name), handle)

    @classmethod
    def _wrap(cls: Type[T], handle: Any) -> Optional[T]:
        """A new instance owning `handle` (a new reference from a C factory), or None for NULL."""
        if not handle:
            return None
        self = cls.__new__(cls)
        HandleOwner.__init__(self, handle)
        self._after_wrap()
        return self

    def _after_wrap(self) -> None:
        """Sets up the Python-side state that __init__ would (instances made by _wrap skip __init__)."""

    @property
    def _as_parameter_(self) -> Any:
        h = self._h
        if h is None:
            raise closed_error(self)
        return h

    def _handle(self) -> Any:
        h = self._h
        if h is None:
            raise closed_error(self)
        return h

    @property
    def closed(self) -> bool:
        """True once close() was called (the C handle is gone)."""
        return self._h is None

    def release(self) -> None:
        """Releases the C handle now (it is also released when the object is garbage collected).
        Afterwards the object raises ValueError when used. Calling it again does nothing."""
        self._h = None
        self._finalizer()

    def close(self) -> None:
        """Releases the C handle now; the same as release()."""
        self.release()

    def __enter__(self: T) -> T:
        self._handle()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()

    def __repr__(self) -> str:
        state = "closed" if self._h is None else f"handle 0x{ctypes.cast(self._h, ctypes.c_void_p).value or 0:x}"
        return f"<{type(self).__module__.split('.')[0]}.{type(self).__name__} {state}>"


def closed_error(obj: object) -> ValueError:
    return ValueError(f"I/O operation on a closed {type(obj).__name__}")


# MARK: - Argument checks (wrong type -> TypeError before any C call)


def type_error(function: str, parameter: str, expected: str, value: object) -> TypeError:
    return TypeError(f"{function}() argument '{parameter}' must be {expected}, not {type(value).__name__}")


def c_int(function: str, parameter: str, value: object) -> int:
    """An int argument for a C `int`: bools and non-integers are TypeError; values beyond the C
    range are clamped (still out of every valid range), so the library reports them."""
    if isinstance(value, bool):
        raise type_error(function, parameter, "int", value)
    try:
        number = operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise type_error(function, parameter, "int", value) from None
    return _INT_MIN if number < _INT_MIN else _INT_MAX if number > _INT_MAX else number


def c_u32(function: str, parameter: str, value: object) -> Optional[int]:
    """An int for a C `uint32_t`, or None when it has no uint32 value (the caller returns
    ERR_INVALID_PARAMETER, as the library would for a value outside its range)."""
    number = c_int_unbounded(function, parameter, value)
    if 0 <= number <= _U32_MAX:
        return number
    set_binding_error(f"{function}: {parameter} {number} is outside 0..{_U32_MAX}")
    return None


def c_int_unbounded(function: str, parameter: str, value: object) -> int:
    if isinstance(value, bool):
        raise type_error(function, parameter, "int", value)
    try:
        return operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise type_error(function, parameter, "int", value) from None


def c_bool(function: str, parameter: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise type_error(function, parameter, "bool", value)
    return value


def c_str(function: str, parameter: str, value: object) -> bytes:
    """A str argument as NUL-terminated UTF-8. An embedded NUL is ValueError, as in os and open()."""
    if not isinstance(value, str):
        raise type_error(function, parameter, "str", value)
    encoded = value.encode("utf-8")
    if b"\0" in encoded:
        raise ValueError(f"{function}() argument '{parameter}' contains an embedded null character")
    return encoded


def c_path(function: str, parameter: str, value: object) -> bytes:
    """A file path: str, bytes or os.PathLike, in the file system encoding."""
    if not isinstance(value, (str, bytes, os.PathLike)):
        raise type_error(function, parameter, "str, bytes or os.PathLike", value)
    encoded = os.fsencode(value)
    if b"\0" in encoded:
        raise ValueError(f"{function}() argument '{parameter}' contains an embedded null byte")
    return encoded


def c_data(function: str, parameter: str, value: object) -> CData:
    """Bytes-like input without a copy where ctypes allows it (bytes, writable contiguous buffers)."""
    if type(value) is bytes:
        return value, len(value), value
    if isinstance(value, str):
        raise TypeError(f"{function}() argument '{parameter}' must be bytes-like, not str (use .encode())")
    try:
        view = memoryview(value)  # type: ignore[arg-type]
    except TypeError:
        raise type_error(function, parameter, "a bytes-like object", value) from None
    if view.readonly or not view.c_contiguous:
        data = view.tobytes()
        return data, len(data), data
    size = view.nbytes
    flat = view if view.format == "B" and view.ndim == 1 else view.cast("B")
    array = (ctypes.c_char * size).from_buffer(flat)
    return array, size, (array, view)


def instance(function: str, parameter: str, value: object, cls: type, allow_none: bool = False) -> Any:
    """The handle of `value`, which must be an open `cls` (or None when allowed: then NULL)."""
    if value is None:
        if allow_none:
            return None
        raise type_error(function, parameter, cls.__name__, value)
    if not isinstance(value, cls):
        raise type_error(function, parameter, cls.__name__ + (" or None" if allow_none else ""), value)
    h = value._h  # type: ignore[attr-defined]
    if h is None:
        raise ValueError(f"{function}() argument '{parameter}' is a closed {cls.__name__}")
    return h


# MARK: - C results


def read_string(function: Callable[..., int], *arguments: Any) -> str:
    """Calls an snprintf-style function (…, buf, cap) -> length: once to size, once to fill."""
    needed = function(*arguments, None, 0)
    for _ in range(4):  # the value may grow between the calls (another thread); retry a few times
        buf = ctypes.create_string_buffer(needed + 1)
        length = function(*arguments, buf, needed + 1)
        if length <= needed:
            return buf.raw[:length].decode("utf-8", "replace")
        needed = length
    return buf.raw[:needed].decode("utf-8", "replace")


def read_binary(function: Callable[..., int], arguments: Tuple[Any, ...], first_cap: int) -> Tuple[int, bytes]:
    """Calls a (…, buf, cap, *out_len) function, growing the buffer when it says
    ERR_PARAMETER_RANGE_ERROR; returns (error code, bytes written)."""
    out_len = ctypes.c_size_t(0)
    cap = max(first_cap, 1)
    for _ in range(4):
        buf = ctypes.create_string_buffer(cap)
        code = function(*arguments, buf, cap, ctypes.byref(out_len))
        if code == Error.ERR_PARAMETER_RANGE_ERROR and out_len.value > cap:
            cap = out_len.value
            continue
        if code == Error.OK:
            return code, buf.raw[: out_len.value]
        return code, b""
    return code, b""


class PacketBuffer:
    """A reusable receive buffer: get_packet reads into it without allocating and copies out exactly
    the packet. It grows when a bigger packet arrives (the library says how big).

    Each packet peer keeps its spare buffers in a list (``_packets``, one buffer to begin with):
    get_packet pops one and appends it back, both atomic, so a second thread reading the same peer at
    once takes a new buffer instead of sharing one. The C arguments are made once: ``cap_arg`` is a
    c_size_t and ``out_ptr`` points at ``out_len`` (the hot functions have no argtypes, _library)."""

    __slots__ = ("buf", "cap", "cap_arg", "view", "out_len", "out_ptr")

    def __init__(self, cap: int = 2048) -> None:
        self.buf = ctypes.create_string_buffer(cap)
        self.cap = cap
        self.cap_arg = ctypes.c_size_t(cap)
        self.view = memoryview(self.buf).cast("B")
        self.out_len = ctypes.c_size_t(0)
        self.out_ptr = ctypes.pointer(self.out_len)

    def grow(self, needed: int) -> None:
        cap = max(needed, self.cap * 2)
        self.view.release()
        self.buf = ctypes.create_string_buffer(cap)
        self.cap = cap
        self.cap_arg = ctypes.c_size_t(cap)
        self.view = memoryview(self.buf).cast("B")

    def after(self, code: int, function: Callable[..., int], handle: Any) -> bytes:
        """get_packet's slow path, after `function` (a hot ``dtls_*_get_packet``) returned `code`
        other than OK: on ERR_PARAMETER_RANGE_ERROR the packet is still queued and out_len is its
        size, so grow and read it; otherwise (nothing queued, an error) b""."""
        if code == _ERR_PARAMETER_RANGE_ERROR:
            self.grow(self.out_len.value)
            if function(handle, self.buf, self.cap_arg, self.out_ptr) == 0:
                return self.view[: self.out_len.value].tobytes()
        return b""


def read_packet(spare: list, function: Callable[..., int], handle: Any) -> bytes:
    """The next packet through `function` (a hot ``dtls_*_get_packet``) into one of the peer's spare
    PacketBuffers (see there), exactly its bytes; b"" when none (the peer's get_packet_error says why)."""
    try:
        packets = spare.pop()
    except IndexError:  # another thread is inside get_packet of this peer: a buffer of its own
        packets = PacketBuffer()
    code = function(handle, packets.buf, packets.cap_arg, packets.out_ptr)
    data = packets.view[: packets.out_len.value].tobytes() if code == 0 else packets.after(code, function, handle)
    spare.append(packets)
    return data


# MARK: - Blocking waits that a signal interrupts

#: The longest one blocking C call lasts inside wait(): Python runs its signal handlers (Ctrl-C's
#: KeyboardInterrupt) only between calls, so a wait is made of slices this long.
WAIT_SLICE_MS = 100


def wait_in_slices(wait_timeout: Callable[[Any, int], int], handle: Any, milliseconds: Optional[int]) -> int:
    """Calls ``wait_timeout(handle, ms)`` in slices of at most WAIT_SLICE_MS until it returns anything
    but ERR_TIMEOUT or `milliseconds` (None = for ever) have passed; returns the last dtls_error.
    Between slices Python handles signals, so Ctrl-C raises KeyboardInterrupt at once."""
    deadline = None if milliseconds is None else time.monotonic() + milliseconds / 1000
    while True:
        if deadline is None:
            slice_ms = WAIT_SLICE_MS
        else:
            slice_ms = max(0, min(WAIT_SLICE_MS, math.ceil((deadline - time.monotonic()) * 1000)))
        code = int(wait_timeout(handle, slice_ms))
        if code != _ERR_TIMEOUT or (deadline is not None and time.monotonic() >= deadline):
            return code


def descriptor(get_fd: Callable[[Any], int], handle: Any) -> int:
    """The socket descriptor from ``dtls_udp_get_fd``/``dtls_udp_server_get_fd``; with no socket,
    io.UnsupportedOperation (an OSError and a ValueError, as io's fileno() raises) with the reason."""
    fd = int(get_fd(handle))
    if fd < 0:
        raise io.UnsupportedOperation(last_error_message() or "no socket")
    return fd
