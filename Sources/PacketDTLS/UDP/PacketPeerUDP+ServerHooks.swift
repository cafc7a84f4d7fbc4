// PacketPeerUDP+ServerHooks.swift — what a UDPServer calls on the peers it made (its lock held, then ours,
// except endSessionForStoppedServer, which it calls with no lock held).

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension PacketPeerUDP {
    /// What became of a datagram the server routed here.
    enum Delivery {
        case queued
        /// The queue is full and was not before: the server keeps the datagram and reads no more
        /// this poll, so the kernel keeps the rest (nothing is lost while the user reads in time).
        case full
        /// The queue is still full although it stopped the server once and nothing has been read
        /// from it since: the datagram was dropped and counted, so one unread peer cannot stall them all.
        case dropped
        /// This peer has left the server (closed); the server should forget it.
        case detached
    }

    /// Queues a datagram the server read for this peer; `arrival` tells where the client sent it.
    func deliver(_ bytes: [UInt8], from source: SocketAddress, arrival: DatagramArrival) -> Delivery {
        lock.withLock {
            guard serverLink != nil else { return .detached }
            guard queue.appendIfRoom(.init(bytes: bytes, source: source)) else {
                if !heldServerBack {
                    heldServerBack = true
                    return .full
                }
                traffic.datagramsDropped += 1
                return .dropped
            }
            if let destination = arrival.destination { replySource = destination }
            traffic.datagramsReceived += 1
            // Told under our lock: the DTLS peer detaches under it too, so it is never told once gone.
            if reportsArrivals { dtlsPeer?.datagramArrived() }
            return .queued
        }
    }

    /// Takes the oldest queued packet; reading anything lets the server wait on this peer again.
    func takeQueuedLocked() -> PacketQueue.Packet? {
        guard let packet = queue.removeFirst() else { return nil }
        heldServerBack = false
        return packet
    }

    /// What this peer's queue took in and what was dropped for it (see UDPStats).
    public func getStats() -> UDPStats {
        lock.withLock {
            var snapshot = traffic
            snapshot.packetsQueued = UInt64(queue.count)
            snapshot.bytesQueued = UInt64(queue.byteCount)
            return snapshot
        }
    }

    /// The local address this peer's replies leave from, "" when the kernel chooses (beyond Godot).
    var replySourceHost: String {
        lock.withLock { serverLink != nil ? replySource?.host ?? "" : "" }
    }

    /// Cuts this peer from its server (the server stopped, or dropped it while pending): it then
    /// has no socket, reports not connected, and put_packet gives .unconfigured.
    /// - Returns: the client address it stood for, nil when it was detached already.
    @discardableResult
    func detachFromServer() -> SocketAddress? {
        lock.withLock {
            guard let link = serverLink else { return nil }
            serverLink = nil
            fedByServer.store(false, ordering: .relaxed)
            linkedServer = nil
            replySource = nil
            destination = nil
            queue.removeAll()
            queue = PacketQueue(byteLimit: Self.defaultReceiveBufferSize)
            // A quiet DTLS peer above must look again, to find the transport gone.
            if reportsArrivals { dtlsPeer?.datagramArrived() }
            return link.remote
        }
    }

    /// Ends the DTLS session over this peer, if one runs, because its server stops (close_notify
    /// when connected). Called by the stopping server with no lock held. A handshake on a DTLSServer's
    /// worker is told under our lock (a job's lock comes after ours): the worker ends it, and the
    /// DTLS peer's next poll is DISCONNECTED, even while the worker still finishes a step.
    ///
    /// This reaches upwards against the lock order (the DTLS peer locks before us), so it only tries
    /// the DTLS peer's lock while holding ours and backs off when it is busy. Holding our lock keeps
    /// the unretained DTLS peer alive up to the try: it detaches under our lock, inside its own, so
    /// once we hold its lock it cannot finish going either.
    func endSessionForStoppedServer() {
        enum Step {
            case none
            case busy
            case locked(Unmanaged<PacketPeerDTLS>, Lock)
        }
        while true {
            let step: Step = lock.withLock {
                // Attached, a job is alive: it detaches under our lock before it can go.
                if let job = dtlsPeer as? HandshakeJob {
                    job.serverStopped()
                    return .none
                }
                guard let session = stoppableSession else { return .none }
                return session._withUnsafeGuaranteedRef { dtls in
                    let dtlsLock = dtls.lock
                    return dtlsLock.tryLock() ? .locked(session, dtlsLock) : .busy
                }
            }
            switch step {
            case .none:
                return
            case .busy:
                sched_yield()
            case .locked(let session, let dtlsLock):
                session._withUnsafeGuaranteedRef { $0.endBecauseServerStoppedLocked() }
                dtlsLock.unlock()
                return
            }
        }
    }
}
