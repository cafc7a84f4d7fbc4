// HandshakeRefusalTests.swift — refusals mbedTLS 2.28 makes silently or not at all (issue 20): a
// client whose CertificateVerify fails is told with an alert instead of waiting for its timeout,
// and a ClientHello offering no null compression is refused instead of answered with it.

import XCTest
@testable import PacketDTLS

final class HandshakeRefusalTests: XCTestCase {
    /// The client presents its certificate but signs with another key (set behind the setter's back,
    /// which refuses such a pair): the server refuses it and says so with decrypt_error (51).
    func testFailedCertificateVerifyIsAnsweredWithAnAlert() throws {
        let serverIdentity = try TestIdentity.make()
        let clientIdentity = try TestIdentity.make(cn: "player-7", san: ["DNS:player-7"])
        let wrongKey = try XCTUnwrap(Crypto.generateECP256())
        let serverOptions = TLSOptions.server(key: serverIdentity.key, certificate: serverIdentity.certificate)
        XCTAssertEqual(serverOptions.setClientCertificateMode(.require, authorities: clientIdentity.certificate), .ok)
        let clientOptions = TLSOptions.client(trustedChain: serverIdentity.certificate)
        let material = try XCTUnwrap(wrongKey.currentMaterial())
        let chain = try XCTUnwrap(clientIdentity.certificate.currentChain())
        clientOptions.updateTuning { $0.clientIdentity = (material, chain) }

        let (client, server) = try SecurityHandshake.run(server: serverOptions, client: clientOptions)
        XCTAssertEqual(server?.getStatus(), .error)
        XCTAssertTrue(server?.getErrorMessage().contains("CertificateVerify") == true, server?.getErrorMessage() ?? "")
        XCTAssertEqual(client.getStatus(), .error, "the client is told, not left to its handshake timeout")
        XCTAssertEqual(client.getLastAlertReceived(), 51 /* decrypt_error */, client.getErrorMessage())
    }

    /// Every ClientHello rewritten to offer deflate (1) alone: the server refuses rather than pick null.
    func testClientHelloWithoutNullCompressionIsRefused() throws {
        let identity = try TestIdentity.make()
        let server = DTLSServer()
        XCTAssertEqual(server.setup(key: identity.key, certificate: identity.certificate), .ok)
        let link = MemoryLink.pair()
        var rewritten = 0
        link.client.outboundFilter = { datagram in
            guard let at = Self.compressionMethodsOffset(inClientHello: datagram) else { return datagram }
            var changed = datagram
            changed[at] = 1  // deflate, in place of null
            rewritten += 1
            return changed
        }
        let client = PacketPeerDTLS()
        XCTAssertEqual(client.connectToPeer(link.client, hostname: "localhost", clientOptions: .clientUnsafe()), .ok)
        let accepted = SecurityHandshake.acceptEvenIfRefused(server, link.server, client: client)
        if let accepted { Pump.handshake(client, accepted) }
        XCTAssertGreaterThanOrEqual(rewritten, 2, "both hellos, before and after the cookie")
        XCTAssertNotEqual(client.getStatus(), .connected)
        let serverSide = try XCTUnwrap(accepted)
        XCTAssertEqual(serverSide.getStatus(), .error)
        XCTAssertTrue(serverSide.getErrorMessage().contains("compression"), serverSide.getErrorMessage())
        XCTAssertEqual(client.getLastAlertReceived(), 40 /* handshake_failure */,
                       client.getErrorMessage())
    }

    /// Where the single compression method of a ClientHello record (unfragmented, one method) is.
    static func compressionMethodsOffset(inClientHello datagram: [UInt8]) -> Int? {
        guard datagram.count > 25, datagram[0] == 22, datagram[13] == 1 else { return nil }
        var at = 13 + 12 + 2 + 32
        guard datagram.count > at else { return nil }
        at += 1 + Int(datagram[at])  // session id
        guard datagram.count > at else { return nil }
        at += 1 + Int(datagram[at])  // cookie
        guard datagram.count > at + 2 else { return nil }
        at += 2 + (Int(datagram[at]) << 8 | Int(datagram[at + 1]))  // cipher suites
        guard datagram.count > at + 1, datagram[at] == 1, datagram[at + 1] == 0 else { return nil }
        return at + 1
    }
}
