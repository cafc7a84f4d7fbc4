// PacketPeerUDP+FrontDoor.swift — what a UDPServer's DTLS front door and a server-side DTLS session
// need of a UDP peer: its handshake place, a reconnect of its client, a ClientHello handed back.

extension PacketPeerUDP {
    /// The client of a peer of a UDPServer, nil once it left the server.
    var remoteAddress: SocketAddress? {
        lock.withLock { serverLink?.remote }
    }

    /// A pending peer's client started over before the peer was taken: its new ClientHello replaces
    /// what was queued (UDPServer's lock held, then ours).
    func replaceQueued(with bytes: [UInt8], from source: SocketAddress) {
        lock.withLock {
            queue.removeAll()
            queue.append(.init(bytes: bytes, source: source))
        }
    }

    /// The client of this taken peer reconnected (a new ClientHello with a valid cookie): the server
    /// routes it to a new peer now. This one leaves the server, and its DTLS peer is told
    /// (UDPServer's lock held, then ours).
    func supersedeByReconnect() {
        lock.withLock {
            dtlsPeer?.clientReconnected()
            dtlsPeer?.datagramArrived()
        }
        detachFromServer()
    }

    /// Hands the handshake place of a pending peer to the DTLS peer made from it (once).
    func takeHandshakeSlot() -> HandshakeSlot? {
        lock.withLock {
            defer { handshakeSlot = nil }
            return handshakeSlot
        }
    }

    /// Lets the UDPServer this peer came from answer cookie-less ClientHellos for `dtlsServer`.
    /// Our lock is let go of before the server's is taken.
    func registerFrontDoor(_ dtlsServer: DTLSServer) {
        let server = lock.withLock { serverLink != nil ? linkedServer : nil }
        server?.adoptFrontDoor(dtlsServer)
    }

    /// Puts a ClientHello a server session handed back in front of the queue, for the next session.
    public func putBackDatagram(_ bytes: UnsafeRawBufferPointer) {
        lock.withLock {
            guard let source = serverLink?.remote ?? connectedHost ?? lastSource else { return }
            queue.prepend(.init(bytes: Array(bytes), source: source))
        }
    }
}
