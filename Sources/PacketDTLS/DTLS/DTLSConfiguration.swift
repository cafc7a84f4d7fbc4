// DTLSConfiguration.swift — one mbedTLS configuration and everything it points at.
//
// mbedtls_ssl_setup() keeps a pointer to its config, and the config keeps pointers to the
// certificates, key, CA chain, cookie context and RNG. This object owns the config and holds
// strong references to all of those, and every session holds this object: nothing it points
// at can go away while a session uses it.

internal import CMbedTLS

final class DTLSConfiguration: @unchecked Sendable {
    enum Role { case client, server }

    let role: Role
    let config: UnsafeMutablePointer<mbedtls_ssl_config>
    let tuning: TLSOptions.Tuning
    /// Client only: the name the server's certificate must carry, if it is checked.
    let verifiesName: Bool
    let verifiesChain: Bool

    // Kept alive for mbedTLS's sake; never read from Swift.
    private let ownChain: CertificateChain?
    private let ownKey: KeyMaterial?
    private let trustedChain: CertificateChain?
    private let cookies: CookieSecret?

    /// Only AEAD suites with ephemeral ECDH. ChaCha20-Poly1305 first: in mbedTLS 2.28 it beats
    /// AES-128-GCM even with AES-NI (its GHASH goes one block at a time), measured 1.4x at 16 KiB and
    /// 1.2x at 1 KiB per echo round trip (docs/PERFORMANCE.md); AES-GCM for peers without ChaCha20.
    /// Zero-terminated and never freed: mbedTLS keeps the pointer.
    nonisolated(unsafe) static let cipherSuites: UnsafeMutablePointer<Int32> = {
        let suites: [Int32] = [
            MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
            MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
            MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
            0,
        ]
        let pointer = UnsafeMutablePointer<Int32>.allocate(capacity: suites.count)
        pointer.initialize(from: suites, count: suites.count)
        return pointer
    }()

    /// X25519 first: its key exchange costs a fraction of P-256's in mbedTLS, and every modern
    /// peer offers it. P-256 and P-384 follow for everyone else.
    nonisolated(unsafe) static let curves: UnsafeMutablePointer<mbedtls_ecp_group_id> = {
        let groups: [mbedtls_ecp_group_id] = [
            MBEDTLS_ECP_DP_CURVE25519, MBEDTLS_ECP_DP_SECP256R1, MBEDTLS_ECP_DP_SECP384R1, MBEDTLS_ECP_DP_NONE,
        ]
        let pointer = UnsafeMutablePointer<mbedtls_ecp_group_id>.allocate(capacity: groups.count)
        pointer.initialize(from: groups, count: groups.count)
        return pointer
    }()

    /// Mismatched MACs tolerated before a session is dropped: high enough that stray or spoofed
    /// garbage cannot end a session cheaply, low enough to stop a forgery search.
    static let badMACLimit: UInt32 = 1000

    private init(role: Role, tuning: TLSOptions.Tuning, verifiesName: Bool, verifiesChain: Bool,
                 ownChain: CertificateChain?, ownKey: KeyMaterial?, trustedChain: CertificateChain?,
                 cookies: CookieSecret?) throws(ConfigurationError) {
        self.role = role
        self.tuning = tuning
        self.verifiesName = verifiesName
        self.verifiesChain = verifiesChain
        self.ownChain = ownChain
        self.ownKey = ownKey
        self.trustedChain = trustedChain
        self.cookies = cookies
        config = .allocate(capacity: 1)
        mbedtls_ssl_config_init(config)
        let rc = mbedtls_ssl_config_defaults(config, role == .server ? MBEDTLS_SSL_IS_SERVER : MBEDTLS_SSL_IS_CLIENT,
                                             MBEDTLS_SSL_TRANSPORT_DATAGRAM, MBEDTLS_SSL_PRESET_DEFAULT)
        guard rc == 0 else {
            throw ConfigurationError(.failed, "mbedTLS configuration failed: \(MbedTLSError.describe(rc))")
        }
        applyStrictDefaults()
        if let ownChain, let ownKey {
            let rc = mbedtls_ssl_conf_own_cert(config, ownChain.crt, ownKey.pk)
            guard rc == 0 else {
                throw ConfigurationError(.failed, "the certificate could not be used: \(MbedTLSError.describe(rc))")
            }
        }
        if let cookies {
            mbedtls_ssl_conf_dtls_cookies(config, mbedtls_ssl_cookie_write, mbedtls_ssl_cookie_check,
                                          UnsafeMutableRawPointer(cookies.context))
        }
        if verifiesChain, let trustedChain {
            mbedtls_ssl_conf_ca_chain(config, trustedChain.crt, nil)
            mbedtls_ssl_conf_authmode(config, MBEDTLS_SSL_VERIFY_REQUIRED)
        } else {
            mbedtls_ssl_conf_authmode(config, MBEDTLS_SSL_VERIFY_NONE)
        }
    }

