// CryptoTests.swift — Crypto: random bytes, key and certificate generation, signatures, RSA
// encryption, HMAC and comparison. The helpers the other crypto tests share are at the end.

import CMbedTLS
import Foundation
import XCTest
@testable import PacketDTLS

final class CryptoTests: XCTestCase {
    private var ecKey: CryptoKey { CryptoTestSupport.ecKey }
    private var rsaKey: CryptoKey { CryptoTestSupport.rsaKey }

    // MARK: Random bytes and keys

    func testRandomBytes() throws {
        let first = try XCTUnwrap(Crypto.generateRandomBytes(64))
        let second = try XCTUnwrap(Crypto.generateRandomBytes(64))
        XCTAssertEqual(first.count, 64)
        XCTAssertNotEqual(first, second)
        XCTAssertEqual(Crypto.generateRandomBytes(0), [])
        XCTAssertEqual(Crypto.generateRandomBytes(100_000)?.count, 100_000)
        XCTAssertNil(Crypto.generateRandomBytes(-1))
        XCTAssertTrue(ErrorReport.message.contains("negative"), ErrorReport.message)
    }

    func testGeneratedKeysHaveTheAskedShape() throws {
        let ec = try XCTUnwrap(Crypto.generateECP256())
        XCTAssertEqual(ec.currentMaterial()?.summary, "EC 256-bit")
        XCTAssertEqual(rsaKey.currentMaterial()?.summary, "RSA 2048-bit")
        XCTAssertFalse(ec.isPublicOnly())
        let rsa = try XCTUnwrap(rsaKey.currentMaterial())
        let context = try XCTUnwrap(mbedtls_pk_rsa(rsa.pk.pointee))
        XCTAssertEqual(mbedtls_rsa_check_privkey(context), 0)
        var exponent: UInt = 0
        XCTAssertEqual(mbedtls_mpi_write_binary(&context.pointee.E, &exponent, MemoryLayout<UInt>.size), 0)
        XCTAssertEqual(UInt(bigEndian: exponent), 65537)
    }

    func testRSASizesOutsideTheRangeAreRefused() {
        for bits in [0, 512, 1023, 1025, 8194, -2048] {
            XCTAssertNil(Crypto.generateRSA(sizeBits: bits), "\(bits)")
            XCTAssertTrue(ErrorReport.message.contains("\(bits)"), ErrorReport.message)
        }
    }

    // MARK: Signatures

    func testSignAndVerifyWithECAndRSAForEveryHash() throws {
        let message = Array("the message".utf8)
        for key in [ecKey, rsaKey] {
            for (hashType, length) in [(HashType.md5, 16), (.sha1, 20), (.sha256, 32)] {
                let hash = digest(hashType, message)
                XCTAssertEqual(hash.count, length)
                let signature = try XCTUnwrap(Crypto.sign(hashType: hashType, hash: hash, key: key),
                                              ErrorReport.message)
                XCTAssertTrue(Crypto.verify(hashType: hashType, hash: hash, signature: signature, key: key))
                var tampered = signature
                tampered[tampered.count / 2] ^= 0x01
                XCTAssertFalse(Crypto.verify(hashType: hashType, hash: hash, signature: tampered, key: key))
                XCTAssertFalse(Crypto.verify(hashType: hashType, hash: digest(hashType, [1]), signature: signature,
                                             key: key))
            }
        }
    }

    func testAPublicOnlyKeyVerifiesButCannotSign() throws {
        let hash = digest(.sha256, Array("x".utf8))
        let signature = try XCTUnwrap(Crypto.sign(hashType: .sha256, hash: hash, key: ecKey))
        let publicKey = CryptoKey()
        XCTAssertEqual(publicKey.loadFromString(ecKey.saveToString(publicOnly: true), publicOnly: true), .ok)
        XCTAssertTrue(Crypto.verify(hashType: .sha256, hash: hash, signature: signature, key: publicKey))
        XCTAssertNil(Crypto.sign(hashType: .sha256, hash: hash, key: publicKey))
        XCTAssertTrue(ErrorReport.message.contains("public key"), ErrorReport.message)
    }

