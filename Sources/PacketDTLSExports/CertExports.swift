// CertExports.swift — the X509Certificate section of include/packetdtls.h.

import PacketDTLS

/// A new, empty certificate handle.
@c @implementation
public func dtls_cert_new() -> OpaquePointer! {
    handles.issue(X509Certificate(), as: .cert)
}

/// Drops the caller's reference; options that hold the certificate keep it. NULL is ignored.
@c @implementation
public func dtls_cert_free(_ cert: OpaquePointer!) {
    handles.release(cert, .cert)
}

/// Loads a PEM or DER file with one certificate or a chain; unchanged on failure.
@c @implementation
public func dtls_cert_load(_ cert: OpaquePointer!, _ path: UnsafePointer<CChar>!) -> GodotError {
    guard let object = lookUpCert(cert, "dtls_cert_load") else { return .invalidParameter }
    guard let path = CBuffers.requiredString(path, "dtls_cert_load", "path") else { return .invalidParameter }
    return object.load(path: path)
}

/// Writes every certificate of the chain, in order, as PEM.
@c @implementation
public func dtls_cert_save(_ cert: OpaquePointer!, _ path: UnsafePointer<CChar>!) -> GodotError {
    guard let object = lookUpCert(cert, "dtls_cert_save") else { return .invalidParameter }
    guard let path = CBuffers.requiredString(path, "dtls_cert_save", "path") else { return .invalidParameter }
    return object.save(path: path)
}

/// Loads a certificate or chain from PEM text; unchanged on failure.
@c @implementation
public func dtls_cert_load_from_string(_ cert: OpaquePointer!, _ pem: UnsafePointer<CChar>!) -> GodotError {
    guard let object = lookUpCert(cert, "dtls_cert_load_from_string") else { return .invalidParameter }
    guard let pem = CBuffers.requiredString(pem, "dtls_cert_load_from_string", "pem") else { return .invalidParameter }
    return object.loadFromString(pem)
}

/// Writes the whole chain as PEM into (buf, cap) snprintf-style; 0 when empty or for a bad handle.
@c @implementation
public func dtls_cert_save_to_string(_ cert: OpaquePointer!, _ buf: UnsafeMutablePointer<CChar>!, _ cap: Int) -> Int {
    CBuffers.writeString(of: cert, lookUpCert, buf, cap, "dtls_cert_save_to_string") { $0.saveToString() }
}
