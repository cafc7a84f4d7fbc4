// DTLSLossyMemoryTests.swift — handshakes through a seeded lossy link, in memory.

import XCTest
@testable import PacketDTLS

/// A seeded xorshift generator, so a failing trial can be replayed from its seed.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed == 0 ? 0x9E37_79B9_7F4A_7C15 : seed }
    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }
}

final class DTLSLossyMemoryTests: XCTestCase {
    /// Drops `lossPercent` of datagrams each way and duplicates a few; the handshake must still
    /// complete through retransmission, and each packet must arrive at most once, unaltered.
    func testHandshakeAndDataSurviveLossAndDuplication() throws {
        let identity = try TestIdentity.make()
        let serverOptions = TLSOptions.server(key: identity.key, certificate: identity.certificate)
        XCTAssertEqual(serverOptions.setHandshakeTimeout(minMs: 5, maxMs: 2000), .ok)
        let server = DTLSServer()
        XCTAssertEqual(server.setup(serverOptions: serverOptions), .ok)
        let clientOptions = TLSOptions.clientUnsafe()
        XCTAssertEqual(clientOptions.setHandshakeTimeout(minMs: 5, maxMs: 2000), .ok)

        for seed in UInt64(1)...10 {
            var random = SeededGenerator(seed: seed)
            let link = MemoryLink.pair()
            let lossy: ([UInt8]) -> [UInt8]? = { datagram in
                Int.random(in: 0..<100, using: &random) < 30 ? nil : datagram
            }
            link.client.outboundFilter = lossy
            link.server.outboundFilter = lossy
            let client = PacketPeerDTLS()
            XCTAssertEqual(client.connectToPeer(link.client, hostname: "localhost", clientOptions: clientOptions), .ok)
            var accepted: PacketPeerDTLS?
            let deadline = Date().addingTimeInterval(10)
            while Date() < deadline {
                if accepted == nil, link.server.pending > 0, let peer = server.takeConnection(link.server),
                   peer.getStatus() == .handshaking {
                    accepted = peer
                }
                client.poll()
                accepted?.poll()
                if client.getStatus() != .handshaking, accepted?.getStatus() == .connected { break }
                if client.getStatus() == .error { break }
                usleep(1000)
            }
            XCTAssertEqual(client.getStatus(), .connected, "seed \(seed): \(client.getErrorMessage())")
            guard let serverPeer = accepted, client.getStatus() == .connected else { continue }
            // Duplicate every datagram from now on: each packet must still arrive once.
            let serverEnd = link.server
            link.client.outboundFilter = { datagram in
                serverEnd.inject(datagram)
                return datagram
            }
            for index in 0..<20 { XCTAssertEqual(client.putPacket([UInt8(index), 0xAB]), .ok) }
            serverPeer.poll()
            var received: [[UInt8]] = []
            while serverPeer.getAvailablePacketCount() > 0 { received.append(serverPeer.getPacket()) }
            XCTAssertEqual(received.count, 20, "seed \(seed)")
            XCTAssertEqual(Set(received.map { $0[0] }).count, received.count, "no packet twice")
            XCTAssertTrue(received.allSatisfy { $0.count == 2 && $0[1] == 0xAB })
        }
    }

    /// A datagram captured once and replayed later is discarded by the anti-replay window.
    func testReplayedRecordIsDroppedOnce() throws {
        let pair = MemoryPair(server: MemoryPair.server(for: try TestIdentity.make()))
        let (link, client, accepted) = try (pair.link, pair.client, pair.handshake())
        var captured: [[UInt8]] = []
        XCTAssertEqual(accepted.getStatus(), .connected)
        link.client.outboundFilter = { datagram in captured.append(datagram); return datagram }
        XCTAssertEqual(client.putPacket([9, 9, 9]), .ok)
        accepted.poll()
        XCTAssertEqual(accepted.getPacket(), [9, 9, 9])
        for datagram in captured { link.server.inject(datagram); link.server.inject(datagram) }
        accepted.poll()
        XCTAssertEqual(accepted.getAvailablePacketCount(), 0, "replays are not delivered again")
        XCTAssertEqual(accepted.getStatus(), .connected)
    }

    /// A record with one flipped bit fails its MAC and is dropped; the session goes on.
    func testCorruptedRecordIsDropped() throws {
        let pair = MemoryPair(server: MemoryPair.server(for: try TestIdentity.make()))
        let (link, client, accepted) = try (pair.link, pair.client, pair.handshake())
        link.client.outboundFilter = { datagram in
            var altered = datagram
            altered[altered.count - 3] ^= 0x40
            return altered
        }
        XCTAssertEqual(client.putPacket([1, 2, 3, 4]), .ok)
        link.client.outboundFilter = nil
        XCTAssertEqual(client.putPacket([5, 6, 7, 8]), .ok)
        accepted.poll()
        XCTAssertEqual(accepted.getAvailablePacketCount(), 1)
        XCTAssertEqual(accepted.getPacket(), [5, 6, 7, 8])
        XCTAssertEqual(accepted.getStatus(), .connected)
    }
}
