// PacketQueue.swift — the datagrams a UDP peer has received but not yet handed out.
//
// Bounded in bytes (Godot's recv_buf_size): each packet costs its payload plus 24 bytes, the
// address, port and length Godot's ring buffer keeps beside it, so a flood of empty datagrams is
// bounded too. When the next datagram does not fit, the owner stops reading and leaves it where
// it is (in the kernel; a shared server socket drops and counts it). An empty queue takes any one
// datagram, however large, so a small limit never wedges a peer. An idle queue allocates nothing.

struct PacketQueue {
    struct Packet {
        var bytes: [UInt8]
        var source: SocketAddress
    }

    private var packets = FIFOQueue<Packet>()
    /// Bytes queued now, bookkeeping included.
    private(set) var byteCount = 0
    /// The most bytes the queue holds, bookkeeping included (see the file comment for the one exception).
    var byteLimit: Int
    /// What one packet costs beyond its payload.
    static let bookkeepingBytes = 24

    init(byteLimit: Int) {
        self.byteLimit = byteLimit
    }

    var count: Int { packets.count }
    var isEmpty: Bool { packets.isEmpty }

    /// True when a datagram of `size` bytes may be queued now.
    func hasRoom(for size: Int) -> Bool {
        isEmpty || byteCount + size + Self.bookkeepingBytes <= byteLimit
    }

    /// The oldest packet, left in place.
    var first: Packet? { packets.first }

    mutating func append(_ packet: Packet) {
        byteCount += packet.bytes.count + Self.bookkeepingBytes
        packets.append(packet)
    }

    /// Takes the oldest packet out.
    mutating func removeFirst() -> Packet? {
        guard let packet = packets.removeFirst() else { return nil }
        byteCount -= packet.bytes.count + Self.bookkeepingBytes
        return packet
    }

    mutating func removeAll() {
        packets.removeAll()
        byteCount = 0
    }
}
