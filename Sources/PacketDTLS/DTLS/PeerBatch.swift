// PeerBatch.swift — server-side PacketPeerDTLS objects made several at a time, so they sit together in memory.

/// The peers DTLSServer hands out, made `size` at a time. Made one at a time, each peer object would
/// lie on the heap between its session's mbedTLS buffers (two 16.7 KiB records), one peer per page;
/// made back to back they share pages, and an idle poll, which touches the peer object alone, crosses
/// a few pages instead of one per peer.
struct PeerBatch {
    static let size = 64

    /// Not yet handed out, the first made last: a peer taken leaves the batch, so a caller that
    /// drops it frees it at once.
    private var ready: [PacketPeerDTLS] = []

    mutating func take() -> PacketPeerDTLS {
        if ready.isEmpty {
            // The array keeps its storage: after the first batch only the peers are allocated.
            for _ in 0..<Self.size { ready.append(PacketPeerDTLS()) }
            ready.reverse()
        }
        return ready.removeLast()
    }
}
