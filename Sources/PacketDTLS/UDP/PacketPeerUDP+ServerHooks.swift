// PacketPeerUDP+ServerHooks.swift — what a UDPServer calls on the peers it made (its lock held, then ours).

extension PacketPeerUDP {
    /// What became of a datagram the server routed here.
    enum Delivery {
        case queued
        /// The queue is full; the datagram was not kept.
        case queueFull
        /// This peer has left the server (closed); the server should forget it.
        case detached
    }

    /// Queues a datagram the server read for this peer.
    func deliver(_ bytes: [UInt8], from source: SocketAddress) -> Delivery {
        lock.withLock {
            guard serverLink != nil else { return .detached }
            guard queue.hasRoom(for: bytes.count) else { return .queueFull }
            queue.append(.init(bytes: bytes, source: source))
            // Told under our lock: the DTLS peer detaches under it too, so it is never told once gone.
            if reportsArrivals { dtlsPeer?.datagramArrived() }
            return .queued
        }
    }

    /// Cuts this peer from its server (the server stopped, or dropped it while pending): it then
    /// has no socket, reports not connected, and put_packet gives .unconfigured.
    /// - Returns: the client address it stood for, nil when it was detached already.
    @discardableResult
    func detachFromServer() -> SocketAddress? {
        lock.withLock {
            guard let link = serverLink else { return nil }
            serverLink = nil
            linkedServer = nil
            destination = nil
            queue = PacketQueue(byteLimit: Self.defaultReceiveBufferSize)
            return link.remote
        }
    }
}
