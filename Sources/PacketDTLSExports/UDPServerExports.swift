// UDPServerExports.swift — the UDPServer section of include/packetdtls.h (dtls_udp_server_*).
//
// Each function finds its server through the handle table (a bad handle gives
// DTLS_ERR_INVALID_PARAMETER, or the neutral value where no dtls_error is returned, with the reason
// recorded either way) and hands over to UDPServer. take_connection issues a new dtls_udp handle
// for the peer it hands out.

import PacketDTLS

/// Creates a UDPServer that is not listening yet (NULL only when the handle table is full).
@c @implementation
public func dtls_udp_server_new() -> OpaquePointer? {
    handles.issue(UDPServer(), as: .udpServer)
}

/// Drops the caller's reference; a server nobody holds stops (its taken peers disconnect).
/// NULL and already-freed handles are ignored.
@c @implementation
public func dtls_udp_server_free(_ server: OpaquePointer?) {
    handles.release(server, .udpServer)
}

/// Opens the one socket for all peers on `port` and `bind_address` (NULL = "*").
@c @implementation
public func dtls_udp_server_listen(_ server: OpaquePointer?, _ port: Int32,
                                   _ bindAddress: UnsafePointer<CChar>?) -> GodotError {
    guard let server = lookUpUDPServer(server, "dtls_udp_server_listen") else { return .invalidParameter }
    return server.listen(port: Int(port), bindAddress: CBuffers.string(bindAddress) ?? "*")
}

/// Reads every waiting datagram and routes it to its peer (new clients become pending peers).
@c @implementation
public func dtls_udp_server_poll(_ server: OpaquePointer?) -> GodotError {
    guard let server = lookUpUDPServer(server, "dtls_udp_server_poll") else { return .invalidParameter }
    return server.poll()
}

/// True when a pending peer waits; false for a bad handle.
@c @implementation
public func dtls_udp_server_is_connection_available(_ server: OpaquePointer?) -> Bool {
    lookUpUDPServer(server, "dtls_udp_server_is_connection_available")?.isConnectionAvailable() ?? false
}

/// The oldest pending peer as a new dtls_udp handle the caller frees; NULL when none waits or the
/// handle is bad.
@c @implementation
public func dtls_udp_server_take_connection(_ server: OpaquePointer?) -> OpaquePointer? {
    guard let server = lookUpUDPServer(server, "dtls_udp_server_take_connection") else {
        return nil
    }
    guard let peer = server.takeConnection() else { return nil }
    guard let handle = handles.issue(peer, as: .udp) else {
        // No handle for it: the peer must not linger connected with nobody able to reach it.
        peer.close()
        ErrorReport.set("dtls_udp_server_take_connection: the handle table is full")
        return nil
    }
    return handle
}

/// True while the server has its socket; false for a bad handle.
@c @implementation
public func dtls_udp_server_is_listening(_ server: OpaquePointer?) -> Bool {
    lookUpUDPServer(server, "dtls_udp_server_is_listening")?.isListening() ?? false
}

/// The socket's local port; 0 when not listening and for a bad handle.
@c @implementation
public func dtls_udp_server_get_local_port(_ server: OpaquePointer?) -> Int32 {
    Int32(lookUpUDPServer(server, "dtls_udp_server_get_local_port")?.getLocalPort() ?? 0)
}

/// The socket's descriptor for an event loop; -1 (with the reason) for a bad handle or when not listening.
@c @implementation
public func dtls_udp_server_get_fd(_ server: OpaquePointer?) -> Int32 {
    guard let udpServer = lookUpUDPServer(server, "dtls_udp_server_get_fd") else { return -1 }
    guard let descriptor = udpServer.fileDescriptor() else {
        _ = ErrorReport.fail(.unconfigured, "dtls_udp_server_get_fd: the server is not listening; listen() first")
        return -1
    }
    return descriptor
}

/// Closes the socket, drops pending peers, and closes every taken peer.
@c @implementation
public func dtls_udp_server_stop(_ server: OpaquePointer?) -> GodotError {
    guard let server = lookUpUDPServer(server, "dtls_udp_server_stop") else { return .invalidParameter }
    server.stop()
    return .ok
}

/// Sets how many pending peers may wait; negative is DTLS_ERR_INVALID_PARAMETER.
@c @implementation
public func dtls_udp_server_set_max_pending_connections(_ server: OpaquePointer?, _ maxPending: Int32) -> GodotError {
    guard let server = lookUpUDPServer(server, "dtls_udp_server_set_max_pending_connections") else {
        return .invalidParameter
    }
    return server.setMaxPendingConnections(Int(maxPending))
}

/// The pending limit; 0 for a bad handle.
@c @implementation
public func dtls_udp_server_get_max_pending_connections(_ server: OpaquePointer?) -> Int32 {
    Int32(clamping: lookUpUDPServer(server, "dtls_udp_server_get_max_pending_connections")?.maxPendingConnections ?? 0)
}

/// Blocks until a datagram waits on the server's socket or the timeout passes.
@c @implementation
public func dtls_udp_server_wait_timeout(_ server: OpaquePointer?, _ timeoutMs: Int32) -> GodotError {
    guard let udpServer = lookUpUDPServer(server, "dtls_udp_server_wait_timeout") else { return .invalidParameter }
    return udpServer.wait(timeoutMs: Int(timeoutMs))
}
