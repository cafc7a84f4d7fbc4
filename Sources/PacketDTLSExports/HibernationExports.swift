// HibernationExports.swift — idle sessions hibernate (issue 13): the server's default for the
// peers it makes, one peer's setting, and whether a peer sleeps now.

import PacketDTLS

@c @implementation
public func dtls_server_set_hibernate_after_ms(_ handle: OpaquePointer?, _ milliseconds: UInt32) -> GodotError {
    guard let server = lookUpServer(handle, "dtls_server_set_hibernate_after_ms") else { return .invalidParameter }
    server.setHibernateAfterMs(milliseconds)
    return .ok
}

@c @implementation
public func dtls_peer_set_hibernate_after_ms(_ handle: OpaquePointer?, _ milliseconds: UInt32) -> GodotError {
    guard let dtls = lookUpPeer(handle, "dtls_peer_set_hibernate_after_ms") else { return .invalidParameter }
    dtls.setHibernateAfterMs(milliseconds)
    return .ok
}

@c @implementation
public func dtls_peer_is_hibernated(_ handle: OpaquePointer?) -> Bool {
    lookUpPeer(handle, "dtls_peer_is_hibernated")?.isHibernated() ?? false
}
