// LivenessInteropTests.swift — our keepalives (our Finished record sent again: a duplicate every
// receiver drops) and our idle-timeout goodbye (close_notify with the inactivity mark behind it) as
// OpenSSL and GnuTLS see them.

import XCTest
@testable import PacketDTLS

final class LivenessInteropTests: XCTestCase {
    private var openssl: OpenSSLTool!

    override func setUpWithError() throws {
        openssl = try OpenSSLTool(folderPrefix: "pdtls-liveness")
    }

    override func tearDown() {
        openssl?.removeFolder()
    }

    /// An idle timeout on our side ends OpenSSL's session cleanly: s_client (against our server) and
    /// s_server (against our client) each read a close_notify, report no error, and end.
    func testIdleTimeoutEndsOpenSSLPeersCleanly() throws {
        let files = try openssl.saveIdentity("server")
        let (opensslServer, port) = try openssl.startServer(["-cert", files.certPath, "-key", files.keyPath,
                                                             "-naccept", "1"])
        defer { opensslServer.stop() }
        let udp = PacketPeerUDP()
        XCTAssertEqual(udp.connectToHost("127.0.0.1", port: port), .ok)
        let client = PacketPeerDTLS()
        let clientOptions = TLSOptions.client(trustedChain: files.certificate)
        clientOptions.setIdleTimeout(ms: 1000)
        XCTAssertEqual(client.connectToPeer(udp, hostname: "localhost", clientOptions: clientOptions), .ok)

        let options = TLSOptions.server(key: files.key, certificate: files.certificate)
        options.setIdleTimeout(ms: 1000)
        let server = try EchoServer(key: files.key, certificate: files.certificate, options: options)
        let opensslClient = try openssl.startClient(port: server.port, ["-CAfile", files.certPath])
        defer { opensslClient.stop() }
        XCTAssertTrue(DTLSLoopbackTests.run({ client.poll(); server.step() }, until: {
            client.getStatus() == .connected && server.peers.first?.getStatus() == .connected
        }), client.getErrorMessage() + "\n" + opensslServer.text + "\n" + opensslClient.text)
        XCTAssertTrue(DTLSLoopbackTests.run(within: 15, { client.poll(); server.step() }, until: {
            opensslClient.hasFinished && opensslServer.text.contains("DONE")
        }), "OpenSSL did not end at our close_notify:\n\(opensslServer.text)\n\(opensslClient.text)")
        XCTAssertEqual(client.getStatus(), .error)
        XCTAssertTrue(client.getErrorMessage().hasPrefix("idle timeout"), client.getErrorMessage())
        XCTAssertEqual(server.peers[0].getStatus(), .error)
        XCTAssertTrue(server.peers[0].getErrorMessage().hasPrefix("idle timeout"), server.peers[0].getErrorMessage())
        XCTAssertFalse(opensslClient.text.contains(":error:"), opensslClient.text)
        XCTAssertFalse(opensslServer.text.contains(":error:"), opensslServer.text)
        XCTAssertTrue(opensslClient.text.contains("closed"), opensslClient.text)
    }

    /// Polls `step` for `ms` milliseconds of no application traffic, or until `ended` holds.
    private func quietly(for ms: UInt64, _ step: () -> Void, ended: () -> Bool) {
        let start = MonotonicClock.milliseconds()
        _ = DTLSLoopbackTests.run(within: Double(ms) / 1000 + 5, step, until: {
            MonotonicClock.milliseconds() - start >= ms || ended()
        })
    }

