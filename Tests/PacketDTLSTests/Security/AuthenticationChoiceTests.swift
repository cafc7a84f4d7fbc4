// AuthenticationChoiceTests.swift — suites follow the authentication the options can check, and
// settings that contradict each other are refused (issue 20): a PSK client never takes a
// certificate suite it does not verify; REQUIRE with PSK identities and pins on server options
// are refused with a sentence.

import XCTest
@testable import PacketDTLS

final class AuthenticationChoiceTests: XCTestCase {
    static let pskKey: [UInt8] = Array(1...16)
    static let ecdhePSK = "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256"
    static let ecdheECDSA = "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"

    /// The side door: client_psk plus a certificate suite connected to an `openssl s_server`
    /// with a throwaway certificate that knows no PSK, verifying nothing. Now the certificate is
    /// verified as client() options verify it (system CA bundle), and the stranger is refused.
    func testPSKClientWithACertificateSuiteVerifiesTheCertificate() throws {
        let openssl = try OpenSSLTool(folderPrefix: "pdtls-pskcert")
        defer { openssl.removeFolder() }
        let files = try openssl.saveIdentity("throwaway")
        let (server, port) = try openssl.startServer(["-cert", files.certPath, "-key", files.keyPath, "-naccept", "1"])
        defer { server.stop() }
        let options = try XCTUnwrap(TLSOptions.clientPSK(identity: "alice", key: Self.pskKey))
        XCTAssertEqual(options.setCipherSuites([Self.ecdhePSK, Self.ecdheECDSA]), .ok)
        let udp = PacketPeerUDP()
        XCTAssertEqual(udp.connectToHost("127.0.0.1", port: port), .ok)
        let client = PacketPeerDTLS()
        guard client.connectToPeer(udp, hostname: "localhost", clientOptions: options) == .ok else {
            // No system CA bundle on this machine: the mixed choice is refused up front instead.
            XCTAssertFalse(ErrorReport.message.isEmpty)
            return
        }
        _ = DTLSLoopbackTests.run({ client.poll() }, until: { client.getStatus() != .handshaking })
        XCTAssertNotEqual(client.getStatus(), .connected, "an unverified certificate server got our session")
        XCTAssertTrue(client.getErrorMessage().contains("certificate verification failed"), client.getErrorMessage())
    }

    /// By default a PSK client offers PSK suites only: a certificate-only server has nothing to pick.
    func testPSKClientOffersNoCertificateSuite() throws {
        let identity = try TestIdentity.make()
        let options = try XCTUnwrap(TLSOptions.clientPSK(identity: "alice", key: Self.pskKey))
        var offered: [UInt8] = []
        let server = DTLSServer()
        XCTAssertEqual(server.setup(key: identity.key, certificate: identity.certificate), .ok)
        let link = MemoryLink.pair()
        link.client.outboundFilter = { datagram in
            if offered.isEmpty { offered = datagram }
            return datagram
        }
        let client = PacketPeerDTLS()
        XCTAssertEqual(client.connectToPeer(link.client, hostname: "localhost", clientOptions: options), .ok)
        if let accepted = Pump.accept(server, link.server, client: client) { Pump.handshake(client, accepted) }
        XCTAssertNotEqual(client.getStatus(), .connected)
        XCTAssertFalse(Self.offeredSuites(inClientHello: offered).isEmpty)
        let certificateSuites = Set(DTLSConfiguration.certificateSuiteIDs.map { UInt16($0) })
        XCTAssertTrue(certificateSuites.isDisjoint(with: Self.offeredSuites(inClientHello: offered)))
    }

