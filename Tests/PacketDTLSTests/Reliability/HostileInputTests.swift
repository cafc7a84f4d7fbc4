// HostileInputTests.swift — random, truncated, bit-flipped, replayed and out-of-epoch datagrams
// thrown at a server and a client, from the peer's own address and from third addresses, before
// and after the handshake; and a flood of cookieless ClientHellos from many source ports.
//
//   PACKETDTLS_REL_FUZZ         hostile datagrams per phase (default 1500)
//   PACKETDTLS_REL_FUZZ_SEED    the seed (default 1)
//   PACKETDTLS_REL_FLOOD        ClientHellos in the flood (default 5000; the figure uses 100000)
//   PACKETDTLS_REL_FLOOD_PORTS  source ports they come from (default 200; the figure uses 1000)

import XCTest
@testable import PacketDTLS

/// Makes hostile datagrams from a seed and a corpus of real ones.
struct HostileDatagrams {
    enum Kind: String, CaseIterable {
        case random, truncated, bitFlipped, replayed, outOfEpoch, forgedHeader
    }

    var random: SeededGenerator
    var counts: [Kind: Int] = [:]

    init(seed: UInt64) { random = SeededGenerator(seed: seed) }

    mutating func next(corpus: [[UInt8]]) -> [UInt8] {
        let kind = Kind.allCases.randomElement(using: &random)!
        counts[kind, default: 0] += 1
        let real = corpus.randomElement(using: &random) ?? [0x16, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        switch kind {
        case .random:
            return bytes(Int.random(in: 1...1500, using: &random))
        case .truncated:
            return Array(real.prefix(Int.random(in: 0..<max(1, real.count), using: &random)))
        case .bitFlipped:
            var copy = real
            for _ in 0..<Int.random(in: 1...8, using: &random) {
                let at = Int.random(in: 0..<copy.count, using: &random)
                copy[at] ^= UInt8(1) << UInt8.random(in: 0...7, using: &random)
            }
            return copy
        case .replayed:
            return real
        case .outOfEpoch:
            var copy = real
            if copy.count >= 5 {
                let epoch = UInt16.random(in: 0...UInt16.max, using: &random)
                copy[3] = UInt8(epoch >> 8)
                copy[4] = UInt8(epoch & 0xff)
            }
            return copy
        case .forgedHeader:
            // A well-formed record header (any type, DTLS 1.2, epoch 0 or 1) over random content.
            let body = bytes(Int.random(in: 0...600, using: &random))
            var header: [UInt8] = [[20, 21, 22, 23].randomElement(using: &random)!, 0xfe, 0xfd, 0,
                                   UInt8.random(in: 0...1, using: &random)]
            header += bytes(6)
            header += [UInt8(body.count >> 8), UInt8(body.count & 0xff)]
            if header[0] == 22, !body.isEmpty {
                // Often a handshake message type worth parsing: ClientHello, Finished, ...
                var withType = body
                withType[0] = [1, 2, 11, 12, 14, 16, 20].randomElement(using: &random)!
                return header + withType
            }
            return header + body
        }
    }

    private mutating func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
    }

    var summary: String {
        Kind.allCases.map { "\($0.rawValue) \(counts[$0, default: 0])" }.joined(separator: ", ")
    }
}

final class HostileInputTests: XCTestCase {
    /// Third parties: sockets of their own, aimed at `port`.
    private func attackers(_ count: Int, port: Int) -> [PacketPeerUDP] {
        (0..<count).map { _ in
            let socket = PacketPeerUDP()
            XCTAssertEqual(socket.bind(port: 0, bindAddress: "127.0.0.1"), .ok)
            XCTAssertEqual(socket.setDestAddress("127.0.0.1", port: port), .ok)
            return socket
        }
    }

    /// Real datagrams of a whole session both ways (handshake and data), to mutate and replay.
    private func corpus() throws -> (toServer: [[UInt8]], toClient: [[UInt8]]) {
        let server = try ReliableServer()
        let proxy = LossyProxy(serverPort: server.port, seed: 1)
        let client = startClient(port: proxy.port)
        var echoes = 0
        Reliability.run(within: 10, {
            proxy.pump(); server.step(); client.dtls.poll()
            if client.dtls.getStatus() == .connected {
                _ = client.dtls.putPacket(Array(repeating: 0x42, count: 64))
                while client.dtls.getAvailablePacketCount() > 0 { _ = client.dtls.getPacket(); echoes += 1 }
            }
        }, until: { echoes >= 4 })
        client.dtls.disconnectFromPeer()
        Reliability.run(within: 1, { proxy.pump(); server.step() }, until: { server.peerCount == 0 })
        return (proxy.seen[0], proxy.seen[1])
    }

