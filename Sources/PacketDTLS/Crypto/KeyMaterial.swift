// KeyMaterial.swift — one parsed key, immutable once made.

internal import CMbedTLS

/// An mbedTLS key context at a fixed heap address. A CryptoKey points at one KeyMaterial and
/// swaps it whole when loaded again, so a DTLS configuration that holds the old material keeps
/// using it safely. The key bytes are zeroized by mbedtls_pk_free when the last holder lets go.
final class KeyMaterial: @unchecked Sendable {
    let pk: UnsafeMutablePointer<mbedtls_pk_context>
    /// True when only the public half is present.
    let isPublicOnly: Bool

    /// Takes ownership of an initialised, filled context.
    init(takingOwnershipOf pk: UnsafeMutablePointer<mbedtls_pk_context>, isPublicOnly: Bool) {
        self.pk = pk
        self.isPublicOnly = isPublicOnly
    }

    deinit {
        mbedtls_pk_free(pk)
        pk.deallocate()
    }
}
