// CryptoKeyTests.swift — CryptoKey: PEM and DER, files and strings, public-only, errors.

import CMbedTLS
import Foundation
import XCTest
@testable import PacketDTLS

final class CryptoKeyTests: XCTestCase {
    private var ecKey: CryptoKey { CryptoTestSupport.ecKey }
    private var rsaKey: CryptoKey { CryptoTestSupport.rsaKey }

    func testECKeyRoundTripsThroughPEMString() {
        let pem = ecKey.saveToString()
        XCTAssertTrue(pem.hasPrefix("-----BEGIN EC PRIVATE KEY-----"), pem)
        let copy = CryptoKey()
        XCTAssertEqual(copy.loadFromString(pem), .ok)
        XCTAssertFalse(copy.isPublicOnly())
        XCTAssertEqual(copy.saveToString(), pem)
    }

    func testRSAKeyRoundTripsThroughFileWrittenWithMode0600() {
        let path = CryptoTestSupport.temporaryDirectory(for: self).appendingPathComponent("rsa.key").path
        XCTAssertEqual(rsaKey.save(path: path), .ok)
        XCTAssertEqual(CryptoTestSupport.mode(of: path), 0o600)
        let copy = CryptoKey()
        XCTAssertEqual(copy.load(path: path), .ok)
        XCTAssertEqual(copy.saveToString(), rsaKey.saveToString())
        XCTAssertTrue(copy.saveToString().hasPrefix("-----BEGIN RSA PRIVATE KEY-----"))
    }

