// UDPStatsExports.swift — the receive-queue limits and loss figures of include/packetdtls.h
// (dtls_udp_stats, dtls_udp_get_stats, dtls_udp_server_get_stats, dtls_udp_server_*_queue_limit).

import PacketDTLS

/// Copies `stats` into the caller's struct, as much of it as the caller's (older, smaller) struct holds.
private func fill(_ out: UnsafeMutablePointer<dtls_udp_stats>?, _ size: Int, with stats: UDPStats,
                  for function: String) -> GodotError {
    guard let out, size > 0 else {
        return ErrorReport.fail(.invalidParameter, "\(function): out is NULL or size is 0")
    }
    var filled = dtls_udp_stats(
        datagrams_received: stats.datagramsReceived, datagrams_dropped: stats.datagramsDropped,
        datagrams_dropped_by_kernel: stats.datagramsDroppedByKernel, packets_queued: stats.packetsQueued,
        bytes_queued: stats.bytesQueued, datagrams_sent_batched: stats.datagramsSentBatched,
        datagrams_send_failed: stats.datagramsSendFailed, datagrams_waiting_to_send: stats.datagramsWaitingToSend,
        send_batch_calls: stats.sendBatchCalls)
    let count = min(size, MemoryLayout<dtls_udp_stats>.size)
    withUnsafeBytes(of: &filled) { UnsafeMutableRawPointer(out).copyMemory(from: $0.baseAddress!, byteCount: count) }
    return .ok
}

@c @implementation
public func dtls_udp_get_stats(_ udp: OpaquePointer?, _ out: UnsafeMutablePointer<dtls_udp_stats>?,
                               _ size: Int) -> GodotError {
    guard let peer = lookUpUDP(udp, "dtls_udp_get_stats") else { return .invalidParameter }
    return fill(out, size, with: peer.getStats(), for: "dtls_udp_get_stats")
}

@c @implementation
public func dtls_udp_server_get_stats(_ server: OpaquePointer?, _ out: UnsafeMutablePointer<dtls_udp_stats>?,
                                      _ size: Int) -> GodotError {
    guard let udpServer = lookUpUDPServer(server, "dtls_udp_server_get_stats") else { return .invalidParameter }
    return fill(out, size, with: udpServer.getStats(), for: "dtls_udp_server_get_stats")
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
