// TestIdentity.swift — keys and certificates made at run time for the tests.

@testable import PacketDTLS
import Foundation
import CMbedTLS

enum TestIdentity {
    /// An EC P-256 key and a self-signed certificate naming `cn` with the given SAN entries,
    /// made by OpenSSL's command line (until the library's own generator is merged).
    static func make(cn: String = "localhost", san: String = "DNS:localhost,IP:127.0.0.1",
                     days: Int = 30) throws -> (key: CryptoKey, certificate: X509Certificate) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pdtls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let keyPath = directory.appendingPathComponent("key.pem").path
        let certPath = directory.appendingPathComponent("cert.pem").path
        try run("/usr/bin/openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                                     "-keyout", keyPath, "-out", certPath, "-days", "\(days)", "-subj", "/CN=\(cn)",
                                     "-addext", "subjectAltName=\(san)"])
        return (try loadKey(keyPath), try loadCertificate(certPath))
    }

    static func loadKey(_ path: String) throws -> CryptoKey {
        let pk = UnsafeMutablePointer<mbedtls_pk_context>.allocate(capacity: 1)
        mbedtls_pk_init(pk)
        guard mbedtls_pk_parse_keyfile(pk, path, nil) == 0 else { throw NSError(domain: "key", code: 1) }
        return CryptoKey(material: KeyMaterial(takingOwnershipOf: pk, isPublicOnly: false))
    }

    static func loadCertificate(_ path: String) throws -> X509Certificate {
        let crt = UnsafeMutablePointer<mbedtls_x509_crt>.allocate(capacity: 1)
        mbedtls_x509_crt_init(crt)
        guard mbedtls_x509_crt_parse_file(crt, path) == 0 else { throw NSError(domain: "cert", code: 1) }
        return X509Certificate(chain: CertificateChain(takingOwnershipOf: crt))
    }

    static func run(_ tool: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw NSError(domain: "openssl", code: Int(process.terminationStatus)) }
    }
}
import XCTest