    deinit {
        mbedtls_ssl_config_free(config)
        config.deallocate()
    }

    /// DTLS 1.2 only, AEAD suites, renegotiation off, anti-replay on, extended master secret.
    private func applyStrictDefaults() {
        let random = RandomSource.shared
        mbedtls_ssl_conf_rng(config, random.function, random.context)
        mbedtls_ssl_conf_min_version(config, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3)
        mbedtls_ssl_conf_max_version(config, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3)
        mbedtls_ssl_conf_ciphersuites(config, Self.cipherSuites)
        mbedtls_ssl_conf_curves(config, Self.curves)
        mbedtls_ssl_conf_renegotiation(config, MBEDTLS_SSL_RENEGOTIATION_DISABLED)
        mbedtls_ssl_conf_dtls_anti_replay(config, CChar(MBEDTLS_SSL_ANTI_REPLAY_ENABLED))
        mbedtls_ssl_conf_dtls_badmac_limit(config, Self.badMACLimit)
        mbedtls_ssl_conf_extended_master_secret(config, CChar(MBEDTLS_SSL_EXTENDED_MS_ENABLED))
        mbedtls_ssl_conf_handshake_timeout(config, tuning.handshakeTimeoutMin, tuning.handshakeTimeoutMax)
    }

    // MARK: Factories

    /// A client configuration: verify chain and name (`client`), the chain only or nothing
    /// (`clientUnsafe`).
    static func client(options: TLSOptions) throws(ConfigurationError) -> DTLSConfiguration {
        let tuning = options.currentTuning()
        switch options.mode {
        case .server:
            throw ConfigurationError(.invalidParameter, "connect_to_peer needs client options, not server options")
        case .client:
            let trust = try trustedChain(of: options)
            return try DTLSConfiguration(role: .client, tuning: tuning, verifiesName: true, verifiesChain: true,
                                         ownChain: nil, ownKey: nil, trustedChain: trust, cookies: nil)
        case .clientUnsafe:
            let trust = options.trustedChain?.currentChain()
            return try DTLSConfiguration(role: .client, tuning: tuning, verifiesName: false,
                                         verifiesChain: trust != nil, ownChain: nil, ownKey: nil,
                                         trustedChain: trust, cookies: nil)
        }
    }

    /// A server configuration presenting `chain` (leaf first) with `key`, with a fresh cookie secret.
    static func server(key: KeyMaterial, chain: CertificateChain, tuning: TLSOptions.Tuning)
        throws(ConfigurationError) -> DTLSConfiguration {
        guard !key.isPublicOnly else {
            throw ConfigurationError(.invalidParameter, "the server key holds no private key")
        }
        let rc = mbedtls_pk_check_pair(&chain.crt.pointee.pk, key.pk)
        guard rc == 0 else {
            throw ConfigurationError(.invalidParameter,
                                     "the private key does not match the certificate: \(MbedTLSError.describe(rc))")
        }
        guard let cookies = CookieSecret() else { throw ConfigurationError(.failed, ErrorReport.message) }
        return try DTLSConfiguration(role: .server, tuning: tuning, verifiesName: false, verifiesChain: false,
                                     ownChain: chain, ownKey: key, trustedChain: nil, cookies: cookies)
    }

    private static func trustedChain(of options: TLSOptions) throws(ConfigurationError) -> CertificateChain {
        if let given = options.trustedChain {
            guard let chain = given.currentChain() else {
                throw ConfigurationError(.invalidParameter, "the trusted CA chain is empty")
            }
            return chain
        }
        guard let system = SystemTrustStore.chain() else { throw ConfigurationError(.unconfigured, ErrorReport.message) }
        return system
    }
}

/// Why a configuration could not be made, as a Godot error and a sentence.
struct ConfigurationError: Error {
    let code: GodotError
    let message: String
    init(_ code: GodotError, _ message: String) {
        self.code = code
        self.message = message
    }

    /// Records the sentence for this thread and returns the code.
    func report() -> GodotError { ErrorReport.fail(code, message) }
}
