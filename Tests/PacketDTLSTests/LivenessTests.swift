// LivenessTests.swift — both ends agree whether a session is alive: an idle timeout tells the other
// end, keepalives keep a quiet session alive, and ICMP refusals end what cannot go on.

import XCTest
@testable import PacketDTLS

/// One client against an EchoServer over real loopback UDP, each end with its own options.
private struct LivePair {
    let server: EchoServer
    let client: PacketPeerDTLS
    let clientUDP: PacketPeerUDP

    init(serverOptions: (TLSOptions) -> Void, clientOptions: (TLSOptions) -> Void,
         viaPort: ((Int) -> Int)? = nil, step: @escaping () -> Void = {}) throws {
        let identity = try TestIdentity.make()
        let options = TLSOptions.server(key: identity.key, certificate: identity.certificate)
        serverOptions(options)
        server = try EchoServer(key: identity.key, certificate: identity.certificate, options: options)
        let target = viaPort?(server.port) ?? server.port
        clientUDP = PacketPeerUDP()
        XCTAssertEqual(clientUDP.connectToHost("127.0.0.1", port: target), .ok)
        let chosen = TLSOptions.clientUnsafe()
        clientOptions(chosen)
        client = PacketPeerDTLS()
        XCTAssertEqual(client.connectToPeer(clientUDP, hostname: "", clientOptions: chosen), .ok)
        let server = server, client = client
        XCTAssertTrue(DTLSLoopbackTests.run({ step(); server.step(); client.poll() }, until: {
            client.getStatus() == .connected && server.peers.first?.getStatus() == .connected
        }), client.getErrorMessage())
    }

    var serverPeer: PacketPeerDTLS { server.peers[0] }
}

final class LivenessTests: XCTestCase {
    /// Polls both ends (no application traffic) until both have left CONNECTED; returns when each
    /// did, in monotonic ms.
    private func timesOfEnding(_ pair: LivePair, within seconds: Double) -> (server: UInt64?, client: UInt64?) {
        var serverEnded: UInt64?, clientEnded: UInt64?
        _ = DTLSLoopbackTests.run(within: seconds, {
            pair.server.step()
            pair.client.poll()
            let now = MonotonicClock.milliseconds()
            if serverEnded == nil, pair.serverPeer.getStatus() != .connected { serverEnded = now }
            if clientEnded == nil, pair.client.getStatus() != .connected { clientEnded = now }
        }, until: { serverEnded != nil && clientEnded != nil })
        return (serverEnded, clientEnded)
    }

    // MARK: Idle timeout tells the other end

    func testServerIdleTimeoutDisconnectsTheQuietClient() throws {
        let pair = try LivePair(serverOptions: { $0.setIdleTimeout(ms: 1000) }, clientOptions: { $0.setIdleTimeout(ms: 0) })
        let (serverEnded, clientEnded) = timesOfEnding(pair, within: 5)
        let server = try XCTUnwrap(serverEnded, "the server peer never timed out")
        let client = try XCTUnwrap(clientEnded, "the client never learned: \(pair.client.getStatus())")
        // The side that timed out: ERROR, as a handshake timeout is in Godot.
        XCTAssertEqual(pair.serverPeer.getStatus(), .error)
        XCTAssertTrue(pair.serverPeer.getErrorMessage().hasPrefix("idle timeout"), pair.serverPeer.getErrorMessage())
        // The side that was told: DISCONNECTED, as after any close_notify, with the reason.
        XCTAssertEqual(pair.client.getStatus(), .disconnected)
        XCTAssertTrue(pair.client.getErrorMessage().contains("for inactivity"), pair.client.getErrorMessage())
        XCTAssertLessThan(client &- server, 1000, "the client learned \(client &- server) ms after the server's expiry")
        XCTAssertEqual(pair.client.getAvailablePacketCount(), 0)
    }

