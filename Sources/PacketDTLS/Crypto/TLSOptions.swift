// TLSOptions.swift — Godot 4's TLSOptions: who to trust, or which identity to present, and how.

/// Godot's TLSOptions, made by its static constructors `client`, `clientUnsafe` and `server`.
/// The trust and identity are fixed at construction, as in Godot. The tuning below (timeouts, MTU,
/// and later more) goes beyond Godot and may be set afterwards; a DTLS peer or server copies the
/// options when it starts, so later changes touch only later sessions.
public final class TLSOptions: @unchecked Sendable {
    public enum Mode: Sendable {
        /// Verify the peer's chain and its name.
        case client
        /// Verify the chain if one is given, never the name.
        case clientUnsafe
        /// Present a key and certificate.
        case server
    }

    public let mode: Mode
    public let trustedChain: X509Certificate?
    public let commonNameOverride: String
    public let privateKey: CryptoKey?
    public let ownCertificate: X509Certificate?

    let lock = Lock()
    /// Guarded by `lock`; change it through `updateTuning`.
    private var tuning = Tuning()

    /// The settings beyond Godot's, copied as a whole by whoever uses the options.
    struct Tuning: Sendable {
        var handshakeTimeoutMin: UInt32 = 1000
        var handshakeTimeoutMax: UInt32 = 60000
        /// 0 = off.
        var idleTimeout: UInt32 = 120_000
        /// 0 = no limit on handshake datagrams.
        var mtu: UInt32 = 1400
        /// ALPN protocols offered (client) or accepted (server), in preference order.
        var alpnProtocols: [String] = []
        /// SHA-256 digests of acceptable peer SubjectPublicKeyInfo; empty = no pinning.
        var pinnedPublicKeys: [[UInt8]] = []
        /// A client's own certificate and key, presented when the server asks.
        var clientIdentity: (key: KeyMaterial, chain: CertificateChain)?
        /// Whether a server asks clients for certificates, and whom it trusts to have issued them.
        var clientCertificateMode: ClientCertificateMode = .none
        var clientCertificateAuthorities: CertificateChain?
        /// Revoked certificates, checked along with the trusted chain.
        var revocationList: RevocationList?
        /// Where the session secrets go in NSS key log format (opened and checked when set); nil = nowhere.
        var keyLog: KeyLogFile?
        /// A client's pre-shared key (kept in wiped-on-free storage, as every key).
        var pskIdentity: String?
        var pskKey: PreSharedKey?
        /// A server's pre-shared keys by identity.
        var pskTable: [String: PreSharedKey] = [:]
        /// Servers issue session tickets (rotating their key daily) so clients can resume.
        var sessionTickets = true
        /// Handshakes without the extended master secret (RFC 7627) are refused (HandshakePolicy).
        var requiresExtendedMasterSecret = true
        /// The caller's suite order (a subset of the AEAD suites we allow); nil = our defaults.
        var cipherSuites: [Int32]?
    }

    /// Whether a server requests a certificate from its clients.
    public enum ClientCertificateMode: Sendable {
        case none
        /// Ask; a client without one (or with one that fails verification) still connects, and the
        /// verification result is readable on the peer.
        case request
        /// Ask and insist: no valid certificate, no session.
        case require
    }

    /// Changes the tuning under the lock.
    func updateTuning(_ change: (inout Tuning) -> Void) {
        lock.withLock { change(&tuning) }
    }

    init(mode: Mode, trustedChain: X509Certificate?, commonNameOverride: String,
                 privateKey: CryptoKey?, ownCertificate: X509Certificate?) {
        self.mode = mode
        self.trustedChain = trustedChain
        self.commonNameOverride = commonNameOverride
        self.privateKey = privateKey
        self.ownCertificate = ownCertificate
    }

    /// Verify the server against `trustedChain` (nil = the system CA bundle) and its name against
    /// the hostname, or `commonNameOverride` when not empty.
    public static func client(trustedChain: X509Certificate? = nil, commonNameOverride: String = "") -> TLSOptions {
        TLSOptions(mode: .client, trustedChain: trustedChain, commonNameOverride: commonNameOverride,
                   privateKey: nil, ownCertificate: nil)
    }

    /// Never check the server's name; verify its chain only when `trustedChain` is given.
    public static func clientUnsafe(trustedChain: X509Certificate? = nil) -> TLSOptions {
        TLSOptions(mode: .clientUnsafe, trustedChain: trustedChain, commonNameOverride: "",
                   privateKey: nil, ownCertificate: nil)
    }

    /// Present `key` and `certificate` (which may hold a chain of intermediates after the leaf).
    public static func server(key: CryptoKey, certificate: X509Certificate) -> TLSOptions {
        TLSOptions(mode: .server, trustedChain: nil, commonNameOverride: "",
                   privateKey: key, ownCertificate: certificate)
    }

    public func isServer() -> Bool { mode == .server }
    public func isUnsafeClient() -> Bool { mode == .clientUnsafe }
    public func getCommonNameOverride() -> String { commonNameOverride }
    public func getTrustedCAChain() -> X509Certificate? { trustedChain }
    public func getPrivateKey() -> CryptoKey? { privateKey }
    public func getOwnCertificate() -> X509Certificate? { ownCertificate }

    // MARK: Beyond Godot: timers and sizes

    /// Retransmission timer of the handshake: first `minMs`, doubling to `maxMs`, then a timeout.
    @discardableResult
    public func setHandshakeTimeout(minMs: UInt32, maxMs: UInt32) -> GodotError {
        guard minMs >= 1, minMs <= maxMs else {
            return ErrorReport.fail(.invalidParameter,
                                    "handshake timeout: need 1 <= min (\(minMs)) <= max (\(maxMs)) milliseconds")
        }
        lock.withLock {
            tuning.handshakeTimeoutMin = minMs
            tuning.handshakeTimeoutMax = maxMs
        }
        return .ok
    }

    /// A connected peer that hears nothing for `ms` ends in ERROR ("idle timeout"); 0 turns it off.
    @discardableResult
    public func setIdleTimeout(ms: UInt32) -> GodotError {
        lock.withLock { tuning.idleTimeout = ms }
        return .ok
    }

    /// The largest handshake datagram (0 = no limit, else 256...16384).
    @discardableResult
    public func setMTU(_ mtu: UInt32) -> GodotError {
        guard mtu == 0 || (256...16384).contains(mtu) else {
            return ErrorReport.fail(.invalidParameter, "MTU \(mtu) is outside 256...16384 (or 0 for no limit)")
        }
        lock.withLock { tuning.mtu = mtu }
        return .ok
    }

    public var handshakeTimeout: (minMs: UInt32, maxMs: UInt32) {
        lock.withLock { (tuning.handshakeTimeoutMin, tuning.handshakeTimeoutMax) }
    }
    public var idleTimeout: UInt32 { lock.withLock { tuning.idleTimeout } }
    public var mtu: UInt32 { lock.withLock { tuning.mtu } }

    /// A copy of the current tuning, taken when a session starts.
    func currentTuning() -> Tuning { lock.withLock { tuning } }
}
