// LossyNetworkTests.swift — handshakes and packets through the seeded LossyProxy on loopback.
//
//   PACKETDTLS_REL_TRIALS   handshakes per loss level (default 3; the figures use 50)
//   PACKETDTLS_REL_LOSSES   loss levels in percent, each way (default 0,10,30; the figures add 50)
//   PACKETDTLS_REL_PACKETS  application packets per integrity test (default 200)

import XCTest
@testable import PacketDTLS

final class LossyNetworkTests: XCTestCase {
    /// One handshake through a proxy dropping `loss`% each way; the time to CONNECTED in ms, or nil.
    private func trial(loss: Double, seed: UInt64) throws -> (ms: Double?, reason: String) {
        let server = try ReliableServer()
        let proxy = LossyProxy(serverPort: server.port, seed: seed, both: .loss(loss))
        let start = MonotonicClock.milliseconds()
        let client = startClient(port: proxy.port)
        Reliability.run(within: 30, {
            proxy.pump()
            server.step()
            client.dtls.poll()
        }, until: { client.dtls.getStatus() != .handshaking })
        let elapsed = Double(MonotonicClock.milliseconds() - start)
        guard client.dtls.getStatus() == .connected else {
            return (nil, "\(client.dtls.getStatus()): \(client.dtls.getErrorMessage())")
        }
        return (elapsed, "")
    }

    /// Figures: handshakes completed out of N seeded trials at each loss level, and the median time
    /// to connect. Target: every trial completes up to 30% loss.
    func testHandshakesThroughLoss() throws {
        let trials = Reliability.knob("TRIALS", 3)
        for loss in Reliability.knobList("LOSSES", [0, 10, 30]) {
            var times: [Double] = []
            var failures: [String] = []
            for index in 0..<trials {
                let seed = UInt64(loss * 1000) + UInt64(index) + 1
                let result = try trial(loss: loss, seed: seed)
                if let ms = result.ms { times.append(ms) } else { failures.append("seed \(seed): \(result.reason)") }
            }
            let median = Reliability.median(times).map { String(format: "%.0f ms", $0) } ?? "-"
            Reliability.figure("handshake loss=\(Int(loss))%", "\(times.count)/\(trials) completed, median \(median)"
                + (failures.isEmpty ? "" : "; failed: \(failures.prefix(3).joined(separator: "; "))"))
            if loss <= 30 {
                XCTAssertEqual(times.count, trials, "loss \(loss)%: \(failures)")
            }
        }
    }

    /// A numbered packet: 4-byte index, then bytes derived from it, so any alteration shows.
    static func packet(_ index: Int, size: Int = 100) -> [UInt8] {
        var bytes = withUnsafeBytes(of: UInt32(index).bigEndian) { Array($0) }
        bytes += (0..<size).map { UInt8(truncatingIfNeeded: index &* 31 &+ $0 &* 7) }
        return bytes
    }

    static func index(of packet: [UInt8]) -> Int? {
        guard packet.count >= 4 else { return nil }
        let index = Int(UInt32(packet[0]) << 24 | UInt32(packet[1]) << 16 | UInt32(packet[2]) << 8 | UInt32(packet[3]))
        return packet == Self.packet(index, size: packet.count - 4) ? index : nil
    }

    /// Connects through a clean proxy, then applies `faults` both ways and sends `count` numbered
    /// packets, which the server echoes. Returns what each end received, keyed by index.
    private func exchange(faults: Faults, seed: UInt64, count: Int)
        throws -> (proxy: LossyProxy, atServer: [Int: Int], atClient: [Int: Int], altered: Int, connected: Bool,
                   badMAC: Int) {
        let server = try ReliableServer()
        var atServer: [Int: Int] = [:]
        var altered = 0
        server.reply = { packet in
            guard let index = Self.index(of: packet) else { altered += 1; return nil }
            atServer[index, default: 0] += 1
            return packet
        }
        let proxy = LossyProxy(serverPort: server.port, seed: seed)
        let client = startClient(port: proxy.port)
        XCTAssertTrue(Reliability.run(within: 10, { proxy.pump(); server.step(); client.dtls.poll() },
                                      until: { client.dtls.getStatus() == .connected && server.peerCount == 1
                                          && server.peers[0].getStatus() == .connected }),
                      client.dtls.getErrorMessage())
        proxy.setFaults(faults)
        var atClient: [Int: Int] = [:]
        var sent = 0
        var quietSince = MonotonicClock.milliseconds()
        Reliability.run(within: 30, {
            // A few packets per round, so delays reorder within the anti-replay window.
            for _ in 0..<4 where sent < count {
                if client.dtls.putPacket(Self.packet(sent)) == .ok { sent += 1 }
            }
            proxy.pump()
            server.step()
            client.dtls.poll()
            while client.dtls.getAvailablePacketCount() > 0 {
                let packet = client.dtls.getPacket()
                if let index = Self.index(of: packet) { atClient[index, default: 0] += 1 } else { altered += 1 }
                quietSince = MonotonicClock.milliseconds()
            }
        }, until: {
            sent == count && proxy.heldCount == 0 && MonotonicClock.milliseconds() - quietSince > 200
        })
        let connected = client.dtls.getStatus() == .connected && server.peers.first?.getStatus() == .connected
        let badMAC = Int(client.dtls.getStats().recordsDroppedBadMAC + (server.peers.first?.getStats().recordsDroppedBadMAC ?? 0))
        return (proxy, atServer, atClient, altered, connected, badMAC)
    }

