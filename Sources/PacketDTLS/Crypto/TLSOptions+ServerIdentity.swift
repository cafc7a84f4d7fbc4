// TLSOptions+ServerIdentity.swift — checking a server identity before anything is set up with it.

internal import CMbedTLS

extension TLSOptions {
    /// Checks that `key` holds a private key, `certificate` holds a chain, and the key belongs to the
    /// chain's first (leaf) certificate. A mismatch is caught here, with a sentence, rather than as a
    /// handshake failure later. ERR_INVALID_PARAMETER with the reason recorded, or OK.
    public static func checkServerIdentity(key: CryptoKey, certificate: X509Certificate) -> GodotError {
        guard let material = key.currentMaterial() else {
            return ErrorReport.fail(.invalidParameter, "server identity: the private key is empty")
        }
        guard !material.isPublicOnly else {
            return ErrorReport.fail(.invalidParameter, "server identity: the key holds only a public key")
        }
        guard let chain = certificate.currentChain() else {
            return ErrorReport.fail(.invalidParameter, "server identity: the certificate is empty")
        }
        let rc = withExtendedLifetime(chain) {
            mbedtls_pk_check_pair(&chain.crt.pointee.pk, material.pk)
        }
        guard rc == 0 else {
            return ErrorReport.fail(.invalidParameter,
                                    "server identity: the private key does not belong to the certificate "
                                    + "(\(MbedTLSError.describe(rc)))")
        }
        return .ok
    }
}
