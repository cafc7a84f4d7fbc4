// BeyondGodotInteropTests.swift — what Godot lacks, proven against real peers: pre-shared keys with
// OpenSSL and GnuTLS, ALPN, client certificates and session resumption with OpenSSL, and CRLs made
// by `openssl ca`. Each external tool is skipped only when it is not installed.

import XCTest
@testable import PacketDTLS

final class BeyondGodotInteropTests: XCTestCase {
    static let gnutlsCLI = "/usr/bin/gnutls-cli"
    static let gnutlsServ = "/usr/bin/gnutls-serv"
    static let pskIdentity = "player-1"
    static let pskKey: [UInt8] = Array(1...16)
    static var pskHex: String { pskKey.map { String(format: "%02x", $0) }.joined() }

    private var openssl: OpenSSLTool!

    override func setUpWithError() throws {
        openssl = try OpenSSLTool(folderPrefix: "pdtls-beyond")
    }

    override func tearDown() {
        openssl?.removeFolder()
    }

    // MARK: Helpers

    private func path(_ name: String) -> String { openssl.path(name) }

    /// Our client's handshake with a server on 127.0.0.1:`port`; polled until it settles.
    private func connect(port: Int, options: TLSOptions, hostname: String = "localhost",
                         session: ResumableSession? = nil) -> PacketPeerDTLS {
        let udp = PacketPeerUDP()
        XCTAssertEqual(udp.connectToHost("127.0.0.1", port: port), .ok)
        let client = PacketPeerDTLS()
        client.setSession(session)
        XCTAssertEqual(client.connectToPeer(udp, hostname: hostname, clientOptions: options), .ok, ErrorReport.message)
        _ = DTLSLoopbackTests.run({ client.poll() }, until: { client.getStatus() != .handshaking })
        return client
    }

    private func echoServer(_ options: TLSOptions) throws -> EchoServer {
        let server = try EchoServer(key: CryptoKey(), certificate: X509Certificate(), options: options)
        server.reply = { Array("echo:".utf8) + $0 }
        return server
    }

    private func pskServerOptions() -> TLSOptions {
        let options = TLSOptions.serverPSK()
        XCTAssertEqual(options.addPSK(identity: Self.pskIdentity, key: Self.pskKey), .ok)
        return options
    }

    // MARK: Pre-shared keys

    func testPSKOurClientAgainstOpenSSLServer() throws {
        let (server, port) = try openssl.startServer(["-nocert", "-psk", Self.pskHex,
                                                      "-psk_identity", Self.pskIdentity, "-naccept", "1"])
        defer { server.stop() }
        let options = try XCTUnwrap(TLSOptions.clientPSK(identity: Self.pskIdentity, key: Self.pskKey))
        let client = connect(port: port, options: options, hostname: "")
        XCTAssertEqual(client.getStatus(), .connected, client.getErrorMessage() + "\n" + server.text)
        XCTAssertTrue(client.getCipherSuite().contains("PSK"), client.getCipherSuite())
        XCTAssertTrue(server.hears("hello over a pre-shared key", from: client), server.text)
        let reply = server.says("hello from openssl", to: client)
        XCTAssertTrue(reply.contains("hello from openssl"), reply)
        client.disconnectFromPeer()
    }

    func testPSKOpenSSLClientAgainstOurServer() throws {
        let server = try echoServer(pskServerOptions())
        let client = try openssl.startClient(port: server.port, ["-psk", Self.pskHex, "-psk_identity", Self.pskIdentity,
                                                                 "-quiet"])
        defer { client.stop() }
        client.pingEcho(server)
        XCTAssertTrue(client.text.contains("echo:ping"), client.text)
        XCTAssertTrue(server.peers.first?.getCipherSuite().contains("PSK") == true)
    }

    func testPSKWrongKeyFromOpenSSLIsRefused() throws {
        let server = try echoServer(pskServerOptions())
        let client = try openssl.startClient(port: server.port, ["-psk", String(repeating: "ab", count: 16),
                                                                 "-psk_identity", Self.pskIdentity, "-quiet"])
        defer { client.stop() }
        client.pingEcho(server, within: 5)
        XCTAssertFalse(client.text.contains("echo:ping"))
        XCTAssertFalse(server.peers.contains { $0.getStatus() == .connected })
    }

