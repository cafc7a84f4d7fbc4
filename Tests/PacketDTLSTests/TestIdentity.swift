// TestIdentity.swift — keys and certificates made at run time by the library itself.

import XCTest
@testable import PacketDTLS

enum TestIdentity {
    /// A private key (EC P-256, or RSA of `rsaBits`) and a self-signed certificate for it naming
    /// `cn`, with the given subjectAltName entries.
    static func make(cn: String = "localhost", san: [String] = ["DNS:localhost", "IP:127.0.0.1"],
                     notBefore: String = "20240101000000", notAfter: String = "20440101000000",
                     rsaBits: Int? = nil) throws -> (key: CryptoKey, certificate: X509Certificate) {
        let key = try XCTUnwrap(rsaBits.map { Crypto.generateRSA(sizeBits: $0) } ?? Crypto.generateECP256(),
                                ErrorReport.message)
        let certificate = try XCTUnwrap(
            Crypto.generateSelfSignedCertificate(key: key, issuerName: "CN=\(cn),O=PacketDTLS tests",
                                                 notBefore: notBefore, notAfter: notAfter, subjectAltNames: san),
            ErrorReport.message)
        return (key, certificate)
    }
}
