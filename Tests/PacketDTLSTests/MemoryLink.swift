// MemoryLink.swift — two DTLS ends joined in memory, pumped by hand: no sockets, deterministic.

import PacketDTLS
import Foundation

/// One end of an in-memory datagram link. What one end sends, the other receives, in order.
final class MemoryLink: DatagramTransport, @unchecked Sendable {
    private let lock = NSLock()
    private var inbound: [[UInt8]] = []
    private weak var other: MemoryLink?
    let address: String
    private(set) var sent = 0
    private(set) var endedSessions = 0
    /// When set, datagrams this end sends are passed through it (drop/alter them for tests).
    var outboundFilter: (([UInt8]) -> [UInt8]?)?

    init(address: String) { self.address = address }

    static func pair() -> (client: MemoryLink, server: MemoryLink) {
        let client = MemoryLink(address: "127.0.0.1")
        let server = MemoryLink(address: "127.0.0.2")
        client.other = server
        server.other = client
        return (client, server)
    }

    /// When set, the link reports every datagram it queues to its DTLS peer, as a UDPServer's peer
    /// does: an idle peer's poll then returns from its own atomics until something arrives.
    var reportsArrivals = false
    private weak var observer: DatagramArrivalObserver?

    /// Puts a datagram straight into this end's inbound queue, as if the peer had sent it.
    func inject(_ datagram: [UInt8]) {
        lock.lock(); inbound.append(datagram); observer?.datagramArrived(); lock.unlock()
    }

    func attachDTLSPeer(_ peer: DatagramArrivalObserver) -> DTLSAttachment {
        guard reportsArrivals else { return .silent }
        lock.lock(); defer { lock.unlock() }
        if let observer, observer !== peer { return .inUse }
        observer = peer
        return .reportsArrivals
    }

    func detachDTLSPeer(_ peer: DatagramArrivalObserver) {
        lock.lock(); defer { lock.unlock() }
        if observer === peer { observer = nil }
    }

    var pending: Int { lock.lock(); defer { lock.unlock() }; return inbound.count }

    func receiveDatagram(into buffer: UnsafeMutableRawBufferPointer) -> DatagramReceive {
        lock.lock()
        defer { lock.unlock() }
        guard !inbound.isEmpty else { return .empty }
        let datagram = inbound.removeFirst()
        guard datagram.count <= buffer.count else { return .oversized(datagram.count) }
        datagram.withUnsafeBytes { buffer.copyMemory(from: $0) }
        return .datagram(datagram.count)
    }

    func sendDatagram(_ bytes: UnsafeRawBufferPointer) -> DatagramSend {
        var datagram = Array(bytes)
        if let outboundFilter {
            guard let altered = outboundFilter(datagram) else { return .sent }
            datagram = altered
        }
        lock.lock(); sent += 1; lock.unlock()
        other?.inject(datagram)
        return .sent
    }

    var isConnectedToPeer: Bool { true }
    var remoteIdentity: (transportID: [UInt8], host: String)? {
        (Array((other?.address ?? "?").utf8) + [0x12, 0x34], other?.address ?? "?")
    }
    func sessionEnded() { lock.lock(); endedSessions += 1; lock.unlock() }
    /// When set, the link tells an empty inbound queue (a hibernated session then sleeps on until a
    /// datagram comes); otherwise it says "maybe", as a transport that cannot tell does.
    var tellsWhenEmpty = false
    var mayHaveDatagram: Bool { !tellsWhenEmpty || pending > 0 }
}

/// Pumps a client and a server-side peer until both are past the handshake (or a bound passes).
enum Pump {
    /// Runs the seeds' accept loop by hand: the first take_connection answers with a cookie
    /// request, the second one handshakes. Returns the server-side peer, or nil if none started.
    static func accept(_ server: DTLSServer, _ link: MemoryLink, client: PacketPeerDTLS) -> PacketPeerDTLS? {
        for _ in 0..<4 {
            guard link.pending > 0 else { client.poll(); continue }
            if let peer = server.takeConnection(link), peer.getStatus() == .handshaking { return peer }
            client.poll()
        }
        return nil
    }

    /// Polls both ends until neither is handshaking, at most `rounds` times.
    static func handshake(_ a: PacketPeerDTLS, _ b: PacketPeerDTLS, rounds: Int = 200) {
        for _ in 0..<rounds where a.getStatus() == .handshaking || b.getStatus() == .handshaking {
            a.poll()
            b.poll()
        }
    }
}