    /// The test against `openssl s_server -dtls1_2`: our client's keepalive every 500 ms for
    /// 10 s of no application traffic. s_server (whose SSL_read() returned 0 on the empty record that
    /// was our keepalive before, and closed) drops each duplicate silently and keeps running; nothing
    /// is surfaced; application data still goes both ways afterwards. The tools run with -nbio: they
    /// call SSL_read() when select() finds the socket readable, and on a blocking socket OpenSSL,
    /// having dropped the duplicate, waits inside SSL_read() for the next record, leaving stdin unread
    /// until then (found with s_client; a datagram the network duplicates does the same).
    func testOpenSSLServerTakesOurKeepalivesFor10Seconds() throws {
        let files = try openssl.saveIdentity("server")
        let (opensslServer, port) = try openssl.startServer(["-cert", files.certPath, "-key", files.keyPath,
                                                             "-naccept", "1", "-nbio"])
        defer { opensslServer.stop() }
        let udp = PacketPeerUDP()
        XCTAssertEqual(udp.connectToHost("127.0.0.1", port: port), .ok)
        let client = PacketPeerDTLS()
        XCTAssertEqual(client.setKeepalive(ms: 500), .ok)
        XCTAssertEqual(client.connectToPeer(udp, hostname: "localhost",
                                            clientOptions: .client(trustedChain: files.certificate)), .ok)
        XCTAssertTrue(DTLSLoopbackTests.run({ client.poll() }, until: { client.getStatus() != .handshaking }))
        XCTAssertEqual(client.getStatus(), .connected, client.getErrorMessage() + "\n" + opensslServer.text)
        // 70 records first: our Finished, which the keepalives send again, is then older than
        // s_server's 64-record window (dropped as stale), not only a duplicate inside it.
        for index in 0..<70 { XCTAssertEqual(client.putPacket(Array("warm-up \(index)\n".utf8)), .ok) }
        XCTAssertTrue(DTLSLoopbackTests.run({ client.poll() }, until: { opensslServer.text.contains("warm-up 69") }),
                      opensslServer.text)
        var surfaced = 0
        quietly(for: 10_000, {
            client.poll()
            surfaced += client.getAvailablePacketCount()
        }, ended: { client.getStatus() != .connected || opensslServer.hasFinished })
        XCTAssertEqual(client.getStatus(), .connected, client.getErrorMessage() + "\n" + opensslServer.text)
        XCTAssertFalse(opensslServer.hasFinished, opensslServer.text)
        XCTAssertFalse(opensslServer.text.contains("ERROR"), opensslServer.text)
        XCTAssertFalse(opensslServer.text.contains("DONE"), opensslServer.text)
        XCTAssertFalse(opensslServer.text.contains(":error:"), opensslServer.text)
        XCTAssertEqual(surfaced, 0)
        let stats = client.getStats()
        XCTAssertGreaterThanOrEqual(stats.keepalivesSent, 15, "\(stats)")
        XCTAssertEqual(stats.packetsReceived, 0)
        XCTAssertEqual(stats.recordsDroppedBadMAC, 0)
        XCTAssertTrue(opensslServer.hears("after the keepalives", from: client), opensslServer.text)
        XCTAssertTrue(opensslServer.says("and back", to: client).contains("and back"), opensslServer.text)
        XCTAssertEqual(client.getStatus(), .connected, client.getErrorMessage())
    }

    /// The same against `openssl s_client -dtls1_2`, our server peer keeping the session alive (the
    /// keepalive set through the server's TLSOptions).
    func testOpenSSLClientTakesOurKeepalivesFor10Seconds() throws {
        let files = try openssl.saveIdentity("server")
        let options = TLSOptions.server(key: files.key, certificate: files.certificate)
        options.setKeepalive(ms: 500)
        let server = try EchoServer(key: files.key, certificate: files.certificate, options: options)
        server.reply = { Array("echo:".utf8) + $0 }
        let opensslClient = try openssl.startClient(port: server.port, ["-CAfile", files.certPath, "-nbio"])
        defer { opensslClient.stop() }
        XCTAssertTrue(DTLSLoopbackTests.run({ server.step() }, until: {
            server.peers.first?.getStatus() == .connected
        }), opensslClient.text)
        let peer = try XCTUnwrap(server.peers.first)
        // 70 records first, so that our Finished is older than s_client's window (see above).
        for index in 0..<70 { XCTAssertEqual(peer.putPacket(Array("warm-up \(index)\n".utf8)), .ok) }
        XCTAssertTrue(DTLSLoopbackTests.run({ server.step() }, until: { opensslClient.text.contains("warm-up 69") }),
                      opensslClient.text)
        quietly(for: 10_000, { server.step() }, ended: { peer.getStatus() != .connected || opensslClient.hasFinished })
        XCTAssertEqual(peer.getStatus(), .connected, peer.getErrorMessage() + "\n" + opensslClient.text)
        XCTAssertFalse(opensslClient.hasFinished, opensslClient.text)
        XCTAssertFalse(opensslClient.text.contains("read:errno"), opensslClient.text)
        XCTAssertFalse(opensslClient.text.contains(":error:"), opensslClient.text)
        let stats = peer.getStats()
        XCTAssertGreaterThanOrEqual(stats.keepalivesSent, 15, "\(stats)")
        XCTAssertEqual(stats.packetsReceived, 0, "\(stats)")
        XCTAssertEqual(stats.packetsSent, 70, "\(stats)")
        opensslClient.pingEcho(server)
        XCTAssertTrue(opensslClient.text.contains("echo:ping"), opensslClient.text + "\n\(peer.getStats())")
        XCTAssertEqual(peer.getStatus(), .connected, peer.getErrorMessage())
    }

