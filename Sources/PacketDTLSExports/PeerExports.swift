// PeerExports.swift — PacketPeerDTLS (dtls_peer_*) for C.

import PacketDTLS

@c @implementation
public func dtls_peer_new() -> OpaquePointer? {
    handles.issue(PacketPeerDTLS(), as: .peer)
}

@c @implementation
public func dtls_peer_free(_ peer: OpaquePointer?) {
    handles.release(peer, .peer)
}

@c @implementation
public func dtls_peer_connect_to_peer(_ peer: OpaquePointer?, _ udp: OpaquePointer?, _ validateCerts: Bool,
                                      _ forHostname: UnsafePointer<CChar>?,
                                      _ validCertificate: OpaquePointer?) -> GodotError {
    guard let dtls = lookUpPeer(peer, "dtls_peer_connect_to_peer") else { return .invalidParameter }
    guard let transport = lookUpTransport(udp, "dtls_peer_connect_to_peer") else { return .invalidParameter }
    guard let certificate = handles.lookUpNullable(validCertificate, .cert, as: X509Certificate.self,
                                                   for: "dtls_peer_connect_to_peer") else { return .invalidParameter }
    return dtls.connectToPeer(transport, validateCerts: validateCerts, forHostname: CBuffers.string(forHostname) ?? "",
                              validCertificate: certificate)
}

@c @implementation
public func dtls_peer_connect_to_peer_with_options(_ peer: OpaquePointer?, _ udp: OpaquePointer?,
                                                   _ hostname: UnsafePointer<CChar>?,
                                                   _ clientOptions: OpaquePointer?) -> GodotError {
    guard let dtls = lookUpPeer(peer, "dtls_peer_connect_to_peer_with_options") else { return .invalidParameter }
    guard let transport = lookUpTransport(udp, "dtls_peer_connect_to_peer_with_options") else {
        return .invalidParameter
    }
    guard let options = handles.lookUpNullable(clientOptions, .options, as: TLSOptions.self,
                                               for: "dtls_peer_connect_to_peer_with_options") else {
        return .invalidParameter
    }
    return dtls.connectToPeer(transport, hostname: CBuffers.string(hostname) ?? "", clientOptions: options)
}

@c @implementation
public func dtls_peer_poll(_ peer: OpaquePointer?) -> GodotError {
    guard let dtls = lookUpPeer(peer, "dtls_peer_poll") else { return .invalidParameter }
    return dtls.poll()
}

@c @implementation
public func dtls_peer_get_status(_ peer: OpaquePointer?) -> DTLSStatus {
    lookUpPeer(peer, "dtls_peer_get_status")?.getStatus() ?? .disconnected
}

@c @implementation
public func dtls_peer_disconnect_from_peer(_ peer: OpaquePointer?) -> GodotError {
    guard let dtls = lookUpPeer(peer, "dtls_peer_disconnect_from_peer") else { return .invalidParameter }
    return dtls.disconnectFromPeer()
}

@c @implementation
public func dtls_peer_put_packet(_ peer: OpaquePointer?, _ data: UnsafePointer<UInt8>?, _ length: Int) -> GodotError {
    guard let dtls = lookUpPeer(peer, "dtls_peer_put_packet") else { return .invalidParameter }
    guard let packet = CBuffers.input(data, length, "dtls_peer_put_packet", "data") else { return .invalidParameter }
    return dtls.putPacket(packet)
}

@c @implementation
public func dtls_peer_get_packet(_ peer: OpaquePointer?, _ buffer: UnsafeMutablePointer<UInt8>?, _ capacity: Int,
                                 _ outLength: UnsafeMutablePointer<Int>?) -> GodotError {
    guard let dtls = lookUpPeer(peer, "dtls_peer_get_packet") else { return .invalidParameter }
    guard let outLength else { return ErrorReport.fail(.invalidParameter, "dtls_peer_get_packet: out_len is NULL") }
    guard let space = CBuffers.output(buffer, capacity, "dtls_peer_get_packet") else { return .invalidParameter }
    let result = dtls.getPacket(into: space)
    outLength.pointee = result.length
    return result.error
}

@c @implementation
public func dtls_peer_get_available_packet_count(_ peer: OpaquePointer?) -> Int32 {
    Int32(clamping: lookUpPeer(peer, "dtls_peer_get_available_packet_count")?.getAvailablePacketCount() ?? 0)
}

@c @implementation
public func dtls_peer_get_packet_error(_ peer: OpaquePointer?) -> GodotError {
    guard let dtls = lookUpPeer(peer, "dtls_peer_get_packet_error") else { return .invalidParameter }
    return dtls.getPacketError()
}

@c @implementation
public func dtls_peer_get_error_message(_ peer: OpaquePointer?, _ buffer: UnsafeMutablePointer<CChar>?,
                                        _ capacity: Int) -> Int {
    CBuffers.writeString(of: peer, lookUpPeer, buffer, capacity, "dtls_peer_get_error_message") { $0.getErrorMessage() }
}

@c @implementation
public func dtls_peer_get_ciphersuite(_ peer: OpaquePointer?, _ buffer: UnsafeMutablePointer<CChar>?,
                                      _ capacity: Int) -> Int {
    CBuffers.writeString(of: peer, lookUpPeer, buffer, capacity, "dtls_peer_get_ciphersuite") { $0.getCipherSuite() }
}

@c @implementation
public func dtls_peer_get_max_packet_size(_ peer: OpaquePointer?) -> Int32 {
    Int32(clamping: lookUpPeer(peer, "dtls_peer_get_max_packet_size")?.getMaxPacketSize() ?? 0)
}
