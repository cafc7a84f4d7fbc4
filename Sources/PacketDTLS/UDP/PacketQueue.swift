// PacketQueue.swift — the datagrams a UDP peer has received but not yet handed out.
//
// Bounded in bytes (Godot's recv_buf_size): each packet costs its payload plus 24 bytes, the
// address, port and length Godot's ring buffer keeps beside it, so a flood of empty datagrams is
// bounded too. When the next datagram does not fit, the owner stops reading and leaves it where
// it is (in the kernel; a shared server socket keeps it for the next poll, see UDPServer). An
// empty queue takes any one datagram, however large, so a small limit never wedges a peer. An idle
// queue allocates nothing.
// A queue of a UDPServer's peer also draws on the server's shared QueueBudget.

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
    /// The server-wide bound this queue also counts against; nil for a peer with its own socket.
    let budget: QueueBudget?
    /// What one packet costs beyond its payload.
    static let bookkeepingBytes = 24

    init(byteLimit: Int, budget: QueueBudget? = nil) {
        self.byteLimit = byteLimit
        self.budget = budget
    }

    var count: Int { packets.count }
    var isEmpty: Bool { packets.isEmpty }

    /// True when a datagram of `size` bytes may be queued now.
    func hasRoom(for size: Int) -> Bool {
        let cost = size + Self.bookkeepingBytes
        return isEmpty || (byteCount + cost <= byteLimit && budget?.hasRoom(for: cost) != false)
    }

    /// The oldest packet, left in place.
    var first: Packet? { packets.first }

    /// Appends a datagram of `size` bytes from `source` if hasRoom(for:) allows, its array made by `make`
    /// only then (UDPServer's deliver: no array for a datagram that must wait); false (nothing queued)
    /// when not. One mutating call: asking hasRoom on a queue held in a class copied the queue (a retain
    /// and release) each time.
    @inline(__always)
    mutating func appendIfRoom(size: Int, from source: SocketAddress, _ make: () -> [UInt8]) -> Bool {
        guard hasRoom(for: size) else { return false }
        append(Packet(bytes: make(), source: source))
        return true
    }

    mutating func append(_ packet: consuming Packet) {
        let cost = packet.bytes.count + Self.bookkeepingBytes
        byteCount += cost
        budget?.take(cost)
        packets.append(packet)
    }

    /// Puts a packet taken out back in front (it may exceed the byte limit by that one packet).
    mutating func prepend(_ packet: Packet) {
        let cost = packet.bytes.count + Self.bookkeepingBytes
        byteCount += cost
        budget?.take(cost)
        packets.prepend(packet)
    }

    /// Takes the oldest packet out.
    mutating func removeFirst() -> Packet? {
        guard let packet = packets.removeFirst() else { return nil }
        let cost = packet.bytes.count + Self.bookkeepingBytes
        byteCount -= cost
        budget?.giveBack(cost)
        return packet
    }

    mutating func removeAll() {
        budget?.giveBack(byteCount)
        packets.removeAll()
        byteCount = 0
    }
}
