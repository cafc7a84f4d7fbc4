// PeerBeyondGodotExports.swift — what a PacketPeerDTLS tells beyond Godot: ALPN, the peer's
// certificate, verification flags, the last alert, traffic figures, and the keepalive.

import PacketDTLS

@c @implementation
public func dtls_peer_get_alpn_protocol(_ handle: OpaquePointer?, _ buffer: UnsafeMutablePointer<CChar>?,
                                       _ capacity: Int) -> Int {
    CBuffers.writeString(of: handle, lookUpPeer, buffer, capacity, "dtls_peer_get_alpn_protocol") {
        $0.getALPNProtocol()
    }
}

@c @implementation
public func dtls_peer_get_peer_certificate(_ handle: OpaquePointer?) -> OpaquePointer? {
    guard let dtls = lookUpPeer(handle, "dtls_peer_get_peer_certificate") else { return nil }
    guard let certificate = dtls.getPeerCertificate() else {
        ErrorReport.set("dtls_peer_get_peer_certificate: no peer certificate (not connected, or none was sent)")
        return nil
    }
    return handles.issue(certificate, as: .cert)
}

@c @implementation
public func dtls_peer_get_verify_flags(_ handle: OpaquePointer?) -> UInt32 {
    lookUpPeer(handle, "dtls_peer_get_verify_flags")?.getVerifyFlags() ?? 0
}

@c @implementation
public func dtls_peer_get_verify_text(_ handle: OpaquePointer?, _ buffer: UnsafeMutablePointer<CChar>?,
                                     _ capacity: Int) -> Int {
    CBuffers.writeString(of: handle, lookUpPeer, buffer, capacity, "dtls_peer_get_verify_text") { $0.getVerifyText() }
}

@c @implementation
public func dtls_peer_get_last_alert(_ handle: OpaquePointer?) -> Int32 {
    guard let alert = lookUpPeer(handle, "dtls_peer_get_last_alert")?.getLastAlertReceived() else { return -1 }
    return Int32(alert)
}

@c @implementation
public func dtls_peer_set_keepalive_ms(_ handle: OpaquePointer?, _ intervalMs: UInt32) -> GodotError {
    guard let dtls = lookUpPeer(handle, "dtls_peer_set_keepalive_ms") else { return .invalidParameter }
    return dtls.setKeepalive(ms: intervalMs)
}

@c @implementation
public func dtls_peer_get_stats(_ handle: OpaquePointer?, _ out: UnsafeMutablePointer<dtls_peer_stats>?,
                                _ size: Int) -> GodotError {
    guard let dtls = lookUpPeer(handle, "dtls_peer_get_stats") else { return .invalidParameter }
    let stats = dtls.getStats()
    let filled = dtls_peer_stats(
        packets_sent: stats.packetsSent, packets_received: stats.packetsReceived,
        bytes_sent: stats.bytesSent, bytes_received: stats.bytesReceived,
        datagrams_sent: stats.datagramsSent, datagrams_received: stats.datagramsReceived,
        records_dropped_bad_mac: stats.recordsDroppedBadMAC, datagrams_oversized: stats.datagramsOversized,
        handshake_retransmissions: stats.handshakeRetransmissions, handshake_duration_ms: stats.handshakeDurationMs,
        keepalives_sent: stats.keepalivesSent, keepalives_received: stats.keepalivesReceived,
        datagrams_dropped: stats.datagramsDropped, hibernations: stats.hibernations, wakes: stats.wakes)
    return CBuffers.copyStruct(filled, into: out, size: size, "dtls_peer_get_stats")
}
