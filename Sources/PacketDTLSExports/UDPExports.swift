// UDPExports.swift — the PacketPeerUDP section of include/packetdtls.h (dtls_udp_*).
//
// Each function finds its peer through the handle table (a bad handle gives
// DTLS_ERR_INVALID_PARAMETER, or the neutral value where no dtls_error is returned, with the reason
// in dtls_last_error_message() either way), checks the
// caller's pointers and numbers, and hands over to PacketPeerUDP. Nothing the caller passed is
// kept after the call returns.

import PacketDTLS

// MARK: - Life cycle

/// Creates an unbound UDP peer and returns its handle (NULL only when the handle table is full).
@c @implementation
public func dtls_udp_new() -> OpaquePointer? {
    handles.issue(PacketPeerUDP(), as: .udp)
}

/// Drops the caller's reference; the socket closes once nothing else (a DTLS peer) uses the peer.
/// NULL and already-freed handles are ignored.
@c @implementation
public func dtls_udp_free(_ udp: OpaquePointer?) {
    handles.release(udp, .udp)
}

// MARK: - Binding

/// Binds to `port` on `bind_address` (NULL = "*"), queueing up to `recv_buf_size` bytes.
@c @implementation
public func dtls_udp_bind(_ udp: OpaquePointer?, _ port: Int32, _ bindAddress: UnsafePointer<CChar>?,
                          _ recvBufSize: Int32) -> GodotError {
    guard let peer = lookUpUDP(udp, "dtls_udp_bind") else { return .invalidParameter }
    return peer.bind(port: Int(port), bindAddress: CBuffers.string(bindAddress) ?? "*",
                     recvBufferSize: Int(recvBufSize))
}

/// Godot 3.x name of dtls_udp_bind().
@c @implementation
public func dtls_udp_listen(_ udp: OpaquePointer?, _ port: Int32, _ bindAddress: UnsafePointer<CChar>?,
                            _ recvBufSize: Int32) -> GodotError {
    guard let peer = lookUpUDP(udp, "dtls_udp_listen") else { return .invalidParameter }
    return peer.listen(port: Int(port), bindAddress: CBuffers.string(bindAddress) ?? "*",
                       recvBufferSize: Int(recvBufSize))
}

/// Closes the socket and forgets destination and queue; a UDPServer's peer leaves its server.
@c @implementation
public func dtls_udp_close(_ udp: OpaquePointer?) -> GodotError {
    guard let peer = lookUpUDP(udp, "dtls_udp_close") else { return .invalidParameter }
    peer.close()
    return .ok
}

/// True when the peer has a socket; false for a bad handle.
@c @implementation
public func dtls_udp_is_bound(_ udp: OpaquePointer?) -> Bool {
    lookUpUDP(udp, "dtls_udp_is_bound")?.isBound() ?? false
}

/// Godot 3.x name of dtls_udp_is_bound().
@c @implementation
public func dtls_udp_is_listening(_ udp: OpaquePointer?) -> Bool {
    lookUpUDP(udp, "dtls_udp_is_listening")?.isListening() ?? false
}

// MARK: - Peers and destinations

/// Connects to `host` (address or name) and `port`, binding an ephemeral socket first if needed.
@c @implementation
public func dtls_udp_connect_to_host(_ udp: OpaquePointer?, _ host: UnsafePointer<CChar>?,
                                     _ port: Int32) -> GodotError {
    guard let peer = lookUpUDP(udp, "dtls_udp_connect_to_host") else { return .invalidParameter }
    guard let host = CBuffers.requiredString(host, "dtls_udp_connect_to_host", "host") else { return .invalidParameter }
    return peer.connectToHost(host, port: Int(port))
}

/// True for a connected peer (connect_to_host, or taken from a UDPServer); false for a bad handle.
@c @implementation
public func dtls_udp_is_socket_connected(_ udp: OpaquePointer?) -> Bool {
    lookUpUDP(udp, "dtls_udp_is_socket_connected")?.isSocketConnected() ?? false
}

/// Godot 3.x name of dtls_udp_is_socket_connected().
@c @implementation
public func dtls_udp_is_connected_to_host(_ udp: OpaquePointer?) -> Bool {
    lookUpUDP(udp, "dtls_udp_is_connected_to_host")?.isConnectedToHost() ?? false
}

/// Sets where put_packet sends on an unconnected socket.
@c @implementation
public func dtls_udp_set_dest_address(_ udp: OpaquePointer?, _ host: UnsafePointer<CChar>?,
                                      _ port: Int32) -> GodotError {
    guard let peer = lookUpUDP(udp, "dtls_udp_set_dest_address") else { return .invalidParameter }
    guard let host = CBuffers.requiredString(host, "dtls_udp_set_dest_address", "host") else {
        return .invalidParameter
    }
    return peer.setDestAddress(host, port: Int(port))
}

// MARK: - Waiting

/// Blocks the calling thread until a datagram can be read.
@c @implementation
public func dtls_udp_wait(_ udp: OpaquePointer?) -> GodotError {
    guard let peer = lookUpUDP(udp, "dtls_udp_wait") else { return .invalidParameter }
    return peer.wait()
}

/// As dtls_udp_wait(), giving up after `timeout_ms` with DTLS_ERR_TIMEOUT.
@c @implementation
public func dtls_udp_wait_timeout(_ udp: OpaquePointer?, _ timeoutMs: Int32) -> GodotError {
    guard let peer = lookUpUDP(udp, "dtls_udp_wait_timeout") else { return .invalidParameter }
    return peer.wait(timeoutMs: Int(timeoutMs))
}

