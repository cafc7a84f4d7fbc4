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
        if let identity = tuning.pskIdentity, let key = tuning.pskKey {
            preSharedKey = Self.digest(identity: identity, key: key)
        } else {
            preSharedKey = nil
        }
    }

    /// SHA-256 over the identity, a NUL and the key, fed piece by piece so the key is never copied
    /// out of its wiped-on-free storage.
    private static func digest(identity: String, key: PreSharedKey) -> [UInt8] {
        var context = mbedtls_sha256_context()
        mbedtls_sha256_init(&context)
        defer { mbedtls_sha256_free(&context) }
        var digest = [UInt8](repeating: 0, count: 32)
        _ = mbedtls_sha256_starts_ret(&context, 0)
        let name = Array(identity.utf8) + [0]
        _ = mbedtls_sha256_update_ret(&context, name, name.count)
        let bytes = key.bytes
        _ = mbedtls_sha256_update_ret(&context, bytes.baseAddress, bytes.count)
        _ = mbedtls_sha256_finish_ret(&context, &digest)
        return digest
    }

    static func == (a: SessionAuthentication, b: SessionAuthentication) -> Bool {
        a.trust === b.trust && a.revocation === b.revocation && a.trustsPinsOnly == b.trustsPinsOnly
            && a.pins == b.pins && a.preSharedKey == b.preSharedKey && a.checkedName == b.checkedName
    }
}
