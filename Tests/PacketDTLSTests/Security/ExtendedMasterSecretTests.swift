// ExtendedMasterSecretTests.swift — RFC 7627 required by default on both sides (issue 20): a peer
// without it is refused with a reason, against GnuTLS (%NO_SESSION_HASH) and against an mbedTLS
// client of our own with the extension turned off; the opt-out admits such peers.

import XCTest
@testable import PacketDTLS
import CMbedTLS

final class ExtendedMasterSecretTests: XCTestCase {
    static let gnutlsCLI = "/usr/bin/gnutls-cli"
    static let gnutlsServ = "/usr/bin/gnutls-serv"
    static let noEMS = "NORMAL:%NO_SESSION_HASH"

    private var openssl: OpenSSLTool!

    override func setUpWithError() throws {
        openssl = try OpenSSLTool(folderPrefix: "pdtls-ems")
    }

    override func tearDown() {
        openssl?.removeFolder()
    }

    func testDefaultsRequireIt() {
        XCTAssertTrue(TLSOptions.client().isExtendedMasterSecretRequired)
        XCTAssertTrue(TLSOptions.serverPSK().isExtendedMasterSecretRequired)
        let options = TLSOptions.clientUnsafe()
        XCTAssertEqual(options.setExtendedMasterSecretRequired(false), .ok)
        XCTAssertFalse(options.isExtendedMasterSecretRequired)
    }

