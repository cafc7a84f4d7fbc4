// OptionsExports.swift — the TLSOptions section of include/packetdtls.h.

import PacketDTLS

/// The optional trusted chain of the client constructors: .none for NULL (the system CA bundle),
/// .chain for a live, non-empty certificate, .invalid (reason recorded) for anything else. A bad
/// handle must never quietly become "trust the system".
private enum TrustedChainArgument {
    case none
    case chain(X509Certificate)
    case invalid

    init(_ handle: OpaquePointer?, _ function: StaticString) {
        guard let given = handles.lookUpNullable(handle, .cert, as: X509Certificate.self, for: function) else {
            self = .invalid
            return
        }
        guard let certificate = given else { self = .none; return }
        guard !certificate.isEmpty else {
            ErrorReport.fail(.invalidParameter, "\(function): the trusted chain is empty")
            self = .invalid
            return
        }
        self = .chain(certificate)
    }
}

/// Client options that verify against the system CA bundle.
@c @implementation
public func dtls_options_new() -> OpaquePointer! {
    handles.issue(TLSOptions.client(), as: .options)
}

/// Drops the caller's reference; peers and servers set up with the options keep them. NULL is ignored.
@c @implementation
public func dtls_options_free(_ options: OpaquePointer!) {
    handles.release(options, .options)
}

/// Client options verifying against a trusted chain (NULL = system CA bundle) and the host name or
/// the common-name override.
@c @implementation
public func dtls_options_client(_ trustedChain: OpaquePointer!,
                                _ commonNameOverride: UnsafePointer<CChar>!) -> OpaquePointer! {
    let commonName = CBuffers.string(commonNameOverride) ?? ""
    switch TrustedChainArgument(trustedChain, "dtls_options_client") {
    case .invalid: return nil
    case .none: return handles.issue(TLSOptions.client(commonNameOverride: commonName), as: .options)
    case .chain(let chain):
        return handles.issue(TLSOptions.client(trustedChain: chain, commonNameOverride: commonName), as: .options)
    }
}

/// Client options that never check the server's name, and check its chain only against a given one.
@c @implementation
public func dtls_options_client_unsafe(_ trustedChain: OpaquePointer!) -> OpaquePointer! {
    switch TrustedChainArgument(trustedChain, "dtls_options_client_unsafe") {
    case .invalid: return nil
    case .none: return handles.issue(TLSOptions.clientUnsafe(), as: .options)
    case .chain(let chain): return handles.issue(TLSOptions.clientUnsafe(trustedChain: chain), as: .options)
    }
}

/// Server options with a private key and the certificate (chain) it belongs to; NULL with the
/// reason recorded for a NULL, empty, public-only or mismatched argument.
@c @implementation
public func dtls_options_server(_ key: OpaquePointer!, _ certificate: OpaquePointer!) -> OpaquePointer! {
    guard let keyObject = lookUpKey(key, "dtls_options_server"),
          let certificateObject = lookUpCert(certificate, "dtls_options_server") else { return nil }
    guard TLSOptions.checkServerIdentity(key: keyObject, certificate: certificateObject) == .ok else { return nil }
    return handles.issue(TLSOptions.server(key: keyObject, certificate: certificateObject), as: .options)
}

/// True for options made by dtls_options_server(); false for a bad handle.
@c @implementation
public func dtls_options_is_server(_ options: OpaquePointer!) -> Bool {
    lookUpOptions(options, "dtls_options_is_server")?.isServer() ?? false
}

/// True for options made by dtls_options_client_unsafe(); false for a bad handle.
@c @implementation
public func dtls_options_is_unsafe_client(_ options: OpaquePointer!) -> Bool {
    lookUpOptions(options, "dtls_options_is_unsafe_client")?.isUnsafeClient() ?? false
}

/// Writes the common-name override ("" when none or for a bad handle) snprintf-style.
@c @implementation
public func dtls_options_get_common_name_override(_ options: OpaquePointer!, _ buf: UnsafeMutablePointer<CChar>!,
                                                  _ cap: Int) -> Int {
    CBuffers.writeString(of: options, lookUpOptions, buf, cap, "dtls_options_get_common_name_override") {
        $0.getCommonNameOverride()
    }
}

/// A new handle to the trusted chain the options hold, or NULL when none.
@c @implementation
public func dtls_options_get_trusted_ca_chain(_ options: OpaquePointer!) -> OpaquePointer! {
    handles.issue(ifAny: lookUpOptions(options, "dtls_options_get_trusted_ca_chain")?.getTrustedCAChain(), as: .cert)
}

/// A new handle to the server's private key, or NULL when none.
@c @implementation
public func dtls_options_get_private_key(_ options: OpaquePointer!) -> OpaquePointer! {
    handles.issue(ifAny: lookUpOptions(options, "dtls_options_get_private_key")?.getPrivateKey(), as: .key)
}

/// A new handle to the server's certificate, or NULL when none.
@c @implementation
public func dtls_options_get_own_certificate(_ options: OpaquePointer!) -> OpaquePointer! {
    handles.issue(ifAny: lookUpOptions(options, "dtls_options_get_own_certificate")?.getOwnCertificate(), as: .cert)
}

/// Sets the handshake retransmission timer bounds for sessions started afterwards.
@c @implementation
public func dtls_options_set_handshake_timeout(_ options: OpaquePointer!, _ minMs: UInt32,
                                               _ maxMs: UInt32) -> GodotError {
    guard let object = lookUpOptions(options, "dtls_options_set_handshake_timeout") else { return .invalidParameter }
    return object.setHandshakeTimeout(minMs: minMs, maxMs: maxMs)
}

/// Sets the idle timeout of connected peers (0 = off) for sessions started afterwards.
@c @implementation
public func dtls_options_set_idle_timeout(_ options: OpaquePointer!, _ timeoutMs: UInt32) -> GodotError {
    guard let object = lookUpOptions(options, "dtls_options_set_idle_timeout") else { return .invalidParameter }
    return object.setIdleTimeout(ms: timeoutMs)
}

/// Sets the keepalive interval of peers started afterwards (0 = off).
@c @implementation
public func dtls_options_set_keepalive_ms(_ options: OpaquePointer!, _ intervalMs: UInt32) -> GodotError {
    guard let object = lookUpOptions(options, "dtls_options_set_keepalive_ms") else { return .invalidParameter }
    return object.setKeepalive(ms: intervalMs)
}

/// Sets the largest handshake datagram (0 = no limit, else 256...16384).
@c @implementation
public func dtls_options_set_mtu(_ options: OpaquePointer!, _ mtu: UInt32) -> GodotError {
    guard let object = lookUpOptions(options, "dtls_options_set_mtu") else { return .invalidParameter }
    return object.setMTU(mtu)
}