    func testContradictorySettingsAreRefusedWithASentence() throws {
        let identity = try TestIdentity.make()
        // A PSK suite without a PSK (client).
        let unsafe = TLSOptions.clientUnsafe()
        XCTAssertEqual(unsafe.setCipherSuites([Self.ecdhePSK]), .ok)
        let link = MemoryLink.pair()
        XCTAssertEqual(PacketPeerDTLS().connectToPeer(link.client, hostname: "localhost", clientOptions: unsafe),
                       .invalidParameter)
        XCTAssertTrue(ErrorReport.message.contains("pre-shared key"), ErrorReport.message)

        // A certificate suite on a PSK-only server, a PSK suite on a certificate-only server.
        let pskServer = TLSOptions.serverPSK()
        XCTAssertEqual(pskServer.addPSK(identity: "alice", key: Self.pskKey), .ok)
        XCTAssertEqual(pskServer.setCipherSuites([Self.ecdheECDSA]), .ok)
        XCTAssertEqual(DTLSServer().setup(serverOptions: pskServer), .invalidParameter)
        XCTAssertTrue(ErrorReport.message.contains("needs a certificate"), ErrorReport.message)
        let certificateServer = TLSOptions.server(key: identity.key, certificate: identity.certificate)
        XCTAssertEqual(certificateServer.setCipherSuites([Self.ecdhePSK]), .ok)
        XCTAssertEqual(DTLSServer().setup(serverOptions: certificateServer), .invalidParameter)

        // REQUIRE means a certificate; a PSK client never sends one.
        let requiring = TLSOptions.server(key: identity.key, certificate: identity.certificate)
        XCTAssertEqual(requiring.setClientCertificateMode(.require, authorities: identity.certificate), .ok)
        XCTAssertEqual(requiring.addPSK(identity: "alice", key: Self.pskKey), .ok)
        XCTAssertEqual(DTLSServer().setup(serverOptions: requiring), .invalidParameter)
        XCTAssertTrue(ErrorReport.message.contains("REQUIRE"), ErrorReport.message)

        // Pins check a server's key: on server options they would be ignored.
        let server = TLSOptions.server(key: identity.key, certificate: identity.certificate)
        XCTAssertEqual(server.pinPublicKey(of: identity.certificate), .invalidParameter)
        XCTAssertEqual(server.pinPublicKey(sha256: Array(repeating: 7, count: 32)), .invalidParameter)
        XCTAssertTrue(ErrorReport.message.contains("client options"), ErrorReport.message)

        // What stays allowed: a server with both kinds takes both kinds of suite.
        let mixed = TLSOptions.server(key: identity.key, certificate: identity.certificate)
        XCTAssertEqual(mixed.addPSK(identity: "alice", key: Self.pskKey), .ok)
        XCTAssertEqual(mixed.setCipherSuites([Self.ecdhePSK, Self.ecdheECDSA]), .ok)
        XCTAssertEqual(DTLSServer().setup(serverOptions: mixed), .ok, ErrorReport.message)
        let psk = try XCTUnwrap(TLSOptions.clientPSK(identity: "alice", key: Self.pskKey))
        XCTAssertEqual(psk.setCipherSuites([Self.ecdhePSK]), .ok)
        let (client, _) = try SecurityHandshake.run(server: mixed, client: psk)
        XCTAssertEqual(client.getStatus(), .connected, client.getErrorMessage())
        XCTAssertEqual(client.getCipherSuite(), Self.ecdhePSK)
    }

    /// The cipher suite IDs of a DTLS 1.2 ClientHello in its first record (unfragmented).
    static func offeredSuites(inClientHello datagram: [UInt8]) -> Set<UInt16> {
        // record header 13, handshake header 12, version 2, random 32, then session id, cookie, suites.
        var at = 13 + 12 + 2 + 32
        guard datagram.count > at else { return [] }
        at += 1 + Int(datagram[at])
        guard datagram.count > at else { return [] }
        at += 1 + Int(datagram[at])
        guard datagram.count > at + 2 else { return [] }
        let length = Int(datagram[at]) << 8 | Int(datagram[at + 1])
        at += 2
        guard datagram.count >= at + length else { return [] }
        return Set(stride(from: at, to: at + length, by: 2).map { UInt16(datagram[$0]) << 8 | UInt16(datagram[$0 + 1]) })
    }
}
