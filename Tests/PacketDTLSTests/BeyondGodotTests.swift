// BeyondGodotTests.swift — ALPN, pinning, client certificates, PSK, resumption, key log, stats,
// all between two DTLS ends joined in memory.

import XCTest
@testable import PacketDTLS

final class BeyondGodotTests: XCTestCase {
    /// Runs one handshake between fresh ends over a fresh link; returns (client, server side).
    private func handshake(server options: TLSOptions, client clientOptions: TLSOptions, hostname: String = "localhost",
                           session: ResumableSession? = nil) throws -> (PacketPeerDTLS, PacketPeerDTLS?) {
        let server = DTLSServer()
        XCTAssertEqual(server.setup(serverOptions: options), .ok, ErrorReport.message)
        return try handshake(server, client: clientOptions, hostname: hostname, session: session)
    }

    private func handshake(_ server: DTLSServer, client clientOptions: TLSOptions, hostname: String = "localhost",
                           session: ResumableSession? = nil) throws -> (PacketPeerDTLS, PacketPeerDTLS?) {
        let link = MemoryLink.pair()
        let client = PacketPeerDTLS()
        client.setSession(session)
        XCTAssertEqual(client.connectToPeer(link.client, hostname: hostname, clientOptions: clientOptions), .ok,
                       ErrorReport.message)
        guard let accepted = Pump.accept(server, link.server, client: client) else { return (client, nil) }
        Pump.handshake(client, accepted)
        return (client, accepted)
    }

    func testALPNAgreesOnTheServersChoice() throws {
        let identity = try TestIdentity.make()
        let serverOptions = TLSOptions.server(key: identity.key, certificate: identity.certificate)
        XCTAssertEqual(serverOptions.setALPNProtocols(["game/2", "game/1"]), .ok)
        let clientOptions = TLSOptions.clientUnsafe()
        XCTAssertEqual(clientOptions.setALPNProtocols(["game/1", "other"]), .ok)
        let (client, server) = try handshake(server: serverOptions, client: clientOptions)
        XCTAssertEqual(client.getStatus(), .connected, client.getErrorMessage())
        XCTAssertEqual(client.getALPNProtocol(), "game/1")
        XCTAssertEqual(server?.getALPNProtocol(), "game/1")
        XCTAssertEqual(clientOptions.setALPNProtocols([""]), .invalidParameter)
    }

    func testPinnedKeyAloneAdmitsTheServerAndAStrangerIsRefused() throws {
        let identity = try TestIdentity.make()
        let stranger = try TestIdentity.make()
        let serverOptions = TLSOptions.server(key: identity.key, certificate: identity.certificate)

        let pinned = TLSOptions.clientUnsafe()
        XCTAssertEqual(pinned.pinPublicKey(of: identity.certificate), .ok)
        let (good, _) = try handshake(server: serverOptions, client: pinned, hostname: "any.name")
        XCTAssertEqual(good.getStatus(), .connected, good.getErrorMessage())

        let wrongPin = TLSOptions.clientUnsafe()
        XCTAssertEqual(wrongPin.pinPublicKey(of: stranger.certificate), .ok)
        let (bad, serverSide) = try handshake(server: serverOptions, client: wrongPin)
        XCTAssertEqual(bad.getStatus(), .error)
        XCTAssertTrue(bad.getErrorMessage().contains("pinned"), bad.getErrorMessage())
        XCTAssertNotEqual(serverSide?.getStatus(), .connected)

        let chainAndWrongPin = TLSOptions.client(trustedChain: identity.certificate)
        XCTAssertEqual(chainAndWrongPin.pinPublicKey(of: stranger.certificate), .ok)
        let (both, _) = try handshake(server: serverOptions, client: chainAndWrongPin)
        XCTAssertEqual(both.getStatus(), .error, "a valid chain does not excuse a wrong pin")
        XCTAssertEqual(pinned.pinPublicKey(sha256: [1, 2, 3]), .invalidParameter)
    }

