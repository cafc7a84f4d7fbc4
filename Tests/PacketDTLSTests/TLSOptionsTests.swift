// TLSOptionsTests.swift — TLSOptions: Godot's constructors and getters, the server identity check,
// and the tuning beyond Godot.

import XCTest
@testable import PacketDTLS

final class TLSOptionsTests: XCTestCase {
    func testClientOptions() {
        let system = TLSOptions.client()
        XCTAssertFalse(system.isServer())
        XCTAssertFalse(system.isUnsafeClient())
        XCTAssertNil(system.getTrustedCAChain())
        XCTAssertEqual(system.getCommonNameOverride(), "")

        let anchor = CryptoTestSupport.certificate("anchor")
        let pinned = TLSOptions.client(trustedChain: anchor, commonNameOverride: "anchor")
        XCTAssertTrue(pinned.getTrustedCAChain() === anchor)
        XCTAssertEqual(pinned.getCommonNameOverride(), "anchor")
        XCTAssertNil(pinned.getPrivateKey())
        XCTAssertNil(pinned.getOwnCertificate())

        let unsafe = TLSOptions.clientUnsafe()
        XCTAssertTrue(unsafe.isUnsafeClient())
        XCTAssertFalse(unsafe.isServer())
    }

    func testServerOptionsHoldTheirKeyAndCertificate() {
        let key = CryptoTestSupport.ecKey
        let cert = CryptoTestSupport.certificate("server")
        XCTAssertEqual(TLSOptions.checkServerIdentity(key: key, certificate: cert), .ok)
        let options = TLSOptions.server(key: key, certificate: cert)
        XCTAssertTrue(options.isServer())
        XCTAssertFalse(options.isUnsafeClient())
        XCTAssertTrue(options.getPrivateKey() === key)
        XCTAssertTrue(options.getOwnCertificate() === cert)
    }

    func testServerIdentityCheckCatchesEveryMismatch() throws {
        let key = CryptoTestSupport.ecKey
        let cert = CryptoTestSupport.certificate("server")
        let otherKey = try XCTUnwrap(Crypto.generateECP256())
        let publicKey = CryptoKey()
        XCTAssertEqual(publicKey.loadFromString(key.saveToString(publicOnly: true), publicOnly: true), .ok)

        XCTAssertEqual(TLSOptions.checkServerIdentity(key: otherKey, certificate: cert), .invalidParameter)
        XCTAssertTrue(ErrorReport.message.contains("does not belong"), ErrorReport.message)
        XCTAssertEqual(TLSOptions.checkServerIdentity(key: CryptoTestSupport.rsaKey, certificate: cert),
                       .invalidParameter)
        XCTAssertEqual(TLSOptions.checkServerIdentity(key: publicKey, certificate: cert), .invalidParameter)
        XCTAssertTrue(ErrorReport.message.contains("public key"), ErrorReport.message)
        XCTAssertEqual(TLSOptions.checkServerIdentity(key: CryptoKey(), certificate: cert), .invalidParameter)
        XCTAssertEqual(TLSOptions.checkServerIdentity(key: key, certificate: X509Certificate()), .invalidParameter)
        XCTAssertTrue(ErrorReport.message.contains("certificate is empty"), ErrorReport.message)
    }

    func testOptionsKeepTheKeyAliveAfterTheCallerLetsGo() throws {
        weak var weakKey: CryptoKey?
        let options: TLSOptions = try {
            let key = try XCTUnwrap(Crypto.generateECP256())
            weakKey = key
            let cert = try XCTUnwrap(Crypto.generateSelfSignedCertificate(key: key))
            return TLSOptions.server(key: key, certificate: cert)
        }()
        XCTAssertNotNil(weakKey)
        XCTAssertEqual(options.getPrivateKey()?.saveToString().hasPrefix("-----BEGIN EC PRIVATE KEY-----"), true)
    }

    func testTuningDefaultsAndLimits() {
        let options = TLSOptions.client()
        XCTAssertEqual(options.handshakeTimeout.minMs, 1000)
        XCTAssertEqual(options.handshakeTimeout.maxMs, 60000)
        XCTAssertEqual(options.idleTimeout, 300_000)
        XCTAssertEqual(options.mtu, 1400)
        XCTAssertEqual(options.setHandshakeTimeout(minMs: 0, maxMs: 10), .invalidParameter)
        XCTAssertEqual(options.setHandshakeTimeout(minMs: 20, maxMs: 10), .invalidParameter)
        XCTAssertEqual(options.setHandshakeTimeout(minMs: 10, maxMs: 20), .ok)
        XCTAssertEqual(options.handshakeTimeout.minMs, 10)
        XCTAssertEqual(options.setMTU(100), .invalidParameter)
        XCTAssertEqual(options.setMTU(0), .ok)
        XCTAssertEqual(options.setIdleTimeout(ms: 0), .ok)
        XCTAssertEqual(options.idleTimeout, 0)
    }
}
