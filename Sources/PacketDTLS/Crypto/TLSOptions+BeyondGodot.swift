// TLSOptions+BeyondGodot.swift — what Godot's TLSOptions lacks: ALPN, pinning, client
// certificates, revocation, pre-shared keys, session tickets and a key log.
//
// Each setter validates its input and records a sentence on failure; sessions copy the settings
// when they start.

internal import CMbedTLS
#if canImport(Glibc)
import Glibc
#endif

extension TLSOptions {
    // MARK: Pre-shared keys

    /// Client options that authenticate with a pre-shared key instead of certificates
    /// (ECDHE-PSK and PSK suites with AEAD ciphers). nil when the identity or key is unusable.
    public static func clientPSK(identity: String, key: [UInt8]) -> TLSOptions? {
        guard validPSK(identity: identity, key: key) else { return nil }
        let options = TLSOptions(mode: .client, trustedChain: nil, commonNameOverride: "", privateKey: nil,
                                 ownCertificate: nil)
        options.updateTuning {
            $0.pskIdentity = identity
            $0.pskKey = PreSharedKey(copying: key)
        }
        return options
    }

    /// Server options that accept clients by pre-shared key only; add identities with `addPSK`.
    public static func serverPSK() -> TLSOptions {
        TLSOptions(mode: .server, trustedChain: nil, commonNameOverride: "", privateKey: nil, ownCertificate: nil)
    }

    /// Lets a server accept `identity` with `key` (a certificate server then takes PSK clients too).
    @discardableResult
    public func addPSK(identity: String, key: [UInt8]) -> GodotError {
        guard isServer() else { return ErrorReport.fail(.invalidParameter, "add_psk: only server options hold a PSK table") }
        guard Self.validPSK(identity: identity, key: key) else { return .invalidParameter }
        updateTuning { $0.pskTable[identity] = PreSharedKey(copying: key) }
        return .ok
    }

    private static func validPSK(identity: String, key: [UInt8]) -> Bool {
        guard !identity.isEmpty, identity.utf8.count <= 128 else {
            ErrorReport.set("PSK identity must be 1 to 128 bytes, got \(identity.utf8.count)")
            return false
        }
        guard (1...32).contains(key.count) else {
            ErrorReport.set("PSK key must be 1 to 32 bytes (mbedTLS's limit), got \(key.count)")
            return false
        }
        return true
    }

    /// True when these options authenticate (also) by pre-shared key.
    var usesPSK: Bool {
        let tuning = currentTuning()
        return tuning.pskIdentity != nil || !tuning.pskTable.isEmpty
    }

    // MARK: ALPN

    /// Protocols offered by a client, or accepted by a server, in order of preference.
    @discardableResult
    public func setALPNProtocols(_ protocols: [String]) -> GodotError {
        guard protocols.count <= 16,
              protocols.allSatisfy({ (1...255).contains($0.utf8.count) && !$0.utf8.contains(0) }) else {
            return ErrorReport.fail(.invalidParameter,
                                    "ALPN: up to 16 protocol names of 1 to 255 bytes each (no NUL), got \(protocols)")
        }
        updateTuning { $0.alpnProtocols = protocols }
        return .ok
    }

    // MARK: Pinning

    /// Accepts the peer only if the SHA-256 of its SubjectPublicKeyInfo is one of the pinned ones.
    /// With a trusted chain both must hold; with `clientUnsafe()` the pin alone decides.
    @discardableResult
    public func pinPublicKey(sha256 digest: [UInt8]) -> GodotError {
        guard !isServer() else {
            return ErrorReport.fail(.invalidParameter, "pin: pins check the server's key and belong on client "
                + "options; a server checks client certificates with set_client_certificate_mode(REQUIRE, authorities)")
        }
        guard digest.count == 32 else {
            return ErrorReport.fail(.invalidParameter, "pin: a SHA-256 digest has 32 bytes, got \(digest.count)")
        }
        updateTuning { if !$0.pinnedPublicKeys.contains(digest) { $0.pinnedPublicKeys.append(digest) } }
        return .ok
    }

    /// Pins the public key of `certificate`'s leaf.
    @discardableResult
    public func pinPublicKey(of certificate: X509Certificate) -> GodotError {
        guard !isServer() else { return pinPublicKey(sha256: []) }
        guard let leaf = certificate.certificates.first else {
            return ErrorReport.fail(.invalidParameter, "pin: the certificate is empty")
        }
        return pinPublicKey(sha256: leaf.publicKeySHA256)
    }

    // MARK: Client certificates

    /// The certificate and key a client presents when a server asks for one.
    @discardableResult
    public func setClientCertificate(key: CryptoKey, certificate: X509Certificate) -> GodotError {
        guard !isServer() else {
            return ErrorReport.fail(.invalidParameter, "client certificate: these are server options")
        }
        guard Self.checkServerIdentity(key: key, certificate: certificate) == .ok,
              let material = key.currentMaterial(), let chain = certificate.currentChain() else {
            return .invalidParameter
        }
        updateTuning { $0.clientIdentity = (material, chain) }
        return .ok
    }

