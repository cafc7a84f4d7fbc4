// DTLSServer.swift — Godot's DTLSServer: the identity and cookie secret shared by every client.

/// Turns connected UDP peers (normally taken from a UDPServer) into server-side PacketPeerDTLS.
/// Unlike Godot, setup() may be called again (new identity, new cookie secret; sessions already
/// started keep theirs), the 3.x `chain` is really sent, and takeConnection after stop() fails
/// cleanly instead of touching freed cookie state.
public final class DTLSServer: @unchecked Sendable {
    private let lock = Lock()
    private var configuration: DTLSConfiguration?
    private var peers = PeerBatch()
    private var hibernateAfterMs = PeerHibernation.defaultAfterMs

    public init() {}

    /// Godot 3.x setup: key, its certificate, and optional intermediates sent after it.
    public func setup(key: CryptoKey, certificate: X509Certificate, chain: X509Certificate? = nil) -> GodotError {
        install(key: key, certificate: certificate, chain: chain, tuning: TLSOptions.Tuning())
    }

    /// Godot 4.x setup with `TLSOptions.server(key:certificate:)`.
    public func setup(serverOptions: TLSOptions) -> GodotError {
        guard serverOptions.isServer() else {
            return ErrorReport.fail(.invalidParameter, "setup: the options are not server options (TLSOptions.server)")
        }
        guard let key = serverOptions.privateKey, let certificate = serverOptions.ownCertificate else {
            // A PSK-only server (TLSOptions.serverPSK()) has no certificate to present.
            do throws(Failure) {
                let made = try DTLSConfiguration.server(key: nil, chain: nil, tuning: serverOptions.currentTuning())
                lock.withLock { configuration = made }
                return .ok
            } catch {
                return error.report()
            }
        }
        return install(key: key, certificate: certificate, chain: nil, tuning: serverOptions.currentTuning())
    }

    private func install(key: CryptoKey, certificate: X509Certificate, chain: X509Certificate?,
                         tuning: TLSOptions.Tuning) -> GodotError {
        guard let material = key.currentMaterial() else {
            return ErrorReport.fail(.invalidParameter, "setup: the key is empty")
        }
        guard let leaf = certificate.currentChain() else {
            return ErrorReport.fail(.invalidParameter, "setup: the certificate is empty")
        }
        if let chain, chain.currentChain() == nil {
            return ErrorReport.fail(.invalidParameter, "setup: the chain is empty")
        }
        guard let presented = CertificateChain.joining(leaf, chain?.currentChain()) else { return .failed }
        do {
            let made = try DTLSConfiguration.server(key: material, chain: presented, tuning: tuning)
            lock.withLock { configuration = made }
            return .ok
        } catch {
            return error.report()
        }
    }

    /// Starts the server side of a handshake on `udpPeer`. Keep the result only if its status is
    /// HANDSHAKING (a first ClientHello without cookie leaves it DISCONNECTED). nil when the server
    /// is not set up or stopped, or the UDP peer is not connected.
    public func takeConnection(_ udpPeer: DatagramTransport) -> PacketPeerDTLS? {
        guard let configuration = lock.withLock({ configuration }) else {
            ErrorReport.set("take_connection: the DTLS server is not set up (or was stopped)")
            return nil
        }
        guard udpPeer.isConnectedToPeer else {
            ErrorReport.set("take_connection: the UDP peer is not connected to a client")
            return nil
        }
        let (peer, hibernateAfter) = lock.withLock { (peers.take(), hibernateAfterMs) }
        peer.setHibernateAfterMs(hibernateAfter)
        guard peer.accept(over: udpPeer, configuration: configuration) == .ok else { return nil }
        return peer
    }

    /// Forgets the identity and cookie secret; running sessions keep what they hold.
    public func stop() {
        lock.withLock {
            configuration = nil
            peers = PeerBatch()
        }
    }

    /// The quiet time after which the peers this server makes from now on hibernate (see
    /// PacketPeerDTLS.setHibernateAfterMs); 0 = never. Default 10,000 ms.
    public func setHibernateAfterMs(_ milliseconds: UInt32) {
        lock.withLock { hibernateAfterMs = milliseconds }
    }

    public func getHibernateAfterMs() -> UInt32 { lock.withLock { hibernateAfterMs } }

    /// True between a successful setup() and stop().
    public var isSetUp: Bool { lock.withLock { configuration != nil } }
}
