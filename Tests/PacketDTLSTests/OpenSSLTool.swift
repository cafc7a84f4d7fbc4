// OpenSSLTool.swift — the openssl command line as the interop tests drive it, with a scratch folder
// (one per test) for the keys, certificates and other files it reads and writes.

import XCTest
@testable import PacketDTLS

/// A key and certificate made by the library, and the PEM files they were saved to for a tool.
struct IdentityFiles {
    let key: CryptoKey
    let certificate: X509Certificate
    let keyPath: String
    let certPath: String
}

/// `openssl` and a fresh scratch folder: make one in setUp, `removeFolder()` in tearDown.
final class OpenSSLTool {
    static let executable = "/usr/bin/openssl"
    let folder: URL

    /// Skips the calling test when openssl is not installed; otherwise makes the folder
    /// (`folderPrefix` tells whose it is when one is left behind).
    init(folderPrefix: String) throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: Self.executable), "openssl is not installed")
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("\(folderPrefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    func removeFolder() { try? FileManager.default.removeItem(at: folder) }

    func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    /// Saves a fresh identity (made by the library, see TestIdentity.make) as NAME.key and NAME.crt.
    func saveIdentity(_ name: String, cn: String = "localhost", san: [String] = ["DNS:localhost", "IP:127.0.0.1"],
                      rsaBits: Int? = nil) throws -> IdentityFiles {
        let made = try TestIdentity.make(cn: cn, san: san, rsaBits: rsaBits)
        let files = IdentityFiles(key: made.key, certificate: made.certificate, keyPath: path("\(name).key"),
                                  certPath: path("\(name).crt"))
        XCTAssertEqual(made.key.save(path: files.keyPath), .ok)
        XCTAssertEqual(made.certificate.save(path: files.certPath), .ok)
        return files
    }

    /// Runs openssl to its end in the folder (bounded by its own work: key and CRL making); a
    /// non-zero exit fails the test, with what it printed.
    func run(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.executable)
        process.arguments = arguments
        process.currentDirectoryURL = folder
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "openssl \(arguments.joined(separator: " ")):\n\(text)")
    }

    /// Starts `openssl s_server -dtls1_2` on a free port and waits until it accepts.
    func startServer(_ arguments: [String]) throws -> (server: ExternalPeer, port: Int) {
        let port = Self.freePort()
        let server = try ExternalPeer(Self.executable, ["s_server", "-dtls1_2", "-accept", "127.0.0.1:\(port)"]
                                      + arguments)
        XCTAssertTrue(DTLSLoopbackTests.run({}, until: { server.text.contains("ACCEPT") }), server.text)
        return (server, port)
    }

    /// Starts `openssl s_client -dtls1_2` against 127.0.0.1:`port`.
    func startClient(port: Int, _ arguments: [String]) throws -> ExternalPeer {
        try ExternalPeer(Self.executable, ["s_client", "-dtls1_2", "-connect", "127.0.0.1:\(port)"] + arguments)
    }

    /// A UDP port free right now on every local address (tools such as gnutls-serv bind the
    /// wildcard), for a tool that cannot bind port 0 and tell us.
    static func freePort() -> Int {
        let probe = PacketPeerUDP()
        XCTAssertEqual(probe.bind(port: 0, bindAddress: "*"), .ok)
        defer { probe.close() }
        return probe.getLocalPort()
    }
}
