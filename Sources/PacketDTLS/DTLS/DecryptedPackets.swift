// DecryptedPackets.swift — the queue between poll() and get_packet().

/// Packets decrypted by poll() and not yet taken, oldest first. Bounded in bytes: when full,
/// poll() stops decrypting and the rest waits below (in the UDP queue or the kernel), so a
/// program that never reads cannot make the library grow without end, and nothing is dropped.
struct DecryptedPackets {
    static let byteLimit = 1 << 20

    private var packets = FIFOQueue<[UInt8]>()
    private(set) var byteCount = 0

    var count: Int { packets.count }
    var isEmpty: Bool { packets.isEmpty }
    var isFull: Bool { byteCount >= Self.byteLimit }
    var first: [UInt8]? { packets.first }

    mutating func append(_ packet: [UInt8]) {
        packets.append(packet)
        byteCount += packet.count
    }

    /// The oldest packet; [] when none is queued.
    mutating func removeFirst() -> [UInt8] {
        guard let packet = packets.removeFirst() else { return [] }
        byteCount -= packet.count
        return packet
    }

    mutating func removeAll() {
        packets.removeAll()
        byteCount = 0
    }
}
