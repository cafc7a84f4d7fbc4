// DTLSConfiguration.swift — one mbedTLS configuration and everything it points at.
//
// mbedtls_ssl_setup() keeps a pointer to its config, and the config keeps pointers to the
// certificates, keys, CA chain, CRL, cookie and ticket contexts, ALPN list and RNG. This object
// owns the config and holds strong references to all of those, and every session holds this
// object: nothing it points at can go away while a session uses it.

internal import CMbedTLS
#if canImport(Glibc)
import Glibc
#endif

final class DTLSConfiguration: @unchecked Sendable {
    enum Role { case client, server }

    let role: Role
    let config: UnsafeMutablePointer<mbedtls_ssl_config>
    let tuning: TLSOptions.Tuning
    /// Client only: the server's certificate must name the host.
    let verifiesName: Bool
    /// This end verifies the other end's certificate chain (client: the server's; server: clients').
    let verifiesChain: Bool
    /// Client only: no chain is trusted; a pinned public key alone admits the server.
    let trustsPinsOnly: Bool
    /// Client only: under what the server is authenticated (a saved session is offered only under
    /// the same; the hostname is added by each session).
    let authentication: SessionAuthentication

    /// Everything mbedTLS points at, kept alive here; never read from Swift.
    private let keepAlive: [AnyObject]
    /// The NULL-terminated ALPN list handed to mbedTLS (freed in deinit).
    private var alpnList: UnsafeMutablePointer<UnsafePointer<CChar>?>?
    private var tickets: UnsafeMutablePointer<mbedtls_ssl_ticket_context>?
    /// The caller's own suite list (TLSOptions.setCipherSuites), zero-terminated; freed in deinit.
    private var chosenSuites: UnsafeMutablePointer<Int32>?

    // MARK: Suites and curves

    /// AEAD suites with ephemeral ECDH and certificates. ChaCha20-Poly1305 first: in mbedTLS 2.28 it
    /// beats AES-128-GCM even with AES-NI (its GHASH goes one block at a time; docs/PERFORMANCE.md);
    /// AES-GCM for peers without ChaCha20.
    static let certificateSuiteIDs: [Int32] = [
        MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    ]

    /// AEAD suites for pre-shared keys: forward-secret ECDHE-PSK first, plain PSK after.
    static let pskSuiteIDs: [Int32] = [
        MBEDTLS_TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256,
        MBEDTLS_TLS_PSK_WITH_AES_128_GCM_SHA256,
        MBEDTLS_TLS_PSK_WITH_AES_256_GCM_SHA384,
        MBEDTLS_TLS_PSK_WITH_CHACHA20_POLY1305_SHA256,
    ]

    /// Every suite a caller may choose, and their IANA names for messages.
    static let allowedSuiteIDs = certificateSuiteIDs + pskSuiteIDs
    static var allowedSuiteNames: [String] {
        allowedSuiteIDs.compactMap { CipherSuiteName.iana(id: $0) }
    }

    nonisolated(unsafe) static let certificateSuites = zeroTerminated(certificateSuiteIDs)
    nonisolated(unsafe) static let pskSuites = zeroTerminated(pskSuiteIDs)
    /// A server that holds a certificate and PSK identities offers both kinds.
    nonisolated(unsafe) static let allSuites = zeroTerminated(certificateSuiteIDs + pskSuiteIDs)

    /// Zero-terminated and never freed: mbedTLS keeps the pointer.
    private static func zeroTerminated(_ suites: [Int32]) -> UnsafeMutablePointer<Int32> {
        let pointer = UnsafeMutablePointer<Int32>.allocate(capacity: suites.count + 1)
        pointer.initialize(from: suites + [0], count: suites.count + 1)
        return pointer
    }

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