    func testClientIdleTimeoutDisconnectsTheQuietServerPeer() throws {
        let pair = try LivePair(serverOptions: { $0.setIdleTimeout(ms: 0) }, clientOptions: { $0.setIdleTimeout(ms: 1000) })
        let (serverEnded, clientEnded) = timesOfEnding(pair, within: 5)
        let client = try XCTUnwrap(clientEnded, "the client never timed out")
        let server = try XCTUnwrap(serverEnded, "the server peer never learned: \(pair.serverPeer.getStatus())")
        XCTAssertEqual(pair.client.getStatus(), .error)
        XCTAssertTrue(pair.client.getErrorMessage().hasPrefix("idle timeout"), pair.client.getErrorMessage())
        XCTAssertEqual(pair.serverPeer.getStatus(), .disconnected)
        XCTAssertTrue(pair.serverPeer.getErrorMessage().contains("for inactivity"), pair.serverPeer.getErrorMessage())
        XCTAssertLessThan(server &- client, 1000, "the server learned \(server &- client) ms after the client's expiry")
    }

    /// A plain disconnect still reads as a plain close_notify: only an idle timeout says "inactivity".
    func testAPlainDisconnectIsNotCalledInactivity() throws {
        let pair = try LivePair(serverOptions: { _ in }, clientOptions: { _ in })
        XCTAssertEqual(pair.client.disconnectFromPeer(), .ok)
        XCTAssertTrue(DTLSLoopbackTests.run({ pair.server.step() }, until: { pair.serverPeer.getStatus() == .disconnected }))
        XCTAssertEqual(pair.serverPeer.getErrorMessage(), "the peer closed the session (close_notify)")
    }

    // MARK: Keepalive

    /// Keepalive 500 ms each way (the client's set on the peer, the server's through its options) against
    /// an idle timeout of 2 s on the other end: 10 s without application traffic, nothing surfaces. 70
    /// packets each way first, so that each end's Finished (which its keepalives send again) is older
    /// than the other end's 64-record window: still a keepalive, not a packet.
    func testKeepaliveKeepsAQuietSessionAliveBothWays() throws {
        XCTAssertEqual(TLSOptions.clientUnsafe().keepalive, 0, "keepalive is off by default, as in Godot")
        let pair = try LivePair(serverOptions: { $0.setIdleTimeout(ms: 2000); $0.setKeepalive(ms: 500) },
                                clientOptions: { $0.setIdleTimeout(ms: 2000) })
        XCTAssertEqual(pair.client.setKeepalive(ms: 500), .ok)
        var echoes = 0
        for index in 0..<70 { XCTAssertEqual(pair.client.putPacket(Array("warm-up \(index)".utf8)), .ok) }
        XCTAssertTrue(DTLSLoopbackTests.run({
            pair.server.step(); pair.client.poll()
            while pair.client.getAvailablePacketCount() > 0 { _ = pair.client.getPacket(); echoes += 1 }
        }, until: { echoes >= 70 }))
        var surfaced = 0
        let start = MonotonicClock.milliseconds()
        _ = DTLSLoopbackTests.run(within: 11, {
            pair.server.step()
            pair.client.poll()
            surfaced += pair.client.getAvailablePacketCount() + pair.serverPeer.getAvailablePacketCount()
        }, until: {
            MonotonicClock.milliseconds() - start >= 10_000 || pair.client.getStatus() != .connected
                || pair.serverPeer.getStatus() != .connected
        })
        XCTAssertEqual(pair.client.getStatus(), .connected, pair.client.getErrorMessage())
        XCTAssertEqual(pair.serverPeer.getStatus(), .connected, pair.serverPeer.getErrorMessage())
        XCTAssertEqual(surfaced, 0, "a keepalive surfaced as a packet")
        let client = pair.client.getStats(), server = pair.serverPeer.getStats()
        XCTAssertGreaterThanOrEqual(client.keepalivesSent, 15, "\(client)")
        XCTAssertGreaterThanOrEqual(server.keepalivesSent, 15, "\(server)")
        XCTAssertGreaterThanOrEqual(server.keepalivesReceived, 15, "\(server)")
        XCTAssertGreaterThanOrEqual(client.keepalivesReceived, 15, "\(client)")
        XCTAssertEqual(client.packetsReceived, 70)
        XCTAssertEqual(server.packetsReceived, 70)
        XCTAssertEqual(client.recordsDroppedBadMAC + server.recordsDroppedBadMAC, 0, "keepalives in a row were taken for forgeries")
        // Application traffic still flows after all the keepalives.
        XCTAssertEqual(pair.client.putPacket([7, 7]), .ok)
        var echoed: [UInt8] = []
        XCTAssertTrue(DTLSLoopbackTests.run({
            pair.server.step(); pair.client.poll()
            if pair.client.getAvailablePacketCount() > 0 { echoed = pair.client.getPacket() }
        }, until: { !echoed.isEmpty }))
        XCTAssertEqual(echoed, [7, 7])
    }

