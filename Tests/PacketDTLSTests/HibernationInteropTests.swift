// HibernationInteropTests.swift — `openssl s_server -dtls1_2` and `openssl s_client -dtls1_2` keep
// talking across our side's hibernation and wake: the peer must not notice.

import XCTest
@testable import PacketDTLS

final class HibernationInteropTests: XCTestCase {
    private var openssl: OpenSSLTool!

    override func setUpWithError() throws {
        openssl = try OpenSSLTool(folderPrefix: "pdtls-hibernate")
    }

    override func tearDown() {
        openssl?.removeFolder()
    }

    func testOpenSSLServerKeepsTalkingAcrossOurClientsHibernation() throws {
        let files = try openssl.saveIdentity("server")
        let (server, port) = try openssl.startServer(["-cert", files.certPath, "-key", files.keyPath, "-naccept", "1"])
        defer { server.stop() }
        let udp = PacketPeerUDP()
        XCTAssertEqual(udp.connectToHost("127.0.0.1", port: port), .ok)
        let client = PacketPeerDTLS()
        client.setHibernateAfterMs(1)
        XCTAssertEqual(client.connectToPeer(udp, hostname: "localhost",
                                            clientOptions: .client(trustedChain: files.certificate)), .ok)
        _ = DTLSLoopbackTests.run({ client.poll() }, until: { client.getStatus() != .handshaking })
        XCTAssertEqual(client.getStatus(), .connected, client.getErrorMessage() + "\n" + server.text)
        XCTAssertTrue(server.hears("before the sleep", from: client), server.text)
        XCTAssertTrue(server.says("answer before", to: client).contains("answer before"))

        for round in 1...3 {
            XCTAssertTrue(DTLSLoopbackTests.run({ client.poll() }, until: { client.isHibernated() }), "round \(round)")
            XCTAssertTrue(server.hears("woken by a put \(round)", from: client), server.text)
            XCTAssertTrue(DTLSLoopbackTests.run({ client.poll() }, until: { client.isHibernated() }), "round \(round)")
            // A datagram from s_server wakes the sleeping client.
            XCTAssertTrue(server.says("woken by a datagram \(round)", to: client).contains("woken by a datagram \(round)"))
        }
        XCTAssertEqual(client.getStatus(), .connected, client.getErrorMessage())
        XCTAssertGreaterThanOrEqual(client.getStats().wakes, 6)
        client.disconnectFromPeer()
    }

    func testOpenSSLClientKeepsTalkingAcrossOurServersHibernation() throws {
        let files = try openssl.saveIdentity("server")
        let server = try EchoServer(key: files.key, certificate: files.certificate)
        server.dtls.setHibernateAfterMs(1)
        server.reply = { Array("echo:".utf8) + $0 }
        let client = try openssl.startClient(port: server.port, ["-CAfile", files.certPath,
                                                                 "-verify_hostname", "localhost",
                                                                 "-verify_return_error", "-quiet"])
        defer { client.stop() }
        client.pingEcho(server)
        XCTAssertTrue(client.text.contains("echo:ping"), client.text)
        let peer = try XCTUnwrap(server.peers.first)
        for round in 1...3 {
            XCTAssertTrue(DTLSLoopbackTests.run({ server.step() }, until: { peer.isHibernated() }), "round \(round)")
            client.send("again\(round)")
            XCTAssertTrue(DTLSLoopbackTests.run({ server.step() }, until: { client.text.contains("echo:again\(round)") }),
                          client.text)
        }
        XCTAssertEqual(peer.getStatus(), .connected, peer.getErrorMessage())
        XCTAssertGreaterThanOrEqual(peer.getStats().wakes, 3)
        XCTAssertEqual(peer.getStats().packetsReceived, 4)
    }
}
