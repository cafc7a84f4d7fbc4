// DTLSServer.swift — Godot's DTLSServer: the identity and cookie secret shared by every client.

/// Turns connected UDP peers (normally taken from a UDPServer) into server-side PacketPeerDTLS.
/// Unlike Godot, setup() may be called again (new identity; sessions already started keep
/// theirs), the 3.x `chain` is really sent, and takeConnection after stop() fails cleanly
/// instead of touching freed cookie state. The cookie and ticket keys belong to the server
/// object, not to one setup: drawn at random when first needed, they survive setup() and stop(),
/// and loadKeys/saveKeys/rotateKeys (DTLSServer+Keys.swift) share and rotate them.
public final class DTLSServer: @unchecked Sendable {
    private let lock = Lock()
    private var configuration: DTLSConfiguration?
    private var peers = PeerBatch()
    /// Handshake threads (setHandshakeThreads); nil runs handshakes in the caller's poll(), as Godot does.
    var handshakeWorkers: HandshakeWorkers? {
        get { lock.withLock { workers } }
        set {
            let old = lock.withLock { () -> HandshakeWorkers? in
                defer { workers = newValue }
                return workers
            }
            old?.close()
        }
    }
    private var workers: HandshakeWorkers?
    /// How much nicer than the thread that starts them the handshake threads run (setHandshakeThreadsNice).
    var handshakeThreadsNice: Int32 {
        get { lock.withLock { threadsNice } }
        set { lock.withLock { threadsNice = newValue } }
    }
    private var threadsNice = HandshakeWorkers.defaultNiceIncrement
    private var keyRing: ServerKeyRing?
    /// Handshakes in flight, across setups: a new identity does not reset what is running.
    let budget = HandshakeBudget()
    private var hibernateAfterMs = PeerHibernation.defaultAfterMs

    public init() {}

    deinit {
        // Handshakes already on a worker finish there; the threads end after the last.
        workers?.close()
    }

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
                let made = try DTLSConfiguration.server(key: nil, chain: nil, tuning: serverOptions.currentTuning(),
                                                             keys: currentKeyRing())
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
            let made = try DTLSConfiguration.server(key: material, chain: presented, tuning: tuning,
                                                    keys: currentKeyRing())
            HandshakeWorkers.prepareSharedKey(material)
            lock.withLock { configuration = made }
            return .ok
        } catch {
            return error.report()
        }
    }

    /// Starts the server side of a handshake on `udpPeer`. Keep the result only if its status is
    /// HANDSHAKING (a first ClientHello without cookie leaves it DISCONNECTED). nil when the server
    /// is not set up or stopped, or the UDP peer is not connected. Beyond Godot: the UDPServer of a
    /// server-taken peer becomes this server's stateless front door, and reconnects and the handshake
    /// limits apply (docs/BEYOND_GODOT.md, "The front door").
    public func takeConnection(_ udpPeer: DatagramTransport) -> PacketPeerDTLS? {
        guard let configuration = lock.withLock({ configuration }) else {
            ErrorReport.set("take_connection: the DTLS server is not set up (or was stopped)")
            return nil
        }
        guard udpPeer.isConnectedToPeer else {
            ErrorReport.set("take_connection: the UDP peer is not connected to a client")
            return nil
        }
        let (peer, workers, hibernateAfter) = lock.withLock { () -> (PacketPeerDTLS, HandshakeWorkers?, UInt32) in
            (peers.take(), self.workers, hibernateAfterMs)
        }
        // Only a CONNECTED session hibernates: one whose handshake runs on a worker never does.
        peer.setHibernateAfterMs(hibernateAfter)
        // A peer of a UDPServer: from now on its server answers cookie-less hellos for us, and a
        // hello it verified arrives with its handshake place taken already.
        let serverPeer = udpPeer as? PacketPeerUDP
        serverPeer?.registerFrontDoor(self)
        var slot = serverPeer?.takeHandshakeSlot()
        // Only the front door hands out slots, and only with a ClientHello whose cookie it checked.
        let helloVerified = slot != nil
        if slot == nil, let remote = udpPeer.remoteIdentity {
            let address = Array(remote.transportID.prefix(16))
            slot = budget.acquire(address: address)
            if slot == nil {
                peer.refuse("take_connection: " + budget.refusalText(address: remote.host))
                return peer
            }
        }
        let limits = budget.currentLimits
        guard peer.accept(over: udpPeer, configuration: configuration, slot: slot, deadlineMs: limits.deadlineMs,
                          workers: workers, helloVerified: helloVerified) == .ok
        else { return nil }
        return peer
    }

    /// What a UDPServer needs to answer ClientHellos for this server: nil when not set up.
    struct FrontDoor {
        let screen: ClientHelloScreen
        let budget: HandshakeBudget
    }

    var frontDoor: FrontDoor? {
        lock.withLock { configuration?.helloScreen.map { FrontDoor(screen: $0, budget: budget) } }
    }

    // MARK: Beyond Godot: handshakes in flight

    /// Caps the handshakes in flight (those that passed the cookie exchange and are not yet complete)
    /// in all and per source address, and sets the server-side handshake deadline (0 = no cap, no
    /// deadline). Applies to handshakes that start from now on.
    public func setHandshakeLimits(_ limits: HandshakeLimits) -> GodotError {
        guard limits.maxInFlight >= 0, limits.maxPerAddress >= 0, limits.deadlineMs >= 0 else {
            return ErrorReport.fail(.invalidParameter, "set_handshake_limits: \(limits.maxInFlight), "
                + "\(limits.maxPerAddress), \(limits.deadlineMs) ms: none may be negative (0 = no limit)")
        }
        budget.currentLimits = limits
        return .ok
    }

    /// The limits in force (HandshakeLimits() until set).
    public var handshakeLimits: HandshakeLimits { budget.currentLimits }

    /// Handshakes holding a place in the budget now (pending in a UDPServer or taken, not yet complete).
    public var handshakesInFlight: Int { budget.count }

    /// The server's key ring, made with fresh random keys on first use.
    func currentKeyRing() throws(Failure) -> ServerKeyRing {
        if let ring = lock.withLock({ keyRing }) { return ring }
        let fresh = try ServerKeyRing()
        return lock.withLock {
            if let ring = keyRing { return ring }
            keyRing = fresh
            return fresh
        }
    }

    /// Forgets the identity; running sessions keep what they hold, the server keeps its keys.
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
