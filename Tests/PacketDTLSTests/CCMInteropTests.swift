// CCMInteropTests.swift — the AES-CCM suites (issue 15 item 6) against OpenSSL, both ways: CoAP's
// mandatory pair (RFC 7252: PSK and ECDHE-ECDSA with AES-128-CCM-8) and a 256-bit full-tag one,
// each side restricted to the one suite so nothing else can be negotiated.

import XCTest
@testable import PacketDTLS

final class CCMInteropTests: XCTestCase {
    static let pskIdentity = "coap-node-1"
    static let pskKey: [UInt8] = Array(1...16)
    static var pskHex: String { pskKey.map { String(format: "%02x", $0) }.joined() }

    private var openssl: OpenSSLTool!

    override func setUpWithError() throws {
        openssl = try OpenSSLTool(folderPrefix: "pdtls-ccm")
    }

    override func tearDown() {
        openssl?.removeFolder()
    }

    // MARK: Helpers

    /// Our client against an `openssl s_server` already listening on `port`; a line each way.
    private func talk(to server: ExternalPeer, port: Int, options: TLSOptions, hostname: String, suite: String) {
        let udp = PacketPeerUDP()
        XCTAssertEqual(udp.connectToHost("127.0.0.1", port: port), .ok)
        let client = PacketPeerDTLS()
        XCTAssertEqual(client.connectToPeer(udp, hostname: hostname, clientOptions: options), .ok, ErrorReport.message)
        _ = DTLSLoopbackTests.run({ client.poll() }, until: { client.getStatus() != .handshaking })
        XCTAssertEqual(client.getStatus(), .connected, client.getErrorMessage() + "\n" + server.text)
        XCTAssertEqual(client.getCipherSuite(), suite)
        XCTAssertTrue(server.hears("hello over \(suite)", from: client), server.text)
        let reply = server.says("hello from openssl", to: client)
        XCTAssertTrue(reply.contains("hello from openssl"), reply)
        client.disconnectFromPeer()
    }

    /// An `openssl s_client` pinging our echo server; the server's session used `suite`.
    private func ping(_ server: EchoServer, with arguments: [String], suite: String) throws {
        let client = try openssl.startClient(port: server.port, arguments + ["-quiet"])
        defer { client.stop() }
        client.pingEcho(server)
        XCTAssertTrue(client.text.contains("echo:ping"), client.text)
        XCTAssertEqual(server.peers.first?.getCipherSuite(), suite)
    }

    private func pskClientOptions(_ suite: String) throws -> TLSOptions {
        let options = try XCTUnwrap(TLSOptions.clientPSK(identity: Self.pskIdentity, key: Self.pskKey))
        XCTAssertEqual(options.setCipherSuites([suite]), .ok, ErrorReport.message)
        return options
    }

    private func pskEchoServer(_ suite: String) throws -> EchoServer {
        let options = TLSOptions.serverPSK()
        XCTAssertEqual(options.addPSK(identity: Self.pskIdentity, key: Self.pskKey), .ok)
        XCTAssertEqual(options.setCipherSuites([suite]), .ok, ErrorReport.message)
        let server = try EchoServer(key: CryptoKey(), certificate: X509Certificate(), options: options)
        server.reply = { Array("echo:".utf8) + $0 }
        return server
    }

    private func ourPSKClient(openSSLCipher: String, suite: String) throws {
        let (server, port) = try openssl.startServer(["-nocert", "-psk", Self.pskHex, "-psk_identity", Self.pskIdentity,
                                                      "-cipher", openSSLCipher, "-naccept", "1"])
        defer { server.stop() }
        talk(to: server, port: port, options: try pskClientOptions(suite), hostname: "", suite: suite)
    }

    private func openSSLPSKClient(openSSLCipher: String, suite: String) throws {
        let server = try pskEchoServer(suite)
        try ping(server, with: ["-psk", Self.pskHex, "-psk_identity", Self.pskIdentity, "-cipher", openSSLCipher],
                 suite: suite)
    }

