// X509CertificateTests.swift — X509Certificate: whole chains in and out, DER, errors, summaries.

import CMbedTLS
import Foundation
import XCTest
@testable import PacketDTLS

final class X509CertificateTests: XCTestCase {
    private func certificate(_ name: String, altNames: [String] = []) -> X509Certificate {
        CryptoTestSupport.certificate(name, altNames: altNames)
    }

    func testCertificateRoundTripsThroughStringAndFile() {
        let original = certificate("single")
        let pem = original.saveToString()
        XCTAssertTrue(pem.hasPrefix("-----BEGIN CERTIFICATE-----\n"), pem)
        XCTAssertTrue(pem.hasSuffix("-----END CERTIFICATE-----\n"), pem)

        let fromString = X509Certificate()
        XCTAssertEqual(fromString.loadFromString(pem), .ok)
        XCTAssertEqual(fromString.saveToString(), pem)

        let path = CryptoTestSupport.temporaryDirectory(for: self).appendingPathComponent("cert.pem").path
        XCTAssertEqual(original.save(path: path), .ok)
        let fromFile = X509Certificate()
        XCTAssertEqual(fromFile.load(path: path), .ok)
        XCTAssertEqual(fromFile.saveToString(), pem)
        XCTAssertEqual(fromFile.certificateCount, 1)
    }