    /// Makes a server request (or require) client certificates issued by `authorities`.
    @discardableResult
    public func setClientCertificateMode(_ mode: ClientCertificateMode, authorities: X509Certificate?) -> GodotError {
        guard isServer() else {
            return ErrorReport.fail(.invalidParameter, "client certificate mode: these are client options")
        }
        let chain = authorities?.currentChain()
        guard mode == .none || chain != nil else {
            return ErrorReport.fail(.invalidParameter, "client certificate mode: a trusted chain is needed")
        }
        updateTuning {
            $0.clientCertificateMode = mode
            $0.clientCertificateAuthorities = chain
        }
        return .ok
    }

    // MARK: Revocation

    /// Checks peers' certificates against these CRLs (PEM or DER text/bytes).
    @discardableResult
    public func loadCRLFromString(_ pem: String) -> GodotError {
        guard let list = RevocationList.parse(Array(pem.utf8), source: "CRL") else { return .parseError }
        updateTuning { $0.revocationList = list }
        return .ok
    }

    /// As loadCRLFromString, from a file.
    @discardableResult
    public func loadCRL(path: String) -> GodotError {
        let contents: SensitiveBytes
        do { contents = try FileIO.readAll(path: path) } catch { return error.report() }
        guard let list = RevocationList.parse(Array(contents.bytes), source: path) else { return .parseError }
        updateTuning { $0.revocationList = list }
        return .ok
    }

    // MARK: Cipher suites

    /// Narrows or reorders the cipher suites, by IANA name ("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256";
    /// dashes work too). Only the AEAD suites PacketDTLS allows are accepted: the defaults, and the AES-CCM
    /// ones constrained devices and CoAP use ("TLS_PSK_WITH_AES_128_CCM_8",
    /// "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8", CCM, 256-bit), which are offered only when named here.
    /// An empty list restores the default order (ChaCha20-Poly1305, then AES-GCM).
    @discardableResult
    public func setCipherSuites(_ names: [String]) -> GodotError {
        var chosen: [Int32] = []
        for name in names {
            let id = CipherSuiteName.id(name)
            guard id != 0, DTLSConfiguration.allowedSuiteIDs.contains(id) else {
                return ErrorReport.fail(.invalidParameter, "cipher suites: '\(name)' is not one of the AEAD suites "
                    + "PacketDTLS allows (\(DTLSConfiguration.allowedSuiteNames.joined(separator: ", ")))")
            }
            if !chosen.contains(id) { chosen.append(id) }
        }
        updateTuning { $0.cipherSuites = chosen.isEmpty ? nil : chosen }
        return .ok
    }

    // MARK: Extended master secret

    /// Whether a handshake must agree on the extended master secret (RFC 7627); true by default,
    /// on both sides. A peer that does not support it is refused with a handshake_failure alert and
    /// a sentence naming it. `false` admits old peers (EMS is still offered and used when they can):
    /// their sessions lose the binding of the master secret to the handshake, so a man in the middle
    /// who can make them connect to him may synchronise two sessions (the triple handshake attack).
    @discardableResult
    public func setExtendedMasterSecretRequired(_ required: Bool) -> GodotError {
        updateTuning { $0.requiresExtendedMasterSecret = required }
        return .ok
    }

    public var isExtendedMasterSecretRequired: Bool { currentTuning().requiresExtendedMasterSecret }

    // MARK: Session tickets and the key log

    /// Whether a server issues session tickets (on by default).
    @discardableResult
    public func setSessionTickets(_ enabled: Bool) -> GodotError {
        updateTuning { $0.sessionTickets = enabled }
        return .ok
    }

    /// Appends each session's secrets to `path` in the NSS key log format (what SSLKEYLOGFILE
    /// names for browsers), so Wireshark/tshark can decrypt a capture. Empty turns it off.
    /// The file is opened here, once (see KeyLogFile): created mode 0600, and refused with an error
    /// when it can't be opened for appending, is a symlink, or exists readable by others or owned
    /// by another user. Keep it as secret as a private key.
    @discardableResult
    public func setKeyLogPath(_ path: String) -> GodotError {
        guard !path.isEmpty else {
            updateTuning { $0.keyLog = nil }
            return .ok
        }
        do {
            let file = try KeyLogFile(path: path)
            updateTuning { $0.keyLog = file }
            return .ok
        } catch {
            return error.report()
        }
    }
}

extension TLSOptions {
    // MARK: Keepalive

    /// Peers started with these options send a keepalive (their Finished record again: a duplicate the
    /// other side drops silently, hearing a live peer, and never surfaces as a packet) whenever nothing was sent for
    /// `ms`; 0 turns it off (the default, as in Godot). A server's peers take it from the server's options.
    @discardableResult
    public func setKeepalive(ms: UInt32) -> GodotError {
        updateTuning { $0.keepalive = ms }
        return .ok
    }

    public var keepalive: UInt32 { currentTuning().keepalive }
}