    /// Mismatched MACs tolerated before a session is dropped: in effect none. Every suite above is
    /// AEAD with a 128-bit tag, so a forgery search is hopeless whatever the limit, while a low
    /// limit lets whoever can spoof a peer's address end its session: 1000 garbage records take
    /// milliseconds (the reliability fuzzer did it). Not 0 ("no limit"): mbedTLS then stops
    /// counting them, and getStats().recordsDroppedBadMAC reads its count. Revisit if a non-AEAD
    /// suite is ever added.
    static let badMACLimit: UInt32 = .max

    /// Server session-ticket keys rotate after this many seconds (tickets live as long).
    static let ticketLifetimeSeconds: UInt32 = 86_400

    // MARK: Building

    /// What one configuration is made of, decided by the factories below.
    private struct Plan {
        var ownIdentity: (key: KeyMaterial, chain: CertificateChain)?
        var trust: CertificateChain?
        var authMode = MBEDTLS_SSL_VERIFY_NONE
        var verifiesName = false
        var verifiesChain = false
        var trustsPinsOnly = false
        var cookies: CookieSecret?
        var suites = DTLSConfiguration.certificateSuites
        /// The caller's suites (setCipherSuites), once checked against what the options authenticate.
        var chosenSuites: [Int32]?
    }

    private init(role: Role, tuning: TLSOptions.Tuning, plan: Plan) throws(Failure) {
        self.role = role
        self.tuning = tuning
        verifiesName = plan.verifiesName
        verifiesChain = plan.verifiesChain
        trustsPinsOnly = plan.trustsPinsOnly
        authentication = SessionAuthentication(trust: plan.verifiesChain ? plan.trust : nil, tuning: tuning,
                                               trustsPinsOnly: plan.trustsPinsOnly)
        var held: [AnyObject] = []
        if let identity = plan.ownIdentity { held += [identity.key, identity.chain] }
        if let trust = plan.trust { held.append(trust) }
        if let cookies = plan.cookies { held.append(cookies) }
        if let crl = tuning.revocationList { held.append(crl) }
        keepAlive = held

        config = .allocate(capacity: 1)
        mbedtls_ssl_config_init(config)
        let rc = mbedtls_ssl_config_defaults(config, role == .server ? MBEDTLS_SSL_IS_SERVER : MBEDTLS_SSL_IS_CLIENT,
                                             MBEDTLS_SSL_TRANSPORT_DATAGRAM, MBEDTLS_SSL_PRESET_DEFAULT)
        guard rc == 0 else {
            throw Failure(.failed, "mbedTLS configuration failed: \(MbedTLSError.describe(rc))")
        }
        if let chosen = plan.chosenSuites {
            chosenSuites = Self.zeroTerminated(chosen)
        }
        applyStrictDefaults(suites: chosenSuites ?? plan.suites)
        if let identity = plan.ownIdentity {
            let rc = mbedtls_ssl_conf_own_cert(config, identity.chain.crt, identity.key.pk)
            guard rc == 0 else {
                throw Failure(.failed, "the certificate could not be used: \(MbedTLSError.describe(rc))")
            }
        }
        if let cookies = plan.cookies {
            mbedtls_ssl_conf_dtls_cookies(config, mbedtls_ssl_cookie_write, mbedtls_ssl_cookie_check,
                                          UnsafeMutableRawPointer(cookies.context))
        }
        if let trust = plan.trust {
            mbedtls_ssl_conf_ca_chain(config, trust.crt, tuning.revocationList?.crl)
        }
        mbedtls_ssl_conf_authmode(config, plan.authMode)
        try applyBeyondGodot()
    }

    deinit {
        mbedtls_ssl_config_free(config)
        config.deallocate()
        if let alpnList {
            var index = 0
            while let name = alpnList[index] {
                free(UnsafeMutablePointer(mutating: name))
                index += 1
            }
            alpnList.deallocate()
        }
        if let tickets {
            mbedtls_ssl_ticket_free(tickets)
            tickets.deallocate()
        }
        chosenSuites?.deallocate()
    }

