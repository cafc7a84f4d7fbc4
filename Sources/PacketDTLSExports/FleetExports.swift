// FleetExports.swift — beyond Godot: shared server keys and port reuse (dtls_server_*_keys,
// dtls_udp_server_set_reuse_port), for fleets of servers and restarts that resume sessions.

import PacketDTLS

@c @implementation
public func dtls_server_load_keys(_ server: OpaquePointer?, _ path: UnsafePointer<CChar>?) -> GodotError {
    guard let dtls = lookUpServer(server, "dtls_server_load_keys") else { return .invalidParameter }
    guard let path = CBuffers.requiredString(path, "dtls_server_load_keys", "path") else { return .invalidParameter }
    return dtls.loadKeys(path: path)
}

@c @implementation
public func dtls_server_save_keys(_ server: OpaquePointer?, _ path: UnsafePointer<CChar>?) -> GodotError {
    guard let dtls = lookUpServer(server, "dtls_server_save_keys") else { return .invalidParameter }
    guard let path = CBuffers.requiredString(path, "dtls_server_save_keys", "path") else { return .invalidParameter }
    return dtls.saveKeys(path: path)
}

@c @implementation
public func dtls_server_rotate_keys(_ server: OpaquePointer?) -> GodotError {
    guard let dtls = lookUpServer(server, "dtls_server_rotate_keys") else { return .invalidParameter }
    return dtls.rotateKeys()
}

@c @implementation
public func dtls_udp_server_set_reuse_port(_ server: OpaquePointer?, _ enabled: Bool) -> GodotError {
    guard let udp = lookUpUDPServer(server, "dtls_udp_server_set_reuse_port") else { return .invalidParameter }
    return udp.setReusePort(enabled)
}
