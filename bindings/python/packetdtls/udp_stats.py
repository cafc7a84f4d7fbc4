# packetdtls.udp_stats — what a PacketPeerUDP or UDPServer queued and dropped (beyond Godot).
"""``UDPStats``: the figures of ``struct dtls_udp_stats``; nothing the library drops goes uncounted."""

from __future__ import annotations

import ctypes
from typing import Any, NamedTuple

from ._errors import Error
from ._library import dtls_udp_stats

__all__ = ["UDPStats"]


class UDPStats(NamedTuple):
    """Traffic and loss figures of a UDP peer or server (``struct dtls_udp_stats``)."""

    datagrams_received: int  #: queued for reading (a server: routed to a peer)
    datagrams_dropped: int  #: read and dropped by the library (a full queue, a full pending queue, a front door's unanswered cookie-less hellos)
    datagrams_dropped_by_kernel: int  #: a server's socket buffer overflowed (read from the socket when asked)
    packets_queued: int  #: queued now, not yet read (a server: by all its peers and itself)
    bytes_queued: int  #: the bytes those take, 24 of bookkeeping each included
    datagrams_sent_batched: int = 0  #: a server with send batching: sent by its flushes
    datagrams_send_failed: int = 0  #: a server with send batching: refused by the kernel (dropped, counted)
    datagrams_waiting_to_send: int = 0  #: a server with send batching: queued for the next flush
    send_batch_calls: int = 0  #: a server with send batching: sendmmsg calls made


def read_udp_stats(function: Any, handle: Any) -> UDPStats:
    """Calls dtls_udp_get_stats or dtls_udp_server_get_stats; all zero on failure."""
    stats = dtls_udp_stats()
    if function(handle, ctypes.byref(stats), ctypes.sizeof(stats)) != Error.OK:
        return UDPStats(*([0] * len(UDPStats._fields)))
    return UDPStats(*(int(getattr(stats, name)) for name in UDPStats._fields))