    /// A keepalive on one end only keeps both idle timers satisfied: the other end answers (at most once a
    /// second), and never answers an answer.
    func testOneSidedKeepaliveSatisfiesBothIdleTimers() throws {
        let pair = try LivePair(serverOptions: { $0.setIdleTimeout(ms: 2000) },
                                clientOptions: { $0.setIdleTimeout(ms: 2000); $0.setKeepalive(ms: 400) })
        let start = MonotonicClock.milliseconds()
        _ = DTLSLoopbackTests.run(within: 7, { pair.server.step(); pair.client.poll() }, until: {
            MonotonicClock.milliseconds() - start >= 6000 || pair.client.getStatus() != .connected
                || pair.serverPeer.getStatus() != .connected
        })
        XCTAssertEqual(pair.client.getStatus(), .connected, pair.client.getErrorMessage())
        XCTAssertEqual(pair.serverPeer.getStatus(), .connected, pair.serverPeer.getErrorMessage())
        let client = pair.client.getStats(), server = pair.serverPeer.getStats()
        XCTAssertGreaterThanOrEqual(server.keepalivesSent, 3, "the server answered no keepalive: \(server)")
        XCTAssertLessThanOrEqual(server.keepalivesSent, 8, "answers at most once a second: \(server)")
        // The last answer may still be on its way.
        XCTAssertGreaterThanOrEqual(client.keepalivesReceived + 1, server.keepalivesSent)
        XCTAssertLessThanOrEqual(client.keepalivesSent, 17, "the client answered answers: \(client)")
    }

    /// Application traffic is proof of life too: no keepalive goes while packets flow.
    func testNoKeepaliveWhilePacketsFlow() throws {
        let pair = try LivePair(serverOptions: { _ in }, clientOptions: { $0.setKeepalive(ms: 300) })
        let start = MonotonicClock.milliseconds()
        var lastPut: UInt64 = 0
        _ = DTLSLoopbackTests.run(within: 3, {
            let now = MonotonicClock.milliseconds()
            if now - lastPut >= 50 { XCTAssertEqual(pair.client.putPacket([1]), .ok); lastPut = now }
            pair.server.step()
            pair.client.poll()
            while pair.client.getAvailablePacketCount() > 0 { _ = pair.client.getPacket() }
        }, until: { MonotonicClock.milliseconds() - start >= 1500 })
        XCTAssertEqual(pair.client.getStats().keepalivesSent, 0)
    }

