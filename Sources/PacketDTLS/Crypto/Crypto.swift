// Crypto.swift — Godot's Crypto: random bytes, signatures, RSA encryption, HMAC, comparison.
//
// Key and certificate generation are in Crypto+KeyGeneration.swift and
// Crypto+SelfSignedCertificate.swift.

internal import CMbedTLS

/// Godot's Crypto class. It has no state of its own, so its methods are static. Each failure
/// returns nil (or false) and leaves its reason in ErrorReport.message.
public enum Crypto {
    /// `size` bytes from the library's CTR-DRBG; nil for a negative size or a DRBG failure.
    public static func generateRandomBytes(_ size: Int) -> [UInt8]? {
        guard size >= 0 else {
            ErrorReport.fail(.invalidParameter, "generate_random_bytes: size \(size) is negative")
            return nil
        }
        var bytes = [UInt8](repeating: 0, count: size)
        let filled = bytes.withUnsafeMutableBytes { RandomSource.shared.fill($0) }
        return filled ? bytes : nil
    }

    /// Fills `buffer` in place from the CTR-DRBG (no copy to wipe afterwards); false on a DRBG failure.
    public static func fillRandomBytes(_ buffer: UnsafeMutableRawBufferPointer) -> Bool {
        RandomSource.shared.fill(buffer)
    }

    // MARK: Signatures

    /// Signs `hash` (a digest of `hashType`) with the private `key`: PKCS#1 v1.5 for RSA, DER-encoded
    /// ECDSA for EC.
    public static func sign(hashType: HashType, hash: [UInt8], key: CryptoKey) -> [UInt8]? {
        do throws(Failure) {
            let digest = try checkedDigest(hashType, hash, "sign")
            let material = try privateMaterial(of: key, "sign")
            var signature = [UInt8](repeating: 0, count: signatureCapacity)
            var length = 0
            let rc = mbedtls_pk_sign(material.pk, digest.type, hash, hash.count, &signature, &length,
                                     RandomSource.shared.function, RandomSource.shared.context)
            guard rc == 0 else {
                throw Failure(.failed, "sign: \(MbedTLSError.describe(rc))")
            }
            return Array(signature.prefix(length))
        } catch {
            error.report()
            return nil
        }
    }

    /// True when `signature` over `hash` verifies with `key` (public or private).
    public static func verify(hashType: HashType, hash: [UInt8], signature: [UInt8], key: CryptoKey) -> Bool {
        do throws(Failure) {
            let digest = try checkedDigest(hashType, hash, "verify")
            let material = try anyMaterial(of: key, "verify")
            let rc = mbedtls_pk_verify(material.pk, digest.type, hash, hash.count, signature, signature.count)
            guard rc == 0 else {
                throw Failure(.failed, "verify: the signature does not match: \(MbedTLSError.describe(rc))")
            }
            return true
        } catch {
            error.report()
            return false
        }
    }

    // MARK: RSA encryption

    /// Encrypts `plaintext` with the RSA `key`'s public half, PKCS#1 v1.5 padding as Godot does.
    /// The plaintext may be at most the key's size in bytes minus 11.
    public static func encrypt(key: CryptoKey, plaintext: [UInt8]) -> [UInt8]? {
        do throws(Failure) {
            let material = try rsaMaterial(of: key, "encrypt")
            let limit = mbedtls_pk_get_bitlen(material.pk) / 8 - 11
            guard plaintext.count <= limit else {
                throw Failure(.invalidParameter, "encrypt: \(plaintext.count) bytes are more than this "
                                    + "\(material.summary) key takes (\(limit))")
            }
            var output = [UInt8](repeating: 0, count: signatureCapacity)
            var length = 0
            let rc = mbedtls_pk_encrypt(material.pk, plaintext, plaintext.count, &output, &length, output.count,
                                        RandomSource.shared.function, RandomSource.shared.context)
            guard rc == 0 else { throw Failure(.failed, "encrypt: \(MbedTLSError.describe(rc))") }
            return Array(output.prefix(length))
        } catch {
            error.report()
            return nil
        }
    }

