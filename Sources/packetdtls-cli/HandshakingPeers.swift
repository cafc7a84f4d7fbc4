// HandshakingPeers.swift — the server half of Godot's loop that the server-shaped benches share.

import PacketDTLS

/// DTLS peers taken from a UDPServer whose handshakes are still running.
struct HandshakingPeers {
    private var peers: [PacketPeerDTLS] = []

    /// Turns every connection the UDPServer holds into a DTLS peer; keeps those still handshaking
    /// (a cookie round leaves its peer DISCONNECTED, and the client comes back as a new one).
    /// Returns how many UDP peers it took.
    @discardableResult
    mutating func admit(from udp: UDPServer, through dtls: DTLSServer) -> Int {
        var count = 0
        while let taken = udp.takeConnection() {
            count += 1
            if let peer = dtls.takeConnection(taken), peer.getStatus() == .handshaking { peers.append(peer) }
        }
        return count
    }

    /// Polls each handshake once; hands the connected ones to `connected` and returns how many failed.
    mutating func advance(connected: (PacketPeerDTLS) -> Void) -> Int {
        var failed = 0
        pollHandshakes(&peers, peer: { $0 }, connected: connected, failed: { _ in failed += 1 })
        return failed
    }
}

/// Polls the handshake of every element of `pending` once and removes those that ended: connected
/// ones go to `connected`, the others to `failed` (which may throw to stop the run). Order is not kept.
func pollHandshakes<Element, Failure: Error>(_ pending: inout [Element], peer: (Element) -> PacketPeerDTLS,
                                             connected: (Element) -> Void,
                                             failed: (Element) throws(Failure) -> Void) throws(Failure) {
    var index = 0
    while index < pending.count {
        let element = pending[index]
        let dtls = peer(element)
        dtls.poll()
        switch dtls.getStatus() {
        case .handshaking:
            index += 1
            continue
        case .connected:
            connected(element)
        default:
            try failed(element)
        }
        pending.swapAt(index, pending.count - 1)
        pending.removeLast()
    }
}
