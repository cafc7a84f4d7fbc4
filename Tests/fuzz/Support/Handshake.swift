// Handshake.swift — real DTLS exchanges over a FuzzLink, to bring a peer to the state a target fuzzs.

import PacketDTLS

enum Handshake {
    /// How a client authenticates the server.
    enum ClientKind { case unsafe, verifying, psk }

    /// A client that has sent its ClientHello over `link`.
    static func startClient(_ link: FuzzLink, _ kind: ClientKind) -> PacketPeerDTLS {
        let client = PacketPeerDTLS()
        let options: TLSOptions
        switch kind {
        case .unsafe: options = .clientUnsafe()
        case .verifying: options = .client(trustedChain: FuzzIdentity.shared.certificate)
        case .psk:
            guard let psk = TLSOptions.clientPSK(identity: FuzzIdentity.pskIdentity, key: FuzzIdentity.pskKey),
                  psk.setCipherSuites(["TLS-PSK-WITH-AES-128-GCM-SHA256"]) == .ok else {
                fatalError("fuzz set-up: PSK client options refused")
            }
            options = psk
        }
        guard client.connectToPeer(link, hostname: "localhost", clientOptions: options) == .ok else {
            fatalError("fuzz set-up: connectToPeer failed: \(client.getErrorMessage())")
        }
        return client
    }

    /// The server-side peer past the cookie round (it has sent its first flight), as the seeds'
    /// accept loop gets it: the first takeConnection answers with a HelloVerifyRequest.
    static func accept(_ links: (client: FuzzLink, server: FuzzLink), client: PacketPeerDTLS) -> PacketPeerDTLS {
        for _ in 0..<4 {
            if links.server.pending > 0, let peer = FuzzIdentity.server.takeConnection(links.server),
               peer.getStatus() == .handshaking {
                return peer
            }
            client.poll()
        }
        fatalError("fuzz set-up: the server started no handshake")
    }

    /// Polls both ends until neither is handshaking; both must end connected.
    static func finish(_ a: PacketPeerDTLS, _ b: PacketPeerDTLS) {
        for _ in 0..<50 where a.getStatus() == .handshaking || b.getStatus() == .handshaking {
            a.poll()
            b.poll()
        }
        guard a.getStatus() == .connected, b.getStatus() == .connected else {
            fatalError("fuzz set-up: handshake failed: \(a.getErrorMessage()) / \(b.getErrorMessage())")
        }
    }

    /// A client and server-side peer connected over `links` by a plain-PSK handshake (the cheapest).
    static func connected(_ links: (client: FuzzLink, server: FuzzLink)) -> (client: PacketPeerDTLS, server: PacketPeerDTLS) {
        let client = startClient(links.client, .psk)
        let server = accept(links, client: client)
        finish(client, server)
        return (client, server)
    }
}

/// Delivers each datagram to `peer` over `link` and polls after each, then drains what decrypted.
func deliver(_ datagrams: [[UInt8]], to peer: PacketPeerDTLS, over link: FuzzLink) {
    for datagram in datagrams {
        link.inject(datagram)
        peer.poll()
        checkStatus(peer)
    }
    while peer.getAvailablePacketCount() > 0 { _ = peer.getPacket() }
    _ = peer.getStats()
}