    /// 20% loss each way: keepalives every 250 ms keep a session alive against a 2 s idle timeout.
    func testKeepaliveSessionSurvivesLoss() throws {
        var proxy: LossyProxy?
        let pair = try LivePair(serverOptions: { $0.setIdleTimeout(ms: 2000) },
                                clientOptions: { $0.setIdleTimeout(ms: 2000); $0.setKeepalive(ms: 250) },
                                viaPort: { port in
                                    proxy = LossyProxy(serverPort: port, seed: 16, both: .none)
                                    return proxy!.port
                                }, step: { proxy?.pump() })
        let lossy = try XCTUnwrap(proxy)
        lossy.setFaults(.loss(20))
        XCTAssertEqual(pair.serverPeer.setKeepalive(ms: 250), .ok)
        let start = MonotonicClock.milliseconds()
        _ = DTLSLoopbackTests.run(within: 9, {
            lossy.pump()
            pair.server.step()
            pair.client.poll()
        }, until: {
            MonotonicClock.milliseconds() - start >= 8000 || pair.client.getStatus() != .connected
                || pair.serverPeer.getStatus() != .connected
        })
        XCTAssertEqual(pair.client.getStatus(), .connected, pair.client.getErrorMessage())
        XCTAssertEqual(pair.serverPeer.getStatus(), .connected, pair.serverPeer.getErrorMessage())
        XCTAssertGreaterThan(lossy.counters[0].dropped + lossy.counters[1].dropped, 0, "the proxy dropped nothing")
        XCTAssertGreaterThan(pair.serverPeer.getStats().keepalivesReceived, 10)
        XCTAssertEqual(pair.client.getAvailablePacketCount() + pair.serverPeer.getAvailablePacketCount(), 0)
    }

    /// Each end's keepalive is its own last epoch-1 handshake record (the Finished) sent again byte for
    /// byte, whatever it sent since; the other end counts it and surfaces nothing.
    func testKeepaliveIsTheFinishedRecordSentAgain() throws {
        let pair = MemoryPair(server: MemoryPair.server(for: try TestIdentity.make()))
        var clientSent: [[UInt8]] = [], serverSent: [[UInt8]] = []
        pair.link.client.outboundFilter = { clientSent.append($0); return $0 }
        pair.link.server.outboundFilter = { serverSent.append($0); return $0 }
        let server = try pair.handshake()
        XCTAssertEqual(pair.client.getStatus(), .connected, pair.client.getErrorMessage())
        let clientFinished = try XCTUnwrap(Self.lastEpochOneHandshakeRecord(clientSent))
        let serverFinished = try XCTUnwrap(Self.lastEpochOneHandshakeRecord(serverSent))
        XCTAssertLessThanOrEqual(clientFinished.count, KeepaliveRecord.maxSize)
        // Application records since do not change it.
        XCTAssertEqual(pair.client.putPacket([1, 2, 3]), .ok)
        server.poll()
        XCTAssertEqual(server.getPacket(), [1, 2, 3])
        XCTAssertEqual(server.putPacket([4]), .ok)
        pair.client.poll()
        XCTAssertEqual(pair.client.getPacket(), [4])
        clientSent = []
        serverSent = []
        XCTAssertEqual(pair.client.withSession { $0?.sendKeepalive() }, true)
        XCTAssertEqual(server.withSession { $0?.sendKeepalive() }, true)
        XCTAssertEqual(clientSent, [clientFinished])
        XCTAssertEqual(serverSent, [serverFinished])
        server.poll()
        pair.client.poll()
        XCTAssertEqual(server.getStats().keepalivesReceived, 1)
        XCTAssertEqual(pair.client.getStats().keepalivesReceived, 1)
        XCTAssertEqual(server.getAvailablePacketCount() + pair.client.getAvailablePacketCount(), 0)
        XCTAssertEqual(server.getStatus(), .connected)
        XCTAssertEqual(pair.client.getStatus(), .connected)
    }

