// OptionsBeyondGodotExports.swift — TLSOptions beyond Godot (dtls_options_*: PSK, ALPN, pinning,
// client certificates, CRLs, tickets, key log) and dtls_cert_get_public_key_sha256 for C.

import PacketDTLS

/// The setters that take a C array of names (ALPN protocols, cipher suites): options and names
/// checked, then `apply`.
private func setNames(_ handle: OpaquePointer?, _ array: UnsafePointer<UnsafePointer<CChar>?>?, _ count: Int,
                      _ function: StaticString, limit: Int,
                      _ apply: (TLSOptions, [String]) -> GodotError) -> GodotError {
    guard let target = lookUpOptions(handle, function) else { return .invalidParameter }
    guard let names = CBuffers.strings(array, count, function, limit: limit) else { return .invalidParameter }
    return apply(target, names)
}

/// The longest PSK (mbedTLS's MBEDTLS_PSK_MAX_LEN, as TLSOptions checks too).
private let pskKeyLimit = 32

/// Whether key_len is within 1...pskKeyLimit, recording the reason when not.
private func pskLengthFits(_ keyLength: Int, _ function: StaticString) -> Bool {
    guard let length = CBuffers.size(keyLength, function, "key_len") else { return false }
    guard (1...pskKeyLimit).contains(length) else {
        ErrorReport.set("\(function): key_len \(length) is outside 1...\(pskKeyLimit)")
        return false
    }
    return true
}

@c @implementation
public func dtls_options_client_psk(_ identity: UnsafePointer<CChar>?, _ key: UnsafePointer<UInt8>?,
                                    _ keyLength: Int) -> OpaquePointer? {
    guard let name = CBuffers.requiredString(identity, "dtls_options_client_psk", "identity") else { return nil }
    // The length is judged before a byte is read: a key_len past the limit must not be copied.
    guard pskLengthFits(keyLength, "dtls_options_client_psk"),
          let bytes = CBuffers.bytes(key, keyLength, "dtls_options_client_psk", "key") else { return nil }
    guard let made = TLSOptions.clientPSK(identity: name, key: bytes) else { return nil }
    return handles.issue(made, as: .options)
}

@c @implementation
public func dtls_options_server_psk() -> OpaquePointer? {
    handles.issue(TLSOptions.serverPSK(), as: .options)
}

@c @implementation
public func dtls_options_add_psk(_ handle: OpaquePointer?, _ identity: UnsafePointer<CChar>?,
                                 _ key: UnsafePointer<UInt8>?, _ keyLength: Int) -> GodotError {
    guard let target = lookUpOptions(handle, "dtls_options_add_psk") else { return .invalidParameter }
    guard pskLengthFits(keyLength, "dtls_options_add_psk"),
          let name = CBuffers.requiredString(identity, "dtls_options_add_psk", "identity"),
          let bytes = CBuffers.bytes(key, keyLength, "dtls_options_add_psk", "key") else { return .invalidParameter }
    return target.addPSK(identity: name, key: bytes)
}

@c @implementation
public func dtls_options_set_alpn_protocols(_ handle: OpaquePointer?,
                                            _ protocols: UnsafePointer<UnsafePointer<CChar>?>?,
                                            _ count: Int) -> GodotError {
    setNames(handle, protocols, count, "dtls_options_set_alpn_protocols", limit: 16) { $0.setALPNProtocols($1) }
}

@c @implementation
public func dtls_options_set_cipher_suites(_ handle: OpaquePointer?, _ names: UnsafePointer<UnsafePointer<CChar>?>?,
                                          _ count: Int) -> GodotError {
    setNames(handle, names, count, "dtls_options_set_cipher_suites", limit: 32) { $0.setCipherSuites($1) }
}

@c @implementation
public func dtls_options_pin_public_key(_ handle: OpaquePointer?, _ digest: UnsafePointer<UInt8>?,
                                       _ length: Int) -> GodotError {
    guard let target = lookUpOptions(handle, "dtls_options_pin_public_key") else { return .invalidParameter }
    guard let bytes = CBuffers.bytes(digest, length, "dtls_options_pin_public_key", "sha256") else {
        return .invalidParameter
    }
    return target.pinPublicKey(sha256: bytes)
}

@c @implementation
public func dtls_options_pin_certificate(_ handle: OpaquePointer?, _ certificate: OpaquePointer?) -> GodotError {
    guard let target = lookUpOptions(handle, "dtls_options_pin_certificate") else { return .invalidParameter }
    guard let cert = lookUpCert(certificate, "dtls_options_pin_certificate") else { return .invalidParameter }
    return target.pinPublicKey(of: cert)
}

