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
    guard let dtls = lookUpServer(server, "dtls_server_setup") else { return .invalidParameter }
    guard let privateKey = lookUpKey(key, "dtls_server_setup") else { return .invalidParameter }
    guard let own = lookUpCert(certificate, "dtls_server_setup") else { return .invalidParameter }
    guard let intermediates = handles.lookUpNullable(chain, .cert, as: X509Certificate.self,
                                                     for: "dtls_server_setup") else { return .invalidParameter }
    return dtls.setup(key: privateKey, certificate: own, chain: intermediates)
}

@c @implementation
public func dtls_server_setup_with_options(_ server: OpaquePointer?, _ serverOptions: OpaquePointer?) -> GodotError {
    guard let dtls = lookUpServer(server, "dtls_server_setup_with_options") else { return .invalidParameter }
    guard let options = lookUpOptions(serverOptions, "dtls_server_setup_with_options") else { return .invalidParameter }
    return dtls.setup(serverOptions: options)
}

@c @implementation
public func dtls_server_take_connection(_ server: OpaquePointer?, _ udp: OpaquePointer?) -> OpaquePointer? {
    guard let dtls = lookUpServer(server, "dtls_server_take_connection") else { return nil }
    guard let transport = lookUpTransport(udp, "dtls_server_take_connection") else { return nil }
    guard let peer = dtls.takeConnection(transport) else { return nil }
    return handles.issue(peer, as: .peer)
}

@c @implementation
public func dtls_server_set_handshake_threads(_ server: OpaquePointer?, _ threads: Int32) -> GodotError {
    guard let dtls = lookUpServer(server, "dtls_server_set_handshake_threads") else { return .invalidParameter }
    return dtls.setHandshakeThreads(Int(threads))
}

@c @implementation
public func dtls_server_set_handshake_threads_nice(_ server: OpaquePointer?, _ increment: Int32) -> GodotError {
    guard let dtls = lookUpServer(server, "dtls_server_set_handshake_threads_nice") else { return .invalidParameter }
    return dtls.setHandshakeThreadsNice(Int(increment))
}

@c @implementation
public func dtls_server_stop(_ server: OpaquePointer?) -> GodotError {
    guard let dtls = lookUpServer(server, "dtls_server_stop") else { return .invalidParameter }
    dtls.stop()
    return .ok
}

// MARK: - Beyond Godot: handshakes in flight

@c @implementation
public func dtls_server_set_handshake_limits(_ server: OpaquePointer?, _ maxInFlight: Int32, _ maxPerAddress: Int32,
                                             _ deadlineMs: Int32) -> GodotError {
    guard let dtls = lookUpServer(server, "dtls_server_set_handshake_limits") else { return .invalidParameter }
    return dtls.setHandshakeLimits(HandshakeLimits(maxInFlight: Int(maxInFlight), maxPerAddress: Int(maxPerAddress),
                                                   deadlineMs: Int(deadlineMs)))
}

@c @implementation
public func dtls_server_get_handshake_limits(_ server: OpaquePointer?, _ maxInFlight: UnsafeMutablePointer<Int32>?,
                                             _ maxPerAddress: UnsafeMutablePointer<Int32>?,
                                             _ deadlineMs: UnsafeMutablePointer<Int32>?) -> GodotError {
    guard let dtls = lookUpServer(server, "dtls_server_get_handshake_limits") else { return .invalidParameter }
    let limits = dtls.handshakeLimits
    maxInFlight?.pointee = Int32(clamping: limits.maxInFlight)
    maxPerAddress?.pointee = Int32(clamping: limits.maxPerAddress)
    deadlineMs?.pointee = Int32(clamping: limits.deadlineMs)
    return .ok
}

@c @implementation
public func dtls_server_get_handshakes_in_flight(_ server: OpaquePointer?) -> Int32 {
    guard let dtls = lookUpServer(server, "dtls_server_get_handshakes_in_flight") else { return -1 }
    return Int32(clamping: dtls.handshakesInFlight)
}
