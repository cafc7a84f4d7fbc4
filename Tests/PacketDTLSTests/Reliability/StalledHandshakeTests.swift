// StalledHandshakeTests.swift — clients that pass the cookie exchange and then fall silent: what each
// costs the server, how long it is held, and that the handshake caps hold (issue 20); and how long a
// client on a lossy path needs for its handshake, which the server's deadline must allow.
//
//   PACKETDTLS_REL_STALLED           stalled clients per phase (default 100)
//   PACKETDTLS_REL_STALL_DEADLINE_MS the server's handshake deadline in the flood (default 3000)
//   PACKETDTLS_REL_DEADLINE_TRIALS   handshakes measured per loss level (default 40)

import XCTest
@testable import PacketDTLS

final class StalledHandshakeTests: XCTestCase {
    /// `count` clients that send their ClientHello with the cookie and then read and send nothing.
    private func stall(_ count: Int, on server: ReliableServer) -> [(udp: PacketPeerUDP, dtls: PacketPeerDTLS)] {
        let clients = (0..<count).map { _ in startClient(port: server.port, options: Reliability.clientOptions(minMs: 1000, maxMs: 60000)) }
        Reliability.run(within: 10, {
            server.step()
            for client in clients where client.dtls.getStats().datagramsSent < 2 { client.dtls.poll() }
        }, until: { clients.allSatisfy { $0.dtls.getStats().datagramsSent >= 2 } })
        return clients
    }

    /// Figures: a flood of stalled handshakes. Each costs its memory until the deadline (not mbedTLS's
    /// own retransmission timeout, about 2 minutes), receives only the flights sent before it, and the
    /// cap bounds how many are held at once.
    func testStalledHandshakeFlood() throws {
        let count = Reliability.knob("STALLED", 100)
        let deadlineMs = Reliability.knob("STALL_DEADLINE_MS", 3000)
        // Server timers as shipped (1 s doubling to 60 s): what an attacker meets.
        let server = try ReliableServer(handshakeMinMs: 1000, handshakeMaxMs: 60000)
        XCTAssertEqual(server.dtls.setHandshakeLimits(HandshakeLimits(maxInFlight: 0, maxPerAddress: 0,
                                                                      deadlineMs: deadlineMs)), .ok)
        // Warm-up: one stalled batch through the whole cycle.
        _ = stall(8, on: server)
        XCTAssertTrue(Reliability.run(within: Double(deadlineMs) / 1000 + 5, { server.step() },
                                      until: { server.dtls.handshakesInFlight == 0 }))
        Reliability.mallocTrim()
        let before = Reliability.residentBytes()
        let start = MonotonicClock.milliseconds()
        let clients = stall(count, on: server)
        Reliability.run(within: 2, { server.step() }, until: { server.dtls.handshakesInFlight == count })
        XCTAssertEqual(server.dtls.handshakesInFlight, count, "every stalled client holds a handshake")
        let held = Reliability.residentBytes()
        XCTAssertTrue(Reliability.run(within: Double(deadlineMs) / 1000 + 5, { server.step() },
                                      until: { server.dtls.handshakesInFlight == 0 }))
        let heldMs = MonotonicClock.milliseconds() - start
        XCTAssertLessThan(heldMs, UInt64(deadlineMs) + 3000, "released at the deadline")
        XCTAssertEqual(server.peerCount, 0, "every stalled peer ended")
        var datagrams = 0, bytes = 0
        for client in clients {
            while client.udp.getAvailablePacketCount() > 0 {
                bytes += client.udp.getPacket().count
                datagrams += 1
            }
        }
        Reliability.mallocTrim()
        let after = Reliability.residentBytes()
        let perHandshake = max(0, held - before) / count
        Reliability.figure("stalled handshakes (\(count), deadline \(deadlineMs) ms, server timers 1-60 s)",
                           "about \(Reliability.kib(perHandshake)) each while held (server and client side, one process); all released "
                           + "\(heldMs) ms after they began; each received "
                           + String(format: "%.1f datagrams / %.0f bytes", Double(datagrams) / Double(count),
                                    Double(bytes) / Double(count))
                           + " (HelloVerifyRequest included); RSS \(Reliability.kib(before)) before, "
                           + "\(Reliability.kib(held)) held, \(Reliability.kib(after)) after")

        // The cap: no more than maxInFlight are held, whatever arrives.
        let cap = max(1, count / 4)
        XCTAssertEqual(server.dtls.setHandshakeLimits(HandshakeLimits(maxInFlight: cap, maxPerAddress: 0,
                                                                      deadlineMs: deadlineMs)), .ok)
        let capped = stall(count, on: server)
        Reliability.run(within: 1, { server.step() }, until: { false })
        XCTAssertEqual(server.dtls.handshakesInFlight, cap, "the total cap holds")
        XCTAssertLessThanOrEqual(server.peerCount, cap)
        Reliability.figure("stalled handshakes over the cap (\(count) against max_in_flight \(cap))",
                           "\(server.dtls.handshakesInFlight) held, \(server.udp.droppedDatagrams) verified "
                           + "hellos dropped at the cap")
        XCTAssertTrue(Reliability.run(within: Double(deadlineMs) / 1000 + 5, { server.step() },
                                      until: { server.dtls.handshakesInFlight == 0 }))
        withExtendedLifetime(capped) {}
    }

    /// Figures: the time a client needs to connect through loss, with its retransmission timer scaled
    /// down tenfold (100 ms start instead of 1 s; the doubling pattern is the same), so the figures x10
    /// are what default timers need. The server's default deadline must cover them.
    func testWhatALossyClientNeeds() throws {
        let trials = Reliability.knob("DEADLINE_TRIALS", 40)
        for loss in [10.0, 20.0, 30.0] {
            var times: [Double] = []
            var failed = 0
            for index in 0..<trials {
                let server = try ReliableServer(handshakeMinMs: 100, handshakeMaxMs: 6000)
                XCTAssertEqual(server.dtls.setHandshakeLimits(HandshakeLimits(deadlineMs: 0)), .ok)
                let proxy = LossyProxy(serverPort: server.port, seed: UInt64(loss * 1000) + UInt64(index) + 7,
                                       both: .loss(loss))
                let start = MonotonicClock.milliseconds()
                let client = startClient(port: proxy.port, options: Reliability.clientOptions(minMs: 100, maxMs: 6000))
                Reliability.run(within: 20, { proxy.pump(); server.step(); client.dtls.poll() },
                                until: { client.dtls.getStatus() != .handshaking })
                if client.dtls.getStatus() == .connected {
                    times.append(Double(MonotonicClock.milliseconds() - start))
                } else {
                    failed += 1
                }
            }
            times.sort()
            func at(_ q: Double) -> String {
                times.isEmpty ? "-" : String(format: "%.0f", times[min(times.count - 1, Int(Double(times.count) * q))] * 10)
            }
            Reliability.figure("handshake time at \(Int(loss))% loss each way (x10 = default timers)",
                               "\(times.count)/\(trials) connected; p50 \(at(0.5)) ms, p90 \(at(0.9)) ms, "
                               + "max \(at(1.0)) ms at default timers")
        }
    }
}
