// SendBatchingExports.swift — beyond Godot: a UDPServer's send batching (dtls_udp_server_set_send_batching,
// dtls_udp_server_is_send_batching, dtls_udp_server_flush_sends).

import PacketDTLS

@c @implementation
public func dtls_udp_server_set_send_batching(_ server: OpaquePointer?, _ enabled: Bool) -> GodotError {
    guard let udp = lookUpUDPServer(server, "dtls_udp_server_set_send_batching") else { return .invalidParameter }
    return udp.setSendBatching(enabled)
}

@c @implementation
public func dtls_udp_server_is_send_batching(_ server: OpaquePointer?) -> Bool {
    lookUpUDPServer(server, "dtls_udp_server_is_send_batching")?.isSendBatching() ?? false
}

@c @implementation
public func dtls_udp_server_flush_sends(_ server: OpaquePointer?) -> GodotError {
    guard let udp = lookUpUDPServer(server, "dtls_udp_server_flush_sends") else { return .invalidParameter }
    return udp.flushSends()
}
