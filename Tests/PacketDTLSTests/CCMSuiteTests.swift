// CCMSuiteTests.swift — the AES-CCM suites for constrained devices (issue 15 item 6): named with
// setCipherSuites they connect and carry full-size packets, CCM_8's 8-byte tag is what goes on the
// wire, the default lists never offer them, and they follow the options' authentication like
// every other suite. OpenSSL interop is in CCMInteropTests.swift.

import XCTest
@testable import PacketDTLS

final class CCMSuiteTests: XCTestCase {
    static let pskIdentity = "sensor-1"
    static let pskKey: [UInt8] = Array(1...16)
    static let pskCCM8 = "TLS_PSK_WITH_AES_128_CCM_8"
    static let ecdsaCCM8 = "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8"
    static let pskSuites = ["TLS_PSK_WITH_AES_128_CCM_8", "TLS_PSK_WITH_AES_128_CCM",
                            "TLS_PSK_WITH_AES_256_CCM_8", "TLS_PSK_WITH_AES_256_CCM"]
    static let certificateSuites = ["TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8", "TLS_ECDHE_ECDSA_WITH_AES_128_CCM",
                                    "TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8", "TLS_ECDHE_ECDSA_WITH_AES_256_CCM"]
    /// A DTLS record header (13 bytes) plus AES-CCM's explicit nonce (8), before the tag.
    static let recordHeaderAndNonce = 13 + 8

    // MARK: Helpers

    /// A memory handshake; `clientDatagrams` collects everything the client sent.
    private final class Run {
        let link = MemoryLink.pair()
        let client = PacketPeerDTLS()
        var server: PacketPeerDTLS?
        var clientDatagrams: [[UInt8]] = []
        var serverDatagrams: [[UInt8]] = []

        init(server options: TLSOptions, client clientOptions: TLSOptions) {
            let dtls = DTLSServer()
            XCTAssertEqual(dtls.setup(serverOptions: options), .ok, ErrorReport.message)
            link.client.outboundFilter = { [weak self] in self?.clientDatagrams.append($0); return $0 }
            link.server.outboundFilter = { [weak self] in self?.serverDatagrams.append($0); return $0 }
            XCTAssertEqual(client.connectToPeer(link.client, hostname: "localhost", clientOptions: clientOptions), .ok,
                           ErrorReport.message)
            server = Pump.accept(dtls, link.server, client: client)
            if let server { Pump.handshake(client, server) }
        }

        /// Sends `payload` from the client and returns what the server read and the datagram that carried it.
        func send(_ payload: [UInt8]) -> (read: [UInt8], datagram: [UInt8]?) {
            let before = clientDatagrams.count
            XCTAssertEqual(client.putPacket(payload), .ok, ErrorReport.message)
            guard let server else { return ([], nil) }
            for _ in 0..<20 where server.getAvailablePacketCount() == 0 { server.poll() }
            return (server.getAvailablePacketCount() > 0 ? server.getPacket() : [], clientDatagrams.dropFirst(before).first)
        }
    }

    private func pskServer(_ suites: [String]) -> TLSOptions {
        let options = TLSOptions.serverPSK()
        XCTAssertEqual(options.addPSK(identity: Self.pskIdentity, key: Self.pskKey), .ok)
        XCTAssertEqual(options.setCipherSuites(suites), .ok, ErrorReport.message)
        return options
    }

    private func pskClient(_ suites: [String]) throws -> TLSOptions {
        let options = try XCTUnwrap(TLSOptions.clientPSK(identity: Self.pskIdentity, key: Self.pskKey))
        XCTAssertEqual(options.setCipherSuites(suites), .ok, ErrorReport.message)
        return options
    }

    private func certificateServer(_ identity: (key: CryptoKey, certificate: X509Certificate),
                                   _ suites: [String]) -> TLSOptions {
        let options = TLSOptions.server(key: identity.key, certificate: identity.certificate)
        XCTAssertEqual(options.setCipherSuites(suites), .ok, ErrorReport.message)
        return options
    }

