// PeerNameSecurityTests.swift — host names as RFC 6125 wants them: ASCII case folding only, no
// CN fallback for IP addresses, internationalised names only as A-labels (issue 20).

import XCTest
@testable import PacketDTLS

final class PeerNameSecurityTests: XCTestCase {
    func testCaseFoldingIsASCIIOnly() {
        XCTAssertEqual(PeerNameCheck.normalized("KEY.Example.COM."), "key.example.com")
        XCTAssertNil(PeerNameCheck.normalized("\u{212A}ey.example.com"), "the Kelvin sign is no 'k'")
        XCTAssertNil(PeerNameCheck.normalized("b\u{FC}cher.example"))
        XCTAssertEqual(PeerNameCheck.normalized("xn--bcher-kva.example"), "xn--bcher-kva.example")
        XCTAssertNil(PeerNameCheck.normalized(""))
    }

    /// A CA-signed SAN of "\u{212A}ey.example.com" (made by openssl: our generator refuses it) does
    /// not name key.example.com.
    func testKelvinSignInACertificateDoesNotMatchK() throws {
        let openssl = try OpenSSLTool(folderPrefix: "pdtls-names")
        defer { openssl.removeFolder() }
        try openssl.run(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                         "-keyout", "kelvin.key", "-out", "kelvin.crt", "-subj", "/CN=key.example.com", "-days", "2",
                         "-addext", "subjectAltName=DNS:\u{212A}ey.example.com"])
        let key = CryptoKey()
        XCTAssertEqual(key.load(path: openssl.path("kelvin.key")), .ok, ErrorReport.message)
        let certificate = X509Certificate()
        XCTAssertEqual(certificate.load(path: openssl.path("kelvin.crt")), .ok, ErrorReport.message)
        let (client, _) = try SecurityHandshake.run(server: .server(key: key, certificate: certificate),
                                                    client: .client(trustedChain: certificate),
                                                    hostname: "key.example.com")
        XCTAssertEqual(client.getStatus(), .errorHostnameMismatch, client.getErrorMessage())
    }

    /// RFC 6125 6.2.1: an IP address is matched against iPAddress entries only, never the CN.
    func testCommonNameIsNoFallbackForAnAddress() throws {
        let identity = try TestIdentity.make(cn: "127.0.0.1", san: [])
        let (client, _) = try SecurityHandshake.run(server: .server(key: identity.key, certificate: identity.certificate),
                                                    client: .client(trustedChain: identity.certificate),
                                                    hostname: "127.0.0.1")
        XCTAssertEqual(client.getStatus(), .errorHostnameMismatch, client.getErrorMessage())

        // A DNS name still falls back to the CN when there is no subjectAltName at all.
        let named = try TestIdentity.make(cn: "localhost", san: [])
        let (byName, _) = try SecurityHandshake.run(server: .server(key: named.key, certificate: named.certificate),
                                                    client: .client(trustedChain: named.certificate))
        XCTAssertEqual(byName.getStatus(), .connected, byName.getErrorMessage())
    }

    /// A name to verify must be ASCII; client_unsafe() verifies none, and sends such a name as no SNI.
    func testNonASCIIHostnameIsRefusedAtConnectWhenVerified() throws {
        let identity = try TestIdentity.make()
        let link = MemoryLink.pair()
        let client = PacketPeerDTLS()
        XCTAssertEqual(client.connectToPeer(link.client, hostname: "b\u{FC}cher.example",
                                            clientOptions: .client(trustedChain: identity.certificate)),
                       .invalidParameter)
        XCTAssertTrue(ErrorReport.message.contains("A-labels"), ErrorReport.message)
        XCTAssertEqual(client.getStatus(), .disconnected)
        XCTAssertEqual(PacketPeerDTLS().connectToPeer(MemoryLink.pair().client, hostname: "b\u{FC}cher.example",
                                                      clientOptions: .clientUnsafe()), .ok)
    }
}

/// One handshake between fresh ends joined in memory, for the security tests.
enum SecurityHandshake {
    static func run(server options: TLSOptions, client clientOptions: TLSOptions, hostname: String = "localhost",
                    session: ResumableSession? = nil) throws -> (PacketPeerDTLS, PacketPeerDTLS?) {
        let server = DTLSServer()
        XCTAssertEqual(server.setup(serverOptions: options), .ok, ErrorReport.message)
        return run(server, client: clientOptions, hostname: hostname, session: session)
    }

    static func run(_ server: DTLSServer, client clientOptions: TLSOptions, hostname: String = "localhost",
                    session: ResumableSession? = nil) -> (PacketPeerDTLS, PacketPeerDTLS?) {
        let link = MemoryLink.pair()
        let client = PacketPeerDTLS()
        client.setSession(session)
        guard client.connectToPeer(link.client, hostname: hostname, clientOptions: clientOptions) == .ok else {
            return (client, nil)
        }
        guard let accepted = acceptEvenIfRefused(server, link.server, client: client) else { return (client, nil) }
        Pump.handshake(client, accepted)
        return (client, accepted)
    }

    /// As Pump.accept, but also returns a peer the server refused on its first step (in ERROR),
    /// where Pump.accept keeps looking for one still handshaking.
    static func acceptEvenIfRefused(_ server: DTLSServer, _ link: MemoryLink, client: PacketPeerDTLS) -> PacketPeerDTLS? {
        for _ in 0..<4 {
            guard link.pending > 0 else { client.poll(); continue }
            if let peer = server.takeConnection(link), peer.getStatus() != .disconnected { return peer }
            client.poll()
        }
        return nil
    }
}
