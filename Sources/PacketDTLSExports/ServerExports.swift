// ServerExports.swift — DTLSServer (dtls_server_*) for C.

import PacketDTLS

@c @implementation
public func dtls_server_new() -> OpaquePointer? {
    handles.issue(DTLSServer(), as: .server)
}

@c @implementation
public func dtls_server_free(_ server: OpaquePointer?) {
    handles.release(server, .server)
}

@c @implementation
public func dtls_server_setup(_ server: OpaquePointer?, _ key: OpaquePointer?, _ certificate: OpaquePointer?,
                              _ chain: OpaquePointer?) -> GodotError {
    guard let dtls = handles.object(server, .server, as: DTLSServer.self) else {
        return invalidHandle("dtls_server_setup", "dtls_server")
    }
    guard let privateKey = handles.object(key, .key, as: CryptoKey.self) else {
        return invalidHandle("dtls_server_setup", "dtls_key")
    }
    guard let own = handles.object(certificate, .cert, as: X509Certificate.self) else {
        return invalidHandle("dtls_server_setup", "dtls_cert")
    }
    var intermediates: X509Certificate?
    if chain != nil {
        guard let given = handles.object(chain, .cert, as: X509Certificate.self) else {
            return invalidHandle("dtls_server_setup", "dtls_cert")
        }
        intermediates = given
    }
    return dtls.setup(key: privateKey, certificate: own, chain: intermediates)
}

@c @implementation
public func dtls_server_setup_with_options(_ server: OpaquePointer?, _ serverOptions: OpaquePointer?) -> GodotError {
    guard let dtls = handles.object(server, .server, as: DTLSServer.self) else {
        return invalidHandle("dtls_server_setup_with_options", "dtls_server")
    }
    guard let options = handles.object(serverOptions, .options, as: TLSOptions.self) else {
        return invalidHandle("dtls_server_setup_with_options", "dtls_options")
    }
    return dtls.setup(serverOptions: options)
}

@c @implementation
public func dtls_server_take_connection(_ server: OpaquePointer?, _ udp: OpaquePointer?) -> OpaquePointer? {
    guard let dtls = handles.object(server, .server, as: DTLSServer.self) else {
        _ = invalidHandle("dtls_server_take_connection", "dtls_server")
        return nil
    }
    guard let transport = handles.transport(udp) else {
        _ = invalidHandle("dtls_server_take_connection", "dtls_udp")
        return nil
    }
    guard let peer = dtls.takeConnection(transport) else { return nil }
    return handles.issue(peer, as: .peer)
}

@c @implementation
public func dtls_server_stop(_ server: OpaquePointer?) -> GodotError {
    guard let dtls = handles.object(server, .server, as: DTLSServer.self) else {
        return invalidHandle("dtls_server_stop", "dtls_server")
    }
    dtls.stop()
    return .ok
}

// MARK: - Beyond Godot: handshakes in flight

@c @implementation
public func dtls_server_set_handshake_limits(_ server: OpaquePointer?, _ maxInFlight: Int32, _ maxPerAddress: Int32,
                                             _ deadlineMs: Int32) -> GodotError {
    guard let dtls = handles.object(server, .server, as: DTLSServer.self) else {
        return invalidHandle("dtls_server_set_handshake_limits", "dtls_server")
    }
    return dtls.setHandshakeLimits(HandshakeLimits(maxInFlight: Int(maxInFlight), maxPerAddress: Int(maxPerAddress),
                                                   deadlineMs: Int(deadlineMs)))
}

@c @implementation
public func dtls_server_get_handshake_limits(_ server: OpaquePointer?, _ maxInFlight: UnsafeMutablePointer<Int32>?,
                                             _ maxPerAddress: UnsafeMutablePointer<Int32>?,
                                             _ deadlineMs: UnsafeMutablePointer<Int32>?) -> GodotError {
    guard let dtls = handles.object(server, .server, as: DTLSServer.self) else {
        return invalidHandle("dtls_server_get_handshake_limits", "dtls_server")
    }
    let limits = dtls.handshakeLimits
    maxInFlight?.pointee = Int32(clamping: limits.maxInFlight)
    maxPerAddress?.pointee = Int32(clamping: limits.maxPerAddress)
    deadlineMs?.pointee = Int32(clamping: limits.deadlineMs)
    return .ok
}

@c @implementation
public func dtls_server_get_handshakes_in_flight(_ server: OpaquePointer?) -> Int32 {
    guard let dtls = handles.object(server, .server, as: DTLSServer.self) else {
        _ = invalidHandle("dtls_server_get_handshakes_in_flight", "dtls_server")
        return -1
    }
    return Int32(clamping: dtls.handshakesInFlight)
}
