// Crypto+KeyGeneration.swift — new RSA and EC P-256 private keys.

internal import CMbedTLS

extension Crypto {
    /// The RSA sizes accepted, as Godot's documentation gives them.
    public static let rsaSizeRange = 1024...8192

    /// A new RSA private key of `sizeBits` (even, 1024...8192) with e = 65537. Slow for big sizes.
    public static func generateRSA(sizeBits: Int) -> CryptoKey? {
        guard rsaSizeRange.contains(sizeBits), sizeBits % 2 == 0 else {
            ErrorReport.fail(.invalidParameter, "generate_rsa: \(sizeBits) bits is not an even size in 1024...8192")
            return nil
        }
        return generate("generate_rsa", type: MBEDTLS_PK_RSA) { pk in
            mbedtls_rsa_gen_key(mbedtls_pk_rsa(pk.pointee), RandomSource.shared.function, RandomSource.shared.context,
                                UInt32(sizeBits), 65537)
        }
    }

    /// A new EC private key on P-256 (secp256r1): quick to make, and the fast choice for handshakes.
    public static func generateECP256() -> CryptoKey? {
        generate("generate_ec_p256", type: MBEDTLS_PK_ECKEY) { pk in
            mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(pk.pointee),
                                RandomSource.shared.function, RandomSource.shared.context)
        }
    }

    private static func generate(_ function: String, type: mbedtls_pk_type_t,
                                 _ fill: (UnsafeMutablePointer<mbedtls_pk_context>) -> Int32) -> CryptoKey? {
        do {
            let material = try KeyMaterial.make(publicOnly: false) { pk in
                let rc = mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(type))
                return rc != 0 ? rc : fill(pk)
            }
            return CryptoKey(material: material)
        } catch {
            ErrorReport.fail(.failed, "\(function): \(MbedTLSError.describe(error.code))")
            return nil
        }
    }
}