    func testSignRefusesBadInputs() {
        XCTAssertNil(Crypto.sign(hashType: .sha256, hash: [UInt8](repeating: 0, count: 20), key: ecKey))
        XCTAssertTrue(ErrorReport.message.contains("32 bytes, not 20"), ErrorReport.message)
        XCTAssertNil(Crypto.sign(hashType: .sha256, hash: [UInt8](repeating: 0, count: 32), key: CryptoKey()))
        XCTAssertTrue(ErrorReport.message.contains("empty"), ErrorReport.message)
        XCTAssertFalse(Crypto.verify(hashType: .md5, hash: [1, 2], signature: [3], key: ecKey))
        XCTAssertTrue(ErrorReport.message.contains("16 bytes, not 2"), ErrorReport.message)
    }

    // MARK: RSA encryption

    func testEncryptDecryptRoundTrip() throws {
        let plaintext = Array("attack at dawn".utf8)
        let ciphertext = try XCTUnwrap(Crypto.encrypt(key: rsaKey, plaintext: plaintext))
        XCTAssertEqual(ciphertext.count, 256)
        XCTAssertEqual(Crypto.decrypt(key: rsaKey, ciphertext: ciphertext), plaintext)
        // PKCS#1 v1.5 padding is random: the same plaintext encrypts differently each time.
        XCTAssertNotEqual(Crypto.encrypt(key: rsaKey, plaintext: plaintext), ciphertext)

        let publicKey = CryptoKey()
        XCTAssertEqual(publicKey.loadFromString(rsaKey.saveToString(publicOnly: true), publicOnly: true), .ok)
        let fromPublic = try XCTUnwrap(Crypto.encrypt(key: publicKey, plaintext: plaintext))
        XCTAssertEqual(Crypto.decrypt(key: rsaKey, ciphertext: fromPublic), plaintext)
        XCTAssertNil(Crypto.decrypt(key: publicKey, ciphertext: fromPublic))
        XCTAssertTrue(ErrorReport.message.contains("public key"), ErrorReport.message)
    }

    func testEncryptRefusesBadInputs() {
        XCTAssertNil(Crypto.encrypt(key: ecKey, plaintext: [1]))
        XCTAssertTrue(ErrorReport.message.contains("RSA"), ErrorReport.message)
        XCTAssertNil(Crypto.encrypt(key: rsaKey, plaintext: [UInt8](repeating: 7, count: 246)))
        XCTAssertTrue(ErrorReport.message.contains("(245)"), ErrorReport.message)
        XCTAssertNil(Crypto.encrypt(key: CryptoKey(), plaintext: [1]))
        XCTAssertNil(Crypto.decrypt(key: rsaKey, ciphertext: [1, 2, 3]))
        XCTAssertFalse(ErrorReport.message.isEmpty)
    }

    // MARK: HMAC and comparison