    /// Before and during handshakes: garbage at the server from third addresses and from the
    /// client's own address, and at the client from the server's address. The server keeps
    /// serving: a real client connects afterwards, and during a later storm from third addresses.
    func testHostileDatagramsBeforeAndDuringHandshakes() throws {
        let budget = Reliability.knob("FUZZ", 1500)
        let (toServer, toClient) = try corpus()
        var hostile = HostileDatagrams(seed: UInt64(Reliability.knob("FUZZ_SEED", 1)))
        let server = try ReliableServer()
        let thirds = attackers(8, port: server.port)

        // 1. At a server with no session at all, from third addresses.
        for index in 0..<budget {
            _ = thirds[index % thirds.count].putPacket(hostile.next(corpus: toServer))
            if index % 16 == 0 { server.step() }
        }
        Reliability.run(within: 2, { server.step() }, until: { false })

        // 2. During handshakes, from the client's own address (through the proxy) and at the client
        // from the server's: an off-path attacker who can spoof addresses. Handshakes may fail
        // (epoch 0 is unauthenticated); nothing may crash, and the outcome is counted.
        var completed = 0, failed = 0
        var reasons: [String: Int] = [:]
        let rounds = max(1, budget / 100)
        for round in 0..<rounds {
            let proxy = LossyProxy(serverPort: server.port, seed: UInt64(round))
            let client = startClient(port: proxy.port)
            var injected = 0
            Reliability.run(within: 15, {
                proxy.pump()
                if injected < 100, proxy.clientAddress != nil {
                    proxy.inject(hostile.next(corpus: toServer), .toServer)
                    proxy.inject(hostile.next(corpus: toClient), .toClient)
                    injected += 2
                }
                server.step(); client.dtls.poll()
            }, until: { client.dtls.getStatus() != .handshaking })
            if client.dtls.getStatus() == .connected { completed += 1 } else {
                failed += 1
                let reason = client.dtls.getStatus() == .handshaking ? "still handshaking" : client.dtls.getErrorMessage()
                reasons[reason, default: 0] += 1
            }
        }

        // 3. A real client connects while third addresses keep throwing garbage at the server.
        let proxy = LossyProxy(serverPort: server.port, seed: 5)
        let client = startClient(port: proxy.port)
        var echoed = false
        XCTAssertTrue(Reliability.run(within: 15, {
            for socket in thirds { _ = socket.putPacket(hostile.next(corpus: toServer)) }
            proxy.pump(); server.step(); client.dtls.poll()
            if client.dtls.getStatus() == .connected {
                _ = client.dtls.putPacket([1, 2, 3])
                while client.dtls.getAvailablePacketCount() > 0 { echoed = client.dtls.getPacket() == [1, 2, 3] || echoed }
            }
        }, until: { echoed }), "a real client connects and echoes during the storm: \(client.dtls.getErrorMessage())")
        Reliability.figure("hostile before/during handshakes (\(budget) + \(rounds * 100) datagrams, seed "
                           + "\(Reliability.knob("FUZZ_SEED", 1)))",
                           "no crash; handshakes with spoofed garbage injected from both peers' addresses: "
                           + "\(completed) completed, \(failed) failed (\(reasons.map { "\($0.value)x \($0.key)" }.sorted().joined(separator: "; ")));"
                           + " a real client then connected and echoed "
                           + "during a third-party storm; kinds: \(hostile.summary)")
    }

    /// After the handshake: a healthy session exchanges packets while hostile datagrams hit the
    /// server from the client's address and third addresses, and the client from the server's
    /// address and a third address. Every echo arrives once, unaltered; the session stays up.
    func testHealthySessionSurvivesHostileDatagrams() throws {
        let budget = Reliability.knob("FUZZ", 1500)
        let (toServer, toClient) = try corpus()
        var hostile = HostileDatagrams(seed: UInt64(Reliability.knob("FUZZ_SEED", 1)) + 1000)
        let server = try ReliableServer()
        let proxy = LossyProxy(serverPort: server.port, seed: 3)
        let client = startClient(port: proxy.port)
        XCTAssertTrue(Reliability.run(within: 10, { proxy.pump(); server.step(); client.dtls.poll() },
                                      until: { client.dtls.getStatus() == .connected && server.peers.first?.getStatus() == .connected }))
        let thirdsToServer = attackers(4, port: server.port)
        let clientPort = try XCTUnwrap(proxy.clientAddress).port
        let thirdToClient = attackers(1, port: clientPort)[0]
        // The session's own records from now on are replayed too.
        var sent = 0, thrown = 0
        var received: [Int: Int] = [:]
        var altered = 0
        Reliability.run(within: 60, {
            if thrown < budget, client.dtls.putPacket(LossyNetworkTests.packet(sent)) == .ok { sent += 1 }
            for _ in 0..<4 where thrown < budget {
                let live = proxy.seen[0].suffix(16) + toServer
                switch thrown % 4 {
                case 0: proxy.inject(hostile.next(corpus: Array(live)), .toServer)
                case 1: _ = thirdsToServer[thrown % thirdsToServer.count].putPacket(hostile.next(corpus: Array(live)))
                case 2: proxy.inject(hostile.next(corpus: Array(proxy.seen[1].suffix(16) + toClient)), .toClient)
                default: _ = thirdToClient.putPacket(hostile.next(corpus: toClient))
                }
                thrown += 1
            }
            proxy.pump(); server.step(); client.dtls.poll()
            while client.dtls.getAvailablePacketCount() > 0 {
                if let index = LossyNetworkTests.index(of: client.dtls.getPacket()) { received[index, default: 0] += 1 } else { altered += 1 }
            }
        }, until: { thrown >= budget && received.count == sent })
        XCTAssertEqual(client.dtls.getStatus(), .connected, client.dtls.getErrorMessage())
        XCTAssertEqual(server.peers.first?.getStatus(), .connected, server.peers.first?.getErrorMessage() ?? "no peer")
        XCTAssertEqual(server.peerCount, 1)
        XCTAssertEqual(altered, 0)
        XCTAssertTrue(received.values.allSatisfy { $0 == 1 })
        XCTAssertEqual(received.count, sent, "every echo of the healthy session arrived")
        Reliability.figure("hostile after handshake (\(thrown) datagrams: 1/4 from the client's address, 1/4 from "
                           + "third addresses to the server, 1/4 from the server's address, 1/4 from a third address to "
                           + "the client)", "session stayed CONNECTED; \(received.count)/\(sent) echoes arrived, "
                           + "once each, unaltered; kinds: \(hostile.summary)")
    }

