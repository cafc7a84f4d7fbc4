// UDPServer.swift — Godot's UDPServer: one socket for many clients, each a PacketPeerUDP.
//
// poll() reads every waiting datagram and routes it by its source (address, port): to the peer
// taken for that client, to a pending peer, or to a new pending peer that take_connection() hands
// out. Taken peers are held weakly, so a peer its user let go of simply vanishes from the map;
// pending peers are held strongly until taken or dropped.
//
// Locking: the server locks itself, then the peer it routes to or detaches. A peer never holds its
// own lock while waiting for ours (see PacketPeerUDP), so the two cannot deadlock.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

public final class UDPServer: @unchecked Sendable {
    /// Godot's default max_pending_connections.
    public static let defaultMaxPendingConnections = 16
    /// The most datagrams one poll() reads, so a flood cannot hold its caller forever; the rest
    /// wait in the kernel for the next poll().
    static let maxDatagramsPerPoll = 16384

    /// A taken or pending peer, held weakly.
    private struct Route {
        weak var peer: PacketPeerUDP?
    }

    private let lock = Lock()
    // Every stored `var` below is touched under `lock` only: @exclusivity(unchecked), see Lock.
    @exclusivity(unchecked) private var socket: UDPSocket?
    /// Every peer by its client's address: taken ones (weak) and pending ones (also in `pending`).
    @exclusivity(unchecked) private var routes: [SocketAddress: Route] = [:]
    /// Pending peers, oldest first.
    @exclusivity(unchecked) private var pending = FIFOQueue<PacketPeerUDP>()
    @exclusivity(unchecked) private var maxPending = UDPServer.defaultMaxPendingConnections
    @exclusivity(unchecked) private var dropped = 0
    /// poll() sweeps routes of vanished peers out when the map grows past this size.
    @exclusivity(unchecked) private var sweepThreshold = 64
    /// Space for recvmmsg, allocated once per server: up to 8 datagrams of any size per system call.
    private let batch = DatagramBatch(capacity: 8, slotSize: 65536)

    public init() {}

    deinit {
        // Nobody can poll a server nobody holds: stop, so its peers no longer claim a connection.
        lock.withLock { stopLocked() }
    }

    private var pendingCount: Int { pending.count }

    // MARK: - Listening

    /// Opens the one socket for all peers on `port` (0 = any free port) and `bindAddress` ("*" =
    /// dual-stack wildcard). Unlike Godot, SO_REUSEADDR is not set: a second server on a port in use
    /// fails with .unavailable instead of silently sharing its datagrams.
    public func listen(port: Int, bindAddress: String = "*") -> GodotError {
        let function = "UDPServer.listen"
        return Failure.reported { () throws(Failure) in
            let port = try HostResolver.port(port, in: 0...65535, for: function)
            let target = try HostResolver.bindTarget(bindAddress, port: port, for: function)
            return try lock.withLock { () throws(Failure) in
                if let socket {
                    throw Failure(.alreadyInUse, "\(function): already listening on port \(socket.localPort)")
            }
                let opened = try UDPSocket.openBound(target, port: port, bindAddress: bindAddress, for: function)
                // Many clients share this buffer; the kernel caps the request at its rmem_max.
                opened.growReceiveBuffer(to: 1 << 20)
                socket = opened
                return .ok
            }
        }
    }

    /// True while the server has its socket.
    public func isListening() -> Bool {
        lock.withLock { socket != nil }
    }

    /// The local port of the socket, 0 when not listening.
    public func getLocalPort() -> Int {
        lock.withLock { socket?.localPort ?? 0 }
    }

    /// Closes the socket, drops the pending peers, and closes every taken peer: they report not
    /// connected afterwards, and their put_packet gives .unconfigured.
    public func stop() {
        lock.withLock { stopLocked() }
    }

    private func stopLocked() {
        for route in routes.values { route.peer?.detachFromServer() }
        pending.forEach { _ = $0.detachFromServer() }
        routes = [:]
        pending.removeAll()
        sweepThreshold = 64
        socket?.close()
        socket = nil
    }

    // MARK: - Routing

    /// Reads every datagram waiting on the socket (up to maxDatagramsPerPoll) and routes each by
    /// its source. A datagram for a full pending queue or a peer whose queue is full is dropped and
    /// counted in droppedDatagrams.
    public func poll() -> GodotError {
        lock.withLock {
            guard let socket else {
                return ErrorReport.fail(.unconfigured, "UDPServer.poll: the server is not listening; listen() first")
            }
            var read = 0
            while read < Self.maxDatagramsPerPoll {
                switch socket.receive(into: batch) {
                case .empty:
                    return .ok
                case .failed(let code):
                    return ErrorReport.fail(.failed, "UDPServer.poll: recvmmsg on port \(socket.localPort) failed: "
                        + errnoText(code))
                case .received(let count):
                    for slot in 0..<count {
                        let datagram = batch.datagram(slot)
                        guard !datagram.truncated else {
                            dropped += 1
                            continue
                        }
                        route(Array(datagram.bytes), from: datagram.source, socket: socket)
                    }
                    read += count
                    // A short batch means the socket was empty behind it: no need to ask again.
                    if count < batch.capacity { return .ok }
                }
            }
            return .ok
        }
    }

