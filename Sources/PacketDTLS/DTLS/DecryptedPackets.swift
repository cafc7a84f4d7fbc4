// DecryptedPackets.swift — the queue between poll() and get_packet().

/// Packets decrypted by poll() and not yet taken, oldest first. Bounded in bytes: when full,
/// poll() stops decrypting and the rest waits below (in the UDP queue or the kernel), so a
/// program that never reads cannot make the library grow without end, and nothing is dropped.
struct DecryptedPackets {
    static let byteLimit = 1 << 20

    private var packets: [[UInt8]] = []
    private var head = 0
    private(set) var byteCount = 0

    var count: Int { packets.count - head }
    var isEmpty: Bool { head == packets.count }
    var isFull: Bool { byteCount >= Self.byteLimit }
    var first: [UInt8]? { isEmpty ? nil : packets[head] }

    mutating func append(_ packet: [UInt8]) {
        packets.append(packet)
        byteCount += packet.count
    }

    mutating func removeFirst() -> [UInt8] {
        let packet = packets[head]
        packets[head] = []
        head += 1
        byteCount -= packet.count
        // Compact now and then so the array does not keep a long dead prefix.
        if head == packets.count {
            packets.removeAll(keepingCapacity: packets.count <= 64)
            head = 0
        } else if head >= 64, head * 2 >= packets.count {
            packets.removeFirst(head)
            head = 0
        }
        return packet
    }

    mutating func removeAll() {
        packets.removeAll()
        head = 0
        byteCount = 0
    }
}
