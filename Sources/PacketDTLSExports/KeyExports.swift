// KeyExports.swift — the CryptoKey section of include/packetdtls.h.

import PacketDTLS

/// A new, empty key handle.
@c @implementation
public func dtls_key_new() -> OpaquePointer! {
    handles.issue(CryptoKey(), as: .key)
}

/// Drops the caller's reference; options that hold the key keep it. NULL and stale handles are ignored.
@c @implementation
public func dtls_key_free(_ key: OpaquePointer!) {
    handles.release(key, .key)
}

/// Loads a PEM or DER key file; the key is unchanged on failure.
@c @implementation
public func dtls_key_load(_ key: OpaquePointer!, _ path: UnsafePointer<CChar>!, _ publicOnly: Bool) -> GodotError {
    guard let object = lookUpKey(key, "dtls_key_load") else { return .invalidParameter }
    guard let path = CBuffers.requiredString(path, "dtls_key_load", "path") else { return .invalidParameter }
    return object.load(path: path, publicOnly: publicOnly)
}

/// Writes the key as PEM to a file created (or narrowed) to mode 0600.
@c @implementation
public func dtls_key_save(_ key: OpaquePointer!, _ path: UnsafePointer<CChar>!, _ publicOnly: Bool) -> GodotError {
    guard let object = lookUpKey(key, "dtls_key_save") else { return .invalidParameter }
    guard let path = CBuffers.requiredString(path, "dtls_key_save", "path") else { return .invalidParameter }
    return object.save(path: path, publicOnly: publicOnly)
}

/// Loads a key from PEM text; the key is unchanged on failure.
@c @implementation
public func dtls_key_load_from_string(_ key: OpaquePointer!, _ pem: UnsafePointer<CChar>!,
                                      _ publicOnly: Bool) -> GodotError {
    guard let object = lookUpKey(key, "dtls_key_load_from_string") else { return .invalidParameter }
    guard let pem = CBuffers.requiredString(pem, "dtls_key_load_from_string", "pem") else { return .invalidParameter }
    return object.loadFromString(pem, publicOnly: publicOnly)
}

/// Writes the key as PEM into (buf, cap) snprintf-style; 0 (and "" in buf) for an empty key or a bad handle.
@c @implementation
public func dtls_key_save_to_string(_ key: OpaquePointer!, _ publicOnly: Bool,
                                    _ buf: UnsafeMutablePointer<CChar>!, _ cap: Int) -> Int {
    CBuffers.writeString(of: key, lookUpKey, buf, cap, "dtls_key_save_to_string") {
        $0.saveToString(publicOnly: publicOnly)
    }
}

/// True when the key holds only a public key; false for an empty key or a bad handle.
@c @implementation
public func dtls_key_is_public_only(_ key: OpaquePointer!) -> Bool {
    lookUpKey(key, "dtls_key_is_public_only")?.isPublicOnly() ?? false
}
