// SecretsTests.swift — private keys are written mode 0600, never appear in error messages, and
// the library writes nothing to stdout or stderr (so it logs no secret).

import XCTest
@testable import PacketDTLS
#if canImport(Glibc)
import Glibc
#endif

final class SecretsTests: XCTestCase {
    private func temporaryDirectory() throws -> String {
        var template = Array("/tmp/packetdtls-secrets-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        let path = try XCTUnwrap(made.map { String(cString: $0) })
        addTeardownBlock { _ = try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    private func mode(_ path: String) -> mode_t {
        var info = stat()
        XCTAssertEqual(stat(path, &info), 0)
        return info.st_mode & 0o777
    }

    /// Key files are 0600 whatever the umask, and even when the file existed with wider permissions.
    func testKeyFilesAreWrittenMode0600() throws {
        let directory = try temporaryDirectory()
        let key = try XCTUnwrap(Crypto.generateECP256())
        let old = umask(0)
        defer { umask(old) }
        let fresh = "\(directory)/fresh.key"
        XCTAssertEqual(key.save(path: fresh), .ok)
        XCTAssertEqual(mode(fresh), 0o600)
        let existing = "\(directory)/existing.key"
        XCTAssertTrue(FileManager.default.createFile(atPath: existing, contents: Data("old".utf8)))
        XCTAssertEqual(chmod(existing, 0o666), 0)
        XCTAssertEqual(key.save(path: existing), .ok)
        XCTAssertEqual(mode(existing), 0o600)
        let publicKey = "\(directory)/public.key"
        XCTAssertEqual(key.save(path: publicKey, publicOnly: true), .ok)
        Reliability.figure("key files", "private key saved mode \(String(mode(fresh), radix: 8)) with umask 000, "
                           + "and \(String(mode(existing), radix: 8)) over an existing 0666 file")
    }

    /// A key that fails to parse leaves a reason, never a piece of the key.
    func testErrorMessagesHoldNoKeyMaterial() throws {
        let key = try XCTUnwrap(Crypto.generateECP256())
        let pem = key.saveToString()
        let body = pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        XCTAssertGreaterThan(body.count, 64)
        // Damage the middle of the key so it no longer parses, as a user's broken file would be.
        var damaged = Array(pem.utf8)
        let middle = damaged.count / 2
        for index in middle..<(middle + 8) { damaged[index] = UInt8(ascii: "!") }
        let text = String(decoding: damaged, as: UTF8.self)
        let directory = try temporaryDirectory()
        let path = "\(directory)/damaged.key"
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(damaged)))
        let target = CryptoKey()
        var messages: [String] = []
        XCTAssertNotEqual(target.loadFromString(text), .ok)
        messages.append(ErrorReport.message)
        XCTAssertNotEqual(target.load(path: path), .ok)
        messages.append(ErrorReport.message)
        XCTAssertNotEqual(target.loadFromString(String(body.prefix(200))), .ok)
        messages.append(ErrorReport.message)
        for message in messages {
            XCTAssertFalse(message.isEmpty)
            // No 12-character run of the key's base64 appears in any message.
            let characters = Array(body)
            for start in stride(from: 0, to: characters.count - 12, by: 4) {
                let piece = String(characters[start..<(start + 12)])
                XCTAssertFalse(message.contains(piece), "the message '\(message)' holds key material")
            }
        }
        Reliability.figure("error messages", "\(messages.count) key-parsing failures leave reasons with no key material: "
                           + messages.map { "'\($0)'" }.joined(separator: "; "))
    }

    /// Everything a program does with the library, failures included, writes nothing to stdout or stderr.
    func testTheLibraryWritesNothingToStdoutOrStderr() throws {
        let directory = try temporaryDirectory()
        let capture = "\(directory)/captured"
        fflush(nil)
        let savedOut = dup(1), savedErr = dup(2)
        let file = open(capture, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        XCTAssertGreaterThanOrEqual(file, 0)
        dup2(file, 1)
        dup2(file, 2)
        // Keys, files, a handshake, a failed verification, a wrong key, a vanished peer.
        let identity = try Reliability.identity()
        _ = identity.key.save(path: "\(directory)/k.key")
        _ = CryptoKey().load(path: "\(directory)/nonexistent.key")
        _ = CryptoKey().loadFromString("-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n")
        let server = try ReliableServer(idleTimeoutMs: 200)
        let good = startClient(port: server.port)
        let wrongName = startClient(port: server.port,
                                    options: .client(trustedChain: identity.certificate, commonNameOverride: "wrong.example"))
        Reliability.run(within: 10, { server.step(); good.dtls.poll(); wrongName.dtls.poll() },
                        until: { good.dtls.getStatus() == .connected && wrongName.dtls.getStatus() != .handshaking })
        _ = good.dtls.putPacket([1, 2, 3])
        good.udp.close()
        Reliability.run(within: 3, { server.step() }, until: { server.peerCount == 0 })
        fflush(nil)
        dup2(savedOut, 1)
        dup2(savedErr, 2)
        close(savedOut); close(savedErr); close(file)
        let written = try Data(contentsOf: URL(fileURLWithPath: capture))
        XCTAssertEqual(wrongName.dtls.getStatus(), .errorHostnameMismatch)
        XCTAssertEqual(written.count, 0, "the library wrote: \(String(decoding: written, as: UTF8.self))")
        Reliability.figure("logging", "\(written.count) bytes written to stdout/stderr during key I/O, a handshake, a "
                           + "name mismatch, bad keys and an idle timeout")
    }
}
