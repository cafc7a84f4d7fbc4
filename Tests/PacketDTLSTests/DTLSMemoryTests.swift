// DTLSMemoryTests.swift — handshakes and data between two DTLS ends joined in memory.

import XCTest
@testable import PacketDTLS

final class DTLSMemoryTests: XCTestCase {
    /// A connected client/server pair over a fresh in-memory link.
    private func connectedPair(file: StaticString = #filePath, line: UInt = #line)
        throws -> (client: PacketPeerDTLS, server: PacketPeerDTLS, link: (client: MemoryLink, server: MemoryLink)) {
        let pair = MemoryPair(server: MemoryPair.server(for: try TestIdentity.make(), file: file, line: line),
                              file: file, line: line)
        let accepted = try pair.handshake(file: file, line: line)
        return (pair.client, accepted, pair.link)
    }

    func testHandshakeAndDataBothWays() throws {
        let (client, server, _) = try connectedPair()
        XCTAssertEqual(client.getStatus(), .connected, client.getErrorMessage())
        XCTAssertEqual(server.getStatus(), .connected, server.getErrorMessage())
        XCTAssertTrue(client.getCipherSuite().hasPrefix("TLS_ECDHE_ECDSA_WITH_"), client.getCipherSuite())
        XCTAssertTrue(client.getCipherSuite().contains("GCM") || client.getCipherSuite().contains("CHACHA20"))

        XCTAssertEqual(client.putPacket(Array("The answer is... 42!".utf8)), .ok)
        server.poll()
        XCTAssertEqual(server.getAvailablePacketCount(), 1)
        XCTAssertEqual(String(decoding: server.getPacket(), as: UTF8.self), "The answer is... 42!")
        XCTAssertEqual(server.getPacketError(), .ok)
        XCTAssertEqual(server.putPacket(Array("Hello DTLS client".utf8)), .ok)
        client.poll()
        XCTAssertEqual(String(decoding: client.getPacket(), as: UTF8.self), "Hello DTLS client")
        _ = client.getPacket()
        XCTAssertEqual(client.getPacketError(), .unavailable)
    }

    func testFirstClientHelloGetsCookieRequestAndNoState() throws {
        let pair = MemoryPair(server: MemoryPair.server(for: try TestIdentity.make()))
        let (server, link, client) = (pair.server, pair.link, pair.client)
        let first = try XCTUnwrap(server.takeConnection(link.server))
        XCTAssertEqual(first.getStatus(), .disconnected)
        XCTAssertTrue(first.getErrorMessage().contains("HelloVerifyRequest"), first.getErrorMessage())
        XCTAssertEqual(link.server.endedSessions, 1, "the UDP peer is released so the next ClientHello is new")
        XCTAssertEqual(link.client.pending, 1, "the HelloVerifyRequest went out")
        client.poll()
        let second = try XCTUnwrap(server.takeConnection(link.server))
        XCTAssertEqual(second.getStatus(), .handshaking)
        Pump.handshake(client, second)
        XCTAssertEqual(second.getStatus(), .connected)
    }

    func testServerPeersAreDistinctAndFreedWhenDropped() throws {
        // DTLSServer makes its peers in batches; a batch must not keep a peer it handed out alive.
        let identity = try TestIdentity.make()
        let server = DTLSServer()
        XCTAssertEqual(server.setup(key: identity.key, certificate: identity.certificate), .ok)
        let link = MemoryLink.pair()
        let client = PacketPeerDTLS()
        XCTAssertEqual(client.connectToPeer(link.client, hostname: "localhost", clientOptions: .clientUnsafe()), .ok)
        weak var cookieless = server.takeConnection(link.server)
        XCTAssertNil(cookieless, "nothing but the caller holds the peer")
        client.poll()
        weak var dropped: PacketPeerDTLS?
        do {
            let handshaking = try XCTUnwrap(server.takeConnection(link.server))
            XCTAssertEqual(handshaking.getStatus(), .handshaking)
            dropped = handshaking
        }
        XCTAssertNil(dropped, "a handshaking peer the caller drops is freed at once")
        XCTAssertEqual(link.server.endedSessions, 2, "and its session ends with it")
        let taken = (0..<(PeerBatch.size + 1)).compactMap { _ in server.takeConnection(MemoryLink.pair().server) }
        XCTAssertEqual(taken.count, PeerBatch.size + 1)
        XCTAssertEqual(Set(taken.map(ObjectIdentifier.init)).count, taken.count, "every peer is a new one")
    }

    func testManyPacketsInOnePoll() throws {
        let (client, server, _) = try connectedPair()
        for index in 0..<100 { XCTAssertEqual(client.putPacket([UInt8(index)]), .ok) }
        server.poll()
        XCTAssertEqual(server.getAvailablePacketCount(), 100, "poll takes in every datagram waiting")
        for index in 0..<100 { XCTAssertEqual(server.getPacket(), [UInt8(index)]) }
    }

    /// The newest decrypted packet waits inside mbedTLS until taken; packets decrypted behind it, in
    /// this poll or a later one, come after it, and every getter sees the same queue.
    func testPacketsKeepTheirOrderAcrossPollsAndGetters() throws {
        let (client, server, _) = try connectedPair()
        XCTAssertEqual(client.putPacket([1]), .ok)
        server.poll()
        XCTAssertEqual(server.getAvailablePacketCount(), 1)
        server.poll()
        XCTAssertEqual(server.getAvailablePacketCount(), 1, "a poll with nothing new changes nothing")
        XCTAssertEqual(client.putPacket([2, 2]), .ok)
        XCTAssertEqual(client.putPacket([3, 3, 3]), .ok)
        server.poll()
        XCTAssertEqual(server.getAvailablePacketCount(), 3)
        XCTAssertEqual(server.getPacket(), [1])
        var buffer = [UInt8](repeating: 0, count: 8)
        let second = buffer.withUnsafeMutableBytes { server.getPacket(into: $0) }
        XCTAssertEqual(second.error, .ok)
        XCTAssertEqual(Array(buffer[..<second.length]), [2, 2])
        XCTAssertEqual(client.putPacket([4, 4, 4, 4]), .ok)
        server.poll()
        XCTAssertEqual(server.getPacket(), [3, 3, 3])
        XCTAssertEqual(server.getPacket(), [4, 4, 4, 4])
        XCTAssertEqual(server.getPacket(), [])
        XCTAssertEqual(server.getPacketError(), .unavailable)
        XCTAssertEqual(server.getStats().packetsReceived, 4)
    }

    func testLargestPacketAndOneByteMore() throws {
        let (client, server, _) = try connectedPair()
        let limit = client.getMaxPacketSize()
        XCTAssertGreaterThanOrEqual(limit, 16000)
        XCTAssertEqual(client.putPacket([UInt8](repeating: 7, count: limit)), .ok)
        XCTAssertEqual(client.putPacket([UInt8](repeating: 7, count: limit + 1)), .invalidParameter)
        XCTAssertEqual(client.putPacket([]), .invalidParameter, "an empty packet would never leave")
        server.poll()
        XCTAssertEqual(server.getPacket().count, limit)
    }

    func testSmallBufferKeepsPacketQueued() throws {
        let (client, server, _) = try connectedPair()
        XCTAssertEqual(client.putPacket(Array(repeating: 1, count: 100)), .ok)
        server.poll()
        var small = [UInt8](repeating: 0, count: 10)
        let result = small.withUnsafeMutableBytes { server.getPacket(into: $0) }
        XCTAssertEqual(result.error, .parameterRangeError)
        XCTAssertEqual(result.length, 100)
        XCTAssertEqual(server.getAvailablePacketCount(), 1)
        var large = [UInt8](repeating: 0, count: 200)
        let taken = large.withUnsafeMutableBytes { server.getPacket(into: $0) }
        XCTAssertEqual(taken.error, .ok)
        XCTAssertEqual(taken.length, 100)
    }

    func testCloseNotifyDisconnectsThePeer() throws {
        let (client, server, link) = try connectedPair()
        XCTAssertEqual(client.putPacket([1, 2, 3]), .ok)
        XCTAssertEqual(client.disconnectFromPeer(), .ok)
        XCTAssertEqual(client.getStatus(), .disconnected)
        server.poll()
        XCTAssertEqual(server.getStatus(), .disconnected)
        XCTAssertEqual(server.getPacket(), [1, 2, 3], "packets that arrived before close_notify stay readable")
        XCTAssertEqual(link.server.endedSessions, 2, "cookie round and this session each released the UDP peer")
        XCTAssertEqual(server.putPacket([1]), .unconfigured)
        XCTAssertEqual(client.putPacket([1]), .unconfigured)
    }

    func testNotConnectedErrors() {
        let peer = PacketPeerDTLS()
        XCTAssertEqual(peer.putPacket([1]), .unconfigured)
        XCTAssertEqual(peer.getPacket(), [])
        XCTAssertEqual(peer.getPacketError(), .unconfigured)
        XCTAssertEqual(peer.poll(), .unconfigured)
        XCTAssertEqual(peer.getStatus(), .disconnected)
    }

    func testConnectTwiceIsAlreadyInUse() throws {
        let link = MemoryLink.pair()
        let client = PacketPeerDTLS()
        XCTAssertEqual(client.connectToPeer(link.client, hostname: "x", clientOptions: .clientUnsafe()), .ok)
        XCTAssertEqual(client.connectToPeer(link.client, hostname: "x", clientOptions: .clientUnsafe()), .alreadyInUse)
    }

    func testVerifiedHandshakeWithTrustedSelfSignedCertificate() throws {
        let identity = try TestIdentity.make()
        let server = MemoryPair.server(for: identity)
        for name in ["localhost", "127.0.0.1"] {
            let pair = MemoryPair(server: server, hostname: name,
                                  clientOptions: .client(trustedChain: identity.certificate))
            try pair.handshake()
            XCTAssertEqual(pair.client.getStatus(), .connected, "\(name): \(pair.client.getErrorMessage())")
        }
    }

    func testWrongHostnameIsHostnameMismatch() throws {
        let identity = try TestIdentity.make()
        let server = MemoryPair.server(for: identity)
        for name in ["other.example", "10.1.2.3"] {
            let pair = MemoryPair(server: server, hostname: name,
                                  clientOptions: .client(trustedChain: identity.certificate))
            let (client, accepted) = try (pair.client, pair.handshake())
            XCTAssertEqual(client.getStatus(), .errorHostnameMismatch, "\(name): \(client.getErrorMessage())")
            XCTAssertTrue(client.getErrorMessage().contains(name), client.getErrorMessage())
            XCTAssertEqual(accepted.getStatus(), .error, "the server hears the client's alert")
            XCTAssertTrue(accepted.getErrorMessage().contains("bad_certificate"), accepted.getErrorMessage())
        }
    }

    func testCommonNameOverrideIsCheckedInsteadOfHostname() throws {
        let identity = try TestIdentity.make()
        let options = TLSOptions.client(trustedChain: identity.certificate, commonNameOverride: "localhost")
        let pair = MemoryPair(server: MemoryPair.server(for: identity), hostname: "game.example",
                              clientOptions: options)
        try pair.handshake()
        XCTAssertEqual(pair.client.getStatus(), .connected, pair.client.getErrorMessage())
    }

    func testUntrustedCertificateIsError() throws {
        let stranger = try TestIdentity.make()
        let pair = MemoryPair(server: MemoryPair.server(for: try TestIdentity.make()),
                              clientOptions: .client(trustedChain: stranger.certificate))
        try pair.handshake()
        XCTAssertEqual(pair.client.getStatus(), .error)
        XCTAssertTrue(pair.client.getErrorMessage().contains("not correctly signed by the trusted CA"),
                      pair.client.getErrorMessage())
    }

    func testUnsafeClientWithChainChecksChainButNotName() throws {
        let identity = try TestIdentity.make()
        let pair = MemoryPair(server: MemoryPair.server(for: identity), hostname: "wrong.example",
                              clientOptions: .clientUnsafe(trustedChain: identity.certificate))
        try pair.handshake()
        XCTAssertEqual(pair.client.getStatus(), .connected, pair.client.getErrorMessage())
    }

    func testHandshakeTimeoutWhenServerVanishes() throws {
        let link = MemoryLink.pair()
        let options = TLSOptions.clientUnsafe()
        XCTAssertEqual(options.setHandshakeTimeout(minMs: 10, maxMs: 40), .ok)
        let client = PacketPeerDTLS()
        XCTAssertEqual(client.connectToPeer(link.client, hostname: "x", clientOptions: options), .ok)
        let deadline = Date().addingTimeInterval(5)
        while client.getStatus() == .handshaking, Date() < deadline { client.poll(); usleep(2000) }
        XCTAssertEqual(client.getStatus(), .error)
        XCTAssertTrue(client.getErrorMessage().contains("timeout"), client.getErrorMessage())
        XCTAssertGreaterThan(link.server.pending, 1, "the ClientHello was retransmitted before giving up")
        // 10, 20 and 40 ms pass: two resends, then the give-up, which sends nothing and is no retransmission.
        let stats = client.getStats()
        XCTAssertEqual(stats.datagramsSent, UInt64(link.server.pending))
        XCTAssertEqual(stats.handshakeRetransmissions, stats.datagramsSent - 1, "one ClientHello, then the resends")
    }

    func testGarbageDuringAndAfterHandshakeIsIgnored() throws {
        let pair = MemoryPair(server: MemoryPair.server(for: try TestIdentity.make()))
        let (link, client) = (pair.link, pair.client)
        var generator = SeededGenerator(seed: 7)
        func garbage() -> [UInt8] {
            (0..<Int.random(in: 0...300, using: &generator)).map { _ in .random(in: 0...255, using: &generator) }
        }
        // An empty datagram once ended a session (mbedTLS read it as end-of-stream): keep one in.
        link.server.inject([])
        link.client.inject(garbage())
        let accepted = try pair.accept()
        link.server.inject(garbage())
        link.client.inject(garbage())
        Pump.handshake(client, accepted)
        XCTAssertEqual(client.getStatus(), .connected, client.getErrorMessage())
        XCTAssertEqual(accepted.getStatus(), .connected, accepted.getErrorMessage())
        for _ in 0..<50 { link.server.inject(garbage()); link.client.inject(garbage()) }
        link.server.inject([])
        link.client.inject([])
        link.server.inject([UInt8](repeating: 0x17, count: 70000))
        XCTAssertEqual(client.putPacket([42]), .ok)
        accepted.poll()
        client.poll()
        XCTAssertEqual(accepted.getStatus(), .connected, accepted.getErrorMessage())
        XCTAssertEqual(client.getStatus(), .connected, client.getErrorMessage())
        XCTAssertEqual(accepted.getPacket(), [42])
    }

    func testIdleTimeoutEndsASilentSession() throws {
        let identity = try TestIdentity.make()
        let options = TLSOptions.server(key: identity.key, certificate: identity.certificate)
        // Long enough that a slow (sanitizer) build completes the handshake inside it.
        XCTAssertEqual(options.setIdleTimeout(ms: 300), .ok)
        let server = DTLSServer()
        XCTAssertEqual(server.setup(serverOptions: options), .ok)
        let pair = MemoryPair(server: server) // held to the end: a client that goes away sends close_notify
        let accepted = try pair.handshake()
        XCTAssertEqual(accepted.getStatus(), .connected)
        let deadline = Date().addingTimeInterval(5)
        while accepted.getStatus() == .connected, Date() < deadline { accepted.poll(); usleep(5000) }
        XCTAssertEqual(accepted.getStatus(), .error)
        XCTAssertTrue(accepted.getErrorMessage().contains("idle timeout"), accepted.getErrorMessage())
    }

    func testServerLifecycle() throws {
        let identity = try TestIdentity.make()
        let other = try TestIdentity.make()
        let server = DTLSServer()
        let link = MemoryLink.pair()
        XCTAssertNil(server.takeConnection(link.server), "not set up")
        XCTAssertEqual(server.setup(key: identity.key, certificate: identity.certificate), .ok)
        XCTAssertEqual(server.setup(key: other.key, certificate: other.certificate), .ok, "setup may be repeated")
        XCTAssertEqual(server.setup(key: identity.key, certificate: other.certificate), .invalidParameter,
                       "a key that does not match its certificate is refused")
        XCTAssertEqual(server.setup(serverOptions: .clientUnsafe()), .invalidParameter)
        server.stop()
        XCTAssertNil(server.takeConnection(link.server), "stopped")
    }
}