    func testRequiredClientCertificateIsVerifiedAndReadable() throws {
        let serverIdentity = try TestIdentity.make()
        let clientIdentity = try TestIdentity.make(cn: "player-7", san: ["DNS:player-7"])
        let serverOptions = TLSOptions.server(key: serverIdentity.key, certificate: serverIdentity.certificate)
        XCTAssertEqual(serverOptions.setClientCertificateMode(.require, authorities: clientIdentity.certificate), .ok)

        let withCertificate = TLSOptions.client(trustedChain: serverIdentity.certificate)
        XCTAssertEqual(withCertificate.setClientCertificate(key: clientIdentity.key,
                                                            certificate: clientIdentity.certificate), .ok)
        let (client, server) = try handshake(server: serverOptions, client: withCertificate)
        XCTAssertEqual(client.getStatus(), .connected, client.getErrorMessage())
        XCTAssertEqual(server?.getStatus(), .connected, server?.getErrorMessage() ?? "")
        XCTAssertTrue(server?.getPeerCertificate()?.certificates.first?.subject.contains("player-7") == true)
        XCTAssertTrue(client.getPeerCertificate()?.certificates.first?.subject.contains("localhost") == true)

        let (anonymous, refusing) = try handshake(server: serverOptions,
                                                  client: .client(trustedChain: serverIdentity.certificate))
        XCTAssertNotEqual(anonymous.getStatus(), .connected)
        XCTAssertEqual(refusing?.getStatus(), .error)
        XCTAssertFalse(refusing?.getErrorMessage().isEmpty ?? true)

        let requesting = TLSOptions.server(key: serverIdentity.key, certificate: serverIdentity.certificate)
        XCTAssertEqual(requesting.setClientCertificateMode(.request, authorities: clientIdentity.certificate), .ok)
        let (optional, accepted) = try handshake(server: requesting,
                                                 client: .client(trustedChain: serverIdentity.certificate))
        XCTAssertEqual(optional.getStatus(), .connected, optional.getErrorMessage())
        XCTAssertEqual(accepted?.getStatus(), .connected)
        XCTAssertNil(accepted?.getPeerCertificate())
        XCTAssertNotEqual(accepted?.getVerifyFlags(), 0, "no certificate: the flags say so")
    }

    func testPreSharedKeys() throws {
        let key: [UInt8] = Array(repeating: 0x5A, count: 32)
        let serverOptions = TLSOptions.serverPSK()
        XCTAssertEqual(serverOptions.addPSK(identity: "player-1", key: key), .ok)
        let clientOptions = try XCTUnwrap(TLSOptions.clientPSK(identity: "player-1", key: key))
        let (client, server) = try handshake(server: serverOptions, client: clientOptions)
        XCTAssertEqual(client.getStatus(), .connected, client.getErrorMessage())
        XCTAssertTrue(client.getCipherSuite().contains("PSK"), client.getCipherSuite())
        XCTAssertEqual(client.putPacket([1, 2]), .ok)
        server?.poll()
        XCTAssertEqual(server?.getPacket(), [1, 2])

        let wrongKey = try XCTUnwrap(TLSOptions.clientPSK(identity: "player-1", key: Array(repeating: 1, count: 32)))
        let (refused, _) = try handshake(server: serverOptions, client: wrongKey)
        XCTAssertEqual(refused.getStatus(), .error)
        let unknown = try XCTUnwrap(TLSOptions.clientPSK(identity: "nobody", key: key))
        let (stranger, _) = try handshake(server: serverOptions, client: unknown)
        XCTAssertEqual(stranger.getStatus(), .error)
        XCTAssertNil(TLSOptions.clientPSK(identity: "x", key: Array(repeating: 0, count: 33)))
        XCTAssertEqual(TLSOptions.clientUnsafe().addPSK(identity: "x", key: [1]), .invalidParameter)
    }

    func testSessionTicketResumesTheSession() throws {
        let identity = try TestIdentity.make()
        let server = DTLSServer()
        XCTAssertEqual(server.setup(key: identity.key, certificate: identity.certificate), .ok)
        let options = TLSOptions.client(trustedChain: identity.certificate)
        let (first, _) = try handshake(server, client: options)
        XCTAssertEqual(first.getStatus(), .connected)
        XCTAssertFalse(first.isSessionResumed())
        let saved = try XCTUnwrap(first.getSession())
        first.disconnectFromPeer()
        let (second, serverSide) = try handshake(server, client: options, session: saved)
        XCTAssertEqual(second.getStatus(), .connected, second.getErrorMessage())
        XCTAssertTrue(second.isSessionResumed())
        XCTAssertEqual(serverSide?.isSessionResumed(), true)
        XCTAssertNil(serverSide?.getPeerCertificate())
    }

