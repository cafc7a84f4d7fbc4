// QueueBudget.swift — the receive-queue bytes all peers of one UDPServer may hold together.
//
// Each peer's queue is bounded on its own (UDPServer.peerQueueLimit); the budget bounds their sum
// (UDPServer.totalQueueLimit), so many clients bursting at once cannot make a server hold more than
// its owner allowed. Peers take from it as they queue and give back as their packets are read, under
// their own locks: hence atomics, not the server's lock.

import Synchronization

final class QueueBudget: Sendable {
    private let used = Atomic<Int>(0)
    private let limit: Atomic<Int>

    init(limit: Int) {
        self.limit = Atomic(limit)
    }

    var bytesUsed: Int { used.load(ordering: .relaxed) }
    var byteLimit: Int { limit.load(ordering: .relaxed) }

    func setLimit(_ bytes: Int) {
        limit.store(bytes, ordering: .relaxed)
    }

    /// True when `bytes` more fit now. A race between two peers may overshoot by one datagram each,
    /// which the per-peer limits bound.
    func hasRoom(for bytes: Int) -> Bool {
        used.load(ordering: .relaxed) + bytes <= limit.load(ordering: .relaxed)
    }

    func take(_ bytes: Int) {
        used.add(bytes, ordering: .relaxed)
    }

    func giveBack(_ bytes: Int) {
        used.subtract(bytes, ordering: .relaxed)
    }
}