    /// DTLS 1.2 only, AEAD suites, renegotiation off, anti-replay on, extended master secret.
    private func applyStrictDefaults(suites: UnsafeMutablePointer<Int32>) {
        let random = RandomSource.shared
        mbedtls_ssl_conf_rng(config, random.function, random.context)
        mbedtls_ssl_conf_min_version(config, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3)
        mbedtls_ssl_conf_max_version(config, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3)
        mbedtls_ssl_conf_ciphersuites(config, suites)
        mbedtls_ssl_conf_curves(config, Self.curves)
        mbedtls_ssl_conf_renegotiation(config, MBEDTLS_SSL_RENEGOTIATION_DISABLED)
        mbedtls_ssl_conf_dtls_anti_replay(config, CChar(MBEDTLS_SSL_ANTI_REPLAY_ENABLED))
        mbedtls_ssl_conf_dtls_badmac_limit(config, Self.badMACLimit)
        mbedtls_ssl_conf_extended_master_secret(config, CChar(MBEDTLS_SSL_EXTENDED_MS_ENABLED))
        mbedtls_ssl_conf_handshake_timeout(config, tuning.handshakeTimeoutMin, tuning.handshakeTimeoutMax)
    }

    /// ALPN, pre-shared keys, session tickets and the key log.
    private func applyBeyondGodot() throws(Failure) {
        let context = Unmanaged.passUnretained(self).toOpaque()
        if !tuning.alpnProtocols.isEmpty {
            let list = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: tuning.alpnProtocols.count + 1)
            for (index, name) in tuning.alpnProtocols.enumerated() { list[index] = UnsafePointer(strdup(name)) }
            list[tuning.alpnProtocols.count] = nil
            alpnList = list
            let rc = mbedtls_ssl_conf_alpn_protocols(config, list)
            guard rc == 0 else { throw Failure(.invalidParameter, "ALPN: \(MbedTLSError.describe(rc))") }
        }
        if role == .client, let identity = tuning.pskIdentity, let key = tuning.pskKey?.bytes {
            let rc = mbedtls_ssl_conf_psk(config, key.baseAddress, key.count, identity, identity.utf8.count)
            guard rc == 0 else { throw Failure(.invalidParameter, "PSK: \(MbedTLSError.describe(rc))") }
        }
        if role == .server, !tuning.pskTable.isEmpty {
            mbedtls_ssl_conf_psk_cb(config, configurationLookUpPSK, context)
        }
        if role == .server, tuning.sessionTickets {
            let keys = UnsafeMutablePointer<mbedtls_ssl_ticket_context>.allocate(capacity: 1)
            mbedtls_ssl_ticket_init(keys)
            let random = RandomSource.shared
            let rc = mbedtls_ssl_ticket_setup(keys, random.function, random.context, MBEDTLS_CIPHER_AES_256_GCM,
                                              Self.ticketLifetimeSeconds)
            tickets = keys
            guard rc == 0 else { throw Failure(.failed, "session tickets: \(MbedTLSError.describe(rc))") }
            mbedtls_ssl_conf_session_tickets_cb(config, mbedtls_ssl_ticket_write, mbedtls_ssl_ticket_parse,
                                                UnsafeMutableRawPointer(keys))
        }
        if tuning.keyLog != nil {
            mbedtls_ssl_conf_export_keys_ext_cb(config, configurationExportKeys, context)
        }
    }

    // MARK: Factories

    /// A client configuration. `client` options verify the chain (given or system) and the name;
    /// `clientUnsafe` verifies the chain only if one is given; pins add a check on the server's
    /// public key, and with no chain at all they decide alone; a PSK needs no certificates.
    static func client(options: TLSOptions) throws(Failure) -> DTLSConfiguration {
        let tuning = options.currentTuning()
        var plan = Plan()
        plan.ownIdentity = tuning.clientIdentity
        switch options.mode {
        case .server:
            throw Failure(.invalidParameter, "connect_to_peer needs client options, not server options")
        case .client where tuning.pskIdentity != nil:
            plan.suites = pskSuites
            let chosen = tuning.cipherSuites ?? []
            if chosen.contains(where: certificateSuiteIDs.contains) {
                // Certificate suites chosen beside the PSK ones: the server may pick either kind, and a
                // certificate is then verified as `client()` options verify it (system CA bundle, name).
                plan.trust = try trustedChain(of: options)
                plan.authMode = MBEDTLS_SSL_VERIFY_REQUIRED
                plan.verifiesName = true
                plan.verifiesChain = true
            }
        case .client:
            plan.trust = try trustedChain(of: options)
            plan.authMode = MBEDTLS_SSL_VERIFY_REQUIRED
            plan.verifiesName = true
            plan.verifiesChain = true
        case .clientUnsafe:
            if let chain = options.trustedChain?.currentChain() {
                plan.trust = chain
                plan.authMode = MBEDTLS_SSL_VERIFY_REQUIRED
                plan.verifiesChain = true
            } else if !tuning.pinnedPublicKeys.isEmpty {
                // mbedTLS verifies against nothing and carries on; the pin check rejects strangers.
                plan.authMode = MBEDTLS_SSL_VERIFY_OPTIONAL
                plan.verifiesChain = true
                plan.trustsPinsOnly = true
            }
        }
        plan.chosenSuites = try checkedChoice(tuning.cipherSuites,
                                              certificates: tuning.pskIdentity == nil || plan.verifiesChain,
                                              psk: tuning.pskIdentity != nil, role: .client)
        return try DTLSConfiguration(role: .client, tuning: tuning, plan: plan)
    }

    /// The caller's suite choice, refused when it holds a suite these options can't authenticate
    /// (a PSK suite without a pre-shared key, a certificate suite on a PSK-only server): such a
    /// suite would fail at best, and at worst connect to a peer nobody verified.
    private static func checkedChoice(_ chosen: [Int32]?, certificates: Bool, psk: Bool,
                                      role: Role) throws(Failure) -> [Int32]? {
        guard let chosen else { return nil }
        let name = { (id: Int32) in
            mbedtls_ssl_get_ciphersuite_name(id).map { String(cString: $0) } ?? "suite \(id)"
        }
        if !psk, let suite = chosen.first(where: pskSuiteIDs.contains) {
            throw Failure(.invalidParameter, "cipher suites: \(name(suite)) needs a pre-shared key, and these "
                + (role == .client ? "client options have none (use TLSOptions.client_psk)"
                                   : "server options have none (add_psk)"))
        }
        if !certificates, let suite = chosen.first(where: certificateSuiteIDs.contains) {
            throw Failure(.invalidParameter, "cipher suites: \(name(suite)) needs a certificate, and these "
                + "server options have none (a PSK-only server offers PSK suites only)")
        }
        return chosen
    }

    /// A server configuration presenting `chain` (leaf first) with `key` (both nil for a PSK-only
    /// server), with a fresh cookie secret and, unless turned off, session tickets.
    static func server(key: KeyMaterial?, chain: CertificateChain?, tuning: TLSOptions.Tuning)
        throws(Failure) -> DTLSConfiguration {
        var plan = Plan()
        if let key, let chain {
            guard !key.isPublicOnly else {
                throw Failure(.invalidParameter, "the server key holds no private key")
            }
            let rc = mbedtls_pk_check_pair(&chain.crt.pointee.pk, key.pk)
            guard rc == 0 else {
                throw Failure(.invalidParameter,
                                         "the private key does not match the certificate: \(MbedTLSError.describe(rc))")
            }
            plan.ownIdentity = (key, chain)
            plan.suites = tuning.pskTable.isEmpty ? certificateSuites : allSuites
        } else {
            guard !tuning.pskTable.isEmpty else {
                throw Failure(.invalidParameter, "a server needs a key and certificate, or PSK identities")
            }
            plan.suites = pskSuites
        }
        plan.chosenSuites = try checkedChoice(tuning.cipherSuites, certificates: plan.ownIdentity != nil,
                                              psk: !tuning.pskTable.isEmpty, role: .server)
        if tuning.clientCertificateMode == .require, !tuning.pskTable.isEmpty {
            throw Failure(.invalidParameter, "client certificate mode REQUIRE insists on a certificate, which "
                + "a PSK handshake never carries: these options also hold PSK identities (add_psk). Serve "
                + "PSK clients from other options, or use REQUEST and check get_verify_flags()")
        }
        switch tuning.clientCertificateMode {
        case .none: break
        case .request: plan.authMode = MBEDTLS_SSL_VERIFY_OPTIONAL
        case .require: plan.authMode = MBEDTLS_SSL_VERIFY_REQUIRED
        }
        if tuning.clientCertificateMode != .none {
            plan.trust = tuning.clientCertificateAuthorities
            plan.verifiesChain = true
        }
        guard let cookies = CookieSecret() else { throw Failure(.failed, ErrorReport.message) }
        plan.cookies = cookies
        return try DTLSConfiguration(role: .server, tuning: tuning, plan: plan)
    }

    private static func trustedChain(of options: TLSOptions) throws(Failure) -> CertificateChain {
        if let given = options.trustedChain {
            guard let chain = given.currentChain() else {
                throw Failure(.invalidParameter, "the trusted CA chain is empty")
            }
            return chain
        }
        guard let system = SystemTrustStore.chain() else { throw Failure(.unconfigured, ErrorReport.message) }
        return system
    }

    // MARK: Callbacks

    /// A server's PSK lookup: the identity's key for this handshake, or refusal.
    fileprivate func lookUpPSK(_ ssl: UnsafeMutablePointer<mbedtls_ssl_context>, identity: String) -> Int32 {
        guard let key = tuning.pskTable[identity] else { return -1 }
        return mbedtls_ssl_set_hs_psk(ssl, key.bytes.baseAddress, key.bytes.count)
    }

    /// Appends "CLIENT_RANDOM <client random> <master secret>" to the key log (NSS format).
    fileprivate func exportKeys(masterSecret: UnsafePointer<UInt8>, clientRandom: UnsafePointer<UInt8>) {
        guard let keyLog = tuning.keyLog else { return }
        func hex(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> String {
            UnsafeBufferPointer(start: bytes, count: count).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        }
        let line = "CLIENT_RANDOM \(hex(clientRandom, 32)) \(hex(masterSecret, 48))\n"
        keyLog.append(line)
    }
}

private func configuration(_ context: UnsafeMutableRawPointer?) -> DTLSConfiguration {
    Unmanaged<DTLSConfiguration>.fromOpaque(context!).takeUnretainedValue()
}

private let configurationLookUpPSK: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<mbedtls_ssl_context>?,
                                                    UnsafePointer<UInt8>?, Int) -> Int32 = {
    context, ssl, identity, length in
    guard let ssl, let identity else { return -1 }
    let name = String(decoding: UnsafeBufferPointer(start: identity, count: length), as: UTF8.self)
    return configuration(context).lookUpPSK(ssl, identity: name)
}

private let configurationExportKeys: @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<UInt8>?,
                                                     UnsafePointer<UInt8>?, Int, Int, Int, UnsafePointer<UInt8>?,
                                                     UnsafePointer<UInt8>?, mbedtls_tls_prf_types) -> Int32 = {
    context, masterSecret, _, _, _, _, clientRandom, _, _ in
    if let masterSecret, let clientRandom {
        configuration(context).exportKeys(masterSecret: masterSecret, clientRandom: clientRandom)
    }
    return 0
}