    /// Decrypts `ciphertext` with the private RSA `key`.
    public static func decrypt(key: CryptoKey, ciphertext: [UInt8]) -> [UInt8]? {
        do throws(Failure) {
            let material = try rsaMaterial(of: key, "decrypt")
            guard !material.isPublicOnly else {
                throw Failure(.invalidParameter, "decrypt: the key holds only a public key")
            }
            var output = [UInt8](repeating: 0, count: signatureCapacity)
            defer { output.withUnsafeMutableBytes { mbedtls_platform_zeroize($0.baseAddress, $0.count) } }
            var length = 0
            let rc = mbedtls_pk_decrypt(material.pk, ciphertext, ciphertext.count, &output, &length, output.count,
                                        RandomSource.shared.function, RandomSource.shared.context)
            guard rc == 0 else { throw Failure(.failed, "decrypt: \(MbedTLSError.describe(rc))") }
            return Array(output.prefix(length))
        } catch {
            error.report()
            return nil
        }
    }

    // MARK: HMAC and comparison

    /// HMAC of `message` under `key` with `hashType`. Godot refuses an empty key, and so do we.
    public static func hmacDigest(hashType: HashType, key: [UInt8], message: [UInt8]) -> [UInt8]? {
        do throws(Failure) {
            let digest = try hashType.requireDigest()
            guard !key.isEmpty else { throw Failure(.invalidParameter, "hmac_digest: the key is empty") }
            var output = [UInt8](repeating: 0, count: digest.length)
            let rc = mbedtls_md_hmac(mbedtls_md_info_from_type(digest.type), key, key.count, message, message.count,
                                     &output)
            guard rc == 0 else { throw Failure(.failed, "hmac_digest: \(MbedTLSError.describe(rc))") }
            return output
        } catch {
            error.report()
            return nil
        }
    }

    /// Compares in time that depends only on the length, so a MAC check leaks nothing about where
    /// the bytes differ. Different lengths are simply unequal.
    public static func constantTimeCompare(_ trusted: [UInt8], _ received: [UInt8]) -> Bool {
        guard trusted.count == received.count else { return false }
        var difference: UInt8 = 0
        for index in trusted.indices {
            difference |= trusted[index] ^ received[index]
        }
        return difference == 0
    }

    // MARK: Checks shared by the methods above

    /// Room for any signature or RSA block mbedTLS produces (MBEDTLS_MPI_MAX_SIZE).
    static let signatureCapacity = 1024

    private static func checkedDigest(_ hashType: HashType, _ hash: [UInt8], _ function: String)
        throws(Failure) -> (type: mbedtls_md_type_t, length: Int, name: String) {
        let digest = try hashType.requireDigest()
        guard hash.count == digest.length else {
            throw Failure(.invalidParameter,
                                "\(function): a \(digest.name) hash is \(digest.length) bytes, not \(hash.count)")
        }
        return digest
    }

    static func anyMaterial(of key: CryptoKey, _ function: String) throws(Failure) -> KeyMaterial {
        guard let material = key.currentMaterial() else {
            throw Failure(.invalidParameter, "\(function): the key is empty")
        }
        return material
    }

    static func privateMaterial(of key: CryptoKey, _ function: String) throws(Failure) -> KeyMaterial {
        let material = try anyMaterial(of: key, function)
        guard !material.isPublicOnly else {
            throw Failure(.invalidParameter, "\(function): the key holds only a public key")
        }
        return material
    }

    private static func rsaMaterial(of key: CryptoKey, _ function: String) throws(Failure) -> KeyMaterial {
        let material = try anyMaterial(of: key, function)
        guard material.isRSA else {
            throw Failure(.invalidParameter, "\(function): needs an RSA key, not \(material.summary)")
        }
        return material
    }
}