    func testPSKOurClientAgainstGnuTLSServer() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: Self.gnutlsServ), "gnutls-bin is not installed")
        let passwords = path("psk.passwd")
        try "\(Self.pskIdentity):\(Self.pskHex)\n".write(toFile: passwords, atomically: true, encoding: .utf8)
        let port = OpenSSLTool.freePort()
        let server = try ExternalPeer(Self.gnutlsServ, ["--udp", "--echo", "-p", "\(port)", "--pskpasswd", passwords,
                                                        "--priority", "NORMAL:+ECDHE-PSK:+PSK"])
        defer { server.stop() }
        XCTAssertTrue(DTLSLoopbackTests.run({}, until: { server.text.contains("listening") }), server.text)
        let options = try XCTUnwrap(TLSOptions.clientPSK(identity: Self.pskIdentity, key: Self.pskKey))
        let client = connect(port: port, options: options, hostname: "")
        XCTAssertEqual(client.getStatus(), .connected, client.getErrorMessage() + "\n" + server.text)
        XCTAssertTrue(client.getCipherSuite().contains("PSK"), client.getCipherSuite())
        XCTAssertEqual(client.putPacket(Array("via GnuTLS".utf8)), .ok)
        var reply: [UInt8] = []
        _ = DTLSLoopbackTests.run({
            client.poll()
            if client.getAvailablePacketCount() > 0 { reply = client.getPacket() }
        }, until: { !reply.isEmpty })
        XCTAssertEqual(String(decoding: reply, as: UTF8.self), "via GnuTLS", server.text)
        client.disconnectFromPeer()
    }

    func testPSKGnuTLSClientAgainstOurServer() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: Self.gnutlsCLI), "gnutls-bin is not installed")
        let server = try echoServer(pskServerOptions())
        // Plain PSK: gnutls-cli 3.7.9 crashes (SIGSEGV) after an ECDHE-PSK handshake, with gnutls-serv too.
        let client = try ExternalPeer(Self.gnutlsCLI, ["--udp", "-p", "\(server.port)", "127.0.0.1",
                                                       "--pskusername", Self.pskIdentity, "--pskkey", Self.pskHex,
                                                       "--priority", "NORMAL:-KX-ALL:+PSK"])
        defer { client.stop() }
        client.pingEcho(server)
        XCTAssertTrue(client.text.contains("echo:ping"), client.text)
        XCTAssertTrue(server.peers.first?.getCipherSuite().contains("PSK") == true)
    }

    // MARK: ALPN

    func testALPNOurClientAgainstOpenSSLServer() throws {
        let files = try openssl.saveIdentity("server")
        let (server, port) = try openssl.startServer(["-cert", files.certPath, "-key", files.keyPath,
                                                      "-alpn", "game/1", "-naccept", "1"])
        defer { server.stop() }
        let options = TLSOptions.client(trustedChain: files.certificate)
        XCTAssertEqual(options.setALPNProtocols(["other", "game/1"]), .ok)
        let client = connect(port: port, options: options)
        XCTAssertEqual(client.getStatus(), .connected, client.getErrorMessage() + "\n" + server.text)
        XCTAssertEqual(client.getALPNProtocol(), "game/1")
        client.disconnectFromPeer()
    }

    func testALPNOpenSSLClientAgainstOurServer() throws {
        let files = try openssl.saveIdentity("server")
        let options = TLSOptions.server(key: files.key, certificate: files.certificate)
        XCTAssertEqual(options.setALPNProtocols(["game/2", "game/1"]), .ok)
        let server = try echoServer(options)
        let client = try openssl.startClient(port: server.port,
                                             ["-CAfile", files.certPath, "-alpn", "game/1,chat/1"])
        defer { client.stop() }
        client.pingEcho(server)
        XCTAssertTrue(client.text.contains("ALPN protocol: game/1"), client.text)
        XCTAssertEqual(server.peers.first { $0.getStatus() == .connected }?.getALPNProtocol(), "game/1")
    }

    // MARK: Client certificates

    /// The server's identity and a player's (CN=player-7), whose self-signed certificate is its own CA.
    private func serverAndPlayerFiles() throws -> (server: IdentityFiles, player: IdentityFiles) {
        try (openssl.saveIdentity("server"), openssl.saveIdentity("player", cn: "player-7", san: ["DNS:player-7"]))
    }

    /// s_server with the server's identity, demanding a client certificate signed by the player's.
    private func openSSLServerDemandingPlayerCertificate(_ files: (server: IdentityFiles, player: IdentityFiles))
        throws -> (server: ExternalPeer, port: Int) {
        try openssl.startServer(["-cert", files.server.certPath, "-key", files.server.keyPath,
                                 "-Verify", "1", "-CAfile", files.player.certPath, "-verify_return_error",
                                 "-naccept", "1"])
    }

    func testOurServerRequiresOpenSSLClientCertificate() throws {
        let (serverFiles, clientFiles) = try serverAndPlayerFiles()
        let options = TLSOptions.server(key: serverFiles.key, certificate: serverFiles.certificate)
        XCTAssertEqual(options.setClientCertificateMode(.require, authorities: clientFiles.certificate), .ok)
        let server = try echoServer(options)
        let client = try openssl.startClient(port: server.port, ["-CAfile", serverFiles.certPath,
                                                                 "-cert", clientFiles.certPath,
                                                                 "-key", clientFiles.keyPath, "-quiet"])
        defer { client.stop() }
        client.pingEcho(server)
        XCTAssertTrue(client.text.contains("echo:ping"), client.text)
        let accepted = try XCTUnwrap(server.peers.first { $0.getStatus() == .connected })
        XCTAssertTrue(accepted.getPeerCertificate()?.certificates.first?.subject.contains("player-7") == true)
        XCTAssertEqual(accepted.getVerifyFlags(), 0)

        // Without a certificate, s_client is refused (and told so, rather than left to time out).
        let anonymous = try openssl.startClient(port: server.port, ["-CAfile", serverFiles.certPath, "-quiet"])
        defer { anonymous.stop() }
        let before = server.peers.count
        _ = DTLSLoopbackTests.run(within: 10, { server.step() }, until: {
            server.peers.count > before && server.peers[before...].contains { $0.getStatus() == .error }
        })
        let refused = try XCTUnwrap(server.peers[before...].first, "our server saw no handshake")
        XCTAssertEqual(refused.getStatus(), .error)
        XCTAssertTrue(DTLSLoopbackTests.run(within: 5, { server.step() }, until: { !anonymous.process.isRunning }),
                      "s_client did not learn it was refused: \(anonymous.text)")
        XCTAssertTrue(anonymous.text.lowercased().contains("alert"), anonymous.text)
    }

    func testOurClientPresentsCertificateToOpenSSLServer() throws {
        let files = try serverAndPlayerFiles()
        let (serverFiles, clientFiles) = files
        let (server, port) = try openSSLServerDemandingPlayerCertificate(files)
        defer { server.stop() }
        let options = TLSOptions.client(trustedChain: serverFiles.certificate)
        XCTAssertEqual(options.setClientCertificate(key: clientFiles.key, certificate: clientFiles.certificate), .ok)
        let client = connect(port: port, options: options)
        XCTAssertEqual(client.getStatus(), .connected, client.getErrorMessage() + "\n" + server.text)
        XCTAssertTrue(server.hears("hello with a certificate", from: client), server.text)
        XCTAssertTrue(server.text.contains("player-7"), server.text)
        client.disconnectFromPeer()
    }

    func testOpenSSLServerRefusesOurClientWithoutCertificate() throws {
        let files = try serverAndPlayerFiles()
        let (server, port) = try openSSLServerDemandingPlayerCertificate(files)
        defer { server.stop() }
        let client = connect(port: port, options: .client(trustedChain: files.server.certificate))
        XCTAssertEqual(client.getStatus(), .error, server.text)
        XCTAssertNotNil(client.getLastAlertReceived(), client.getErrorMessage())
        XCTAssertTrue(client.getErrorMessage().contains("alert"), client.getErrorMessage())
    }

    // MARK: Session resumption

    func testOurClientResumesWithOpenSSLServer() throws {
        let files = try openssl.saveIdentity("server")
        let (server, port) = try openssl.startServer(["-cert", files.certPath, "-key", files.keyPath])
        defer { server.stop() }
        let options = TLSOptions.client(trustedChain: files.certificate)
        let first = connect(port: port, options: options)
        XCTAssertEqual(first.getStatus(), .connected, first.getErrorMessage() + "\n" + server.text)
        XCTAssertFalse(first.isSessionResumed())
        XCTAssertTrue(server.hears("first", from: first), server.text)
        let saved = try XCTUnwrap(first.getSession())
        first.disconnectFromPeer()
        // s_server serves one client at a time: it says DONE when the first one has gone.
        XCTAssertTrue(DTLSLoopbackTests.run({}, until: { server.text.contains("DONE") }), server.text)

        let second = connect(port: port, options: options, session: saved)
        XCTAssertEqual(second.getStatus(), .connected, second.getErrorMessage() + "\n" + server.text)
        XCTAssertTrue(second.isSessionResumed(), server.text)
        XCTAssertTrue(server.hears("second", from: second), server.text)
        XCTAssertTrue(server.text.contains("Reused session-id") || server.text.contains("reused"), server.text)
        second.disconnectFromPeer()
    }

    func testOpenSSLClientResumesWithOurServer() throws {
        let files = try openssl.saveIdentity("server")
        let server = try echoServer(.server(key: files.key, certificate: files.certificate))
        let sessionFile = path("session.pem")
        let first = try openssl.startClient(port: server.port, ["-CAfile", files.certPath, "-sess_out", sessionFile])
        first.pingEcho(server)
        first.stop()
        XCTAssertTrue(first.text.contains("echo:ping"), first.text)
        XCTAssertTrue(first.text.contains("New, TLSv1.2"), first.text)
        XCTAssertTrue(FileManager.default.fileExists(atPath: sessionFile), first.text)

        let resumedBefore = server.peers.count
        let second = try openssl.startClient(port: server.port, ["-CAfile", files.certPath, "-sess_in", sessionFile])
        defer { second.stop() }
        second.pingEcho(server)
        XCTAssertTrue(second.text.contains("echo:ping"), second.text)
        XCTAssertTrue(second.text.contains("Reused, TLSv1.2"), second.text)
        XCTAssertTrue(server.peers[resumedBefore...].contains { $0.isSessionResumed() })
    }

    // MARK: Revocation

    /// A CA, two server certificates it signs, and a CRL revoking one, all by the openssl command line.
    private func makeRevocationPKI() throws {
        try """
            [ca]
            default_ca = test_ca
            [test_ca]
            database = index.txt
            crlnumber = crlnumber
            default_md = sha256
            default_crl_days = 2

            """.write(toFile: path("ca.cnf"), atomically: true, encoding: .utf8)
        try "".write(toFile: path("index.txt"), atomically: true, encoding: .utf8)
        try "01\n".write(toFile: path("crlnumber"), atomically: true, encoding: .utf8)
        try "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
            .write(toFile: path("leaf.ext"), atomically: true, encoding: .utf8)
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        try openssl.run(["req", "-x509"] + ec + ["-keyout", "ca.key", "-out", "ca.crt",
                                                 "-subj", "/CN=PacketDTLS Test CA", "-days", "2",
                                                 "-addext", "basicConstraints=critical,CA:TRUE",
                                                 "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        for name in ["good", "revoked"] {
            try openssl.run(["req"] + ec + ["-keyout", "\(name).key", "-out", "\(name).csr", "-subj", "/CN=localhost"])
            try openssl.run(["x509", "-req", "-in", "\(name).csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                             "-CAcreateserial", "-days", "2", "-out", "\(name).crt", "-extfile", "leaf.ext"])
        }
        try openssl.run(["ca", "-config", "ca.cnf", "-revoke", "revoked.crt", "-keyfile", "ca.key", "-cert", "ca.crt"])
        try openssl.run(["ca", "-config", "ca.cnf", "-gencrl", "-keyfile", "ca.key", "-cert", "ca.crt",
                         "-out", "crl.pem"])
    }

    func testCRLRefusesARevokedOpenSSLServerAndAcceptsAGoodOne() throws {
        try makeRevocationPKI()
        let ca = X509Certificate()
        XCTAssertEqual(ca.load(path: path("ca.crt")), .ok)
        let options = TLSOptions.client(trustedChain: ca)
        XCTAssertEqual(options.loadCRL(path: path("crl.pem")), .ok, ErrorReport.message)

        let (revoked, revokedPort) = try openssl.startServer(["-cert", path("revoked.crt"),
                                                              "-key", path("revoked.key"), "-naccept", "1"])
        defer { revoked.stop() }
        let refused = connect(port: revokedPort, options: options)
        XCTAssertEqual(refused.getStatus(), .error, revoked.text)
        XCTAssertTrue(refused.getErrorMessage().lowercased().contains("revoked"), refused.getErrorMessage())
        XCTAssertNotEqual(refused.getVerifyFlags() & UInt32(0x02), 0, "MBEDTLS_X509_BADCERT_REVOKED")

        let (good, goodPort) = try openssl.startServer(["-cert", path("good.crt"), "-key", path("good.key"),
                                                        "-naccept", "1"])
        defer { good.stop() }
        let accepted = connect(port: goodPort, options: options)
        XCTAssertEqual(accepted.getStatus(), .connected, accepted.getErrorMessage() + "\n" + good.text)
        XCTAssertTrue(good.hears("not revoked", from: accepted), good.text)
        accepted.disconnectFromPeer()

        // Without the CRL the revoked server's chain is fine: the refusal above was the CRL's doing.
        let (again, againPort) = try openssl.startServer(["-cert", path("revoked.crt"), "-key", path("revoked.key"),
                                                          "-naccept", "1"])
        defer { again.stop() }
        let unaware = connect(port: againPort, options: .client(trustedChain: ca))
        XCTAssertEqual(unaware.getStatus(), .connected, unaware.getErrorMessage())
        unaware.disconnectFromPeer()
    }
}