    /// `gnutls-serv --echo` takes 250 keepalives in a row without a word and still echoes after them.
    /// (GnuTLS 3.7 ended a session after 200 empty records in a row, our keepalive before; a
    /// duplicate it drops as "Discarded duplicate message", without a limit.)
    func testGnuTLSServerTakesKeepalives() throws {
        let gnutlsServ = BeyondGodotInteropTests.gnutlsServ
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: gnutlsServ), "gnutls-bin is not installed")
        let files = try openssl.saveIdentity("server")
        let port = OpenSSLTool.freePort()
        let server = try ExternalPeer(gnutlsServ, ["--udp", "--echo", "-p", "\(port)", "--x509keyfile", files.keyPath,
                                                   "--x509certfile", files.certPath])
        defer { server.stop() }
        XCTAssertTrue(DTLSLoopbackTests.run({}, until: { server.text.contains("listening") }),
                      server.text)
        let udp = PacketPeerUDP()
        XCTAssertEqual(udp.connectToHost("127.0.0.1", port: port), .ok)
        let client = PacketPeerDTLS()
        XCTAssertEqual(client.setKeepalive(ms: 5), .ok)
        XCTAssertEqual(client.connectToPeer(udp, hostname: "localhost",
                                            clientOptions: .client(trustedChain: files.certificate)), .ok)
        XCTAssertTrue(DTLSLoopbackTests.run({ client.poll() }, until: { client.getStatus() != .handshaking }))
        XCTAssertEqual(client.getStatus(), .connected, client.getErrorMessage() + "\n" + server.text)
        // 70 records (and their echoes) first: our Finished is then older than GnuTLS's window.
        XCTAssertEqual(client.setKeepalive(ms: 0), .ok)
        var echoes = 0
        for index in 0..<70 { XCTAssertEqual(client.putPacket(Array("warm-up \(index)".utf8)), .ok) }
        XCTAssertTrue(DTLSLoopbackTests.run({
            client.poll()
            while client.getAvailablePacketCount() > 0 { _ = client.getPacket(); echoes += 1 }
        }, until: { echoes >= 70 }), server.text)
        XCTAssertEqual(client.setKeepalive(ms: 5), .ok)
        XCTAssertTrue(DTLSLoopbackTests.run({ client.poll() }, until: {
            client.getStats().keepalivesSent >= 250 || client.getStatus() != .connected
        }))
        XCTAssertEqual(client.setKeepalive(ms: 0), .ok)
        XCTAssertGreaterThanOrEqual(client.getStats().keepalivesSent, 250)
        XCTAssertEqual(client.getAvailablePacketCount(), 0, "gnutls-serv echoed a keepalive as a packet")
        XCTAssertEqual(client.putPacket(Array("via GnuTLS".utf8)), .ok)
        var reply: [UInt8] = []
        XCTAssertTrue(DTLSLoopbackTests.run({
            client.poll()
            if client.getAvailablePacketCount() > 0 { reply = client.getPacket() }
        }, until: { !reply.isEmpty }), client.getErrorMessage() + "\n" + server.text)
        XCTAssertEqual(String(decoding: reply, as: UTF8.self), "via GnuTLS", server.text)
        XCTAssertEqual(client.getStatus(), .connected, client.getErrorMessage())
    }

    /// `gnutls-cli --udp` against our server peer sending 250 keepalives: it stays connected and
    /// still gets its echo.
    func testGnuTLSClientTakesKeepalives() throws {
        let gnutlsCLI = BeyondGodotInteropTests.gnutlsCLI
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: gnutlsCLI), "gnutls-bin is not installed")
        let files = try openssl.saveIdentity("server")
        let options = TLSOptions.server(key: files.key, certificate: files.certificate)
        options.setKeepalive(ms: 5)
        let server = try EchoServer(key: files.key, certificate: files.certificate, options: options)
        server.reply = { Array("echo:".utf8) + $0 }
        let client = try ExternalPeer(gnutlsCLI, ["--udp", "--x509cafile", files.certPath, "-p", "\(server.port)",
                                                  "localhost"])
        defer { client.stop() }
        XCTAssertTrue(DTLSLoopbackTests.run({ server.step() }, until: {
            server.peers.first?.getStatus() == .connected
        }), client.text)
        let peer = try XCTUnwrap(server.peers.first)
        // 70 records first: our Finished is then older than GnuTLS's window.
        for index in 0..<70 { XCTAssertEqual(peer.putPacket(Array("warm-up \(index)\n".utf8)), .ok) }
        XCTAssertTrue(DTLSLoopbackTests.run({ server.step() }, until: { client.text.contains("warm-up 69") }), client.text)
        XCTAssertTrue(DTLSLoopbackTests.run({ server.step() }, until: {
            peer.getStats().keepalivesSent >= 250 || peer.getStatus() != .connected || client.hasFinished
        }))
        XCTAssertEqual(peer.setKeepalive(ms: 0), .ok)
        XCTAssertGreaterThanOrEqual(peer.getStats().keepalivesSent, 250, client.text)
        XCTAssertEqual(peer.getStatus(), .connected, peer.getErrorMessage() + "\n" + client.text)
        XCTAssertFalse(client.hasFinished, client.text)
        client.pingEcho(server)
        XCTAssertTrue(client.text.contains("echo:ping"), client.text)
    }
}
