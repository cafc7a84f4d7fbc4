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
    /// `bytes` are the server's (its receive buffer): they are copied here, into the peer's spare
    /// datagram when one of the same length waits (see spareDatagram), else into a new array.
    func deliver(_ bytes: UnsafeRawBufferPointer, from source: SocketAddress, arrival: DatagramArrival) -> Delivery {
        lock.withLock {
            // The unretained link: testing `serverLink` copied it (a retain and release of its socket and batch).
            guard unretainedLink != nil else { return .detached }
            guard queue.appendIfRoom(size: bytes.count, from: source, { copyIntoSpareLocked(bytes) }) else {
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

    /// Queues a datagram the server already holds as an array (a held-back one, a ClientHello).
    func deliver(_ bytes: [UInt8], from source: SocketAddress, arrival: DatagramArrival) -> Delivery {
        bytes.withUnsafeBytes { deliver($0, from: source, arrival: arrival) }
    }

    /// The largest datagram whose array a peer keeps for the next one (see spareDatagram): a game's
    /// inputs and states are far smaller; a large one is freed as before.
    static let spareDatagramLimit = 512

    /// `bytes` as an array: the spare datagram refilled when its length matches (the common case of a
    /// game client sending the same input size every tick: no malloc and no free per datagram), else
    /// a new array. Under the lock.
    @inline(__always)
    func copyIntoSpareLocked(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        guard spareDatagram.count == bytes.count, bytes.count > 0 else { return Array(bytes) }
        var reused: [UInt8] = []
        swap(&reused, &spareDatagram)
        // `reused` is the only reference (swapped out of the spare), so this writes in place.
        reused.withUnsafeMutableBytes { $0.copyMemory(from: bytes) }
        return reused
    }

    /// Keeps the array of a datagram just read for the next deliver (see copyIntoSpareLocked). Under the lock.
    @inline(__always)
    func keepSpareLocked(_ bytes: inout [UInt8]) {
        if bytes.count <= Self.spareDatagramLimit { swap(&spareDatagram, &bytes) }
    }

    /// Lets the spare datagram array go (its DTLS session hibernates: none will come for a while).
    func releaseSpareDatagram() {
        lock.withLock { spareDatagram = [] }
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
            spareDatagram = []
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
