"""python_calls.py — what each hot call of the Python binding costs, against bare ctypes calls.

    python3 Tests/bench/python_calls.py [N SIZE] cert.pem key.pem

Sets up one connected DTLS session (client and server end on two connected PacketPeerUDPs, as
python_echo.py) and times, N times each (default 20000, 64 B packets), every call of the echo loop:
through the binding (``PacketPeerDTLS.poll`` ...), and the same C function called bare through ctypes,
with the binding's declared argtypes (``lib.dtls_peer_*``) and without argtypes (a function object of
its own, the handle and preallocated ctypes arguments passed in). put_packet and get_packet are timed
inside a real echo (put on the client, poll the server end until the packet is there, get it). Every
call is timed on its own with time.perf_counter_ns; the cost of the two timer reads is measured and
taken off. Five rounds; prints the median of each, in ns, and binding minus the argtypes-free call.
Runs against any version of bindings/python (it uses only ``lib`` and ``_cdll`` of packetdtls._library).
The machine is shared: run it a few times and compare.
"""

from __future__ import annotations

import ctypes
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bindings" / "python"))

from packetdtls._library import _cdll, lib  # noqa: E402
from python_echo import connect  # noqa: E402  (this folder: the same connected session as the echo)

now = time.perf_counter_ns


def timer_cost(n: int) -> float:
    total = 0
    for _ in range(n):
        t0 = now()
        t1 = now()
        total += t1 - t0
    return total / n


def loop(n: int, call) -> float:
    """Mean ns of `call()` over n calls, each timed on its own."""
    total = 0
    for _ in range(n):
        t0 = now()
        call()
        t1 = now()
        total += t1 - t0
    return total / n


def echo(n: int, client, peer, data: bytes, put, get) -> tuple:
    """Mean ns of put(data) on the client and of get() on the server end, in n one-way echoes."""
    put_total = get_total = 0
    for _ in range(n):
        t0 = now()
        put(data)
        t1 = now()
        while True:
            peer.poll()
            if peer.get_available_packet_count():
                break
        t2 = now()
        got = get()
        t3 = now()
        put_total += t1 - t0
        get_total += t3 - t2
        if len(got) != len(data):
            sys.exit("python_calls: short packet")
    return put_total / n, get_total / n


def unchecked(name: str):
    function = _cdll[name]  # a function object of its own, without argtypes
    function.restype = ctypes.c_int
    return function


def main(n: int, size: int, cert_path: str, key_path: str) -> None:
    client, peer, _udp_server, keep = connect(cert_path, key_path)
    ph, ch = peer._h, client._h
    buf = ctypes.create_string_buffer(max(size, 2048))
    cap, cap_arg = len(buf), ctypes.c_size_t(len(buf))
    view = memoryview(buf).cast("B")
    out_len = ctypes.c_size_t(0)
    out_ptr = ctypes.pointer(out_len)
    byref, size_t = ctypes.byref, ctypes.c_size_t
    declared = {name: getattr(lib, "dtls_peer_" + name) for name in ("poll", "get_available_packet_count", "get_status",
                                                                     "put_packet", "get_packet")}
    bare = {name: unchecked("dtls_peer_" + name) for name in declared}

    def declared_get() -> bytes:
        declared["get_packet"](ph, buf, cap, byref(out_len))
        return view[: out_len.value].tobytes()

    bare_get_packet = bare["get_packet"]

    def bare_get() -> bytes:
        bare_get_packet(ph, buf, cap_arg, out_ptr)
        return view[: out_len.value].tobytes()

    data = b"x" * size
    rounds = []
    for _ in range(5):  # five rounds, the median of each figure
        t = timer_cost(n)
        r = {}
        for name, method in (("poll", peer.poll), ("get_available_packet_count", peer.get_available_packet_count),
                             ("get_status", peer.get_status)):
            d, b = declared[name], bare[name]
            r[name] = (loop(n, method) - t, loop(n, lambda: d(ph)) - t, loop(n, lambda: b(ph)) - t)
        binding = echo(n, client, peer, data, client.put_packet, peer.get_packet)
        with_argtypes = echo(n, client, peer, data, lambda d: declared["put_packet"](ch, d, len(d)), declared_get)
        without = echo(n, client, peer, data, lambda d: bare["put_packet"](ch, d, size_t(len(d))), bare_get)
        r["put_packet"] = (binding[0] - t, with_argtypes[0] - t, without[0] - t)
        r["get_packet"] = (binding[1] - t, with_argtypes[1] - t, without[1] - t)
        r["(timer pair)"] = (t, t, t)
        rounds.append(r)
    print(f"{'call (' + str(size) + ' B packets), ns':<32} {'binding':>8} {'argtypes':>8} {'none':>8} {'extra':>8}")
    for name in rounds[0]:
        binding, with_argtypes, without = (statistics.median(r[name][i] for r in rounds) for i in range(3))
        print(f"{name:<32} {binding:>8.0f} {with_argtypes:>8.0f} {without:>8.0f} {binding - without:>8.0f}")
    del keep


if __name__ == "__main__":
    args = sys.argv[1:]
    if len(args) == 2:
        args = ["20000", "64"] + args
    if len(args) != 4:
        sys.exit("usage: python_calls.py [N SIZE] cert.pem key.pem")
    main(int(args[0]), int(args[1]), args[2], args[3])