    private func ourECDSAClient(openSSLCipher: String, suite: String) throws {
        let files = try openssl.saveIdentity("server")
        let (server, port) = try openssl.startServer(["-cert", files.certPath, "-key", files.keyPath,
                                                      "-cipher", openSSLCipher, "-naccept", "1"])
        defer { server.stop() }
        let options = TLSOptions.client(trustedChain: files.certificate)
        XCTAssertEqual(options.setCipherSuites([suite]), .ok, ErrorReport.message)
        talk(to: server, port: port, options: options, hostname: "localhost", suite: suite)
    }

    private func openSSLECDSAClient(openSSLCipher: String, suite: String) throws {
        let files = try openssl.saveIdentity("server")
        let options = TLSOptions.server(key: files.key, certificate: files.certificate)
        XCTAssertEqual(options.setCipherSuites([suite]), .ok, ErrorReport.message)
        let server = try EchoServer(key: files.key, certificate: files.certificate, options: options)
        server.reply = { Array("echo:".utf8) + $0 }
        try ping(server, with: ["-CAfile", files.certPath, "-verify_hostname", "localhost", "-verify_return_error",
                                "-cipher", openSSLCipher], suite: suite)
    }

    // MARK: CoAP's mandatory suites, AES-128-CCM-8

    func testPSKCCM8OurClientAgainstOpenSSLServer() throws {
        try ourPSKClient(openSSLCipher: "PSK-AES128-CCM8", suite: "TLS_PSK_WITH_AES_128_CCM_8")
    }

    func testPSKCCM8OpenSSLClientAgainstOurServer() throws {
        try openSSLPSKClient(openSSLCipher: "PSK-AES128-CCM8", suite: "TLS_PSK_WITH_AES_128_CCM_8")
    }

    func testECDSACCM8OurClientAgainstOpenSSLServer() throws {
        try ourECDSAClient(openSSLCipher: "ECDHE-ECDSA-AES128-CCM8", suite: "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8")
    }

    func testECDSACCM8OpenSSLClientAgainstOurServer() throws {
        try openSSLECDSAClient(openSSLCipher: "ECDHE-ECDSA-AES128-CCM8", suite: "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8")
    }

    // MARK: AES-256-CCM, full tag

    func testPSKCCM256BothWays() throws {
        try ourPSKClient(openSSLCipher: "PSK-AES256-CCM", suite: "TLS_PSK_WITH_AES_256_CCM")
        try openSSLPSKClient(openSSLCipher: "PSK-AES256-CCM", suite: "TLS_PSK_WITH_AES_256_CCM")
    }

    func testECDSACCM256BothWays() throws {
        try ourECDSAClient(openSSLCipher: "ECDHE-ECDSA-AES256-CCM", suite: "TLS_ECDHE_ECDSA_WITH_AES_256_CCM")
        try openSSLECDSAClient(openSSLCipher: "ECDHE-ECDSA-AES256-CCM", suite: "TLS_ECDHE_ECDSA_WITH_AES_256_CCM")
    }

    /// OpenSSL offering only CCM-8 to a server left on PacketDTLS's defaults finds no common suite.
    func testDefaultServerRefusesAnOpenSSLClientOfferingOnlyCCM8() throws {
        let options = TLSOptions.serverPSK()
        XCTAssertEqual(options.addPSK(identity: Self.pskIdentity, key: Self.pskKey), .ok)
        let server = try EchoServer(key: CryptoKey(), certificate: X509Certificate(), options: options)
        server.reply = { Array("echo:".utf8) + $0 }
        let client = try openssl.startClient(port: server.port, ["-psk", Self.pskHex, "-psk_identity", Self.pskIdentity,
                                                                 "-cipher", "PSK-AES128-CCM8", "-quiet"])
        defer { client.stop() }
        client.pingEcho(server, within: 5)
        XCTAssertFalse(client.text.contains("echo:ping"))
        XCTAssertFalse(server.peers.contains { $0.getStatus() == .connected })
        XCTAssertTrue(client.text.contains("handshake failure"), client.text)
    }
}
