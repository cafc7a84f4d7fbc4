// SessionAuthentication.swift — under what a client authenticated the server of a saved session.
//
// An abbreviated handshake skips certificates, so whatever the new connection's options would have
// checked (trusted chain, pins, revocation, the hostname, the pre-shared key) is not checked again.
// A saved session therefore remembers under what its full handshake admitted the server, and is
// offered only to a connection that would check exactly that: a session from client_unsafe() is
// never offered under client(ca), nor one made for "localhost" to "bank.example".

internal import CMbedTLS

struct SessionAuthentication: Equatable, @unchecked Sendable {
    /// The chain the server was verified against (compared by identity: a reloaded or different
    /// X509Certificate is a different trust), nil when no chain was checked.
    let trust: CertificateChain?
    let revocation: RevocationList?
    /// Only a pinned key admits the server (no chain).
    let trustsPinsOnly: Bool
    let pins: Set<[UInt8]>
    /// SHA-256 of the identity and key of a PSK client; nil otherwise.
    let preSharedKey: [UInt8]?
    /// The name checked against the certificate (ASCII-lowercased), nil when none was.
    var checkedName: String?

    init(trust: CertificateChain?, tuning: TLSOptions.Tuning, trustsPinsOnly: Bool) {
        self.trust = trust
        revocation = trust == nil ? nil : tuning.revocationList
        self.trustsPinsOnly = trustsPinsOnly
        pins = Set(tuning.pinnedPublicKeys)
        if let identity = tuning.pskIdentity {
            var material = Array(identity.utf8) + [0] + tuning.pskKey
            var digest = [UInt8](repeating: 0, count: 32)
            _ = mbedtls_sha256_ret(material, material.count, &digest, 0)
            mbedtls_platform_zeroize(&material, material.count)
            preSharedKey = digest
        } else {
            preSharedKey = nil
        }
    }

    static func == (a: SessionAuthentication, b: SessionAuthentication) -> Bool {
        a.trust === b.trust && a.revocation === b.revocation && a.trustsPinsOnly == b.trustsPinsOnly
            && a.pins == b.pins && a.preSharedKey == b.preSharedKey && a.checkedName == b.checkedName
    }
}
