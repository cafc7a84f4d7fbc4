// SecretFileTests.swift — keys, certificates and the key log on disk (issue 20): no symlink is
// followed, a new file is renamed into place, the key log is refused when it is not ours alone.

import XCTest
@testable import PacketDTLS
#if canImport(Glibc)
import Glibc
#endif

final class SecretFileTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("pdtls-secrets-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(at: folder)
    }

    private func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    private func mode(_ path: String) -> mode_t {
        var info = stat()
        XCTAssertEqual(lstat(path, &info), 0, path)
        return info.st_mode
    }

    func testKeySaveReplacesASymlinkInsteadOfWritingThroughIt() throws {
        let victim = path("victim")
        try "not a key".write(toFile: victim, atomically: false, encoding: .utf8)
        XCTAssertEqual(chmod(victim, 0o644), 0)
        XCTAssertEqual(symlink(victim, path("key.pem")), 0)
        let key = try XCTUnwrap(Crypto.generateECP256())
        XCTAssertEqual(key.save(path: path("key.pem")), .ok, ErrorReport.message)
        XCTAssertEqual(try String(contentsOfFile: victim, encoding: .utf8), "not a key")
        XCTAssertEqual(mode(victim) & 0o777, 0o644, "the symlink's target is untouched")
        XCTAssertEqual(mode(path("key.pem")) & S_IFMT, S_IFREG)
        XCTAssertEqual(mode(path("key.pem")) & 0o777, 0o600)
        let loaded = CryptoKey()
        XCTAssertEqual(loaded.load(path: path("key.pem")), .ok)
        XCTAssertEqual(loaded.saveToString(), key.saveToString())
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted(), ["key.pem", "victim"],
                       "no temporary file is left behind")
    }

    /// A process that opened the old (world-readable) file keeps reading the old content.
    func testAnOpenDescriptorOfTheOldFileNeverSeesTheNewKey() throws {
        let target = path("server.key")
        try "old public content\n".write(toFile: target, atomically: false, encoding: .utf8)
        XCTAssertEqual(chmod(target, 0o644), 0)
        let reader = open(target, O_RDONLY)
        XCTAssertGreaterThanOrEqual(reader, 0)
        defer { close(reader) }
        let key = try XCTUnwrap(Crypto.generateECP256())
        XCTAssertEqual(key.save(path: target), .ok, ErrorReport.message)
        var buffer = [UInt8](repeating: 0, count: 4096)
        let got = pread(reader, &buffer, buffer.count, 0)
        XCTAssertEqual(String(decoding: buffer.prefix(max(0, got)), as: UTF8.self), "old public content\n")
        XCTAssertEqual(mode(target) & 0o777, 0o600)
    }

    func testCertificateSaveIs0644AndReplacesASymlink() throws {
        let identity = try TestIdentity.make()
        let victim = path("victim")
        try "keep".write(toFile: victim, atomically: false, encoding: .utf8)
        XCTAssertEqual(symlink(victim, path("cert.pem")), 0)
        XCTAssertEqual(identity.certificate.save(path: path("cert.pem")), .ok, ErrorReport.message)
        XCTAssertEqual(try String(contentsOfFile: victim, encoding: .utf8), "keep")
        XCTAssertEqual(mode(path("cert.pem")) & S_IFMT, S_IFREG)
        XCTAssertEqual(mode(path("cert.pem")) & 0o777, 0o644)
        XCTAssertEqual(identity.key.save(path: folder.path), .invalidParameter, "a directory is refused")
        XCTAssertEqual(identity.key.save(path: path("missing-dir/key.pem")), .invalidParameter)
    }

    func testKeyLogIsRefusedUnlessItIsOursAlone() throws {
        let options = TLSOptions.clientUnsafe()
        XCTAssertEqual(options.setKeyLogPath(path("missing-dir/keylog")), .fileCantOpen)
        XCTAssertTrue(ErrorReport.message.contains("key log"), ErrorReport.message)

        let wide = path("wide.log")
        try "".write(toFile: wide, atomically: false, encoding: .utf8)
        XCTAssertEqual(chmod(wide, 0o644), 0)
        XCTAssertEqual(options.setKeyLogPath(wide), .fileNoPermission)
        XCTAssertTrue(ErrorReport.message.contains("0600"), ErrorReport.message)

        let victim = path("victim.log")
        try "".write(toFile: victim, atomically: false, encoding: .utf8)
        XCTAssertEqual(chmod(victim, 0o600), 0)
        XCTAssertEqual(symlink(victim, path("link.log")), 0)
        XCTAssertEqual(options.setKeyLogPath(path("link.log")), .fileCantOpen)
        XCTAssertTrue(ErrorReport.message.contains("symbolic link"), ErrorReport.message)

        XCTAssertEqual(options.setKeyLogPath(folder.path), .fileCantOpen, "a directory is refused")
        XCTAssertNil(options.currentTuning().keyLog, "every refusal leaves the key log off")
    }

    func testKeyLogAppendsToAnExisting0600FileAndCreatesNewOnes0600() throws {
        let identity = try TestIdentity.make()
        let existing = path("existing.log")
        try "# earlier\n".write(toFile: existing, atomically: false, encoding: .utf8)
        XCTAssertEqual(chmod(existing, 0o600), 0)
        let clientOptions = TLSOptions.clientUnsafe()
        XCTAssertEqual(clientOptions.setKeyLogPath(existing), .ok, ErrorReport.message)
        let serverOptions = TLSOptions.server(key: identity.key, certificate: identity.certificate)
        XCTAssertEqual(serverOptions.setKeyLogPath(path("fresh.log")), .ok, ErrorReport.message)
        XCTAssertEqual(mode(path("fresh.log")) & 0o777, 0o600)
        let (client, _) = try SecurityHandshake.run(server: serverOptions, client: clientOptions)
        XCTAssertEqual(client.getStatus(), .connected, client.getErrorMessage())
        let lines = try String(contentsOfFile: existing, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.first, "# earlier")
        XCTAssertTrue(lines.last?.hasPrefix("CLIENT_RANDOM ") == true, lines.joined(separator: "\n"))
        let serverLines = try String(contentsOfFile: path("fresh.log"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(serverLines.last, lines.last, "both ends log the same secret")
    }
}