    /// Figures: a flood of cookieless ClientHellos from many source ports. The server's resident
    /// memory grows by no more than 1 MiB, and a real client connects during the flood.
    func testCookieFlood() throws {
        let total = Reliability.knob("FLOOD", 5000)
        let portCount = Reliability.knob("FLOOD_PORTS", 200)
        let hello = captureClientHello()
        let server = try ReliableServer(handshakeMinMs: 100, handshakeMaxMs: 6400)
        let sockets = attackers(portCount, port: server.port)
        var sent = 0
        func flood(_ count: Int) {
            for _ in 0..<count {
                if sockets[sent % sockets.count].putPacket(hello) == .ok { sent += 1 }
                if sent % 64 == 0 { server.step() }
            }
            server.step()
            // The flood's sockets read their HelloVerifyRequests now and then, as a sender would.
            if sent % 2048 < count { for socket in sockets { while socket.getAvailablePacketCount() > 0 { _ = socket.getPacket() } } }
        }
        // Warm up (the first allocations of every code path), then measure.
        flood(min(2000, total / 10))
        let before = Reliability.residentBytes()
        let startRounds = server.cookieRounds
        let startSent = sent
        var peak = before
        let client = startClient(port: server.port, options: Reliability.clientOptions(minMs: 100, maxMs: 6400))
        var connectedAt: Int?
        let start = MonotonicClock.milliseconds()
        while sent - startSent < total {
            flood(256)
            client.dtls.poll()
            if connectedAt == nil, client.dtls.getStatus() == .connected { connectedAt = sent - startSent }
            if (sent - startSent) % 4096 < 256 { peak = max(peak, Reliability.residentBytes()) }
        }
        let seconds = Double(MonotonicClock.milliseconds() - start) / 1000
        let replySize: Int
        if let door = server.dtls.frontDoor, case .unverified(let reply?) = hello.withUnsafeBytes({
            door.screen.judge($0, clientID: SocketAddress.parse(literal: "127.0.0.1", port: 1)!.transportID)
        }) {
            replySize = reply.count
        } else {
            replySize = 0
        }
        Reliability.run(within: 1, { server.step(); client.dtls.poll() }, until: { false })
        let after = Reliability.residentBytes()
        peak = max(peak, after)
        let growth = peak - before
        XCTAssertNotNil(connectedAt, "a real client connected during the flood: \(client.dtls.getStatus()) "
                        + client.dtls.getErrorMessage())
        Reliability.assertMemory(Double(growth), atMost: Double(1 << 20), "resident memory grew by \(growth) bytes")
        Reliability.figure("cookie flood (\(total) ClientHellos from \(portCount) ports in \(String(format: "%.1f", seconds)) s)",
                           "RSS \(Reliability.kib(before)) before, peak \(Reliability.kib(peak)), after "
                           + "\(Reliability.kib(after)): growth \(Reliability.kib(growth)); "
                           + "\(server.cookieRounds - startRounds) answered with HelloVerifyRequest by a DTLS peer, "
                           + "\(server.udp.helloVerifyRequestsSent) by the UDPServer's stateless front door "
                           + "(\(replySize) bytes sent for each \(hello.count)-byte hello), "
                           + "\(server.udp.droppedDatagrams) dropped by the full pending queue; real client "
                           + (connectedAt.map { "CONNECTED after \($0) flood datagrams" } ?? "did NOT connect")
                           + "; server peers left: \(server.peerCount)")
    }
}
