// ServerKeysTests.swift — shared, rotating server keys: cookies and session tickets accepted
// across DTLSServer objects that load one key file, rotation, and key files that are refused.

import XCTest
import Foundation
import CMbedTLS
@testable import PacketDTLS

final class ServerKeysTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "packetdtls-keys-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func path(_ name: String) -> String { directory + "/" + name }

    private func server(_ identity: (key: CryptoKey, certificate: X509Certificate)) -> DTLSServer {
        MemoryPair.server(for: identity)
    }

    /// A full handshake with `server`; returns the client's session ticket.
    private func firstSession(with server: DTLSServer, options: TLSOptions,
                              file: StaticString = #filePath, line: UInt = #line) throws -> ResumableSession {
        let pair = MemoryPair(server: server, clientOptions: options, file: file, line: line)
        try pair.handshake(file: file, line: line)
        XCTAssertEqual(pair.client.getStatus(), .connected, pair.client.getErrorMessage(), file: file, line: line)
        XCTAssertFalse(pair.client.isSessionResumed(), file: file, line: line)
        return try XCTUnwrap(pair.client.getSession(), file: file, line: line)
    }

    /// Connects again with `session` to `server`; true when the session resumed (the handshake
    /// must succeed either way: a refused ticket means a full handshake, not a failure).
    private func resumes(_ session: ResumableSession, with server: DTLSServer, options: TLSOptions,
                         file: StaticString = #filePath, line: UInt = #line) throws -> Bool {
        let link = MemoryLink.pair()
        let client = PacketPeerDTLS()
        client.setSession(session)
        XCTAssertEqual(client.connectToPeer(link.client, hostname: "localhost", clientOptions: options), .ok,
                       file: file, line: line)
        let accepted = try XCTUnwrap(Pump.accept(server, link.server, client: client), file: file, line: line)
        Pump.handshake(client, accepted)
        XCTAssertEqual(client.getStatus(), .connected, client.getErrorMessage(), file: file, line: line)
        XCTAssertEqual(accepted.isSessionResumed(), client.isSessionResumed(), file: file, line: line)
        return client.isSessionResumed()
    }

    // MARK: Sharing

    func testASessionMadeOnOneServerResumesOnAnotherThatLoadedItsKeyFile() throws {
        let identity = try TestIdentity.make()
        let options = TLSOptions.client(trustedChain: identity.certificate)
        let first = server(identity)
        XCTAssertEqual(first.saveKeys(path: path("fleet.keys")), .ok, ErrorReport.message)
        let second = server(identity)
        let stranger = server(identity)
        XCTAssertEqual(second.loadKeys(path: path("fleet.keys")), .ok, ErrorReport.message)

        let session = try firstSession(with: first, options: options)
        XCTAssertTrue(try resumes(session, with: second, options: options), "the fleet shares the ticket key")
        XCTAssertFalse(try resumes(session, with: stranger, options: options),
                       "a server with keys of its own makes a full handshake instead")
    }

    func testKeysLoadedBeforeSetupAndAfterBothTakeEffect() throws {
        let identity = try TestIdentity.make()
        let options = TLSOptions.client(trustedChain: identity.certificate)
        let origin = server(identity)
        XCTAssertEqual(origin.saveKeys(path: path("k")), .ok)
        let before = DTLSServer()
        XCTAssertEqual(before.loadKeys(path: path("k")), .ok, ErrorReport.message)
        XCTAssertEqual(before.setup(key: identity.key, certificate: identity.certificate), .ok)
        let session = try firstSession(with: origin, options: options)
        XCTAssertTrue(try resumes(session, with: before, options: options))
        before.stop()
        XCTAssertEqual(before.setup(key: identity.key, certificate: identity.certificate), .ok)
        XCTAssertTrue(try resumes(session, with: before, options: options), "setup again keeps the keys")
    }

    func testACookieMadeByOneServerIsAcceptedByAnotherThatSharesItsKeys() throws {
        let identity = try TestIdentity.make()
        let first = server(identity)
        XCTAssertEqual(first.saveKeys(path: path("k")), .ok)
        let second = server(identity)
        XCTAssertEqual(second.loadKeys(path: path("k")), .ok)
        let stranger = server(identity)

        for (answering, accepted) in [(second, true), (stranger, false)] {
            let pair = MemoryPair(server: first)
            // The first ClientHello, without cookie, gets first's HelloVerifyRequest.
            let verify = first.takeConnection(pair.link.server)
            XCTAssertNotEqual(verify?.getStatus(), .handshaking)
            pair.client.poll()
            XCTAssertEqual(pair.link.server.pending, 1, "the client sent its ClientHello with the cookie")
            // The second, with first's cookie, reaches the other server.
            let peer = answering.takeConnection(pair.link.server)
            XCTAssertEqual(peer?.getStatus() == .handshaking, accepted)
            if accepted, let peer {
                Pump.handshake(pair.client, peer)
                XCTAssertEqual(pair.client.getStatus(), .connected, pair.client.getErrorMessage())
            }
        }
    }

    // MARK: Rotation

    func testRotationKeepsOldTicketsForOneRotationThenGivesAFullHandshake() throws {
        let identity = try TestIdentity.make()
        let options = TLSOptions.client(trustedChain: identity.certificate)
        let server = server(identity)
        let session = try firstSession(with: server, options: options)
        XCTAssertEqual(server.rotateKeys(), .ok)
        XCTAssertTrue(try resumes(session, with: server, options: options), "the previous key still opens it")
        XCTAssertEqual(server.rotateKeys(), .ok)
        XCTAssertFalse(try resumes(session, with: server, options: options), "two rotations on, a full handshake")
    }

    func testTheSavedPreviousKeyTravelsWithTheFile() throws {
        let identity = try TestIdentity.make()
        let options = TLSOptions.client(trustedChain: identity.certificate)
        let origin = server(identity)
        let session = try firstSession(with: origin, options: options)
        XCTAssertEqual(origin.rotateKeys(), .ok)
        XCTAssertEqual(origin.saveKeys(path: path("k")), .ok)
        let other = server(identity)
        XCTAssertEqual(other.loadKeys(path: path("k")), .ok)
        XCTAssertTrue(try resumes(session, with: other, options: options))
    }

    /// A cookie secret whose current generation has the given cookie key (the ticket key is unused).
    private func secret(cookieKey: [UInt8]) throws -> CookieSecret {
        let ring = try ServerKeyRing()
        let generation = try cookieKey.withUnsafeBufferPointer { key in
            try ServerKeyGeneration(id: 7, cookieKey: key, ticketKey: key)
        }
        ring.replace(current: generation, previous: nil)
        return CookieSecret(ring: ring)
    }

    /// Known answer, computed apart from this library (OpenSSL's command line):
    /// key = HMAC-SHA-256(cookie key 00 01 .. 1f, "PacketDTLS cookie CBC-MAC AES-256 key"), then
    /// `openssl enc -aes-256-cbc -K key -iv 0 -nopad` over 65432109 00000012 000102..11 and 14 zero
    /// bytes; the MAC is the last block. A fleet's processes (and versions) must agree on it.
    func testTheCookieMACKnownAnswer() throws {
        let secret = try secret(cookieKey: (0..<32).map { UInt8($0) })
        let cookie = secret.makeCookie(for: (0..<18).map { UInt8($0) }, at: 0x6543_2109)
        XCTAssertEqual(cookie.map { String(format: "%02x", $0) }.joined(),
                       "65432109" + "65429f48bdf4c4e9403807f3f19a38a6")
        XCTAssertEqual(CookieSecret.cookieLength, 20)
    }

    /// The cookie MAC is AES-256 CBC-MAC (mbedTLS's CBC mode with a zero IV, last block) of
    /// stamp || id length || id, zero-padded, under the key derived from the cookie key with mbedTLS's
    /// HMAC, for ids of every kind of length (none, short, a transport id's 18, several blocks).
    func testTheCookieMACIsCBCMACUnderTheDerivedKey() throws {
        let cookieKey = (0..<32).map { _ in UInt8.random(in: 0...255) }
        let secret = try secret(cookieKey: cookieKey)
        var derived = [UInt8](repeating: 0, count: 32)
        let label = Array("PacketDTLS cookie CBC-MAC AES-256 key".utf8)
        XCTAssertEqual(mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), cookieKey, cookieKey.count,
                                       label, label.count, &derived), 0)
        var aes = mbedtls_aes_context()
        mbedtls_aes_init(&aes)
        defer { mbedtls_aes_free(&aes) }
        XCTAssertEqual(mbedtls_aes_setkey_enc(&aes, derived, 256), 0)
        let stamp: UInt32 = 0x6543_2109
        let ids: [[UInt8]] = [[], Array("127.0.0.1".utf8) + [0x12, 0x34], (0..<18).map { UInt8($0 * 7) },
                              (0..<8).map { UInt8($0) }, (0..<100).map { UInt8(truncatingIfNeeded: $0 * 13) }]
        for id in ids {
            let cookie = secret.makeCookie(for: id, at: stamp)
            XCTAssertEqual(Array(cookie.prefix(4)), [0x65, 0x43, 0x21, 0x09])
            var input: [UInt8] = [0x65, 0x43, 0x21, 0x09]
            let count = UInt32(id.count)
            for shift: UInt32 in [24, 16, 8, 0] { input.append(UInt8(truncatingIfNeeded: count >> shift)) }
            input += id
            input += [UInt8](repeating: 0, count: (16 - input.count % 16) % 16)
            var iv = [UInt8](repeating: 0, count: 16)
            var output = [UInt8](repeating: 0, count: input.count)
            XCTAssertEqual(mbedtls_aes_crypt_cbc(&aes, MBEDTLS_AES_ENCRYPT, input.count, &iv, input, &output), 0)
            XCTAssertEqual(Array(cookie.dropFirst(4)), Array(output.suffix(16)), "id of \(id.count) bytes")
        }
        // Ids that differ only in length (one a zero-padded prefix of the other) get different MACs.
        XCTAssertNotEqual(secret.makeCookie(for: [1, 2], at: stamp), secret.makeCookie(for: [1, 2, 0], at: stamp))
    }

    /// Two processes sharing a key file make and accept the same cookies (the AES key is derived
    /// from the file's cookie key, not drawn afresh).
    func testServersSharingAKeyFileMakeTheSameCookies() throws {
        let first = try XCTUnwrap(CookieSecret())
        _ = first.ring.exportForSharing()
        let (current, previous) = first.ring.exportForSharing()
        let keyBytes = Array(UnsafeBufferPointer(start: current.cookieKey.base, count: current.cookieKey.count))
        let second = try secret(cookieKey: keyBytes)
        XCTAssertNil(previous)
        let client: [UInt8] = (0..<18).map { UInt8($0 + 100) }
        XCTAssertEqual(first.makeCookie(for: client, at: 1234), second.makeCookie(for: client, at: 1234))
        let cookie = first.makeCookie(for: client)
        XCTAssertTrue(cookie.withUnsafeBytes { second.isValid(cookie: $0, for: client) })
    }

    func testCookiesOfThePreviousKeyPassAndOldOrForeignOnesDoNot() throws {
        let secret = try XCTUnwrap(CookieSecret())
        let client: [UInt8] = Array("127.0.0.1".utf8) + [0x12, 0x34]
        let cookie = secret.makeCookie(for: client)
        XCTAssertEqual(cookie.count, CookieSecret.cookieLength)
        func valid(_ cookie: [UInt8], for id: [UInt8] = client) -> Bool {
            cookie.withUnsafeBytes { secret.isValid(cookie: $0, for: id) }
        }
        XCTAssertTrue(valid(cookie))
        XCTAssertFalse(valid(cookie, for: Array("127.0.0.1".utf8) + [0x12, 0x35]), "another port")
        for index in [0, 4, CookieSecret.cookieLength - 1] {
            var flipped = cookie
            flipped[index] ^= 1
            XCTAssertFalse(valid(flipped), "byte \(index) changed")
        }
        XCTAssertFalse(valid(Array(cookie.prefix(CookieSecret.cookieLength - 1))))
        XCTAssertFalse(valid(cookie + [0]))
        XCTAssertFalse(valid([]))
        let stale = secret.makeCookie(for: client, at: CookieSecret.now() &- UInt32(CookieSecret.lifetimeSeconds + 2))
        XCTAssertFalse(valid(stale), "older than a cookie lives")
        let future = secret.makeCookie(for: client, at: CookieSecret.now() &+ 60)
        XCTAssertFalse(valid(future), "from further ahead than clocks differ")

        try secret.ring.rotate()
        XCTAssertTrue(valid(cookie), "made with the previous key")
        XCTAssertTrue(valid(secret.makeCookie(for: client)))
        try secret.ring.rotate()
        XCTAssertFalse(valid(cookie), "two rotations on")
        XCTAssertFalse(try XCTUnwrap(CookieSecret()).makeCookie(for: client) == secret.makeCookie(for: client))
    }

    func testATicketWhoseSessionIsOlderThanItsLifetimeIsRefused() throws {
        let ring = try ServerKeyRing()
        let sealer = SessionTicketSealer(ring: ring, lifetimeSeconds: 100)
        var session = mbedtls_ssl_session()
        mbedtls_ssl_session_init(&session)
        defer { mbedtls_ssl_session_free(&session) }
        // A session whose full handshake was 50 seconds ago, then one of 150 seconds ago.
        func ticket(startedSecondsAgo age: Int) -> [UInt8] {
            session.start = time(nil) - age
            var buffer = [UInt8](repeating: 0, count: 4096)
            let length = buffer.withUnsafeMutableBufferPointer { sealer.seal(&session, into: $0.baseAddress!, capacity: $0.count) }
            XCTAssertGreaterThan(length, SessionTicketSealer.headerLength + SessionTicketSealer.tagLength)
            return Array(buffer.prefix(max(length, 0)))
        }
        func open(_ ticket: [UInt8]) -> Int32 {
            var opened = mbedtls_ssl_session()
            mbedtls_ssl_session_init(&opened)
            defer { mbedtls_ssl_session_free(&opened) }
            return ticket.withUnsafeBufferPointer { sealer.open($0, into: &opened) }
        }
        let fresh = ticket(startedSecondsAgo: 50)
        XCTAssertEqual(open(fresh), 0)
        XCTAssertEqual(open(ticket(startedSecondsAgo: 150)), MBEDTLS_ERR_SSL_SESSION_TICKET_EXPIRED)
        var forged = fresh
        forged[forged.count - 1] ^= 1
        XCTAssertEqual(open(forged), MBEDTLS_ERR_SSL_INVALID_MAC)
        XCTAssertEqual(open(Array(fresh.dropLast())), MBEDTLS_ERR_SSL_BAD_INPUT_DATA)
        XCTAssertEqual(open([]), MBEDTLS_ERR_SSL_BAD_INPUT_DATA)
        try ring.rotate()
        XCTAssertEqual(open(fresh), 0, "the previous generation still opens it")
        try ring.rotate()
        XCTAssertEqual(open(fresh), MBEDTLS_ERR_SSL_INVALID_MAC, "an unknown key id")
    }

    // MARK: Port reuse

    func testTwoUDPServersShareAPortOnlyWithReusePort() {
        let first = UDPServer(), second = UDPServer(), plain = UDPServer()
        defer { [first, second, plain].forEach { $0.stop() } }
        XCTAssertEqual(first.setReusePort(true), .ok)
        XCTAssertEqual(first.listen(port: 0, bindAddress: "127.0.0.1"), .ok, ErrorReport.message)
        let port = first.getLocalPort()
        XCTAssertEqual(plain.listen(port: port, bindAddress: "127.0.0.1"), .unavailable, "off by default")
        XCTAssertEqual(second.setReusePort(true), .ok)
        XCTAssertEqual(second.listen(port: port, bindAddress: "127.0.0.1"), .ok, ErrorReport.message)
        XCTAssertEqual(second.setReusePort(false), .alreadyInUse)
        XCTAssertTrue(ErrorReport.message.contains("before listen"), ErrorReport.message)
        second.stop()
        XCTAssertEqual(second.setReusePort(false), .ok, "settable again once stopped")
    }

    // MARK: The key file

    func testTheKeyFileIsPrivateAndReplacedWhole() throws {
        let server = DTLSServer()
        let file = path("k")
        XCTAssertTrue(FileManager.default.createFile(atPath: file, contents: Data("old".utf8),
                                                     attributes: [.posixPermissions: 0o644]))
        XCTAssertEqual(server.saveKeys(path: file), .ok, ErrorReport.message)
        let attributes = try FileManager.default.attributesOfItem(atPath: file)
        XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o600)
        XCTAssertEqual((attributes[.size] as? NSNumber)?.intValue, ServerKeyFile.length)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), ["k"], "no temporary file left")

        // A symbolic link at the path is replaced by the file, its target left alone.
        let target = path("target")
        XCTAssertTrue(FileManager.default.createFile(atPath: target, contents: Data("keep".utf8)))
        try FileManager.default.createSymbolicLink(atPath: path("link"), withDestinationPath: target)
        XCTAssertEqual(server.saveKeys(path: path("link")), .ok, ErrorReport.message)
        XCTAssertEqual(try String(contentsOfFile: target, encoding: .utf8), "keep")
        XCTAssertEqual(DTLSServer().loadKeys(path: path("link")), .ok)

        XCTAssertEqual(server.saveKeys(path: directory + "/missing/k"), .invalidParameter)
        XCTAssertTrue(ErrorReport.message.contains("missing/k"), ErrorReport.message)
        XCTAssertEqual(server.saveKeys(path: ""), .invalidParameter)
        XCTAssertEqual(server.saveKeys(path: directory), .invalidParameter, "a directory is not replaced")
        XCTAssertTrue(ErrorReport.message.contains("directory"), ErrorReport.message)
    }

    func testAShortCorruptOrForeignKeyFileIsAClearErrorAndChangesNothing() throws {
        let identity = try TestIdentity.make()
        let options = TLSOptions.client(trustedChain: identity.certificate)
        let server = server(identity)
        let session = try firstSession(with: server, options: options)
        let good = path("good")
        XCTAssertEqual(DTLSServer().saveKeys(path: good), .ok)
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: good)))

        func refuses(_ contents: [UInt8], _ expected: GodotError, saying words: String,
                     line: UInt = #line) throws {
            let file = path("bad")
            try Data(contents).write(to: URL(fileURLWithPath: file))
            XCTAssertEqual(server.loadKeys(path: file), expected, line: line)
            XCTAssertTrue(ErrorReport.message.contains(words), ErrorReport.message, line: line)
            XCTAssertTrue(ErrorReport.message.contains(file), ErrorReport.message, line: line)
        }
        try refuses(Array(bytes.prefix(100)), .fileCorrupt, saying: "100 bytes")
        try refuses(bytes + [0], .fileCorrupt, saying: "181 bytes")
        try refuses([], .fileUnrecognized, saying: "not a PacketDTLS key file")
        try refuses(Array("-----BEGIN PRIVATE KEY-----\n".utf8), .fileUnrecognized, saying: "not a PacketDTLS key file")
        var flipped = bytes
        flipped[40] ^= 0x01
        try refuses(flipped, .fileCorrupt, saying: "checksum")
        var newer = bytes
        newer[8] = 2
        try refuses(newer, .fileUnrecognized, saying: "version 2")
        XCTAssertEqual(server.loadKeys(path: path("absent")), .invalidParameter)
        XCTAssertEqual(server.loadKeys(path: directory), .invalidParameter)

        XCTAssertTrue(try resumes(session, with: server, options: options), "every refusal left the keys as they were")
    }

    func testTicketsAndCookiesStillWorkWithTicketsOff() throws {
        let identity = try TestIdentity.make()
        let serverOptions = TLSOptions.server(key: identity.key, certificate: identity.certificate)
        XCTAssertEqual(serverOptions.setSessionTickets(false), .ok)
        let server = DTLSServer()
        XCTAssertEqual(server.setup(serverOptions: serverOptions), .ok)
        XCTAssertEqual(server.saveKeys(path: path("k")), .ok)
        let pair = MemoryPair(server: server)
        try pair.handshake()
        XCTAssertEqual(pair.client.getStatus(), .connected)
    }
}
