// KeyMaterial+Encoding.swift — parsing keys from PEM/DER and writing them as PEM.

internal import CMbedTLS

extension KeyMaterial {
    /// Parses a private key (or, with `publicOnly`, a public key) from PEM or DER bytes. PEM must
    /// end in a NUL (SensitiveBytes.terminatePEM). With `publicOnly`, a private key is accepted
    /// too and only its public half is kept, as Godot's documentation promises.
    static func parse(_ input: SensitiveBytes, publicOnly: Bool, source: String) throws(Failure) -> KeyMaterial {
        let bytes = input.bytes
        if publicOnly {
            let publicCode: Int32
            do { return try parsePublic(bytes) } catch { publicCode = error.code }
            if let full = try? parsePrivate(bytes) { return try full.publicHalf() }
            throw Failure(.parseError, "\(source) holds no public key: \(MbedTLSError.describe(publicCode))")
        }
        do {
            return try parsePrivate(bytes)
        } catch {
            if (try? parsePublic(bytes)) != nil {
                throw Failure(.parseError, "\(source) holds a public key only; load it with public_only = true")
            }
            throw Failure(.parseError, "\(source) holds no private key: \(MbedTLSError.describe(error.code))")
        }
    }

    /// The raw mbedTLS code of a failed parse.
    struct ParseCode: Error { let code: Int32 }

    private static func parsePrivate(_ bytes: UnsafeBufferPointer<UInt8>) throws(ParseCode) -> KeyMaterial {
        try make(publicOnly: false) { pk in mbedtls_pk_parse_key(pk, bytes.baseAddress, bytes.count, nil, 0) }
    }

    private static func parsePublic(_ bytes: UnsafeBufferPointer<UInt8>) throws(ParseCode) -> KeyMaterial {
        try make(publicOnly: true) { pk in mbedtls_pk_parse_public_key(pk, bytes.baseAddress, bytes.count) }
    }

    /// Runs `fill` on a fresh context and wraps it; frees the context when `fill` fails or leaves
    /// a key type this library does not handle.
    static func make(publicOnly: Bool,
                     _ fill: (UnsafeMutablePointer<mbedtls_pk_context>) -> Int32) throws(ParseCode) -> KeyMaterial {
        let pk = UnsafeMutablePointer<mbedtls_pk_context>.allocate(capacity: 1)
        mbedtls_pk_init(pk)
        let rc = fill(pk)
        let type = mbedtls_pk_get_type(pk)
        let supported = [MBEDTLS_PK_RSA, MBEDTLS_PK_ECKEY, MBEDTLS_PK_ECKEY_DH, MBEDTLS_PK_ECDSA].contains(type)
        guard rc == 0, supported else {
            mbedtls_pk_free(pk)
            pk.deallocate()
            throw ParseCode(code: rc != 0 ? rc : MBEDTLS_ERR_PK_UNKNOWN_PK_ALG)
        }
        return KeyMaterial(takingOwnershipOf: pk, isPublicOnly: publicOnly)
    }

    /// A new material holding only the public half of this one.
    func publicHalf() throws(Failure) -> KeyMaterial {
        let der = try publicKeyDER()
        do {
            return try der.withUnsafeBufferPointer { bytes throws(ParseCode) in
                try Self.make(publicOnly: true) { pk in
                    mbedtls_pk_parse_public_key(pk, bytes.baseAddress, bytes.count)
                }
            }
        } catch {
            throw Failure(.failed, "can't extract the public key: \(MbedTLSError.describe(error.code))")
        }
    }

    /// The SubjectPublicKeyInfo in DER.
    func publicKeyDER() throws(Failure) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let written = mbedtls_pk_write_pubkey_der(pk, &buffer, buffer.count)
        guard written > 0 else {
            throw Failure(.failed, "can't encode the public key: \(MbedTLSError.describe(written))")
        }
        // mbedTLS writes DER at the end of the buffer.
        return Array(buffer.suffix(Int(written)))
    }

    /// The key as PEM: the private key (PKCS#1 for RSA, SEC1 for EC, as mbedTLS writes them), or
    /// the public key (SubjectPublicKeyInfo). The text is NUL-terminated in a wiped buffer.
    func pem(publicOnly: Bool) throws(Failure) -> SensitiveBytes {
        if !publicOnly && isPublicOnly {
            throw Failure(.invalidParameter, "the key holds only a public key; save it with public_only = true")
        }
        var capacity = 4096
        while true {
            let output = SensitiveBytes(capacity: capacity)
            let rc = publicOnly ? mbedtls_pk_write_pubkey_pem(pk, output.base, capacity)
                                : mbedtls_pk_write_key_pem(pk, output.base, capacity)
            if rc == 0 {
                // mbedTLS NUL-terminates the text; the NUL is not part of the PEM.
                output.count = UnsafeBufferPointer(start: output.base, count: capacity).firstIndex(of: 0) ?? capacity
                return output
            }
            let tooSmall = rc == MBEDTLS_ERR_ASN1_BUF_TOO_SMALL || rc == MBEDTLS_ERR_BASE64_BUFFER_TOO_SMALL
            guard tooSmall, capacity < 1 << 20 else {
                throw Failure(.failed, "can't encode the key as PEM: \(MbedTLSError.describe(rc))")
            }
            capacity *= 4
        }
    }

    /// "RSA 2048-bit" or "EC 256-bit", for messages.
    var summary: String {
        let name = String(cString: mbedtls_pk_get_name(pk))
        return "\(name) \(mbedtls_pk_get_bitlen(pk))-bit"
    }

    var isRSA: Bool { mbedtls_pk_get_type(pk) == MBEDTLS_PK_RSA }
}