    private func certificateClient(_ identity: (key: CryptoKey, certificate: X509Certificate),
                                   _ suites: [String]) -> TLSOptions {
        let options = TLSOptions.client(trustedChain: identity.certificate)
        XCTAssertEqual(options.setCipherSuites(suites), .ok, ErrorReport.message)
        return options
    }

    private static func isCCM(_ name: String) -> Bool { name.contains("CCM") }

    // MARK: Opt-in

    func testDefaultListsHoldNoCCMSuite() throws {
        let defaults = DTLSConfiguration.certificateSuiteIDs + DTLSConfiguration.pskSuiteIDs
        let names = defaults.compactMap { CipherSuiteName.iana(id: $0) }
        XCTAssertEqual(names.count, defaults.count)
        XCTAssertFalse(names.contains(where: Self.isCCM), "\(names)")
        for list in [DTLSConfiguration.certificateSuites, DTLSConfiguration.pskSuites, DTLSConfiguration.allSuites] {
            var index = 0
            while list[index] != 0 {
                XCTAssertFalse(Self.isCCM(CipherSuiteName.iana(id: list[index]) ?? ""))
                index += 1
            }
        }

        // What default clients really offer: no CCM suite in either ClientHello.
        let identity = try TestIdentity.make()
        let ccmIDs = Set((DTLSConfiguration.ccmCertificateSuiteIDs + DTLSConfiguration.ccmPSKSuiteIDs).map { UInt16($0) })
        XCTAssertEqual(ccmIDs.count, 8)
        for clientOptions in [TLSOptions.client(trustedChain: identity.certificate),
                              try XCTUnwrap(TLSOptions.clientPSK(identity: Self.pskIdentity, key: Self.pskKey))] {
            let serverOptions = TLSOptions.server(key: identity.key, certificate: identity.certificate)
            XCTAssertEqual(serverOptions.addPSK(identity: Self.pskIdentity, key: Self.pskKey), .ok)
            let run = Run(server: serverOptions, client: clientOptions)
            XCTAssertEqual(run.client.getStatus(), .connected, run.client.getErrorMessage())
            XCTAssertFalse(Self.isCCM(run.client.getCipherSuite()), run.client.getCipherSuite())
            let offered = AuthenticationChoiceTests.offeredSuites(inClientHello: try XCTUnwrap(run.clientDatagrams.first))
            XCTAssertFalse(offered.isEmpty)
            XCTAssertTrue(offered.isDisjoint(with: ccmIDs), "a default client offered a CCM suite")
        }
    }

    func testSetCipherSuitesTakesTheCCMSuitesAndNoOthers() {
        let options = TLSOptions.clientUnsafe()
        for name in Self.pskSuites + Self.certificateSuites {
            XCTAssertEqual(options.setCipherSuites([name]), .ok, "\(name): \(ErrorReport.message)")
        }
        XCTAssertEqual(options.setCipherSuites(["TLS-PSK-WITH-AES-128-CCM-8"]), .ok, "mbedTLS's dashed spelling")
        XCTAssertEqual(options.setCipherSuites(Self.pskSuites + Self.certificateSuites), .ok)
        // CCM without forward secrecy or with DHE stays out, as its GCM siblings do.
        for name in ["TLS_RSA_WITH_AES_128_CCM_8", "TLS_DHE_RSA_WITH_AES_128_CCM", "TLS_DHE_PSK_WITH_AES_128_CCM_8"] {
            XCTAssertEqual(options.setCipherSuites([name]), .invalidParameter, name)
            XCTAssertTrue(ErrorReport.message.contains(Self.ecdsaCCM8), ErrorReport.message)
        }
    }

