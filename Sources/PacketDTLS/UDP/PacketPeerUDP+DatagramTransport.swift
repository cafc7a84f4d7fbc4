// PacketPeerUDP+DatagramTransport.swift — the DTLS receive and send path, and the DTLS peer slot.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

// MARK: - DatagramTransport (what a DTLS connection uses)

/// These calls run for every peer on every DTLS poll, so they stay cheap: one lock, no allocation.
extension PacketPeerUDP: DatagramTransport {
    /// Server-taken peers are fed only by deliver(), so they can tell their DTLS peer about every
    /// datagram; a peer with its own socket reads on demand and tells nothing.
    public func attachDTLSPeer(_ peer: DatagramArrivalObserver) -> DTLSAttachment {
        lock.withLock {
            if let current = dtlsPeer, current !== peer { return .inUse }
            dtlsPeer = peer
            // Cast while the caller holds the peer: a stopping server ends its session (see
            // endSessionForStoppedServer).
            stoppableSession = (peer as? PacketPeerDTLS).map { Unmanaged.passUnretained($0) }
            reportsArrivals = serverLink != nil && ownSocket == nil
            return reportsArrivals ? .reportsArrivals : .silent
        }
    }

    public func detachDTLSPeer(_ peer: DatagramArrivalObserver) {
        lock.withLock {
            guard dtlsPeer === peer else { return }
            dtlsPeer = nil
            stoppableSession = nil
            reportsArrivals = false
        }
    }

    /// The next datagram: first from the queue, then (own socket only) straight from the socket
    /// into `buffer`. A peer of a UDPServer gets only what the server routed to it.
    public func receiveDatagram(into buffer: UnsafeMutableRawBufferPointer) -> DatagramReceive {
        receiveDatagramReportingMore(into: buffer).received
    }

    /// A peer of a UDPServer knows exactly what is left in its queue; a peer with its own socket
    /// cannot tell without asking the kernel, so it says "maybe".
    public func receiveDatagramReportingMore(into buffer: UnsafeMutableRawBufferPointer)
        -> (received: DatagramReceive, moreWaiting: Bool) {
        lock.withLock {
            if !queue.isEmpty, var packet = takeQueuedLocked() {
                lastSource = packet.source
                let more = mayHaveDatagramLocked
                let length = packet.bytes.count
                guard length <= buffer.count else { return (.oversized(length), more) }
                packet.bytes.withUnsafeBytes { buffer.copyMemory(from: $0) }
                // Copied out: the array serves the server's next datagram for this peer.
                if unretainedLink != nil { keepSpareLocked(&packet.bytes) }
                return (.datagram(length), more)
            }
            // Unretained: under the lock the socket stays.
            guard let socket = unretainedOwnSocket else {
                if serverLink != nil { return (.empty, false) }
                return (.failed("the UDP peer has no socket (closed, or its server stopped)"), false)
            }
            return socket._withUnsafeGuaranteedRef { receiveOwnLocked(into: buffer, $0) }
        }
    }

    /// receiveDatagramReportingMore from the peer's own socket (the queue is empty), under the lock.
    private func receiveOwnLocked(into buffer: UnsafeMutableRawBufferPointer, _ ownSocket: UDPSocket)
        -> (received: DatagramReceive, moreWaiting: Bool) {
        // The first straight into `buffer` (recv), then one more read into the spill buffer: EAGAIN
        // means the socket is empty behind the first, so the reader need not ask again; a datagram
        // is queued. Two plain reads cost the kernel less than one recvmmsg of two (about 0.18 us
        // per receive here, docs/PERFORMANCE.md). A connected socket hears only its peer: the
        // sources need not be asked for.
        let peer = connectedHost
        let none = Self.noSpill
        // A connected socket: recv, without a source address to clear and read.
        let first = peer != nil ? ownSocket.receiveConnected(into: buffer)
                                : ownSocket.receive(into: buffer, spill: none, wantSource: true)
        switch first {
        case .datagram(let length, let source, _):
            lastSource = peer ?? source
            let spill = receiveSpillLocked()
            var more = true
            switch peer != nil ? ownSocket.receiveConnected(into: spill)
                               : ownSocket.receive(into: spill, spill: none, wantSource: true) {
            case .datagram(let secondLength, let secondSource, let truncated):
                if truncated {
                    traffic.datagramsDropped += 1
                } else {
                    queue.append(.init(bytes: Array(UnsafeRawBufferPointer(rebasing: spill[..<secondLength])),
                                       source: peer ?? secondSource))
                    traffic.datagramsReceived += 1
                }
            case .empty:
                more = false
            case .failed:
                // Said again by the next read, if it lasts.
                break
            }
            return (length > buffer.count ? .oversized(length) : .datagram(length), more)
        case .empty:
            return (.empty, false)
        case .failed(let code):
            return (.failed("recv on UDP port \(ownSocket.localPort) failed: \(errnoText(code))"), false)
        }
    }