    func testChainOfThreeIsSavedWholeAndInOrder() {
        let names = ["leaf", "intermediate", "root"]
        let pems = names.map { certificate($0).saveToString() }
        let chain = X509Certificate()
        XCTAssertEqual(chain.loadFromString(pems.joined()), .ok)
        XCTAssertEqual(chain.certificateCount, 3)
        XCTAssertEqual(chain.certificates.map(\.subject), names.map { "CN=\($0), O=PacketDTLS Tests, C=IT" })
        XCTAssertEqual(chain.saveToString(), pems.joined())

        let path = CryptoTestSupport.temporaryDirectory(for: self).appendingPathComponent("chain.pem").path
        XCTAssertEqual(chain.save(path: path), .ok)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), pems.joined())
        let reloaded = X509Certificate()
        XCTAssertEqual(reloaded.load(path: path), .ok)
        XCTAssertEqual(reloaded.certificateCount, 3)
        XCTAssertEqual(reloaded.saveToString(), pems.joined())
    }

    func testDERFilesLoadSingleAndConcatenated() {
        let first = certificate("der-one")
        let second = certificate("der-two")
        let derFirst = first.currentChain()!.derCertificates[0]
        let derSecond = second.currentChain()!.derCertificates[0]
        let directory = CryptoTestSupport.temporaryDirectory(for: self)

        let singlePath = directory.appendingPathComponent("one.der").path
        XCTAssertTrue(FileManager.default.createFile(atPath: singlePath, contents: Data(derFirst)))
        let single = X509Certificate()
        XCTAssertEqual(single.load(path: singlePath), .ok, ErrorReport.message)
        XCTAssertEqual(single.saveToString(), first.saveToString())

        let pairPath = directory.appendingPathComponent("two.der").path
        XCTAssertTrue(FileManager.default.createFile(atPath: pairPath, contents: Data(derFirst + derSecond)))
        let pair = X509Certificate()
        XCTAssertEqual(pair.load(path: pairPath), .ok, ErrorReport.message)
        XCTAssertEqual(pair.saveToString(), first.saveToString() + second.saveToString())
    }

    func testGarbageIsAParseErrorAndTheCertificateIsUnchanged() {
        let cert = certificate("kept")
        let before = cert.currentChain()
        XCTAssertEqual(cert.loadFromString("garbage"), .parseError)
        XCTAssertFalse(ErrorReport.message.isEmpty)
        XCTAssertEqual(cert.loadFromString("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
                       .parseError)
        XCTAssertTrue(cert.currentChain() === before)

        let path = CryptoTestSupport.temporaryDirectory(for: self).appendingPathComponent("junk.der").path
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data([0x30, 0x03, 0x01, 0x02])))
        XCTAssertEqual(cert.load(path: path), .parseError)
        XCTAssertTrue(ErrorReport.message.contains(path), ErrorReport.message)
        XCTAssertTrue(cert.currentChain() === before)
    }

    func testAChainWithOneBadMemberIsRefusedWhole() {
        let good = certificate("good").saveToString()
        let cert = X509Certificate()
        let bad = "-----BEGIN CERTIFICATE-----\nMIIBkTCB+wIJAK\n-----END CERTIFICATE-----\n"
        XCTAssertEqual(cert.loadFromString(good + bad), .parseError)
        XCTAssertTrue(cert.isEmpty)
    }

    func testMissingFileIsInvalidParameterNamingThePath() {
        let cert = X509Certificate()
        XCTAssertEqual(cert.load(path: "/nonexistent/packetdtls/cert.pem"), .invalidParameter)
        XCTAssertTrue(ErrorReport.message.contains("/nonexistent/packetdtls/cert.pem"), ErrorReport.message)
        XCTAssertEqual(certificate("x").save(path: "/nonexistent/packetdtls/cert.pem"), .invalidParameter)
    }

    func testEmptyCertificateSavesNothingAndSaysSo() {
        let cert = X509Certificate()
        XCTAssertEqual(cert.saveToString(), "")
        XCTAssertTrue(ErrorReport.message.contains("empty"), ErrorReport.message)
        XCTAssertEqual(cert.save(path: "/tmp/never-written.pem"), .unconfigured)
        XCTAssertEqual(cert.certificateCount, 0)
        XCTAssertEqual(cert.certificates, [])
    }

    func testSummaryDescribesTheLeaf() throws {
        let key = CryptoTestSupport.ecKey
        let cert = try XCTUnwrap(Crypto.generateSelfSignedCertificate(
            key: key, issuerName: "CN=summary.example,O=Org,C=DE", notBefore: "20200102030405",
            notAfter: "20300102030405", subjectAltNames: ["summary.example", "IP:192.0.2.7"]))
        let info = try XCTUnwrap(cert.certificates.first)
        XCTAssertEqual(info.subject, "CN=summary.example, O=Org, C=DE")
        XCTAssertEqual(info.issuer, info.subject)
        XCTAssertEqual(info.notBefore, "20200102030405")
        XCTAssertEqual(info.notAfter, "20300102030405")
        XCTAssertFalse(info.isCA)
        XCTAssertEqual(info.dnsNames, ["DNS:summary.example"])
        XCTAssertEqual(info.serialNumber.count, 32)
        let spki = try key.currentMaterial()!.publicKeyDER()
        var expected = [UInt8](repeating: 0, count: 32)
        XCTAssertEqual(mbedtls_sha256_ret(spki, spki.count, &expected, 0), 0)
        XCTAssertEqual(info.publicKeySHA256, expected)
    }

    func testOpenSSLReadsTheWholeChain() throws {
        try XCTSkipUnless(CryptoTestSupport.hasOpenSSL, "openssl is not installed")
        let chain = X509Certificate()
        XCTAssertEqual(chain.loadFromString(certificate("first").saveToString() + certificate("second").saveToString()),
                       .ok)
        let path = CryptoTestSupport.temporaryDirectory(for: self).appendingPathComponent("chain.pem").path
        XCTAssertEqual(chain.save(path: path), .ok)
        let text = CryptoTestSupport.openssl(["x509", "-noout", "-text", "-in", path])
        XCTAssertEqual(text.status, 0, text.output)
        XCTAssertTrue(text.output.contains("Subject: CN = first"), text.output)
        // OpenSSL's storeutl lists every certificate of the file, in order.
        let listing = CryptoTestSupport.openssl(["storeutl", "-noout", "-text", "-certs", path])
        XCTAssertEqual(listing.status, 0, listing.output)
        let first = try XCTUnwrap(listing.output.range(of: "first,"))
        let second = try XCTUnwrap(listing.output.range(of: "second,"))
        XCTAssertLessThan(first.lowerBound, second.lowerBound)
    }
}