    func testHMACMatchesPublishedVectors() {
        // RFC 4231 test cases 1 and 2 (HMAC-SHA-256).
        XCTAssertEqual(hex(Crypto.hmacDigest(hashType: .sha256, key: [UInt8](repeating: 0x0b, count: 20),
                                             message: Array("Hi There".utf8))),
                       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
        let jefe = Array("Jefe".utf8)
        let question = Array("what do ya want for nothing?".utf8)
        XCTAssertEqual(hex(Crypto.hmacDigest(hashType: .sha256, key: jefe, message: question)),
                       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        // RFC 2202 test case 2 (HMAC-SHA-1 and HMAC-MD5).
        XCTAssertEqual(hex(Crypto.hmacDigest(hashType: .sha1, key: jefe, message: question)),
                       "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79")
        XCTAssertEqual(hex(Crypto.hmacDigest(hashType: .md5, key: jefe, message: question)),
                       "750c783e6ab0b503eaa86e310a5db738")
    }

    func testHMACRefusesAnEmptyKey() {
        XCTAssertNil(Crypto.hmacDigest(hashType: .sha256, key: [], message: [1]))
        XCTAssertTrue(ErrorReport.message.contains("empty"), ErrorReport.message)
        XCTAssertNotNil(Crypto.hmacDigest(hashType: .sha256, key: [1], message: []))
    }

    func testConstantTimeCompare() {
        XCTAssertTrue(Crypto.constantTimeCompare([1, 2, 3], [1, 2, 3]))
        XCTAssertFalse(Crypto.constantTimeCompare([1, 2, 3], [1, 2, 4]))
        XCTAssertFalse(Crypto.constantTimeCompare([0, 2, 3], [1, 2, 3]))
        XCTAssertFalse(Crypto.constantTimeCompare([1, 2, 3], [1, 2]))
        XCTAssertTrue(Crypto.constantTimeCompare([], []))
    }

    // MARK: Self-signed certificates

    func testSelfSignedCertificateVerifiesAgainstItself() throws {
        for key in [ecKey, rsaKey] {
            let cert = try XCTUnwrap(Crypto.generateSelfSignedCertificate(key: key), ErrorReport.message)
            let info = try XCTUnwrap(cert.certificates.first)
            XCTAssertEqual(info.subject, "CN=myserver, O=myorganisation, C=IT")
            XCTAssertEqual(info.notBefore, "20140101000000")
            XCTAssertEqual(info.notAfter, "20340101000000")
            XCTAssertEqual(verificationFlags(cert, trusting: cert, name: "myserver"), 0)
            XCTAssertNotEqual(verificationFlags(cert, trusting: cert, name: "otherserver")
                              & UInt32(MBEDTLS_X509_BADCERT_CN_MISMATCH), 0)
            XCTAssertNotEqual(verificationFlags(cert, trusting: CryptoTestSupport.certificate("stranger"), name: nil)
                              & UInt32(MBEDTLS_X509_BADCERT_NOT_TRUSTED), 0)
            XCTAssertEqual(TLSOptions.checkServerIdentity(key: key, certificate: cert), .ok)
        }
    }

    func testSerialNumbersArePositiveAndDiffer() throws {
        let first = try XCTUnwrap(Crypto.generateSelfSignedCertificate(key: ecKey)?.certificates.first?.serialNumber)
        let second = try XCTUnwrap(Crypto.generateSelfSignedCertificate(key: ecKey)?.certificates.first?.serialNumber)
        XCTAssertNotEqual(first, second)
        XCTAssertTrue(["4", "5", "6", "7"].contains(first.prefix(1)), first)
    }

    func testSubjectAltNamesArePresentAndUsedForTheNameCheck() throws {
        let cert = try XCTUnwrap(Crypto.generateSelfSignedCertificate(
            key: ecKey, issuerName: "CN=not-the-host",
            subjectAltNames: ["DNS:localhost", "IP:127.0.0.1", "::1", "*.example.org"]), ErrorReport.message)
        XCTAssertEqual(cert.certificates.first?.dnsNames, ["DNS:localhost", "DNS:*.example.org"])
        XCTAssertEqual(verificationFlags(cert, trusting: cert, name: "localhost"), 0)
        XCTAssertEqual(verificationFlags(cert, trusting: cert, name: "www.example.org"), 0)
        XCTAssertNotEqual(verificationFlags(cert, trusting: cert, name: "not-the-host"), 0)

        try XCTSkipUnless(CryptoTestSupport.hasOpenSSL, "openssl is not installed")
        let path = CryptoTestSupport.temporaryDirectory(for: self).appendingPathComponent("san.pem").path
        XCTAssertEqual(cert.save(path: path), .ok)
        let text = CryptoTestSupport.openssl(["x509", "-noout", "-text", "-in", path])
        XCTAssertEqual(text.status, 0, text.output)
        XCTAssertTrue(text.output.contains("DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, "
                                           + "DNS:*.example.org"), text.output)
        XCTAssertTrue(text.output.contains("CA:FALSE"), text.output)
        let verify = CryptoTestSupport.openssl(["verify", "-CAfile", path, "-verify_hostname", "localhost",
                                                "-verify_ip", "127.0.0.1", path])
        XCTAssertEqual(verify.status, 0, verify.output)
    }

    func testSelfSignedCertificateRefusesBadInputs() {
        let publicKey = CryptoKey()
        XCTAssertEqual(publicKey.loadFromString(ecKey.saveToString(publicOnly: true), publicOnly: true), .ok)
        let valid = ("20140101000000", "20340101000000")
        let cases: [(CryptoKey, String, (String, String), [String], String)] = [
            (CryptoKey(), "CN=x", valid, [], "empty"),
            (publicKey, "CN=x", valid, [], "public key"),
            (ecKey, "nonsense", valid, [], "nonsense"),
            (ecKey, "CN=x", ("2014", "20340101000000"), [], "2014"),
            (ecKey, "CN=x", ("20141301000000", "20340101000000"), [], "20141301000000"),
            (ecKey, "CN=x", ("20340101000000", "20140101000000"), [], "comes after"),
            (ecKey, "CN=x", valid, ["IP:300.1.1.1"], "300.1.1.1"),
            (ecKey, "CN=x", valid, ["DNS:bad name"], "bad name"),
            (ecKey, "CN=x", valid, ["DNS:"], "DNS:"),
        ]
        for (key, name, validity, altNames, mention) in cases {
            XCTAssertNil(Crypto.generateSelfSignedCertificate(key: key, issuerName: name, notBefore: validity.0,
                                                              notAfter: validity.1, subjectAltNames: altNames))
            XCTAssertTrue(ErrorReport.message.contains(mention), "\(mention): \(ErrorReport.message)")
        }
    }

    // MARK: Helpers

    private func digest(_ hashType: HashType, _ message: [UInt8]) -> [UInt8] {
        let info = mbedtls_md_info_from_type(hashType.digest!.type)
        var output = [UInt8](repeating: 0, count: Int(mbedtls_md_get_size(info)))
        XCTAssertEqual(mbedtls_md(info, message, message.count, &output), 0)
        return output
    }

    private func hex(_ bytes: [UInt8]?) -> String? {
        bytes?.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    /// mbedTLS's verification flags for `cert` against the trust anchors in `trusted` (0 = verified).
    private func verificationFlags(_ cert: X509Certificate, trusting trusted: X509Certificate,
                                   name: String?) -> UInt32 {
        let chain = cert.currentChain()!
        let anchors = trusted.currentChain()!
        var flags: UInt32 = 0
        _ = withExtendedLifetime((chain, anchors)) {
            mbedtls_x509_crt_verify(chain.crt, anchors.crt, nil, name, &flags, nil, nil)
        }
        return flags
    }
}

// MARK: - Shared by the crypto tests

enum CryptoTestSupport {
    /// One EC and one RSA key for the whole run: generating keys in every test would be slow.
    static let ecKey: CryptoKey = Crypto.generateECP256()!
    /// 2048 bits: mbedTLS's default verification profile refuses certificates with shorter RSA keys.
    static let rsaKey: CryptoKey = Crypto.generateRSA(sizeBits: 2048)!

    /// A fresh directory under the system temp folder, removed by the test's teardown.
    static func temporaryDirectory(for test: XCTestCase) -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("packetdtls-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    /// The permission bits of a file.
    static func mode(of path: String) -> Int {
        let attributes = try! FileManager.default.attributesOfItem(atPath: path)
        return (attributes[.posixPermissions] as! NSNumber).intValue & 0o777
    }

    /// Runs openssl with `arguments`; its exit status and standard output (stderr joined to it).
    static func openssl(_ arguments: [String]) -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try! process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    static var hasOpenSSL: Bool { openssl(["version"]).status == 0 }

    /// A self-signed certificate for a new EC key, named `commonName`.
    static func certificate(_ commonName: String, key: CryptoKey = ecKey, altNames: [String] = []) -> X509Certificate {
        Crypto.generateSelfSignedCertificate(key: key, issuerName: "CN=\(commonName),O=PacketDTLS Tests,C=IT",
                                             subjectAltNames: altNames)!
    }
}