    /// Sends one datagram to the connected host, or the client of a UDPServer peer.
    public func sendDatagram(_ bytes: UnsafeRawBufferPointer) -> DatagramSend {
        lock.withLock {
            // The common case, a socket of our own connected to the peer: no route to build.
            if connectedHost != nil, let socket = unretainedOwnSocket, serverLink == nil {
                // Unretained: under the lock the socket stays.
                switch socket._withUnsafeGuaranteedRef({ $0.send(bytes, to: nil) }) {
                case .sent: return .sent
                case .wouldBlock: return .wouldBlock
                case .failed(let code):
                    let whereTo = connectedHost?.description ?? "the connected host"
                    return .failed("sending \(bytes.count) bytes to \(whereTo) failed: \(errnoText(code))")
                }
            }
            // A server's peer (every datagram of a game server's sessions): through the batch or the
            // shared socket, both unretained (under the lock, `serverLink` holds them).
            if let link = unretainedLink {
                let outcome = link.sendBatch._withUnsafeGuaranteedRef { $0.enqueue(bytes, to: link.remote, from: replySource) }
                    ?? link.socket._withUnsafeGuaranteedRef { $0.send(bytes, to: link.remote, from: replySource) }
                switch outcome {
                case .sent: return .sent
                case .wouldBlock: return .wouldBlock
                case .failed(let code):
                    return .failed("sending \(bytes.count) bytes to \(link.remote.description) failed: \(errnoText(code))")
                }
            }
            let route = sendRouteLocked()
            guard route.exists, let socket = route.socket else {
                return .failed("the UDP peer has no socket or destination")
            }
            switch sendLocked(bytes, on: socket, to: route.target) {
            case .sent: return .sent
            case .wouldBlock: return .wouldBlock
            case .failed(let code):
                let whereTo = (route.target ?? remoteLocked)?.description ?? "the connected host"
                return .failed("sending \(bytes.count) bytes to \(whereTo) failed: \(errnoText(code))")
            }
        }
    }

    /// A peer of a UDPServer is fed only by the server: an empty queue means nothing waits. A peer
    /// with its own socket cannot know without asking the kernel.
    public var mayHaveDatagram: Bool {
        // Not fed by a server (now, and so ever after): the answer is true without the lock. A DTLS
        // poll of a peer with its own socket asks this every time.
        guard fedByServer.load(ordering: .relaxed) else { return true }
        return lock.withLock { mayHaveDatagramLocked }
    }

    /// False only for a server's peer with an empty queue. A closed peer says true, so that a DTLS
    /// poll reads, and learns at once that its transport is gone.
    var mayHaveDatagramLocked: Bool { !queue.isEmpty || unretainedOwnSocket != nil || unretainedLink == nil }

    /// Only a peer's own connected socket hears ICMP refusals; a UDPServer's peers share an unconnected one.
    public var refusalsReported: UInt64 {
        lock.withLock { ownSocket?.refusalsSeen ?? 0 }
    }

    public var isConnectedToPeer: Bool {
        lock.withLock { socketLocked != nil && remoteLocked != nil }
    }

    public var droppedDatagrams: UInt64 {
        lock.withLock { traffic.datagramsDropped }
    }

    /// The remote's 16 address bytes (IPv4 in mapped form) and 2 port bytes (big-endian), and its
    /// printable address.
    public var remoteIdentity: (transportID: [UInt8], host: String)? {
        guard let remote = lock.withLock({ socketLocked != nil ? remoteLocked : nil }) else { return nil }
        return (remote.addressBytes + [UInt8(remote.port >> 8), UInt8(remote.port & 0xff)], remote.host)
    }

    /// A peer of a UDPServer leaves it, so the client's next datagram becomes a new pending peer.
    /// A peer with its own socket keeps it: its owner decides.
    public func sessionEnded() {
        if lock.withLock({ serverLink != nil }) { close() }
    }
}