    /// The keepalive copy: only handshake records of epoch >= 1 (never an epoch-0 ClientHello, never an
    /// application record), the last one wins, and a record past the size cap is not kept.
    func testKeepaliveRecordKeepsOnlyEpochOneHandshakeRecords() {
        func record(type: UInt8, epoch: UInt16, sequence: UInt8, body: Int) -> [UInt8] {
            [type, 0xfe, 0xfd, UInt8(epoch >> 8), UInt8(epoch & 0xff), 0, 0, 0, 0, 0, sequence,
             UInt8(body >> 8), UInt8(body & 0xff)] + [UInt8](repeating: sequence, count: body)
        }
        var kept = KeepaliveRecord()
        func send(_ datagram: [UInt8]) { datagram.withUnsafeBytes { kept.observeSent($0) } }
        let hello = record(type: 22, epoch: 0, sequence: 1, body: 40)
        let finished = record(type: 22, epoch: 1, sequence: 0, body: 40)
        let again = record(type: 22, epoch: 1, sequence: 1, body: 40)
        let data = record(type: 23, epoch: 1, sequence: 2, body: 10)
        send(hello)
        XCTAssertTrue(kept.isEmpty)
        // A flight: change_cipher_spec (epoch 0) and the Finished (epoch 1) in one datagram.
        send(record(type: 20, epoch: 0, sequence: 2, body: 1) + finished)
        XCTAssertEqual(kept.bytes, finished)
        send(data)
        XCTAssertEqual(kept.bytes, finished)
        send(again + data)
        XCTAssertEqual(kept.bytes, again)
        send(record(type: 22, epoch: 1, sequence: 3, body: KeepaliveRecord.maxSize))
        XCTAssertEqual(kept.bytes, again, "past the size cap")
        send(Array(finished.dropLast()))
        XCTAssertEqual(kept.bytes, again, "a record running past the datagram")
        let header = finished.withUnsafeBytes { DTLSRecordHeader.single($0) }
        XCTAssertEqual(header?.epoch, 1)
        XCTAssertEqual(header?.recordLength, finished.count)
        XCTAssertNil((finished + data).withUnsafeBytes { DTLSRecordHeader.single($0) }, "two records")
    }

    private static func lastEpochOneHandshakeRecord(_ datagrams: [[UInt8]]) -> [UInt8]? {
        var found: [UInt8]?
        for datagram in datagrams {
            datagram.withUnsafeBytes { bytes in
                var offset = 0
                while let header = DTLSRecordHeader(bytes, at: offset), offset + header.recordLength <= bytes.count {
                    if header.type == 22, header.epoch == 1 {
                        found = Array(datagram[offset..<(offset + header.recordLength)])
                    }
                    offset += header.recordLength
                }
            }
        }
        return found
    }

    // MARK: ICMP "connection refused"

    func testHandshakeToAClosedPortFailsFast() throws {
        let port = OpenSSLTool.freePort()
        let udp = PacketPeerUDP()
        XCTAssertEqual(udp.connectToHost("127.0.0.1", port: port), .ok)
        let client = PacketPeerDTLS()
        let start = MonotonicClock.milliseconds()
        XCTAssertEqual(client.connectToPeer(udp, validateCerts: false), .ok)
        XCTAssertTrue(DTLSLoopbackTests.run(within: 3, { client.poll() }, until: { client.getStatus() != .handshaking }))
        let elapsed = MonotonicClock.milliseconds() - start
        XCTAssertEqual(client.getStatus(), .error)
        XCTAssertTrue(client.getErrorMessage().contains("connection refused"), client.getErrorMessage())
        XCTAssertLessThan(elapsed, 1500, "a closed port took \(elapsed) ms to fail")
        XCTAssertGreaterThanOrEqual(client.getStats().handshakeRetransmissions, 1, "the flight goes once more first")
    }

    /// One refusal is soft: a server that appears before the retransmission is served.
    func testOneRefusalIsNotFatalToAHandshake() throws {
        let identity = try TestIdentity.make()
        let port = OpenSSLTool.freePort()
        let udp = PacketPeerUDP()
        XCTAssertEqual(udp.connectToHost("127.0.0.1", port: port), .ok)
        let client = PacketPeerDTLS()
        XCTAssertEqual(client.connectToPeer(udp, validateCerts: false), .ok)
        // The ClientHello met a closed port; a server comes up there now.
        XCTAssertTrue(DTLSLoopbackTests.run(within: 1, { client.poll() }, until: { udp.refusalsReported > 0 }))
        let server = try EchoServer(key: identity.key, certificate: identity.certificate, port: port)
        XCTAssertTrue(DTLSLoopbackTests.run(within: 5, { server.step(); client.poll() },
                                            until: { client.getStatus() != .handshaking }))
        XCTAssertEqual(client.getStatus(), .connected, client.getErrorMessage())
    }