    /// A server keeps its default list unless told otherwise: a client that offers only CCM finds nothing.
    func testADefaultServerDoesNotTakeACCMOnlyClient() throws {
        let identity = try TestIdentity.make()
        let run = Run(server: TLSOptions.server(key: identity.key, certificate: identity.certificate),
                      client: certificateClient(identity, [Self.ecdsaCCM8]))
        XCTAssertNotEqual(run.client.getStatus(), .connected)
        let pskServer = TLSOptions.serverPSK()
        XCTAssertEqual(pskServer.addPSK(identity: Self.pskIdentity, key: Self.pskKey), .ok)
        let pskRun = Run(server: pskServer, client: try pskClient([Self.pskCCM8]))
        XCTAssertNotEqual(pskRun.client.getStatus(), .connected)
    }

    // MARK: Handshakes and records

    func testEveryCCMSuiteConnectsAndEchoes() throws {
        let identity = try TestIdentity.make()
        for suite in Self.pskSuites {
            let run = Run(server: pskServer([suite]), client: try pskClient([suite]))
            XCTAssertEqual(run.client.getStatus(), .connected, "\(suite): \(run.client.getErrorMessage())")
            XCTAssertEqual(run.client.getCipherSuite(), suite)
            XCTAssertEqual(run.server?.getCipherSuite(), suite)
            XCTAssertEqual(run.send(Array("reading: 21.5 C".utf8)).read, Array("reading: 21.5 C".utf8), suite)
        }
        for suite in Self.certificateSuites {
            let run = Run(server: certificateServer(identity, [suite]), client: certificateClient(identity, [suite]))
            XCTAssertEqual(run.client.getStatus(), .connected, "\(suite): \(run.client.getErrorMessage())")
            XCTAssertEqual(run.client.getCipherSuite(), suite)
            XCTAssertEqual(run.send(Array("reading: 21.5 C".utf8)).read, Array("reading: 21.5 C".utf8), suite)
        }
    }

    /// The server's order decides among suites both sides allow: CCM_8 listed first wins over GCM.
    func testServerPrefersItsFirstSuite() throws {
        let run = Run(server: pskServer([Self.pskCCM8, "TLS_PSK_WITH_AES_128_GCM_SHA256"]),
                      client: try pskClient(["TLS_PSK_WITH_AES_128_GCM_SHA256", Self.pskCCM8]))
        XCTAssertEqual(run.client.getStatus(), .connected, run.client.getErrorMessage())
        XCTAssertEqual(run.client.getCipherSuite(), Self.pskCCM8)
    }

    /// CCM_8 records carry an 8-byte tag (CCM's and GCM's carry 16): the largest packet is the same,
    /// it arrives whole, its datagram is 8 bytes shorter than CCM's, and one byte more is refused.
    func testCCM8RecordsCarryAnEightByteTagAndFullSizePackets() throws {
        var sizes: [String: Int] = [:]
        for (suite, tag) in [(Self.pskCCM8, 8), ("TLS_PSK_WITH_AES_128_CCM", 16)] {
            let run = Run(server: pskServer([suite]), client: try pskClient([suite]))
            XCTAssertEqual(run.client.getStatus(), .connected, run.client.getErrorMessage())
            let limit = run.client.getMaxPacketSize()
            XCTAssertGreaterThanOrEqual(limit, 16384 - 64, suite)
            XCTAssertEqual(run.server?.getMaxPacketSize(), limit)
            let payload = (0..<limit).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            let (read, datagram) = run.send(payload)
            XCTAssertEqual(read, payload, "\(suite): the largest packet did not arrive whole")
            XCTAssertEqual(datagram?.count, Self.recordHeaderAndNonce + limit + tag, suite)
            XCTAssertEqual(run.client.putPacket(payload + [0]), .invalidParameter)
            XCTAssertEqual(run.send([1, 2, 3]).datagram?.count, Self.recordHeaderAndNonce + 3 + tag, suite)
            sizes[suite] = limit
        }
        XCTAssertEqual(sizes[Self.pskCCM8], sizes["TLS_PSK_WITH_AES_128_CCM"])
    }

