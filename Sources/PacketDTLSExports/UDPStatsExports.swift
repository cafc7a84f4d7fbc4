// UDPStatsExports.swift — the receive-queue limits and loss figures of include/packetdtls.h
// (dtls_udp_stats, dtls_udp_get_stats, dtls_udp_server_get_stats, dtls_udp_server_*_queue_limit).

import PacketDTLS

/// The C struct of `stats`, in the header's field order.
private func cStats(_ stats: UDPStats) -> dtls_udp_stats {
    dtls_udp_stats(
        datagrams_received: stats.datagramsReceived, datagrams_dropped: stats.datagramsDropped,
        datagrams_dropped_by_kernel: stats.datagramsDroppedByKernel, packets_queued: stats.packetsQueued,
        bytes_queued: stats.bytesQueued, datagrams_sent_batched: stats.datagramsSentBatched,
        datagrams_send_failed: stats.datagramsSendFailed, datagrams_waiting_to_send: stats.datagramsWaitingToSend,
        send_batch_calls: stats.sendBatchCalls)
}

@c @implementation
public func dtls_udp_get_stats(_ udp: OpaquePointer?, _ out: UnsafeMutablePointer<dtls_udp_stats>?,
                               _ size: Int) -> GodotError {
    guard let peer = lookUpUDP(udp, "dtls_udp_get_stats") else { return .invalidParameter }
    return CBuffers.copyStruct(cStats(peer.getStats()), into: out, size: size, "dtls_udp_get_stats")
}

@c @implementation
public func dtls_udp_server_get_stats(_ server: OpaquePointer?, _ out: UnsafeMutablePointer<dtls_udp_stats>?,
                                      _ size: Int) -> GodotError {
    guard let udpServer = lookUpUDPServer(server, "dtls_udp_server_get_stats") else { return .invalidParameter }
    return CBuffers.copyStruct(cStats(udpServer.getStats()), into: out, size: size, "dtls_udp_server_get_stats")
}

@c @implementation
public func dtls_udp_server_set_peer_queue_limit(_ server: OpaquePointer?, _ bytes: Int32) -> GodotError {
    guard let udpServer = lookUpUDPServer(server, "dtls_udp_server_set_peer_queue_limit") else {
        return .invalidParameter
    }
    return udpServer.setPeerQueueLimit(Int(bytes))
}

@c @implementation
public func dtls_udp_server_get_peer_queue_limit(_ server: OpaquePointer?) -> Int32 {
    Int32(clamping: lookUpUDPServer(server, "dtls_udp_server_get_peer_queue_limit")?.peerQueueLimit ?? 0)
}

@c @implementation
public func dtls_udp_server_set_total_queue_limit(_ server: OpaquePointer?, _ bytes: Int32) -> GodotError {
    guard let udpServer = lookUpUDPServer(server, "dtls_udp_server_set_total_queue_limit") else {
        return .invalidParameter
    }
    return udpServer.setTotalQueueLimit(Int(bytes))
}

@c @implementation
public func dtls_udp_server_get_total_queue_limit(_ server: OpaquePointer?) -> Int32 {
    Int32(clamping: lookUpUDPServer(server, "dtls_udp_server_get_total_queue_limit")?.totalQueueLimit ?? 0)
}
