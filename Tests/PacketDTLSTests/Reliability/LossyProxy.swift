// LossyProxy.swift — a seeded datagram proxy between a DTLS client and server on 127.0.0.1.
//
// After mbedTLS's programs/test/udp_proxy.c and pion's e2e lossy tests: the client connects to
// the proxy's front socket, the proxy forwards to the server from its back socket, and in each
// direction it drops, duplicates, delays (and so reorders), truncates and corrupts datagrams, each
// with its own percentage, from one seed, so a failing trial can be replayed. It is pumped by
// hand from the test's polling loop: no threads, no sleeping.

import XCTest
@testable import PacketDTLS

/// What the proxy does to datagrams going one way; every figure is a percentage (0...100).
struct Faults: CustomStringConvertible {
    var drop = 0.0
    var duplicate = 0.0
    /// Held back for 1...maxDelayMs before forwarding, so later datagrams overtake it.
    var delay = 0.0
    var maxDelayMs = 20
    /// Cut to at most `truncateTo` bytes (0 = a random length shorter than the datagram).
    var truncate = 0.0
    var truncateTo = 0
    /// 1 to 3 bits flipped at random positions.
    var corrupt = 0.0

    static let none = Faults()
    static func loss(_ percent: Double) -> Faults { Faults(drop: percent) }

    var description: String {
        "drop \(drop)% dup \(duplicate)% delay \(delay)% (<=\(maxDelayMs) ms) truncate \(truncate)% corrupt \(corrupt)%"
    }
}

final class LossyProxy {
    enum Direction: Int { case toServer = 0, toClient = 1 }

    struct Counters {
        var received = 0, forwarded = 0, dropped = 0, duplicated = 0, delayed = 0, truncated = 0, corrupted = 0
        /// Datagrams truncated or corrupted (or both): each counted once.
        var altered = 0
        /// Altered datagrams that carried application data (record type 23): each was one packet. A
        /// late handshake retransmission or a keepalive altered on the way carries none.
        var alteredApplicationData = 0
        var injected = 0
    }

    /// The socket the client connects to.
    let front = PacketPeerUDP()
    /// The socket connected to the server: to the server, this is the client's address.
    let back = PacketPeerUDP()
    var faults: [Faults]
    private(set) var counters = [Counters(), Counters()]
    /// The last datagrams seen each way (before faults), for replay and mutation by fuzzers.
    private(set) var seen: [[[UInt8]]] = [[], []]
    static let seenLimit = 256
    private var random: SeededGenerator
    private var client: (host: String, port: Int)?
    private var held: [(due: UInt64, direction: Direction, bytes: [UInt8])] = []

    init(serverPort: Int, seed: UInt64, toServer: Faults = .none, toClient: Faults = .none) {
        random = SeededGenerator(seed: seed)
        faults = [toServer, toClient]
        XCTAssertEqual(front.bind(port: 0, bindAddress: "127.0.0.1", recvBufferSize: 1 << 20), .ok)
        XCTAssertEqual(back.connectToHost("127.0.0.1", port: serverPort), .ok)
    }

    convenience init(serverPort: Int, seed: UInt64, both: Faults) {
        self.init(serverPort: serverPort, seed: seed, toServer: both, toClient: both)
    }

    var port: Int { front.getLocalPort() }
    /// The client's address as the proxy saw it, once it has sent something.
    var clientAddress: (host: String, port: Int)? { client }

    func setFaults(_ both: Faults) { faults = [both, both] }

    /// Moves everything waiting, in both directions, and releases held datagrams that are due.
    func pump() {
        while front.getAvailablePacketCount() > 0 {
            let bytes = front.getPacket()
            guard front.getPacketError() == .ok else { break }
            if client == nil {
                client = (front.getPacketIP(), front.getPacketPort())
                XCTAssertEqual(front.setDestAddress(client!.host, port: client!.port), .ok)
            }
            handle(bytes, .toServer)
        }
        while back.getAvailablePacketCount() > 0 {
            let bytes = back.getPacket()
            guard back.getPacketError() == .ok else { break }
            handle(bytes, .toClient)
        }
        releaseDue()
    }

    /// Sends `bytes` as if from the other end: to the server from the client's address, or to the
    /// client from the server's. Bypasses the faults.
    func inject(_ bytes: [UInt8], _ direction: Direction) {
        counters[direction.rawValue].injected += 1
        send(bytes, direction)
    }

    /// Datagrams still held back (delayed).
    var heldCount: Int { held.count }

    private func handle(_ original: [UInt8], _ direction: Direction) {
        let d = direction.rawValue
        counters[d].received += 1
        if seen[d].count >= Self.seenLimit { seen[d].removeFirst(Self.seenLimit / 2) }
        seen[d].append(original)
        let f = faults[d]
        if chance(f.drop) {
            counters[d].dropped += 1
            return
        }
        var bytes = original
        if chance(f.truncate), bytes.count > 1 {
            let limit = f.truncateTo > 0 ? f.truncateTo : Int.random(in: 1..<bytes.count, using: &random)
            if bytes.count > limit {
                bytes.removeLast(bytes.count - limit)
                counters[d].truncated += 1
            }
        }
        if chance(f.corrupt), !bytes.isEmpty {
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                let at = Int.random(in: 0..<bytes.count, using: &random)
                bytes[at] ^= UInt8(1) << UInt8.random(in: 0...7, using: &random)
            }
            if bytes != original { counters[d].corrupted += 1 }
        }
        if bytes != original {
            counters[d].altered += 1
            if original.first == 23 { counters[d].alteredApplicationData += 1 }
        }
        let copies = chance(f.duplicate) ? 2 : 1
        if copies == 2 { counters[d].duplicated += 1 }
        for _ in 0..<copies {
            if chance(f.delay) {
                counters[d].delayed += 1
                let due = MonotonicClock.milliseconds() + UInt64(Int.random(in: 1...max(1, f.maxDelayMs), using: &random))
                held.append((due, direction, bytes))
            } else {
                send(bytes, direction)
            }
        }
    }

    private func releaseDue() {
        guard !held.isEmpty else { return }
        let now = MonotonicClock.milliseconds()
        var later: [(due: UInt64, direction: Direction, bytes: [UInt8])] = []
        for item in held {
            if item.due <= now { send(item.bytes, item.direction) } else { later.append(item) }
        }
        held = later
    }

    private func send(_ bytes: [UInt8], _ direction: Direction) {
        switch direction {
        case .toServer:
            if back.putPacket(bytes) == .ok { counters[0].forwarded += 1 }
        case .toClient:
            guard client != nil else { return }
            if front.putPacket(bytes) == .ok { counters[1].forwarded += 1 }
        }
    }

    private func chance(_ percent: Double) -> Bool {
        percent > 0 && Double.random(in: 0..<100, using: &random) < percent
    }
}
