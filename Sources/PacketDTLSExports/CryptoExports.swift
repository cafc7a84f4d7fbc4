// CryptoExports.swift — the Crypto section of include/packetdtls.h.
//
// The Swift Crypto functions return nil or false on failure with the reason recorded; these
// exports check what C adds (NULL pointers, handles, lengths) and report the rest as DTLS_FAILED.

import PacketDTLS

/// Checks that `hash` has the length its type demands, recording the reason when not.
private func hashMatches(_ hashType: HashType, _ hashLength: Int, _ function: StaticString) -> Bool {
    guard let expected = hashType.digestLength else {
        ErrorReport.fail(.invalidParameter, "\(function): hash type \(hashType.rawValue) is not MD5, SHA-1 or SHA-256")
        return false
    }
    guard hashLength == expected else {
        ErrorReport.fail(.invalidParameter, "\(function): this hash type needs \(expected) bytes, not \(hashLength)")
        return false
    }
    return true
}

/// Checks (cap, out_len) before any work is done: out_len present, cap a size (recording the reason).
private func outputUsable(_ cap: Int, _ outLength: UnsafeMutablePointer<Int>?, _ function: StaticString) -> Bool {
    guard outLength != nil else {
        ErrorReport.set("\(function): out_len is NULL")
        return false
    }
    return CBuffers.size(cap, function, "cap") != nil
}

/// Hands a result out through (buf, cap, *out_len); a failed operation (nil) is DTLS_FAILED with
/// *out_len = 0 and the reason the operation recorded.
private func deliver(_ result: [UInt8]?, _ buf: UnsafeMutablePointer<UInt8>?, _ cap: Int,
                     _ outLength: UnsafeMutablePointer<Int>?, _ function: StaticString) -> GodotError {
    guard let result else {
        outLength?.pointee = 0
        return .failed
    }
    return CBuffers.writeBytes(result, buf, cap, outLength, function: function)
}

/// encrypt and decrypt: the key and input checked, `operation` run, its result handed out.
private func rsa(_ key: OpaquePointer?, _ data: UnsafePointer<UInt8>?, _ length: Int,
                 _ buf: UnsafeMutablePointer<UInt8>?, _ cap: Int, _ outLength: UnsafeMutablePointer<Int>?,
                 _ function: StaticString, _ name: String,
                 _ operation: (CryptoKey, [UInt8]) -> [UInt8]?) -> GodotError {
    guard let object = lookUpKey(key, function) else { return .invalidParameter }
    guard let input = CBuffers.bytes(data, length, function, name) else { return .invalidParameter }
    guard outputUsable(cap, outLength, function) else { return .invalidParameter }
    return deliver(operation(object, input), buf, cap, outLength, function)
}

/// Fills buf with `size` random bytes from the library's CTR-DRBG.
@c @implementation
public func dtls_crypto_generate_random_bytes(_ buf: UnsafeMutablePointer<UInt8>!, _ size: Int) -> GodotError {
    guard let size = CBuffers.size(size, "dtls_crypto_generate_random_bytes", "size") else { return .invalidParameter }
    guard size > 0 else { return .ok }
    guard let buf else {
        return ErrorReport.fail(.invalidParameter, "dtls_crypto_generate_random_bytes: buf is NULL")
    }
    return Crypto.fillRandomBytes(UnsafeMutableRawBufferPointer(start: buf, count: size)) ? .ok : .failed
}

/// A new RSA private key handle (e = 65537), or NULL with the reason recorded.
@c @implementation
public func dtls_crypto_generate_rsa(_ sizeBits: Int32) -> OpaquePointer! {
    guard let key = Crypto.generateRSA(sizeBits: Int(sizeBits)) else { return nil }
    return handles.issue(key, as: .key)
}

/// A new EC P-256 private key handle, or NULL with the reason recorded.
@c @implementation
public func dtls_crypto_generate_ec_p256() -> OpaquePointer! {
    guard let key = Crypto.generateECP256() else { return nil }
    return handles.issue(key, as: .key)
}

/// A new self-signed certificate handle for a private key; NULL arguments take Godot's defaults.
@c @implementation
public func dtls_crypto_generate_self_signed_certificate(_ key: OpaquePointer!, _ issuerName: UnsafePointer<CChar>!,
                                                         _ notBefore: UnsafePointer<CChar>!,
                                                         _ notAfter: UnsafePointer<CChar>!) -> OpaquePointer! {
    guard let object = lookUpKey(key, "dtls_crypto_generate_self_signed_certificate") else { return nil }
    guard let certificate = Crypto.generateSelfSignedCertificate(
        key: object,
        issuerName: CBuffers.string(issuerName) ?? "CN=myserver,O=myorganisation,C=IT",
        notBefore: CBuffers.string(notBefore) ?? "20140101000000",
        notAfter: CBuffers.string(notAfter) ?? "20340101000000"
    ) else { return nil }
    return handles.issue(certificate, as: .cert)
}

