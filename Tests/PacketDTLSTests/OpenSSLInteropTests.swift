// OpenSSLInteropTests.swift — our client against `openssl s_server -dtls1_2`, and `openssl
// s_client -dtls1_2` against our server, with ECDSA and RSA certificates and names verified.

import XCTest
@testable import PacketDTLS

/// A command-line peer whose stdout is collected as it arrives and whose stdin stays open.
final class ExternalPeer: @unchecked Sendable {
    let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private let lock = NSLock()
    private var collected = ""

    init(_ tool: String, _ arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        output.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let text = String(decoding: handle.availableData, as: UTF8.self)
            guard let self else { return }
            self.lock.lock(); self.collected += text; self.lock.unlock()
        }
        try process.run()
    }

    var text: String { lock.lock(); defer { lock.unlock() }; return collected }

    func send(_ line: String) { input.fileHandleForWriting.write(Data((line + "\n").utf8)) }

    func stop() {
        output.fileHandleForReading.readabilityHandler = nil
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }
}

final class OpenSSLInteropTests: XCTestCase {
    static let openssl = "/usr/bin/openssl"
    private var directory: URL!

    override func setUpWithError() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: Self.openssl), "openssl is not installed")
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("pdtls-interop-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDown() {
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    /// Writes a fresh identity to key.pem and cert.pem in the test's folder.
    private func identityFiles(rsa: Bool) throws -> (key: CryptoKey, certificate: X509Certificate, keyPath: String,
                                                     certPath: String) {
        let identity = try TestIdentity.make(rsaBits: rsa ? 2048 : nil)
        let keyPath = directory.appendingPathComponent("key.pem").path
        let certPath = directory.appendingPathComponent("cert.pem").path
        XCTAssertEqual(identity.key.save(path: keyPath), .ok)
        XCTAssertEqual(identity.certificate.save(path: certPath), .ok)
        return (identity.key, identity.certificate, keyPath, certPath)
    }

    /// A UDP port free right now on 127.0.0.1, for a tool that cannot bind port 0 and tell us.
    private func freePort() -> Int {
        let probe = PacketPeerUDP()
        XCTAssertEqual(probe.bind(port: 0, bindAddress: "127.0.0.1"), .ok)
        defer { probe.close() }
        return probe.getLocalPort()
    }

    private func ourClientAgainstOpenSSLServer(rsa: Bool) throws {
        let files = try identityFiles(rsa: rsa)
        let port = freePort()
        let server = try ExternalPeer(Self.openssl, ["s_server", "-dtls1_2", "-accept", "127.0.0.1:\(port)",
                                                     "-cert", files.certPath, "-key", files.keyPath, "-naccept", "1"])
        defer { server.stop() }
        XCTAssertTrue(DTLSLoopbackTests.run({}, until: { server.text.contains("ACCEPT") }), server.text)

        let udp = PacketPeerUDP()
        XCTAssertEqual(udp.connectToHost("127.0.0.1", port: port), .ok)
        let client = PacketPeerDTLS()
        XCTAssertEqual(client.connectToPeer(udp, hostname: "localhost",
                                            clientOptions: .client(trustedChain: files.certificate)), .ok)
        _ = DTLSLoopbackTests.run({ client.poll() }, until: { client.getStatus() != .handshaking })
        XCTAssertEqual(client.getStatus(), .connected, client.getErrorMessage() + "\n" + server.text)
        XCTAssertTrue(client.getCipherSuite().contains(rsa ? "ECDHE_RSA" : "ECDHE_ECDSA"), client.getCipherSuite())

        XCTAssertEqual(client.putPacket(Array("hello from packetdtls\n".utf8)), .ok)
        XCTAssertTrue(DTLSLoopbackTests.run({ client.poll() }, until: { server.text.contains("hello from packetdtls") }),
                      server.text)
        server.send("hello from openssl")
        var reply = ""
        _ = DTLSLoopbackTests.run({
            client.poll()
            if client.getAvailablePacketCount() > 0 { reply += String(decoding: client.getPacket(), as: UTF8.self) }
        }, until: { reply.contains("hello from openssl") })
        XCTAssertTrue(reply.contains("hello from openssl"), reply)
        client.disconnectFromPeer()
    }

    private func openSSLClientAgainstOurServer(rsa: Bool, hostname: String = "localhost") throws -> (String, EchoServer) {
        let files = try identityFiles(rsa: rsa)
        let server = try EchoServer(key: files.key, certificate: files.certificate)
        server.reply = { Array("echo:".utf8) + $0 }
        let client = try ExternalPeer(Self.openssl, ["s_client", "-dtls1_2", "-connect", "127.0.0.1:\(server.port)",
                                                     "-CAfile", files.certPath, "-verify_hostname", hostname,
                                                     "-verify_return_error", "-quiet"])
        defer { client.stop() }
        var sent = false
        _ = DTLSLoopbackTests.run({
            server.step()
            if !sent, server.peers.contains(where: { $0.getStatus() == .connected }) {
                client.send("ping")
                sent = true
            }
        }, until: { client.text.contains("echo:ping") || !client.process.isRunning })
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
