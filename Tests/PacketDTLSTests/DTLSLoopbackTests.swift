// DTLSLoopbackTests.swift — DTLS over real UDP sockets on 127.0.0.1, both ends in this process.

import XCTest
@testable import PacketDTLS

/// The seeds' server_node loop: UDPServer + DTLSServer, peers kept while handshaking, echoing.
final class EchoServer {
    let udp = UDPServer()
    let dtls = DTLSServer()
    private(set) var peers: [PacketPeerDTLS] = []
    private(set) var cookieRounds = 0
    var reply: ([UInt8]) -> [UInt8] = { $0 }

    init(key: CryptoKey, certificate: X509Certificate, options: TLSOptions? = nil, port: Int = 0) throws {
        XCTAssertEqual(udp.listen(port: port, bindAddress: "127.0.0.1"), .ok)
        let setup = options.map { dtls.setup(serverOptions: $0) } ?? dtls.setup(key: key, certificate: certificate)
        XCTAssertEqual(setup, .ok, ErrorReport.message)
    }

    var port: Int { udp.getLocalPort() }

    /// A client over a new UDP peer connected to this server, its handshake started; it checks no
    /// certificate. The DTLS peer keeps its UDP peer.
    func startClient() -> PacketPeerDTLS {
        let udp = PacketPeerUDP()
        XCTAssertEqual(udp.connectToHost("127.0.0.1", port: port), .ok)
        let client = PacketPeerDTLS()
        XCTAssertEqual(client.connectToPeer(udp, validateCerts: false), .ok)
        return client
    }

    func step() {
        udp.poll()
        while udp.isConnectionAvailable() {
            guard let peer = udp.takeConnection(), let dtlsPeer = dtls.takeConnection(peer) else { continue }
            if dtlsPeer.getStatus() != .handshaking {
                cookieRounds += 1  // It is normal that 50% of the connections fail due to cookie exchange.
                continue
            }
            peers.append(dtlsPeer)
        }
        for peer in peers {
            peer.poll()
            guard peer.getStatus() == .connected else { continue }
            while peer.getAvailablePacketCount() > 0 {
                _ = peer.putPacket(reply(peer.getPacket()))
            }
        }
    }
}