    func testKeyLogHasTheMasterSecret() throws {
        let identity = try TestIdentity.make()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("keylog-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let clientOptions = TLSOptions.clientUnsafe()
        XCTAssertEqual(clientOptions.setKeyLogPath(path), .ok)
        let (client, _) = try handshake(server: .server(key: identity.key, certificate: identity.certificate),
                                        client: clientOptions)
        XCTAssertEqual(client.getStatus(), .connected)
        let log = try String(contentsOfFile: path, encoding: .utf8)
        let fields = log.split(separator: "\n").last?.split(separator: " ") ?? []
        XCTAssertEqual(fields.count, 3, log)
        XCTAssertEqual(fields.first, "CLIENT_RANDOM")
        XCTAssertEqual(fields.dropFirst().map(\.count), [64, 96])
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        XCTAssertEqual(mode, 0o600)
    }

    func testStatsCountTrafficAndHandshake() throws {
        let identity = try TestIdentity.make()
        let (client, server) = try handshake(server: .server(key: identity.key, certificate: identity.certificate),
                                             client: .clientUnsafe())
        for _ in 0..<5 { XCTAssertEqual(client.putPacket([1, 2, 3]), .ok) }
        server?.poll()
        let sent = client.getStats()
        XCTAssertEqual(sent.packetsSent, 5)
        XCTAssertEqual(sent.bytesSent, 15)
        XCTAssertGreaterThan(sent.datagramsSent, 5)
        let received = try XCTUnwrap(server?.getStats())
        XCTAssertEqual(received.packetsReceived, 5)
        XCTAssertEqual(received.bytesReceived, 15)
        XCTAssertEqual(received.recordsDroppedBadMAC, 0)
        client.disconnectFromPeer()
        XCTAssertEqual(client.getStats().packetsSent, 5, "figures outlive the session")
    }

    func testCipherSuitesCanBeNarrowed() throws {
        let identity = try TestIdentity.make()
        let clientOptions = TLSOptions.clientUnsafe()
        XCTAssertEqual(clientOptions.setCipherSuites(["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"]), .ok)
        let (client, _) = try handshake(server: .server(key: identity.key, certificate: identity.certificate),
                                        client: clientOptions)
        XCTAssertEqual(client.getCipherSuite(), "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256")
        XCTAssertEqual(clientOptions.setCipherSuites(["TLS_RSA_WITH_AES_128_CBC_SHA"]), .invalidParameter)
        XCTAssertEqual(clientOptions.setCipherSuites(["nonsense"]), .invalidParameter)
        XCTAssertEqual(clientOptions.setCipherSuites([]), .ok)
    }

    /// With a small MTU the handshake is fragmented: no datagram exceeds it, and it still completes.
    func testHandshakeFlightsRespectTheMTU() throws {
        let identity = try TestIdentity.make(rsaBits: 2048)
        let serverOptions = TLSOptions.server(key: identity.key, certificate: identity.certificate)
        XCTAssertEqual(serverOptions.setMTU(300), .ok)
        let clientOptions = TLSOptions.clientUnsafe()
        XCTAssertEqual(clientOptions.setMTU(300), .ok)
        XCTAssertEqual(clientOptions.setMTU(100), .invalidParameter)
        let server = DTLSServer()
        XCTAssertEqual(server.setup(serverOptions: serverOptions), .ok)
        let link = MemoryLink.pair()
        var largest = 0
        let record: ([UInt8]) -> [UInt8]? = { datagram in
            largest = max(largest, datagram.count)
            return datagram
        }
        link.client.outboundFilter = record
        link.server.outboundFilter = record
        let client = PacketPeerDTLS()
        XCTAssertEqual(client.connectToPeer(link.client, hostname: "localhost", clientOptions: clientOptions), .ok)
        let accepted = try XCTUnwrap(Pump.accept(server, link.server, client: client))
        Pump.handshake(client, accepted)
        XCTAssertEqual(client.getStatus(), .connected, client.getErrorMessage())
        XCTAssertLessThanOrEqual(largest, 300, "a handshake datagram exceeded the MTU")
        XCTAssertGreaterThan(client.getMaxPacketSize(), 300, "after the handshake, packets may be larger")
        link.client.outboundFilter = nil
        XCTAssertEqual(client.putPacket([UInt8](repeating: 1, count: 4000)), .ok)
        accepted.poll()
        XCTAssertEqual(accepted.getPacket().count, 4000)
    }
}
