// OpenSSLInteropTests.swift — our client against `openssl s_server -dtls1_2`, and `openssl
// s_client -dtls1_2` against our server, with ECDSA and RSA certificates and names verified.

import XCTest
@testable import PacketDTLS

final class OpenSSLInteropTests: XCTestCase {
    private var openssl: OpenSSLTool!

    override func setUpWithError() throws {
        openssl = try OpenSSLTool(folderPrefix: "pdtls-interop")
    }

    override func tearDown() {
        openssl?.removeFolder()
    }

    /// A fresh identity, ECDSA or RSA, saved as server.key and server.crt.
    private func identityFiles(rsa: Bool) throws -> IdentityFiles {
        try openssl.saveIdentity("server", rsaBits: rsa ? 2048 : nil)
    }

    private func ourClientAgainstOpenSSLServer(rsa: Bool) throws {
        let files = try identityFiles(rsa: rsa)
        let (server, port) = try openssl.startServer(["-cert", files.certPath, "-key", files.keyPath, "-naccept", "1"])
        defer { server.stop() }

        let udp = PacketPeerUDP()
        XCTAssertEqual(udp.connectToHost("127.0.0.1", port: port), .ok)
        let client = PacketPeerDTLS()
        XCTAssertEqual(client.connectToPeer(udp, hostname: "localhost",
                                            clientOptions: .client(trustedChain: files.certificate)), .ok)
        _ = DTLSLoopbackTests.run({ client.poll() }, until: { client.getStatus() != .handshaking })
        XCTAssertEqual(client.getStatus(), .connected, client.getErrorMessage() + "\n" + server.text)
        XCTAssertTrue(client.getCipherSuite().contains(rsa ? "ECDHE_RSA" : "ECDHE_ECDSA"), client.getCipherSuite())

        XCTAssertTrue(server.hears("hello from packetdtls", from: client), server.text)
        let reply = server.says("hello from openssl", to: client)
        XCTAssertTrue(reply.contains("hello from openssl"), reply)
        client.disconnectFromPeer()
    }

    private func openSSLClientAgainstOurServer(rsa: Bool, hostname: String = "localhost") throws -> (String, EchoServer) {
        let files = try identityFiles(rsa: rsa)
        let server = try EchoServer(key: files.key, certificate: files.certificate)
        server.reply = { Array("echo:".utf8) + $0 }
        let client = try openssl.startClient(port: server.port, ["-CAfile", files.certPath,
                                                                 "-verify_hostname", hostname,
                                                                 "-verify_return_error", "-quiet"])
        defer { client.stop() }
        client.pingEcho(server)
        return (client.text, server)
    }

    func testOurClientAgainstOpenSSLServerECDSA() throws { try ourClientAgainstOpenSSLServer(rsa: false) }
    func testOurClientAgainstOpenSSLServerRSA() throws { try ourClientAgainstOpenSSLServer(rsa: true) }

    func testOpenSSLClientAgainstOurServerECDSA() throws {
        let (text, server) = try openSSLClientAgainstOurServer(rsa: false)
        XCTAssertTrue(text.contains("echo:ping"), text)
        XCTAssertTrue(server.peers.first?.getCipherSuite().contains("ECDHE_ECDSA") == true)
    }

    func testOpenSSLClientAgainstOurServerRSA() throws {
        let (text, server) = try openSSLClientAgainstOurServer(rsa: true)
        XCTAssertTrue(text.contains("echo:ping"), text)
        XCTAssertTrue(server.peers.first?.getCipherSuite().contains("ECDHE_RSA") == true)
    }

    func testOpenSSLClientRefusesWrongName() throws {
        let (text, server) = try openSSLClientAgainstOurServer(rsa: false, hostname: "wrong.example")
        XCTAssertFalse(text.contains("echo:ping"))
        XCTAssertTrue(text.lowercased().contains("hostname mismatch"), text)
        XCTAssertFalse(server.peers.contains { $0.getStatus() == .connected })
    }
}