/// Signs a digest with a private key into (buf, cap, *out_len).
@c @implementation
public func dtls_crypto_sign(_ hashType: HashType, _ hash: UnsafePointer<UInt8>!, _ hashLength: Int,
                             _ key: OpaquePointer!, _ buf: UnsafeMutablePointer<UInt8>!, _ cap: Int,
                             _ outLength: UnsafeMutablePointer<Int>!) -> GodotError {
    let function: StaticString = "dtls_crypto_sign"
    guard let object = lookUpKey(key, function) else { return .invalidParameter }
    guard let digest = CBuffers.bytes(hash, hashLength, function, "hash"),
          hashMatches(hashType, hashLength, function) else { return .invalidParameter }
    guard outputUsable(cap, outLength, function) else { return .invalidParameter }
    return deliver(Crypto.sign(hashType: hashType, hash: digest, key: object), buf, cap, outLength, function)
}

/// True when a signature over a digest verifies with the key; false for any failure or bad argument.
@c @implementation
public func dtls_crypto_verify(_ hashType: HashType, _ hash: UnsafePointer<UInt8>!, _ hashLength: Int,
                               _ signature: UnsafePointer<UInt8>!, _ signatureLength: Int,
                               _ key: OpaquePointer!) -> Bool {
    let function: StaticString = "dtls_crypto_verify"
    guard let object = lookUpKey(key, function),
          let digest = CBuffers.bytes(hash, hashLength, function, "hash"), hashMatches(hashType, hashLength, function),
          let signatureBytes = CBuffers.bytes(signature, signatureLength, function, "signature") else { return false }
    return Crypto.verify(hashType: hashType, hash: digest, signature: signatureBytes, key: object)
}

/// RSA PKCS#1 v1.5 encryption with the key's public half into (buf, cap, *out_len).
@c @implementation
public func dtls_crypto_encrypt(_ key: OpaquePointer!, _ plaintext: UnsafePointer<UInt8>!, _ length: Int,
                                _ buf: UnsafeMutablePointer<UInt8>!, _ cap: Int,
                                _ outLength: UnsafeMutablePointer<Int>!) -> GodotError {
    rsa(key, plaintext, length, buf, cap, outLength, "dtls_crypto_encrypt", "plaintext") {
        Crypto.encrypt(key: $0, plaintext: $1)
    }
}

/// RSA decryption with the private key into (buf, cap, *out_len).
@c @implementation
public func dtls_crypto_decrypt(_ key: OpaquePointer!, _ ciphertext: UnsafePointer<UInt8>!, _ length: Int,
                                _ buf: UnsafeMutablePointer<UInt8>!, _ cap: Int,
                                _ outLength: UnsafeMutablePointer<Int>!) -> GodotError {
    rsa(key, ciphertext, length, buf, cap, outLength, "dtls_crypto_decrypt", "ciphertext") {
        Crypto.decrypt(key: $0, ciphertext: $1)
    }
}

/// HMAC of a message under a key into (buf, cap, *out_len).
@c @implementation
public func dtls_crypto_hmac_digest(_ hashType: HashType, _ key: UnsafePointer<UInt8>!, _ keyLength: Int,
                                    _ msg: UnsafePointer<UInt8>!, _ msgLength: Int,
                                    _ buf: UnsafeMutablePointer<UInt8>!, _ cap: Int,
                                    _ outLength: UnsafeMutablePointer<Int>!) -> GodotError {
    let function: StaticString = "dtls_crypto_hmac_digest"
    guard hashType.digestLength != nil else { return hashMatches(hashType, 0, function) ? .ok : .invalidParameter }
    guard let keyBytes = CBuffers.bytes(key, keyLength, function, "key"),
          let message = CBuffers.bytes(msg, msgLength, function, "msg") else { return .invalidParameter }
    guard !keyBytes.isEmpty else { return ErrorReport.fail(.invalidParameter, "\(function): the key is empty") }
    guard outputUsable(cap, outLength, function) else { return .invalidParameter }
    let mac = Crypto.hmacDigest(hashType: hashType, key: keyBytes, message: message)
    return deliver(mac, buf, cap, outLength, function)
}

/// Compares two byte strings in time that depends on the length only; false when lengths differ.
@c @implementation
public func dtls_crypto_constant_time_compare(_ a: UnsafePointer<UInt8>!, _ aLength: Int,
                                              _ b: UnsafePointer<UInt8>!, _ bLength: Int) -> Bool {
    let function: StaticString = "dtls_crypto_constant_time_compare"
    guard let first = CBuffers.bytes(a, aLength, function, "a"),
          let second = CBuffers.bytes(b, bLength, function, "b") else {
        return false
    }
    return Crypto.constantTimeCompare(first, second)
}