    /// Duplication and reordering: each packet arrives at most once, and never altered.
    func testDuplicatedAndReorderedPacketsArriveAtMostOnceUnaltered() throws {
        let count = Reliability.knob("PACKETS", 200)
        let faults = Faults(duplicate: 30, delay: 30, maxDelayMs: 15)
        let result = try exchange(faults: faults, seed: 7, count: count)
        XCTAssertTrue(result.connected)
        XCTAssertEqual(result.altered, 0)
        XCTAssertTrue(result.atServer.values.allSatisfy { $0 == 1 }, "a packet arrived twice at the server")
        XCTAssertTrue(result.atClient.values.allSatisfy { $0 == 1 }, "a packet arrived twice at the client")
        let c = result.proxy.counters
        // Nothing is lost: a packet delayed past the anti-replay window (64 records) could be, so
        // allow a little, and say how much.
        XCTAssertGreaterThanOrEqual(result.atServer.count, count * 9 / 10)
        Reliability.figure("duplicate 30% + reorder 30% (<=15 ms)",
                           "\(count) packets sent; server got \(result.atServer.count) distinct, 0 twice, 0 altered; "
                           + "client got \(result.atClient.count) distinct echoes, 0 twice, 0 altered; "
                           + "proxy duplicated \(c[0].duplicated + c[1].duplicated), delayed \(c[0].delayed + c[1].delayed)")
    }

    /// Corruption and truncation: altered records are dropped (never delivered) and counted; the
    /// session survives.
    func testCorruptedAndTruncatedRecordsAreDroppedAndCounted() throws {
        let count = Reliability.knob("PACKETS", 200)
        let faults = Faults(truncate: 5, corrupt: 20)
        let result = try exchange(faults: faults, seed: 11, count: count)
        let c = result.proxy.counters
        XCTAssertTrue(result.connected, "the session survived corruption")
        XCTAssertEqual(result.altered, 0, "no altered packet was delivered")
        XCTAssertTrue(result.atServer.values.allSatisfy { $0 == 1 })
        XCTAssertTrue(result.atClient.values.allSatisfy { $0 == 1 })
        // Every application-data datagram altered on the way to the server is one packet the server never
        // saw (under load a late handshake retransmission may be altered too; it carried no packet).
        let alteredToServer = c[0].alteredApplicationData
        let alteredToClient = c[1].alteredApplicationData
        XCTAssertEqual(result.atServer.count, count - alteredToServer)
        XCTAssertEqual(result.atClient.count, result.atServer.count - alteredToClient)
        // The library counts those that fail authentication; the rest fail its record-header checks
        // (a changed epoch, type or length, a truncated record) and are dropped before decryption.
        XCTAssertGreaterThan(result.badMAC, 0)
        XCTAssertLessThanOrEqual(result.badMAC, c[0].altered + c[1].altered)
        Reliability.figure("corrupt 20% + truncate 5%",
                           "\(count) sent; \(alteredToServer) altered to server, server delivered \(result.atServer.count) "
                           + "(= sent - altered); \(alteredToClient) altered to client, client delivered "
                           + "\(result.atClient.count); 0 altered packets delivered; the two ends counted \(result.badMAC) records "
                           + "dropped for a bad MAC (getStats().recordsDroppedBadMAC; the other altered datagrams "
                           + "failed header checks); session still CONNECTED")
    }

    /// Everything at once during the handshake and after: the session connects and works. A handshake
    /// message altered before encryption starts is caught only by the signature or Finished check,
    /// which ends that handshake with an error (in every DTLS stack), so the client tries again, as an
    /// application would: at most four attempts, each a new seed.
    func testHandshakeAndDataUnderEveryFault() throws {
        let count = Reliability.knob("PACKETS", 200)
        let faults = Faults(drop: 10, duplicate: 10, delay: 10, maxDelayMs: 20, truncate: 2, corrupt: 5)
        var attempt: (server: ReliableServer, proxy: LossyProxy, client: (udp: PacketPeerUDP, dtls: PacketPeerDTLS))?
        var failedAttempts: [String] = []
        for seed in UInt64(99)..<103 {
            let server = try ReliableServer()
            let proxy = LossyProxy(serverPort: server.port, seed: seed, both: faults)
            let client = startClient(port: proxy.port)
            Reliability.run(within: 20, { proxy.pump(); server.step(); client.dtls.poll() },
                            until: { client.dtls.getStatus() != .handshaking })
            if client.dtls.getStatus() == .connected {
                attempt = (server, proxy, client)
                break
            }
            // An attempt may fail, but only with a clean error.
            XCTAssertEqual(client.dtls.getStatus(), .error, "seed \(seed)")
            failedAttempts.append("seed \(seed): \(client.dtls.getErrorMessage())")
        }
        guard let (server, proxy, client) = attempt else {
            return XCTFail("no handshake in four attempts: \(failedAttempts)")
        }
        var atServer = Set<Int>()
        server.reply = { packet in
            guard let index = Self.index(of: packet) else { XCTFail("altered packet delivered"); return nil }
            XCTAssertTrue(atServer.insert(index).inserted, "packet \(index) delivered twice")
            return nil
        }
        var sent = 0
        Reliability.run(within: 20, {
            if sent < count, client.dtls.putPacket(Self.packet(sent)) == .ok { sent += 1 }
            proxy.pump(); server.step(); client.dtls.poll()
        }, until: { sent == count && proxy.heldCount == 0 })
        Reliability.run(within: 1, { proxy.pump(); server.step() }, until: { false })
        XCTAssertEqual(client.dtls.getStatus(), .connected)
        XCTAssertGreaterThan(atServer.count, count / 2)
        Reliability.figure("all faults (\(faults))", "connected after \(failedAttempts.count) failed attempt(s)"
                           + (failedAttempts.isEmpty ? "" : " (\(failedAttempts.joined(separator: "; ")))")
                           + "; \(atServer.count)/\(count) delivered once, unaltered")
    }
}