@c @implementation
public func dtls_options_set_client_certificate(_ handle: OpaquePointer?, _ key: OpaquePointer?,
                                                _ certificate: OpaquePointer?) -> GodotError {
    guard let target = lookUpOptions(handle, "dtls_options_set_client_certificate") else { return .invalidParameter }
    guard let privateKey = lookUpKey(key, "dtls_options_set_client_certificate") else { return .invalidParameter }
    guard let cert = lookUpCert(certificate, "dtls_options_set_client_certificate") else { return .invalidParameter }
    return target.setClientCertificate(key: privateKey, certificate: cert)
}

@c @implementation
public func dtls_options_set_client_certificate_mode(_ handle: OpaquePointer?, _ mode: DTLSClientCertificateMode,
                                                     _ authorities: OpaquePointer?) -> GodotError {
    guard let target = lookUpOptions(handle, "dtls_options_set_client_certificate_mode") else {
        return .invalidParameter
    }
    guard let chain = handles.lookUpNullable(authorities, .cert, as: X509Certificate.self,
                                             for: "dtls_options_set_client_certificate_mode") else {
        return .invalidParameter
    }
    switch mode.rawValue {
    case DTLSClientCertificateMode.none.rawValue: return target.setClientCertificateMode(.none, authorities: chain)
    case DTLSClientCertificateMode.request.rawValue: return target.setClientCertificateMode(.request, authorities: chain)
    case DTLSClientCertificateMode.require.rawValue: return target.setClientCertificateMode(.require, authorities: chain)
    default:
        return ErrorReport.fail(.invalidParameter, "dtls_options_set_client_certificate_mode: unknown mode \(mode.rawValue)")
    }
}

@c @implementation
public func dtls_options_load_crl(_ handle: OpaquePointer?, _ path: UnsafePointer<CChar>?) -> GodotError {
    guard let target = lookUpOptions(handle, "dtls_options_load_crl") else { return .invalidParameter }
    guard let file = CBuffers.requiredString(path, "dtls_options_load_crl", "path") else { return .invalidParameter }
    return target.loadCRL(path: file)
}

@c @implementation
public func dtls_options_load_crl_from_string(_ handle: OpaquePointer?, _ pem: UnsafePointer<CChar>?) -> GodotError {
    guard let target = lookUpOptions(handle, "dtls_options_load_crl_from_string") else { return .invalidParameter }
    guard let text = CBuffers.requiredString(pem, "dtls_options_load_crl_from_string", "pem") else {
        return .invalidParameter
    }
    return target.loadCRLFromString(text)
}

@c @implementation
public func dtls_options_set_session_tickets(_ handle: OpaquePointer?, _ enabled: Bool) -> GodotError {
    guard let target = lookUpOptions(handle, "dtls_options_set_session_tickets") else { return .invalidParameter }
    return target.setSessionTickets(enabled)
}

@c @implementation
public func dtls_options_set_extended_master_secret_required(_ handle: OpaquePointer?, _ required: Bool) -> GodotError {
    guard let target = lookUpOptions(handle, "dtls_options_set_extended_master_secret_required") else {
        return .invalidParameter
    }
    return target.setExtendedMasterSecretRequired(required)
}

@c @implementation
public func dtls_options_set_key_log_file(_ handle: OpaquePointer?, _ path: UnsafePointer<CChar>?) -> GodotError {
    guard let target = lookUpOptions(handle, "dtls_options_set_key_log_file") else { return .invalidParameter }
    return target.setKeyLogPath(CBuffers.string(path) ?? "")
}

@c @implementation
public func dtls_cert_get_public_key_sha256(_ handle: OpaquePointer?, _ buffer: UnsafeMutablePointer<UInt8>?,
                                           _ capacity: Int, _ outLength: UnsafeMutablePointer<Int>?) -> GodotError {
    guard let cert = lookUpCert(handle, "dtls_cert_get_public_key_sha256") else { return .invalidParameter }
    guard let leaf = cert.certificates.first else {
        outLength?.pointee = 0
        return ErrorReport.fail(.unconfigured, "dtls_cert_get_public_key_sha256: the certificate is empty")
    }
    return CBuffers.writeBytes(leaf.publicKeySHA256, buffer, capacity, outLength,
                               function: "dtls_cert_get_public_key_sha256")
}