// MARK: - Addresses and options

/// Writes the last packet's source address snprintf-style; 0 (and "" when cap > 0) for a bad handle.
@c @implementation
public func dtls_udp_get_packet_ip(_ udp: OpaquePointer?, _ buf: UnsafeMutablePointer<CChar>?, _ cap: Int) -> Int {
    CBuffers.writeString(of: udp, lookUpUDP, buf, cap, "dtls_udp_get_packet_ip") { $0.getPacketIP() }
}

/// The last packet's source port; 0 before any and for a bad handle.
@c @implementation
public func dtls_udp_get_packet_port(_ udp: OpaquePointer?) -> Int32 {
    Int32(lookUpUDP(udp, "dtls_udp_get_packet_port")?.getPacketPort() ?? 0)
}

/// The socket's local port; 0 without a socket and for a bad handle.
@c @implementation
public func dtls_udp_get_local_port(_ udp: OpaquePointer?) -> Int32 {
    Int32(lookUpUDP(udp, "dtls_udp_get_local_port")?.getLocalPort() ?? 0)
}

/// The socket's descriptor for an event loop; -1 (with the reason) for a bad handle or no socket.
@c @implementation
public func dtls_udp_get_fd(_ udp: OpaquePointer?) -> Int32 {
    guard let peer = lookUpUDP(udp, "dtls_udp_get_fd") else { return -1 }
    guard let descriptor = peer.fileDescriptor() else {
        _ = ErrorReport.fail(.unconfigured, "dtls_udp_get_fd: the peer has no socket; bind, connect_to_host or put_packet first")
        return -1
    }
    return descriptor
}

/// SO_BROADCAST, now and on any socket the peer opens later.
@c @implementation
public func dtls_udp_set_broadcast_enabled(_ udp: OpaquePointer?, _ enabled: Bool) -> GodotError {
    guard let peer = lookUpUDP(udp, "dtls_udp_set_broadcast_enabled") else { return .invalidParameter }
    return peer.setBroadcastEnabled(enabled)
}

/// Joins a multicast group on the named interface (NULL or "" = any).
@c @implementation
public func dtls_udp_join_multicast_group(_ udp: OpaquePointer?, _ address: UnsafePointer<CChar>?,
                                          _ interfaceName: UnsafePointer<CChar>?) -> GodotError {
    guard let peer = lookUpUDP(udp, "dtls_udp_join_multicast_group") else { return .invalidParameter }
    guard let address = CBuffers.requiredString(address, "dtls_udp_join_multicast_group", "address") else {
        return .invalidParameter
    }
    return peer.joinMulticastGroup(address, interfaceName: CBuffers.string(interfaceName) ?? "")
}

/// Leaves a multicast group joined before.
@c @implementation
public func dtls_udp_leave_multicast_group(_ udp: OpaquePointer?, _ address: UnsafePointer<CChar>?,
                                           _ interfaceName: UnsafePointer<CChar>?) -> GodotError {
    guard let peer = lookUpUDP(udp, "dtls_udp_leave_multicast_group") else { return .invalidParameter }
    guard let address = CBuffers.requiredString(address, "dtls_udp_leave_multicast_group", "address") else {
        return .invalidParameter
    }
    return peer.leaveMulticastGroup(address, interfaceName: CBuffers.string(interfaceName) ?? "")
}

// MARK: - Packets

/// Sends `len` bytes from `data` as one datagram; the bytes are used during the call only.
@c @implementation
public func dtls_udp_put_packet(_ udp: OpaquePointer?, _ data: UnsafePointer<UInt8>?, _ len: Int) -> GodotError {
    guard let peer = lookUpUDP(udp, "dtls_udp_put_packet") else { return .invalidParameter }
    guard let packet = CBuffers.input(data, len, "dtls_udp_put_packet", "data") else { return .invalidParameter }
    return peer.putPacket(packet)
}

/// Takes the next datagram into (buf, cap); a buffer too small leaves it queued and sets *out_len.
@c @implementation
public func dtls_udp_get_packet(_ udp: OpaquePointer?, _ buf: UnsafeMutablePointer<UInt8>?, _ cap: Int,
                                _ outLen: UnsafeMutablePointer<Int>?) -> GodotError {
    guard let peer = lookUpUDP(udp, "dtls_udp_get_packet") else { return .invalidParameter }
    guard let outLen else { return ErrorReport.fail(.invalidParameter, "dtls_udp_get_packet: out_len is NULL") }
    outLen.pointee = 0
    guard let space = CBuffers.output(buf, cap, "dtls_udp_get_packet") else { return .invalidParameter }
    var length = 0
    let result = peer.getPacket(into: space, length: &length)
    outLen.pointee = length
    return result
}

/// The number of datagrams ready to read; 0 for a bad handle.
@c @implementation
public func dtls_udp_get_available_packet_count(_ udp: OpaquePointer?) -> Int32 {
    Int32(clamping: lookUpUDP(udp, "dtls_udp_get_available_packet_count")?.getAvailablePacketCount() ?? 0)
}

/// The result of the last dtls_udp_get_packet on this peer.
@c @implementation
public func dtls_udp_get_packet_error(_ udp: OpaquePointer?) -> GodotError {
    guard let peer = lookUpUDP(udp, "dtls_udp_get_packet_error") else { return .invalidParameter }
    return peer.getPacketError()
}
