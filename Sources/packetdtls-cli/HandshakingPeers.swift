// HandshakingPeers.swift — the server half of Godot's loop that the server-shaped benches share.

import PacketDTLS

/// DTLS peers taken from a UDPServer whose handshakes are still running.
struct HandshakingPeers {
    private var peers: [PacketPeerDTLS] = []

    /// Turns every connection the UDPServer holds into a DTLS peer; keeps those still handshaking
    /// (a cookie round leaves its peer DISCONNECTED, and the client comes back as a new one).
    mutating func admit(from udp: UDPServer, through dtls: DTLSServer) {
        while let taken = udp.takeConnection() {
            if let peer = dtls.takeConnection(taken), peer.getStatus() == .handshaking { peers.append(peer) }
        }
    }

    /// Polls each handshake once; hands the connected ones to `connected` and returns how many failed.
    mutating func advance(connected: (PacketPeerDTLS) -> Void) -> Int {
        var failed = 0
        var index = 0
        while index < peers.count {
            let peer = peers[index]
            peer.poll()
            switch peer.getStatus() {
            case .handshaking:
                index += 1
                continue
            case .connected:
                connected(peer)
            default:
                failed += 1
            }
            peers.swapAt(index, peers.count - 1)
            peers.removeLast()
        }
        return failed
    }
}
