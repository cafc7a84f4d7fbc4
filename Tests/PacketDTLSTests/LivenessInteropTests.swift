// LivenessInteropTests.swift — our keepalives (empty application-data records) and our idle-timeout
// goodbye (close_notify with the inactivity mark behind it) as OpenSSL and GnuTLS see them.

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

    /// OpenSSL 3 takes a keepalive without a protocol error (no alert, nothing in its error queue), but
    /// its DTLS SSL_read() returns 0 for an empty record (SSL_read_ex succeeds with 0 bytes), and s_server
    /// and s_client take that 0 for the end of the session: s_server says "ERROR" and closes with
    /// close_notify, s_client says "read:errno=0" and leaves. docs/BEYOND_GODOT.md says so; this test
    /// notices when OpenSSL changes.
    func testOpenSSLToolsTakeAKeepaliveForTheEnd() throws {
        let files = try openssl.saveIdentity("server")
        let (opensslServer, port) = try openssl.startServer(["-cert", files.certPath, "-key", files.keyPath,
                                                             "-naccept", "1"])
        defer { opensslServer.stop() }
        let udp = PacketPeerUDP()
        XCTAssertEqual(udp.connectToHost("127.0.0.1", port: port), .ok)
        let client = PacketPeerDTLS()
        XCTAssertEqual(client.setKeepalive(ms: 300), .ok)
        XCTAssertEqual(client.connectToPeer(udp, hostname: "localhost",
                                            clientOptions: .client(trustedChain: files.certificate)), .ok)
        let options = TLSOptions.server(key: files.key, certificate: files.certificate)
        options.setKeepalive(ms: 300)
        let server = try EchoServer(key: files.key, certificate: files.certificate, options: options)
        let opensslClient = try openssl.startClient(port: server.port, ["-CAfile", files.certPath])
        defer { opensslClient.stop() }
        XCTAssertTrue(DTLSLoopbackTests.run({ client.poll(); server.step() }, until: {
            client.getStatus() == .connected && server.peers.first?.getStatus() == .connected
        }), client.getErrorMessage() + "\n" + opensslServer.text + "\n" + opensslClient.text)
        XCTAssertTrue(DTLSLoopbackTests.run(within: 15, { client.poll(); server.step() }, until: {
            client.getStatus() != .connected && opensslClient.hasFinished
        }))
        // A clean close_notify from s_server, no fatal alert: the record itself was accepted.
        XCTAssertEqual(client.getStatus(), .disconnected, client.getErrorMessage())
        XCTAssertNil(client.getLastAlertReceived())
        XCTAssertTrue(opensslServer.text.contains("ERROR"), opensslServer.text)
        XCTAssertFalse(opensslServer.text.contains(":error:"), opensslServer.text)
        XCTAssertTrue(opensslClient.text.contains("read:errno=0"), opensslClient.text)
        XCTAssertFalse(opensslClient.text.contains(":error:"), opensslClient.text)
        XCTAssertEqual(client.getStats().recordsDroppedBadMAC, 0)
    }

    /// `gnutls-serv --echo` takes 150 keepalives in a row without a word and still echoes after them.
    /// (GnuTLS 3.7 ends a session after 200 empty records in a row: docs/BEYOND_GODOT.md.)
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
        XCTAssertTrue(DTLSLoopbackTests.run({ client.poll() }, until: {
            client.getStats().keepalivesSent >= 150 || client.getStatus() != .connected
        }))
        XCTAssertEqual(client.setKeepalive(ms: 0), .ok)
        XCTAssertGreaterThanOrEqual(client.getStats().keepalivesSent, 150)
        XCTAssertEqual(client.getAvailablePacketCount(), 0, "gnutls-serv echoed an empty record as a packet")
        XCTAssertEqual(client.putPacket(Array("via GnuTLS".utf8)), .ok)
        var reply: [UInt8] = []
        XCTAssertTrue(DTLSLoopbackTests.run({
            client.poll()
            if client.getAvailablePacketCount() > 0 { reply = client.getPacket() }
        }, until: { !reply.isEmpty }), client.getErrorMessage() + "\n" + server.text)
        XCTAssertEqual(String(decoding: reply, as: UTF8.self), "via GnuTLS", server.text)
        XCTAssertEqual(client.getStatus(), .connected, client.getErrorMessage())
    }
}
