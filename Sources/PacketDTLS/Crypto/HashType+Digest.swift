// HashType+Digest.swift — Godot's HashType as mbedTLS digests.

internal import CMbedTLS

extension HashType {
    /// mbedTLS's digest type and its output length; nil for a number outside Godot's enum, which a C
    /// caller can pass (so this switches on the raw number, never assuming a valid case).
    var digest: (type: mbedtls_md_type_t, length: Int, name: String)? {
        switch rawValue {
        case 0: return (MBEDTLS_MD_MD5, 16, "MD5")
        case 1: return (MBEDTLS_MD_SHA1, 20, "SHA-1")
        case 2: return (MBEDTLS_MD_SHA256, 32, "SHA-256")
        default: return nil
        }
    }

    /// The digest, or a failure naming the bad number.
    func requireDigest() throws(Failure) -> (type: mbedtls_md_type_t, length: Int, name: String) {
        guard let digest else {
            throw Failure(.invalidParameter, "hash type \(rawValue) is not MD5 (0), SHA-1 (1) or SHA-256 (2)")
        }
        return digest
    }
}

extension HashType {
    /// The digest's length in bytes (16, 20, 32); nil for a number outside Godot's enum.
    public var digestLength: Int? { digest?.length }
}