    private func startGnuTLSServer(_ files: IdentityFiles) throws -> (ExternalPeer, Int) {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: Self.gnutlsServ), "gnutls-bin is not installed")
        let port = OpenSSLTool.freePort()
        let server = try ExternalPeer(Self.gnutlsServ, ["--udp", "--echo", "-p", "\(port)",
                                                        "--x509certfile", files.certPath, "--x509keyfile", files.keyPath,
                                                        "--priority", Self.noEMS])
        XCTAssertTrue(DTLSLoopbackTests.run({}, until: { server.text.contains("listening") }), server.text)
        return (server, port)
    }

    private func connect(port: Int, options: TLSOptions) -> PacketPeerDTLS {
        let udp = PacketPeerUDP()
        XCTAssertEqual(udp.connectToHost("127.0.0.1", port: port), .ok)
        let client = PacketPeerDTLS()
        XCTAssertEqual(client.connectToPeer(udp, hostname: "localhost", clientOptions: options), .ok, ErrorReport.message)
        _ = DTLSLoopbackTests.run({ client.poll() }, until: { client.getStatus() != .handshaking })
        return client
    }

    func testOurClientRefusesAGnuTLSServerWithoutIt() throws {
        let files = try openssl.saveIdentity("server")
        let (server, port) = try startGnuTLSServer(files)
        defer { server.stop() }
        let client = connect(port: port, options: .client(trustedChain: files.certificate))
        XCTAssertEqual(client.getStatus(), .error, server.text)
        XCTAssertTrue(client.getErrorMessage().contains("extended master secret"), client.getErrorMessage())

        let oldPeers = TLSOptions.client(trustedChain: files.certificate)
        XCTAssertEqual(oldPeers.setExtendedMasterSecretRequired(false), .ok)
        let admitted = connect(port: port, options: oldPeers)
        XCTAssertEqual(admitted.getStatus(), .connected, admitted.getErrorMessage() + "\n" + server.text)
        admitted.disconnectFromPeer()
    }

    func testOurServerRefusesAGnuTLSClientWithoutIt() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: Self.gnutlsCLI), "gnutls-bin is not installed")
        let files = try openssl.saveIdentity("server")
        let udp = UDPServer()
        XCTAssertEqual(udp.listen(port: 0, bindAddress: "127.0.0.1"), .ok)
        let server = DTLSServer()
        XCTAssertEqual(server.setup(key: files.key, certificate: files.certificate), .ok)
        let client = try ExternalPeer(Self.gnutlsCLI, ["--udp", "-p", "\(udp.getLocalPort())", "127.0.0.1",
                                                       "--x509cafile", files.certPath, "--priority", Self.noEMS])
        defer { client.stop() }
        // The refusal comes while the server reads the (cookie-carrying) ClientHello, inside take_connection.
        var peers: [PacketPeerDTLS] = []
        _ = DTLSLoopbackTests.run({
            udp.poll()
            while udp.isConnectionAvailable() {
                if let connection = udp.takeConnection(), let peer = server.takeConnection(connection),
                   peer.getStatus() != .disconnected {
                    peers.append(peer)
                }
            }
            peers.forEach { $0.poll() }
        }, until: { peers.contains { $0.getStatus() == .error } && client.hasFinished })
        let peer = try XCTUnwrap(peers.first, client.text)
        XCTAssertEqual(peer.getStatus(), .error, client.text)
        XCTAssertTrue(peer.getErrorMessage().contains("the client does not support the extended master secret"),
                      peer.getErrorMessage())
        XCTAssertFalse(client.process.isRunning, "gnutls-cli is told at once (handshake_failure alert)")
        XCTAssertTrue(client.text.contains("Handshake failed") || client.text.contains("alert"), client.text)
        XCTAssertFalse(peers.contains { $0.getStatus() == .connected })
    }

    /// An mbedTLS client with the extension off (this library's own client, EMS turned off in its
    /// mbedTLS configuration) against our default server: refused, with an alert.
    func testOurServerRefusesAnMbedTLSClientWithItOff() throws {
        let identity = try TestIdentity.make()
        let server = DTLSServer()
        XCTAssertEqual(server.setup(key: identity.key, certificate: identity.certificate), .ok)
        let clientOptions = TLSOptions.clientUnsafe()
        clientOptions.setExtendedMasterSecretRequired(false)
        let configuration = try DTLSConfiguration.client(options: clientOptions)
        mbedtls_ssl_conf_extended_master_secret(configuration.config, CChar(MBEDTLS_SSL_EXTENDED_MS_DISABLED))
        let link = MemoryLink.pair()
        let client = try DTLSSession(configuration: configuration, transport: link.client, expectedName: nil,
                                     sniName: nil)
        // The client's step, or the mbedTLS code it failed with.
        func step() -> Result<DTLSSession.HandshakeStep, MbedTLSError> { Result { () throws(MbedTLSError) in try client.handshake() } }
        var clientStep = step()
        var serverSide: PacketPeerDTLS?
        for _ in 0..<200 where (try? clientStep.get()) == .inProgress {
            if serverSide == nil, link.server.pending > 0, let peer = server.takeConnection(link.server),
               peer.getStatus() != .disconnected {  // (disconnected: answered with a cookie request)
                serverSide = peer
            }
            serverSide?.poll()
            clientStep = step()
        }
        XCTAssertEqual(serverSide?.getStatus(), .error)
        XCTAssertTrue(serverSide?.getErrorMessage().contains("extended master secret") == true,
                      serverSide?.getErrorMessage() ?? "no server side")
        guard case .failure(let failure) = clientStep else { return XCTFail("the client did not fail: \(clientStep)") }
        XCTAssertEqual(failure.code, MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE, "the client hears an alert")
        XCTAssertEqual(client.lastAlertReceived, UInt8(MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE))

        // The same client with the server's opt-out: connects, without EMS.
        let lenient = TLSOptions.server(key: identity.key, certificate: identity.certificate)
        lenient.setExtendedMasterSecretRequired(false)
        let (admitted, _) = try SecurityHandshake.run(server: lenient, client: clientOptions)
        XCTAssertEqual(admitted.getStatus(), .connected, admitted.getErrorMessage())
    }

    func testBothOfOursAgreeOnItByDefault() throws {
        let identity = try TestIdentity.make()
        let (client, server) = try SecurityHandshake.run(server: .server(key: identity.key, certificate: identity.certificate),
                                                         client: .client(trustedChain: identity.certificate))
        XCTAssertEqual(client.getStatus(), .connected, client.getErrorMessage())
        XCTAssertEqual(server?.getStatus(), .connected)
    }
}