    /// A real second process (`packetdtls-cli serve`) killed under an established session.
    func testEstablishedSessionWhoseServerProcessIsKilled() throws {
        let cli = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("packetdtls-cli").path
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: cli), "packetdtls-cli is not built next to the tests")
        let port = OpenSSLTool.freePort()
        let server = try ExternalPeer(cli, ["serve", "--port", "\(port)", "--bind", "127.0.0.1"])
        defer { server.stop() }
        XCTAssertTrue(DTLSLoopbackTests.run(within: 10, {}, until: { server.text.contains("listening on") }), server.text)

        let udp = PacketPeerUDP()
        XCTAssertEqual(udp.connectToHost("127.0.0.1", port: port), .ok)
        let client = PacketPeerDTLS()
        XCTAssertEqual(client.connectToPeer(udp, validateCerts: false), .ok)
        XCTAssertTrue(DTLSLoopbackTests.run({ client.poll() }, until: { client.getStatus() != .handshaking }))
        XCTAssertEqual(client.getStatus(), .connected, client.getErrorMessage() + "\n" + server.text)

        kill(server.process.processIdentifier, SIGKILL)
        server.process.waitUntilExit()
        let killed = MonotonicClock.milliseconds()
        // A game keeps sending (every 100 ms); put_packet stays OK until the session ends.
        var lastPut: UInt64 = 0
        _ = DTLSLoopbackTests.run(within: 4, {
            let now = MonotonicClock.milliseconds()
            if now - lastPut >= 100, client.getStatus() == .connected {
                XCTAssertEqual(client.putPacket(Array("tick".utf8)), .ok, client.getErrorMessage())
                lastPut = now
            }
            client.poll()
        }, until: { client.getStatus() != .connected })
        let elapsed = MonotonicClock.milliseconds() - killed
        XCTAssertEqual(client.getStatus(), .error)
        XCTAssertTrue(client.getErrorMessage().contains("connection refused"), client.getErrorMessage())
        XCTAssertLessThan(elapsed, 3000, "the session ended \(elapsed) ms after the server was killed")
        XCTAssertGreaterThanOrEqual(elapsed, 1500, "one refusal must be soft")
    }

    /// A quiet client learns as well: its probes after the first refusal keep the refusals coming.
    func testQuietClientOfAKilledServerEndsThroughItsKeepalive() throws {
        let cli = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("packetdtls-cli").path
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: cli), "packetdtls-cli is not built next to the tests")
        let port = OpenSSLTool.freePort()
        let server = try ExternalPeer(cli, ["serve", "--port", "\(port)", "--bind", "127.0.0.1"])
        defer { server.stop() }
        XCTAssertTrue(DTLSLoopbackTests.run(within: 10, {}, until: { server.text.contains("listening on") }), server.text)
        let udp = PacketPeerUDP()
        XCTAssertEqual(udp.connectToHost("127.0.0.1", port: port), .ok)
        let client = PacketPeerDTLS()
        XCTAssertEqual(client.setKeepalive(ms: 200), .ok)
        XCTAssertEqual(client.connectToPeer(udp, validateCerts: false), .ok)
        XCTAssertTrue(DTLSLoopbackTests.run({ client.poll() }, until: { client.getStatus() != .handshaking }))
        XCTAssertEqual(client.getStatus(), .connected, client.getErrorMessage())

        kill(server.process.processIdentifier, SIGKILL)
        server.process.waitUntilExit()
        let killed = MonotonicClock.milliseconds()
        XCTAssertTrue(DTLSLoopbackTests.run(within: 4, { client.poll() }, until: { client.getStatus() != .connected }))
        let elapsed = MonotonicClock.milliseconds() - killed
        XCTAssertEqual(client.getStatus(), .error)
        XCTAssertTrue(client.getErrorMessage().contains("connection refused"), client.getErrorMessage())
        XCTAssertLessThan(elapsed, 3000)
    }
}