    private func route(_ bytes: [UInt8], from source: SocketAddress, socket: UDPSocket) {
        if let known = routes[source] {
            if let peer = known.peer {
                switch peer.deliver(bytes, from: source) {
                case .queued: return
                case .queueFull:
                    dropped += 1
                    return
                case .detached: break
                }
            }
            // The peer closed or was freed: this client starts afresh.
            routes[source] = nil
        }
        guard pendingCount < maxPending else {
            dropped += 1
            return
        }
        let peer = PacketPeerUDP(server: self, socket: socket, remote: source)
        _ = peer.deliver(bytes, from: source)
        pending.append(peer)
        routes[source] = Route(peer: peer)
        if routes.count > sweepThreshold { sweepVanishedRoutes() }
    }

    /// Drops routes whose peers were freed or closed. Amortized: the threshold doubles past the survivors.
    private func sweepVanishedRoutes() {
        routes = routes.filter { $0.value.peer != nil }
        sweepThreshold = max(64, routes.count * 2)
    }

    /// Called by a peer's close() (with no peer lock held): forgets the route if it still leads there.
    func forget(_ peer: PacketPeerUDP, at remote: SocketAddress) {
        lock.withLock {
            if let known = routes[remote], known.peer == nil || known.peer === peer { routes[remote] = nil }
        }
    }

    /// Blocks until a datagram waits on the server's socket or `timeoutMs` pass (.timeout), so a
    /// server loop can sleep on its socket instead of spinning; poll() then routes what came.
    public func wait(timeoutMs: Int) -> GodotError {
        let function = "UDPServer.wait"
        guard timeoutMs >= 0 else {
            return ErrorReport.fail(.invalidParameter, "\(function): timeout \(timeoutMs) ms is negative")
        }
        guard let socket = lock.withLock({ self.socket }) else {
            return ErrorReport.fail(.unconfigured, "\(function): the server is not listening; listen() first")
        }
        // No lock is held while blocked: other threads may poll or stop meanwhile.
        switch socket.waitReadable(timeoutMs: timeoutMs) {
        case .readable: return .ok
        case .timedOut: return ErrorReport.fail(.timeout, "\(function): no datagram arrived within \(timeoutMs) ms")
        case .closed: return ErrorReport.fail(.unconfigured, "\(function): the server stopped while waiting")
        case .failed(let code): return ErrorReport.fail(.failed, "\(function): poll() failed: \(errnoText(code))")
        }
    }

    // MARK: - Pending connections

    /// True when a pending peer waits for takeConnection(). Reads what the socket holds first, as
    /// Godot 3 did: a Godot 3 accept loop that calls is_connection_available() and take_connection()
    /// but never poll() works as written.
    public func isConnectionAvailable() -> Bool {
        if isListening() { _ = poll() }
        return lock.withLock { socket != nil && pendingCount > 0 }
    }

    /// The oldest pending peer, now "connected" to its client through this server's socket; nil
    /// when none waits.
    public func takeConnection() -> PacketPeerUDP? {
        lock.withLock {
            guard socket != nil else { return nil }
            return pending.removeFirst()
        }
    }

    /// How many pending peers may wait (default 16; 0 refuses new clients). Setting a negative
    /// value is refused and leaves the limit unchanged (see setMaxPendingConnections).
    public var maxPendingConnections: Int {
        get { lock.withLock { maxPending } }
        set { _ = setMaxPendingConnections(newValue) }
    }

    /// Sets the pending limit. Lowering it drops the newest pending peers beyond it; raising it
    /// keeps them. (Godot's setter compares the wrong way round; this one does not.)
    public func setMaxPendingConnections(_ limit: Int) -> GodotError {
        guard limit >= 0 else {
            return ErrorReport.fail(.invalidParameter,
                "UDPServer.set_max_pending_connections: \(limit) is negative; 0 refuses new clients")
        }
        lock.withLock {
            maxPending = limit
            while pendingCount > limit {
                if let remote = pending.removeLast()?.detachFromServer() { routes[remote] = nil }
            }
        }
        return .ok
    }

    /// How many pending peers wait now.
    var pendingConnectionCount: Int {
        lock.withLock { pendingCount }
    }

    /// The socket all peers share, nil when not listening.
    var sharedSocket: UDPSocket? {
        lock.withLock { socket }
    }

    /// Datagrams this server read but could not keep: from new clients while the pending queue was
    /// full, or for peers whose queues were full.
    public var droppedDatagrams: Int {
        lock.withLock { dropped }
    }
}