final class DTLSLoopbackTests: XCTestCase {
    /// Polls `step` until `done` or the bound passes (no sleeping beyond a millisecond's yield).
    static func run(within seconds: Double = 10, _ step: () -> Void, until done: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            step()
            if done() { return true }
            usleep(200)
        }
        return done()
    }

    func testSeedsExampleOverLoopback() throws {
        let identity = try TestIdentity.make()
        let server = try EchoServer(key: identity.key, certificate: identity.certificate)
        server.reply = { _ in Array("Hello DTLS client".utf8) }
        let client = server.startClient()
        var sent = false
        var reply = ""
        let done = Self.run({
            server.step()
            client.poll()
            if client.getStatus() == .connected {
                if !sent { sent = client.putPacket(Array("The answer is... 42!".utf8)) == .ok }
                while client.getAvailablePacketCount() > 0 { reply = String(decoding: client.getPacket(), as: UTF8.self) }
            }
        }, until: { !reply.isEmpty })
        XCTAssertTrue(done, client.getErrorMessage())
        XCTAssertEqual(reply, "Hello DTLS client")
        XCTAssertGreaterThanOrEqual(server.cookieRounds, 1, "the cookie round trip happened")
    }

    func testVerifiedClientsByNameAndAddress() throws {
        let identity = try TestIdentity.make()
        let server = try EchoServer(key: identity.key, certificate: identity.certificate)
        for (hostname, expected) in [("localhost", DTLSStatus.connected), ("127.0.0.1", .connected),
                                     ("", .connected), ("wrong.example", .errorHostnameMismatch)] {
            let udp = PacketPeerUDP()
            XCTAssertEqual(udp.connectToHost("127.0.0.1", port: server.port), .ok)
            let client = PacketPeerDTLS()
            XCTAssertEqual(client.connectToPeer(udp, hostname: hostname,
                                                clientOptions: .client(trustedChain: identity.certificate)), .ok)
            _ = Self.run({ server.step(); client.poll() }, until: { client.getStatus() != .handshaking })
            XCTAssertEqual(client.getStatus(), expected, "\(hostname): \(client.getErrorMessage())")
        }
    }

    func testExpiredCertificateIsRefused() throws {
        let expired = try TestIdentity.make(notBefore: "20100101000000", notAfter: "20200101000000")
        let server = try EchoServer(key: expired.key, certificate: expired.certificate)
        let udp = PacketPeerUDP()
        XCTAssertEqual(udp.connectToHost("127.0.0.1", port: server.port), .ok)
        let client = PacketPeerDTLS()
        XCTAssertEqual(client.connectToPeer(udp, validateCerts: true, forHostname: "localhost",
                                            validCertificate: expired.certificate), .ok)
        _ = Self.run({ server.step(); client.poll() }, until: { client.getStatus() != .handshaking })
        XCTAssertEqual(client.getStatus(), .error)
        XCTAssertTrue(client.getErrorMessage().contains("expired"), client.getErrorMessage())
    }

    func testManyClientsOnOneServerSocket() throws {
        let identity = try TestIdentity.make()
        let server = try EchoServer(key: identity.key, certificate: identity.certificate)
        let clients = (0..<20).map { _ in (PacketPeerUDP(), PacketPeerDTLS()) }
        for (udp, dtls) in clients {
            XCTAssertEqual(udp.connectToHost("127.0.0.1", port: server.port), .ok)
            XCTAssertEqual(dtls.connectToPeer(udp, validateCerts: false), .ok)
        }
        var echoed = Set<Int>()
        let done = Self.run({
            server.step()
            for (index, (_, dtls)) in clients.enumerated() {
                dtls.poll()
                if dtls.getStatus() == .connected, !echoed.contains(index) {
                    if dtls.getAvailablePacketCount() > 0 {
                        XCTAssertEqual(dtls.getPacket(), [UInt8(index)])
                        echoed.insert(index)
                    } else if dtls.getCipherSuite() != "", server.peers.count > 0 {
                        _ = dtls.putPacket([UInt8(index)])
                    }
                }
            }
        }, until: { echoed.count == clients.count })
        XCTAssertTrue(done, "echoed \(echoed.count) of \(clients.count)")
    }

    func testGarbageFromAThirdSocketDoesNotDisturbASession() throws {
        let identity = try TestIdentity.make()
        let server = try EchoServer(key: identity.key, certificate: identity.certificate)
        let client = server.startClient()
        let attacker = PacketPeerUDP()
        XCTAssertEqual(attacker.setDestAddress("127.0.0.1", port: server.port), .ok)
        var generator = SeededGenerator(seed: 42)
        func garbage() -> [UInt8] { (0..<Int.random(in: 1...1200, using: &generator)).map { _ in .random(in: 0...255, using: &generator) } }
        _ = Self.run({ _ = attacker.putPacket(garbage()); server.step(); client.poll() },
                     until: { client.getStatus() == .connected })
        XCTAssertEqual(client.getStatus(), .connected, client.getErrorMessage())
        var replies = 0
        let done = Self.run({
            for _ in 0..<5 { _ = attacker.putPacket(garbage()) }
            _ = client.putPacket([7])
            server.step()
            client.poll()
            while client.getAvailablePacketCount() > 0 { if client.getPacket() == [7] { replies += 1 } }
        }, until: { replies >= 10 })
        XCTAssertTrue(done)
        XCTAssertEqual(client.getStatus(), .connected)
    }

    /// Bursts larger than one recvmmsg batch, both ways: the server reads 8 datagrams a call from its
    /// socket, the client 2 from its own (the second queued); every packet arrives once, in order.
    func testBurstsLargerThanABatchArriveWholeAndInOrder() throws {
        let identity = try TestIdentity.make()
        let server = try EchoServer(key: identity.key, certificate: identity.certificate)
        let client = server.startClient()
        XCTAssertTrue(Self.run({ server.step(); client.poll() }, until: { client.getStatus() == .connected }),
                      client.getErrorMessage())
        let count = 50
        for index in 0..<count { XCTAssertEqual(client.putPacket([UInt8(index), 0xAB]), .ok) }
        var echoed: [[UInt8]] = []
        let done = Self.run({
            server.step()
            client.poll()
            while client.getAvailablePacketCount() > 0 { echoed.append(client.getPacket()) }
        }, until: { echoed.count >= count })
        XCTAssertTrue(done, "\(echoed.count) of \(count) echoed")
        XCTAssertEqual(echoed, (0..<count).map { [UInt8($0), 0xAB] })
        XCTAssertEqual(server.udp.droppedDatagrams, 0)
    }
}

/// Server-side peers taken from a UDPServer settle into a quiet state when idle (their poll then reads
/// only their own atomics); a datagram or the idle deadline must still wake them.
final class DTLSQuietPeerTests: XCTestCase {
    func testQuietServerPeerWakesForDataAndForItsIdleTimeout() throws {
        let identity = try TestIdentity.make()
        let options = TLSOptions.server(key: identity.key, certificate: identity.certificate)
        XCTAssertEqual(options.setIdleTimeout(ms: 400), .ok)
        let server = try EchoServer(key: identity.key, certificate: identity.certificate, options: options)
        let client = server.startClient()
        XCTAssertTrue(DTLSLoopbackTests.run({ server.step(); client.poll() }, until: {
            client.getStatus() == .connected && server.peers.first?.getStatus() == .connected
        }))
        // Idle polls (quiet), then three rounds of data after each quiet spell.
        for round in 0..<3 {
            for _ in 0..<200 { server.step() }
            XCTAssertEqual(client.putPacket([UInt8(round)]), .ok)
            var echoed: [UInt8] = []
            XCTAssertTrue(DTLSLoopbackTests.run({
                server.step()
                client.poll()
                if client.getAvailablePacketCount() > 0 { echoed = client.getPacket() }
            }, until: { !echoed.isEmpty }), "round \(round): no echo after a quiet spell")
            XCTAssertEqual(echoed, [UInt8(round)])
        }
        // Silence: the quiet peer must still time out.
        let peer = try XCTUnwrap(server.peers.first)
        XCTAssertTrue(DTLSLoopbackTests.run(within: 5, { server.step() }, until: { peer.getStatus() == .error }))
        XCTAssertTrue(peer.getErrorMessage().contains("idle timeout"), peer.getErrorMessage())
    }
}
