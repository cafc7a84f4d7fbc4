// FuzzLink.swift — an in-memory datagram link for the fuzz targets: no sockets, one thread.

import PacketDTLS

/// One end of an in-memory link. What one end sends, the other receives, in order. The fuzz
/// targets run on one thread and the library starts none, so no lock is needed.
final class FuzzLink: DatagramTransport, @unchecked Sendable {
    private var inbound: [[UInt8]] = []
    private weak var other: FuzzLink?
    private let address: String
    /// Every datagram this end sent, for the seed maker to capture.
    private(set) var sentLog: [[UInt8]] = []

    init(address: String) { self.address = address }

    static func pair() -> (client: FuzzLink, server: FuzzLink) {
        let client = FuzzLink(address: "127.0.0.1")
        let server = FuzzLink(address: "127.0.0.2")
        client.other = server
        server.other = client
        return (client, server)
    }

    /// Queues a datagram at this end, as if the peer had sent it.
    func inject(_ datagram: [UInt8]) { inbound.append(datagram) }

    var pending: Int { inbound.count }

    /// Drops what waits here (the real peer's datagrams, when hostile ones replace them).
    func discardPending() { inbound.removeAll() }

    func receiveDatagram(into buffer: UnsafeMutableRawBufferPointer) -> DatagramReceive {
        guard !inbound.isEmpty else { return .empty }
        let datagram = inbound.removeFirst()
        guard datagram.count <= buffer.count else { return .oversized(datagram.count) }
        datagram.withUnsafeBytes { buffer.copyMemory(from: $0) }
        return .datagram(datagram.count)
    }

    func sendDatagram(_ bytes: UnsafeRawBufferPointer) -> DatagramSend {
        let datagram = Array(bytes)
        sentLog.append(datagram)
        other?.inject(datagram)
        return .sent
    }

    var isConnectedToPeer: Bool { true }
    var remoteIdentity: (transportID: [UInt8], host: String)? {
        (Array((other?.address ?? "?").utf8) + [0x12, 0x34], other?.address ?? "?")
    }
    func sessionEnded() {}
}