    func testSaveNarrowsAnExistingWorldReadableFileTo0600() throws {
        let path = CryptoTestSupport.temporaryDirectory(for: self).appendingPathComponent("old.key").path
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(repeating: 0x41, count: 10_000),
                                                     attributes: [.posixPermissions: 0o644]))
        XCTAssertEqual(ecKey.save(path: path), .ok)
        XCTAssertEqual(CryptoTestSupport.mode(of: path), 0o600)
        // The longer old content is gone, not left after the new key.
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), ecKey.saveToString())
    }

    func testPublicOnlyKeyRoundTrips() {
        let publicPEM = rsaKey.saveToString(publicOnly: true)
        XCTAssertTrue(publicPEM.hasPrefix("-----BEGIN PUBLIC KEY-----"), publicPEM)
        let publicKey = CryptoKey()
        XCTAssertEqual(publicKey.loadFromString(publicPEM, publicOnly: true), .ok)
        XCTAssertTrue(publicKey.isPublicOnly())
        XCTAssertEqual(publicKey.saveToString(publicOnly: true), publicPEM)

        let path = CryptoTestSupport.temporaryDirectory(for: self).appendingPathComponent("pub.pem").path
        XCTAssertEqual(publicKey.save(path: path, publicOnly: true), .ok)
        let reloaded = CryptoKey()
        XCTAssertEqual(reloaded.load(path: path, publicOnly: true), .ok)
        XCTAssertEqual(reloaded.saveToString(publicOnly: true), publicPEM)
    }

    func testPrivateOutputFromAPublicOnlyKeyIsRefused() {
        let publicKey = CryptoKey()
        XCTAssertEqual(publicKey.loadFromString(ecKey.saveToString(publicOnly: true), publicOnly: true), .ok)
        XCTAssertEqual(publicKey.saveToString(), "")
        XCTAssertTrue(ErrorReport.message.contains("only a public key"), ErrorReport.message)
        let path = CryptoTestSupport.temporaryDirectory(for: self).appendingPathComponent("no.key").path
        XCTAssertEqual(publicKey.save(path: path), .invalidParameter)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
    }

    func testPublicOnlyLoadOfAPrivateKeyKeepsThePublicHalf() {
        let key = CryptoKey()
        XCTAssertEqual(key.loadFromString(ecKey.saveToString(), publicOnly: true), .ok)
        XCTAssertTrue(key.isPublicOnly())
        XCTAssertEqual(key.saveToString(publicOnly: true), ecKey.saveToString(publicOnly: true))
    }

    func testPrivateLoadOfAPublicKeyIsAParseErrorThatSaysWhy() {
        let key = CryptoKey()
        XCTAssertEqual(key.loadFromString(ecKey.saveToString(publicOnly: true)), .parseError)
        XCTAssertTrue(ErrorReport.message.contains("public_only"), ErrorReport.message)
        XCTAssertTrue(key.isEmpty)
    }

    func testDERFilesLoad() throws {
        let directory = CryptoTestSupport.temporaryDirectory(for: self)
        for (material, publicOnly) in [(rsaKey, false), (ecKey, false), (ecKey, true)] {
            let der = try XCTUnwrap(derBytes(of: material, publicOnly: publicOnly))
            let path = directory.appendingPathComponent("key-\(publicOnly).der").path
            XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(der)))
            let key = CryptoKey()
            XCTAssertEqual(key.load(path: path, publicOnly: publicOnly), .ok, ErrorReport.message)
            XCTAssertEqual(key.isPublicOnly(), publicOnly)
            XCTAssertEqual(key.saveToString(publicOnly: publicOnly), material.saveToString(publicOnly: publicOnly))
        }
    }

    func testGarbageIsAParseErrorAndTheKeyKeepsItsMaterial() {
        let key = CryptoKey()
        XCTAssertEqual(key.loadFromString(ecKey.saveToString()), .ok)
        let before = key.currentMaterial()
        XCTAssertEqual(key.loadFromString("-----BEGIN EC PRIVATE KEY-----\nnot base64\n-----END EC PRIVATE KEY-----\n"),
                       .parseError)
        XCTAssertFalse(ErrorReport.message.isEmpty)
        XCTAssertEqual(key.loadFromString("garbage"), .parseError)
        XCTAssertTrue(key.currentMaterial() === before)
        XCTAssertEqual(key.saveToString(), ecKey.saveToString())
    }

    func testMissingFileIsInvalidParameterNamingThePath() {
        let key = CryptoKey()
        XCTAssertEqual(key.load(path: "/nonexistent/packetdtls/key.pem"), .invalidParameter)
        XCTAssertTrue(ErrorReport.message.contains("/nonexistent/packetdtls/key.pem"), ErrorReport.message)
        XCTAssertEqual(key.save(path: "/nonexistent/packetdtls/key.pem"), .unconfigured)
        XCTAssertEqual(ecKey.save(path: "/nonexistent/packetdtls/key.pem"), .invalidParameter)
        XCTAssertTrue(ErrorReport.message.contains("/nonexistent/packetdtls/key.pem"), ErrorReport.message)
        XCTAssertEqual(key.load(path: CryptoTestSupport.temporaryDirectory(for: self).path), .invalidParameter)
    }

    func testEmptyKeySavesNothingAndSaysSo() {
        let key = CryptoKey()
        ErrorReport.set("")
        XCTAssertEqual(key.saveToString(), "")
        XCTAssertTrue(ErrorReport.message.contains("empty"), ErrorReport.message)
        XCTAssertFalse(key.isPublicOnly())
        XCTAssertTrue(key.isEmpty)
    }

    func testReloadReplacesTheMaterialWholeSoHoldersKeepTheOldKey() {
        let key = CryptoKey()
        XCTAssertEqual(key.loadFromString(ecKey.saveToString()), .ok)
        let held = key.currentMaterial()!
        XCTAssertEqual(key.loadFromString(rsaKey.saveToString()), .ok)
        XCTAssertFalse(key.currentMaterial() === held)
        XCTAssertEqual(CryptoKey(material: held).saveToString(), ecKey.saveToString())
    }

    func testOpenSSLReadsOurKeys() throws {
        try XCTSkipUnless(CryptoTestSupport.hasOpenSSL, "openssl is not installed")
        let directory = CryptoTestSupport.temporaryDirectory(for: self)
        for (name, key) in [("ec", ecKey), ("rsa", rsaKey)] {
            let privatePath = directory.appendingPathComponent("\(name).key").path
            let publicPath = directory.appendingPathComponent("\(name).pub").path
            XCTAssertEqual(key.save(path: privatePath), .ok)
            XCTAssertEqual(key.save(path: publicPath, publicOnly: true), .ok)
            let privateCheck = CryptoTestSupport.openssl(["pkey", "-in", privatePath, "-noout"])
            XCTAssertEqual(privateCheck.status, 0, privateCheck.output)
            let publicOut = CryptoTestSupport.openssl(["pkey", "-pubin", "-in", publicPath, "-pubout"])
            XCTAssertEqual(publicOut.status, 0, publicOut.output)
            XCTAssertEqual(publicOut.output, key.saveToString(publicOnly: true))
        }
    }

    /// The key in DER, written by mbedTLS directly (the library itself writes only PEM).
    private func derBytes(of key: CryptoKey, publicOnly: Bool) -> [UInt8]? {
        guard let material = key.currentMaterial() else { return nil }
        var buffer = [UInt8](repeating: 0, count: 8192)
        let written = publicOnly ? mbedtls_pk_write_pubkey_der(material.pk, &buffer, buffer.count)
                                 : mbedtls_pk_write_key_der(material.pk, &buffer, buffer.count)
        return written > 0 ? Array(buffer.suffix(Int(written))) : nil
    }
}