    /// A small MTU bounds every handshake datagram, the encrypted Finished included.
    func testCCM8HandshakeHonoursASmallMTU() throws {
        let identity = try TestIdentity.make()
        let server = certificateServer(identity, [Self.ecdsaCCM8])
        let client = certificateClient(identity, [Self.ecdsaCCM8])
        XCTAssertEqual(server.setMTU(256), .ok)
        XCTAssertEqual(client.setMTU(256), .ok)
        let run = Run(server: server, client: client)
        XCTAssertEqual(run.client.getStatus(), .connected, run.client.getErrorMessage())
        XCTAssertEqual(run.client.getCipherSuite(), Self.ecdsaCCM8)
        XCTAssertLessThanOrEqual(run.clientDatagrams.map(\.count).max() ?? 0, 256)
        XCTAssertLessThanOrEqual(run.serverDatagrams.map(\.count).max() ?? 0, 256)
        XCTAssertGreaterThan(run.serverDatagrams.count, 3, "the server's flight was fragmented")
    }

    // MARK: Authentication follows the options

    func testCCMSuitesFollowTheOptionsAuthentication() throws {
        let identity = try TestIdentity.make()
        // A PSK CCM suite without a pre-shared key (client and certificate-only server).
        let unsafe = TLSOptions.clientUnsafe()
        XCTAssertEqual(unsafe.setCipherSuites([Self.pskCCM8]), .ok)
        XCTAssertEqual(PacketPeerDTLS().connectToPeer(MemoryLink.pair().client, hostname: "localhost",
                                                      clientOptions: unsafe), .invalidParameter)
        XCTAssertTrue(ErrorReport.message.contains("pre-shared key"), ErrorReport.message)
        let certificateOnly = certificateServer(identity, [Self.ecdsaCCM8, Self.pskCCM8])
        XCTAssertEqual(DTLSServer().setup(serverOptions: certificateOnly), .invalidParameter)
        XCTAssertTrue(ErrorReport.message.contains("TLS-PSK-WITH-AES-128-CCM-8"), ErrorReport.message)

        // An ECDHE-ECDSA CCM suite on a PSK-only server.
        let pskOnly = TLSOptions.serverPSK()
        XCTAssertEqual(pskOnly.addPSK(identity: Self.pskIdentity, key: Self.pskKey), .ok)
        XCTAssertEqual(pskOnly.setCipherSuites([Self.pskCCM8, Self.ecdsaCCM8]), .ok)
        XCTAssertEqual(DTLSServer().setup(serverOptions: pskOnly), .invalidParameter)
        XCTAssertTrue(ErrorReport.message.contains("needs a certificate"), ErrorReport.message)

        // A PSK client that also names ECDHE-ECDSA CCM_8 verifies the certificate as client() does:
        // a server with a self-signed certificate and no PSK is refused, not trusted.
        let mixedClient = try pskClient([Self.ecdsaCCM8, Self.pskCCM8])
        do {
            let configuration = try DTLSConfiguration.client(options: mixedClient)
            XCTAssertTrue(configuration.verifiesChain)
            XCTAssertTrue(configuration.verifiesName)
            let refused = Run(server: certificateServer(identity, [Self.ecdsaCCM8]), client: mixedClient)
            XCTAssertNotEqual(refused.client.getStatus(), .connected, "an unverified certificate server got our session")
        } catch {
            // No system CA bundle on this machine: the mixed choice is refused up front instead.
            XCTAssertEqual(error.code, .unconfigured, error.message)
        }

        // A server with both kinds takes both kinds of CCM suite.
        let both = certificateServer(identity, [Self.ecdsaCCM8, Self.pskCCM8])
        XCTAssertEqual(both.addPSK(identity: Self.pskIdentity, key: Self.pskKey), .ok)
        let pskRun = Run(server: both, client: try pskClient([Self.pskCCM8]))
        XCTAssertEqual(pskRun.client.getCipherSuite(), Self.pskCCM8, pskRun.client.getErrorMessage())
        let certificateRun = Run(server: both, client: certificateClient(identity, [Self.ecdsaCCM8]))
        XCTAssertEqual(certificateRun.client.getCipherSuite(), Self.ecdsaCCM8, certificateRun.client.getErrorMessage())
    }
}
