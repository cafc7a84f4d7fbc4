// ResumptionSecurityTests.swift — an abbreviated handshake never admits a server (or client) that
// the new connection's options and hostname would refuse in a full one (issue 20).

import XCTest
@testable import PacketDTLS

final class ResumptionSecurityTests: XCTestCase {
    /// A session from client_unsafe() to an untrusted server is not offered under client(ca): the
    /// full handshake that follows refuses the server.
    func testUnverifiedSessionIsNotOfferedUnderVerifyingOptions() throws {
        let untrusted = try TestIdentity.make()
        let anchor = try TestIdentity.make()
        let server = DTLSServer()
        XCTAssertEqual(server.setup(key: untrusted.key, certificate: untrusted.certificate), .ok)
        let (first, _) = SecurityHandshake.run(server, client: .clientUnsafe())
        XCTAssertEqual(first.getStatus(), .connected, first.getErrorMessage())
        let saved = try XCTUnwrap(first.getSession())

        let (second, _) = SecurityHandshake.run(server, client: .client(trustedChain: anchor.certificate), session: saved)
        XCTAssertNotEqual(second.getStatus(), .connected, "resumed past the chain check")
        XCTAssertFalse(second.isSessionResumed())

        // The same unsafe options still resume: nothing more is asked of the server than before.
        let (third, _) = SecurityHandshake.run(server, client: .clientUnsafe(), session: saved)
        XCTAssertEqual(third.getStatus(), .connected, third.getErrorMessage())
        XCTAssertTrue(third.isSessionResumed())
    }

    func testSessionIsNotOfferedWithAnotherPin() throws {
        let identity = try TestIdentity.make()
        let stranger = try TestIdentity.make()
        let server = DTLSServer()
        XCTAssertEqual(server.setup(key: identity.key, certificate: identity.certificate), .ok)
        let (first, _) = SecurityHandshake.run(server, client: .client(trustedChain: identity.certificate))
        XCTAssertEqual(first.getStatus(), .connected, first.getErrorMessage())
        let saved = try XCTUnwrap(first.getSession())

        let pinned = TLSOptions.client(trustedChain: identity.certificate)
        XCTAssertEqual(pinned.pinPublicKey(of: stranger.certificate), .ok)
        let (second, _) = SecurityHandshake.run(server, client: pinned, session: saved)
        XCTAssertEqual(second.getStatus(), .error)
        XCTAssertTrue(second.getErrorMessage().contains("pinned"), second.getErrorMessage())

        // Other options with the same trust and no pins: the session resumes.
        let (third, _) = SecurityHandshake.run(server, client: .client(trustedChain: identity.certificate),
                                               session: saved)
        XCTAssertTrue(third.isSessionResumed(), third.getErrorMessage())
    }

    func testSessionForOneNameIsNotOfferedForAnother() throws {
        let identity = try TestIdentity.make()
        let server = DTLSServer()
        XCTAssertEqual(server.setup(key: identity.key, certificate: identity.certificate), .ok)
        let options = TLSOptions.client(trustedChain: identity.certificate)
        let (first, _) = SecurityHandshake.run(server, client: options, hostname: "localhost")
        XCTAssertEqual(first.getStatus(), .connected, first.getErrorMessage())
        let saved = try XCTUnwrap(first.getSession())

        let (second, _) = SecurityHandshake.run(server, client: options, hostname: "bank.example", session: saved)
        XCTAssertEqual(second.getStatus(), .errorHostnameMismatch, second.getErrorMessage())
        let (third, _) = SecurityHandshake.run(server, client: options, hostname: "LOCALHOST", session: saved)
        XCTAssertTrue(third.isSessionResumed(), "names compare case-insensitively: \(third.getErrorMessage())")
    }

    func testEmptyOrForeignSessionsAreNeverOffered() throws {
        let identity = try TestIdentity.make()
        let server = DTLSServer()
        XCTAssertEqual(server.setup(key: identity.key, certificate: identity.certificate), .ok)
        let (client, _) = SecurityHandshake.run(server, client: .clientUnsafe(), session: ResumableSession())
        XCTAssertEqual(client.getStatus(), .connected, client.getErrorMessage())
        XCTAssertFalse(client.isSessionResumed())
    }

    /// A ticket issued while the server only requested a certificate (the client sent none) does
    /// not stand in for the certificate REQUIRE insists on.
    func testTicketFromRequestDoesNotSatisfyRequire() throws {
        let serverIdentity = try TestIdentity.make()
        let authority = try TestIdentity.make(cn: "players", san: ["DNS:players"])
        let requesting = TLSOptions.server(key: serverIdentity.key, certificate: serverIdentity.certificate)
        XCTAssertEqual(requesting.setClientCertificateMode(.request, authorities: authority.certificate), .ok)
        let server = DTLSServer()
        XCTAssertEqual(server.setup(serverOptions: requesting), .ok)
        let options = TLSOptions.client(trustedChain: serverIdentity.certificate)
        let (first, _) = SecurityHandshake.run(server, client: options)
        XCTAssertEqual(first.getStatus(), .connected, first.getErrorMessage())
        let saved = try XCTUnwrap(first.getSession())

        let requiring = TLSOptions.server(key: serverIdentity.key, certificate: serverIdentity.certificate)
        XCTAssertEqual(requiring.setClientCertificateMode(.require, authorities: authority.certificate), .ok)
        XCTAssertEqual(server.setup(serverOptions: requiring), .ok)
        // The server object keeps its ticket keys across setup(), so the ticket is readable here; and
        // the client now holds a certificate REQUIRE accepts, so only the ticket can be refused.
        XCTAssertEqual(options.setClientCertificate(key: authority.key, certificate: authority.certificate), .ok)
        let (second, serverSide) = SecurityHandshake.run(server, client: options, session: saved)
        XCTAssertNotEqual(second.getStatus(), .connected, "REQUIRE was skipped by a ticket issued under REQUEST")
        XCTAssertNotEqual(serverSide?.getStatus(), .connected)
        XCTAssertTrue(serverSide?.getErrorMessage().contains("presented no verified certificate") == true,
                      serverSide?.getErrorMessage() ?? "no server side")

        // The same client without the ticket: a full handshake, its certificate verified, admitted.
        let (third, _) = SecurityHandshake.run(server, client: options)
        XCTAssertEqual(third.getStatus(), .connected, third.getErrorMessage())
        XCTAssertFalse(third.isSessionResumed())
    }
}
