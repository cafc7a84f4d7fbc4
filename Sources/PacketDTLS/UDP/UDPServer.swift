// UDPServer.swift — Godot's UDPServer: one socket for many clients, each a PacketPeerUDP.
//
// poll() reads every waiting datagram and routes it by its source (address, port): to the peer
// taken for that client, to a pending peer, or to a new pending peer that take_connection() hands
// out. Taken peers are held weakly, so a peer its user let go of simply vanishes from the map;
// pending peers are held strongly until taken or dropped.
//
// Nothing read is lost silently. A peer's queue holds up to peerQueueLimit bytes, all peers together
// totalQueueLimit. When a datagram finds its peer's queue full, poll() keeps it (and the rest of the
// batch read with it) and reads no more: the kernel keeps what follows, and the next poll() starts with
// what was kept. All peers share the socket, so this holds the others back for one poll; a peer that
// was read from meanwhile takes its datagram then, and one still full and unread gets it dropped and
// counted (on the peer and here), so one idle peer cannot stall the rest. A socket bound to a wildcard
// address learns where each client sent to, and replies leave from that address (DatagramArrival).
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
    /// The same while the front door sheds a hello flood or counts a flood's sources (HelloShedding):
    /// the socket then never empties, and the caller's other work (its peers' handshake steps) must
    /// not wait for a long poll.
    static let maxDatagramsPerPollWhileShedding = 2048
    /// How long wait() lets datagrams gather under a hello flood before it looks at the socket.
    static let floodGatherMs = 1
    /// The default bytes one peer's receive queue holds (with 24 bytes of bookkeeping a datagram):
    /// a burst of 500 datagrams of 1 KiB fits, which Godot's 64 KiB does not.
    public static let defaultPeerQueueLimit = 1 << 20
    /// The default bytes all peers' queues hold together.
    public static let defaultTotalQueueLimit = 16 << 20
    /// The receive buffer asked of the kernel for the shared socket.
    static let kernelReceiveBuffer = 4 << 20

    /// A datagram read but not yet routed because a peer's queue was full (see the file comment).
    private struct HeldDatagram {
        let bytes: [UInt8]
        let source: SocketAddress
        let arrival: DatagramArrival
    }

    /// A taken or pending peer, held weakly. A class, not a struct: looking a route up then costs one
    /// retain, where copying a struct out of the map copied its weak reference and its array too
    /// (a few hundred instructions a datagram, docs/PERFORMANCE.md). Touched under the server's lock only.
    private final class Route {
        weak var peer: PacketPeerUDP?
        /// The random of the epoch-0 ClientHello that made this peer, if one did: a ClientHello with
        /// another random and a valid cookie is the client starting over (see routeClientHello).
        var helloRandom: [UInt8]?
        /// Handed out by takeConnection().
        var taken = false

        init(peer: PacketPeerUDP, helloRandom: [UInt8]?) {
            self.peer = peer
            self.helloRandom = helloRandom
        }
    }

    private let lock = Lock()
    // Every stored `var` below is touched under `lock` only: @exclusivity(unchecked), see Lock.
    @exclusivity(unchecked) private var socket: UDPSocket?
    /// Every peer by its client's address: taken ones (weak) and pending ones (also in `pending`).
    @exclusivity(unchecked) private var routes: [SocketAddress: Route] = [:]
    /// Pending peers, oldest first.
    @exclusivity(unchecked) private var pending = FIFOQueue<PacketPeerUDP>()
    @exclusivity(unchecked) private var maxPending = UDPServer.defaultMaxPendingConnections
    @exclusivity(unchecked) private var reusesPort = false
    @exclusivity(unchecked) private var traffic = UDPStats()
    /// Datagrams kept back by the last poll, oldest first; routed before the socket is read again.
    @exclusivity(unchecked) private var heldBack: [HeldDatagram] = []
    @exclusivity(unchecked) private var peerQueueBytes = UDPServer.defaultPeerQueueLimit
    /// Shared with every peer this server makes.
    private let budget = QueueBudget(limit: UDPServer.defaultTotalQueueLimit)
    /// poll() sweeps routes of vanished peers out when the map grows past this size.
    @exclusivity(unchecked) private var sweepThreshold = 64
    /// The DTLS server that takes this server's clients, once one did (see adoptFrontDoor): its
    /// cookie check then answers new clients' ClientHellos statelessly.
    @exclusivity(unchecked) private weak var frontDoorOwner: DTLSServer?
    /// The front door for the poll in progress.
    @exclusivity(unchecked) private var door: DTLSServer.FrontDoor?
    @exclusivity(unchecked) private var helloVerifyRequests = 0
    /// Datagrams one recvmmsg reads, and HelloVerifyRequests one sendmmsg sends. Under a flood every
    /// system call's own cost is shared by this many datagrams. A slot's pages cost memory only once
    /// a datagram reaches them: a flood of small hellos makes 32 pages (128 KiB) of the 2 MiB resident.
    static let batchCapacity = 32
    /// Space for recvmmsg, allocated once per server: up to batchCapacity datagrams of any size per call.
    private let batch = DatagramBatch(capacity: UDPServer.batchCapacity, slotSize: 65536, controlMessages: true)
    /// Send batching (beyond Godot, off by default): see UDPServer+SendBatching.swift.
    let sendBatch = SendBatch()
    /// The front door's HelloVerifyRequests for one batch, sent together after it (ReplyBatch).
    private let replies = ReplyBatch(capacity: UDPServer.batchCapacity)
    /// The share of cookie-less ClientHellos the front door answers while it cannot answer them all.
    @exclusivity(unchecked) private var shedding = HelloShedding()
    /// While shedding or under a flood: how many cookie-less hellos each source sent lately (fresh ones
    /// go first, repeating ones get little).
    @exclusivity(unchecked) private var helloSources = HelloSourceSketch()
    /// Whether the last poll() read the socket empty (and not up to its cap).
    @exclusivity(unchecked) private var lastPollDrained = false
    /// ClientHellos without a valid cookie in the batch being routed (answered or not).
    @exclusivity(unchecked) private var batchHelloes = 0

    public init() {}

    deinit {
        // Nobody can poll a server nobody holds: stop, so its peers no longer claim a connection
        // (and their DTLS sessions end with close_notify, as with stop()).
        stop()
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
                let opened = try UDPSocket.openBound(target, port: port, bindAddress: bindAddress, for: function,
                                                     reusePort: reusesPort)
                // Many clients share this buffer, and what overflows it is lost before anyone can read
                // it; the kernel caps the request at its rmem_max (an idle buffer costs nothing).
                opened.growReceiveBuffer(to: Self.kernelReceiveBuffer)
                // Where clients sent to matters only when the socket hears several addresses.
                let wildcard = target.address.map { $0.addressBytes.allSatisfy { $0 == 0 } || $0.host == "0.0.0.0" }
                    ?? true
                // The kernel's drops are read with SO_MEMINFO when asked for (getStats, the front
                // door's shedding); only a kernel that does not tell them there sends a count with
                // every datagram.
                let status = opened.enableArrivalInfo(destinations: wildcard,
                                                      dropCounts: opened.receiveBufferUse()?.drops == nil)
                if status != 0 {
                    ErrorReport.set("\(function): the kernel will not tell destination addresses or drops: "
                        + errnoText(status))
                }
                socket = opened
                sendBatch.attach(opened)
                return .ok
            }
        }
    }

    /// Beyond Godot, off by default: with `enabled`, the next listen() sets SO_REUSEPORT, so
    /// several servers (processes of one user) can listen on one port and the kernel spreads
    /// clients over them by their address and port. Every such server must share its DTLS keys
    /// (DTLSServer.loadKeys) so a client that lands on another keeps its cookie and session.
    /// .alreadyInUse while listening: the option is set before binding.
    public func setReusePort(_ enabled: Bool) -> GodotError {
        Failure.reported { () throws(Failure) in
            try lock.withLock { () throws(Failure) in
                guard socket == nil else {
                    throw Failure(.alreadyInUse, "UDPServer.set_reuse_port: already listening; call it before listen()")
                }
                reusesPort = enabled
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

    /// The socket's file descriptor for select/poll/epoll, nil when not listening (beyond Godot).
    /// Readable means poll() has datagrams to route. The server owns it: watch it, never read or
    /// close it; it is gone after stop().
    public func fileDescriptor() -> Int32? {
        lock.withLock { socket?.fileDescriptor }
    }

    /// Closes the socket, drops the pending peers, and closes every taken peer: they report not
    /// connected afterwards, and their put_packet gives .unconfigured. A DTLS session over a peer
    /// ends first: a connected client is sent close_notify (so it learns at once, instead of sending
    /// into the void), and the server-side PacketPeerDTLS is DISCONNECTED with the reason.
    public func stop() {
        let (peers, closing) = lock.withLock { () -> ([PacketPeerUDP], UDPSocket?) in
            var peers = routes.values.compactMap { $0.peer }
            pending.forEach { peers.append($0) }
            let closing = socket
            routes = [:]
            pending.removeAll()
            heldBack = []
            sweepThreshold = 64
            socket = nil
            return (peers, closing)
        }
        // Without our lock (a session's end makes its peer leave us), and with the socket still
        // open for the close_notify.
        for peer in peers { peer.endSessionForStoppedServer() }
        for peer in peers { peer.detachFromServer() }
        sendBatch.detach()
        closing?.close()
    }

    // MARK: - Routing

    /// Routes what the last poll kept back, then reads every datagram waiting on the socket (up to
    /// maxDatagramsPerPoll) and routes each by its source, until a peer's queue is full: then the
    /// rest stays in the kernel for the next poll (see the file comment). Drops are counted in
    /// getStats(): a new client while the pending queue is full, a peer still full and unread.
    public func poll() -> GodotError {
        lock.withLock {
            guard let socket else {
                return ErrorReport.fail(.unconfigured, "UDPServer.poll: the server is not listening; listen() first")
            }
            sendBatch.flushForPoll()
            door = frontDoorOwner?.frontDoor
            defer { door = nil }
            guard routeHeldBack(socket: socket) else { return .ok }
            shedding.pollStarted()
            lastPollDrained = false
            var read = 0
            while read < (shedding.countsSources ? Self.maxDatagramsPerPollWhileShedding : Self.maxDatagramsPerPoll) {
                switch socket.receive(into: batch) {
                case .empty:
                    lastPollDrained = true
                    if door != nil { shedding.drained(nowMs: MonotonicClock.coarseMilliseconds()) }
                    return .ok
                case .failed(let code):
                    return ErrorReport.fail(.failed, "UDPServer.poll: recvmmsg on port \(socket.localPort) failed: "
                        + errnoText(code))
                case .received(let count):
                    let kernelDropsBefore = traffic.datagramsDroppedByKernel  // with SO_RXQ_OVFL only
                    batchHelloes = 0
                    for slot in 0..<count {
                        let datagram = batch.datagram(slot)
                        if let drops = datagram.arrival.kernelDrops { traffic.datagramsDroppedByKernel = UInt64(drops) }
                        guard !datagram.truncated else {
                            traffic.datagramsDropped += 1
                            continue
                        }
                        // A cookie-less ClientHello is answered from the receive buffer: nothing kept,
                        // nothing allocated, and its answer leaves after the batch (answerStatelessly).
                        if let door, answerStatelessly(datagram, door: door, socket: socket) { continue }
                        // Routed straight from the receive buffer: the peer copies it into its queue
                        // (reusing its spare array, PacketPeerUDP.deliver); only a datagram kept back
                        // becomes an array here. Behind a full queue, the rest of the batch waits with it.
                        if !heldBack.isEmpty
                            || !routeFromBatch(datagram.bytes, from: datagram.source, arrival: datagram.arrival,
                                               socket: socket) {
                            heldBack.append(HeldDatagram(bytes: Array(datagram.bytes), source: datagram.source,
                                                         arrival: datagram.arrival))
                        }
                    }
                    if replies.count > 0 { helloVerifyRequests += replies.flush(on: socket.descriptor) }
                    read += count
                    if door != nil {
                        updateShedding(read: count, full: count == batch.capacity,
                                       kernelDropped: traffic.datagramsDroppedByKernel != kernelDropsBefore, socket: socket)
                    }
                    // Held back, or a short batch (the socket was empty behind it): read no more now.
                    if !heldBack.isEmpty || count < batch.capacity {
                        lastPollDrained = heldBack.isEmpty
                        return .ok
                    }
                }
            }
            return .ok
        }
    }

    /// Routes the datagrams the last poll kept back, in order; false when a queue is still full
    /// (then the rest stays kept, and the socket is not read this poll).
    private func routeHeldBack(socket: UDPSocket) -> Bool {
        guard !heldBack.isEmpty else { return true }
        var routed = 0
        while routed < heldBack.count {
            let held = heldBack[routed]
            guard route(held.bytes, from: held.source, arrival: held.arrival, socket: socket) else { break }
            routed += 1
        }
        heldBack.removeFirst(routed)
        return heldBack.isEmpty
    }

    /// Routes one datagram; false when its peer's queue is full and it must wait (see Delivery.full).
    private func route(_ bytes: [UInt8], from source: SocketAddress, arrival: DatagramArrival,
                       socket: UDPSocket) -> Bool {
        if let door, bytes.withUnsafeBytes({ ClientHelloFields.looksLikeInitialClientHello($0) }) {
            return routeClientHello(bytes, from: source, arrival: arrival, socket: socket, door: door)
        }
        return routeByAddress(bytes, from: source, arrival: arrival, socket: socket)
    }

    /// route() for a datagram still in the receive batch: an initial ClientHello behind the front door
    /// (rare) takes the array path; every other datagram is routed by address without an array.
    private func routeFromBatch(_ bytes: UnsafeRawBufferPointer, from source: SocketAddress, arrival: DatagramArrival,
                                socket: UDPSocket) -> Bool {
        if door != nil, ClientHelloFields.looksLikeInitialClientHello(bytes) {
            return route(Array(bytes), from: source, arrival: arrival, socket: socket)
        }
        return routeByAddress(bytes, from: source, arrival: arrival, socket: socket)
    }

    /// Routes a datagram to its source's peer, or a new pending peer.
    private func routeByAddress(_ bytes: [UInt8], from source: SocketAddress, arrival: DatagramArrival,
                                socket: UDPSocket) -> Bool {
        bytes.withUnsafeBytes { routeByAddress($0, from: source, arrival: arrival, socket: socket) }
    }

    private func routeByAddress(_ bytes: UnsafeRawBufferPointer, from source: SocketAddress, arrival: DatagramArrival,
                                socket: UDPSocket) -> Bool {
        if let known = routes[source] {
            if let peer = known.peer {
                switch peer.deliver(bytes, from: source, arrival: arrival) {
                case .queued:
                    traffic.datagramsReceived += 1
                    return true
                case .full:
                    return false
                case .dropped:
                    traffic.datagramsDropped += 1
                    return true
                case .detached: break
                }
            }
            // The peer closed or was freed: this client starts afresh.
            routes[source] = nil
        }
        // Behind a DTLS front door only a ClientHello with a valid cookie starts a client
        // (routeClientHello): anything else from an unknown source could never become a session.
        if door != nil {
            traffic.datagramsDropped += 1
            return true
        }
        guard pendingCount < maxPending else {
            traffic.datagramsDropped += 1
            return true
        }
        let random = ClientHelloFields.parse(bytes).map { hello in Array(bytes[hello.random]) }
        addPending(bytes, from: source, arrival: arrival, socket: socket, helloRandom: random, slot: nil)
        return true
    }

    private func addPending(_ bytes: [UInt8], from source: SocketAddress, arrival: DatagramArrival, socket: UDPSocket,
                            helloRandom: [UInt8]?, slot: HandshakeSlot?) {
        bytes.withUnsafeBytes {
            addPending($0, from: source, arrival: arrival, socket: socket, helloRandom: helloRandom, slot: slot)
        }
    }

    private func addPending(_ bytes: UnsafeRawBufferPointer, from source: SocketAddress, arrival: DatagramArrival,
                            socket: UDPSocket, helloRandom: [UInt8]?, slot: HandshakeSlot?) {
        let peer = PacketPeerUDP(server: self, socket: socket, remote: source, queueLimit: peerQueueBytes,
                                 budget: budget, handshakeSlot: slot)
        _ = peer.deliver(bytes, from: source, arrival: arrival)
        traffic.datagramsReceived += 1
        pending.append(peer)
        routes[source] = Route(peer: peer, helloRandom: helloRandom)
        if routes.count > sweepThreshold { sweepVanishedRoutes() }
    }

    // MARK: - The DTLS front door

    /// From the first DTLSServer.takeConnection of one of this server's peers on, epoch-0 ClientHellos
    /// are judged by that DTLS server's cookie check before they may cost any state.
    func adoptFrontDoor(_ dtlsServer: DTLSServer) {
        lock.withLock { if frontDoorOwner !== dtlsServer { frontDoorOwner = dtlsServer } }
    }

    /// An epoch-0 ClientHello, with a DTLS server behind this one:
    /// - no valid cookie: a HelloVerifyRequest from here, and nothing kept (no peer, no route), even
    ///   when the address has a live peer, which never sees it;
    /// - a valid cookie from a new address: a pending peer, if the handshake budget has room;
    /// - a valid cookie with the random of the address's current peer: a retransmission, for it;
    /// - a valid cookie with another random: the client started over on the same address and port
    ///   (RFC 6347 section 4.2.8). A pending peer not yet taken gets the new hello in place of what it
    ///   held; a taken one is superseded (its DTLS peer ends DISCONNECTED, "the client reconnected") and
    ///   the hello becomes a new pending peer.
    /// False, as route(), when the retransmission waits for a full peer queue.
    private func routeClientHello(_ bytes: [UInt8], from source: SocketAddress, arrival: DatagramArrival,
                                  socket: UDPSocket, door: DTLSServer.FrontDoor) -> Bool {
        let verdict = bytes.withUnsafeBytes { door.screen.judge($0, clientID: source.transportID) }
        let random: [UInt8]
        switch verdict {
        case .notClientHello:
            return routeByAddress(bytes, from: source, arrival: arrival, socket: socket)
        case .malformed, .unverified(reply: nil):
            traffic.datagramsDropped += 1
            return true
        case .unverified(let reply?):
            // A full send buffer loses this reply as the network might: the client sends again. It goes
            // from the address the hello came to, as every reply of this server does.
            if case .sent = reply.withUnsafeBytes({ socket.send($0, to: source, from: arrival.destination) }) {
                helloVerifyRequests += 1
            }
            return true
        case .verified(let verified):
            random = verified
        }
        if let known = routes[source], let peer = known.peer, peer.isConnectedToPeer {
            if known.helloRandom == random {
                return routeByAddress(bytes, from: source, arrival: arrival, socket: socket)
            }
            if !known.taken {
                peer.replaceQueued(with: bytes, from: source)
                known.helloRandom = random
                return true
            }
            routes[source] = nil
            peer.supersedeByReconnect()
        }
        guard maxPending > 0, let slot = door.budget.acquire(address: source.addressBytes) else {
            traffic.datagramsDropped += 1
            return true
        }
        addPending(bytes, from: source, arrival: arrival, socket: socket, helloRandom: random, slot: slot)
        return true
    }

    /// The front door's fast path, for a datagram straight from the socket: an epoch-0 ClientHello
    /// without a valid cookie gets its HelloVerifyRequest written into `replies` (sent once the batch
    /// is routed: the batch's other datagrams, real clients' among them, go first), a malformed or
    /// unanswerable one is dropped; true for those, which need nothing more. False for anything else
    /// (a valid cookie, another datagram): it takes the ordinary route. It keeps no state for the
    /// source, so it may pass datagrams held back for a full queue: a stateless answer has no order.
    ///
    /// While the server cannot answer every hello without a valid cookie (HelloShedding), some go
    /// unanswered: a cookie-less one before its cookie is looked at, one with a bad cookie after.
    /// They are counted as dropped. A hello with a valid cookie is never skipped.
    private func answerStatelessly(_ datagram: DatagramBatch.Datagram, door: DTLSServer.FrontDoor,
                                   socket: UDPSocket) -> Bool {
        guard ClientHelloFields.looksLikeInitialClientHello(datagram.bytes) else { return false }
        let cookieless = ClientHelloFields.hasNoCookie(datagram.bytes)
        if cookieless, isShed(datagram.source) { return true }
        if replies.isFull { helloVerifyRequests += replies.flush(on: socket.descriptor) }
        let target = replies.nextBuffer
        let verdict = datagram.source.withTransportID { door.screen.screen(datagram.bytes, clientID: $0, replyInto: target) }
        switch verdict {
        case .notClientHello, .verified:
            return false
        case .malformed, .unanswerable:
            traffic.datagramsDropped += 1
            return true
        case .answered(let length):
            // A cookie that is not valid (forged, stale, another key's): shed as a cookie-less one.
            if !cookieless, isShed(datagram.source) { return true }
            if !replies.add(length: length, to: datagram.source, family: socket.family, from: datagram.arrival.destination) {
                traffic.datagramsDropped += 1
            }
            return true
        }
    }

    /// Counts a hello without a valid cookie from `source` and asks the shedding whether it is
    /// answered; true (and counted as dropped) when it goes unanswered.
    private func isShed(_ source: SocketAddress) -> Bool {
        batchHelloes += 1
        let answered: Bool
        if shedding.countsSources {
            let nowMs = MonotonicClock.coarseMilliseconds()
            answered = shedding.answers(helloSources.isFresh(source, nowMs: nowMs) ? .fresh : .repeating, nowMs: nowMs)
        } else {
            answered = shedding.answers()
        }
        guard !answered else { return false }
        traffic.datagramsDropped += 1
        return true
    }

    /// After a batch of `read` datagrams (`full`: as many as the batch holds, so more may wait): tells
    /// the shedding what was read and how full the socket is (HelloShedding). The socket's use is
    /// asked (one getsockopt) only after a full batch of a poll that hellos make up.
    private func updateShedding(read: Int, full: Bool, kernelDropped: Bool, socket: UDPSocket) {
        shedding.read(read, helloes: batchHelloes)
        guard full else {
            shedding.drained(nowMs: MonotonicClock.coarseMilliseconds())
            return
        }
        guard shedding.isHelloFlood, let use = socket.receiveBufferUse() else { return }
        var dropped = kernelDropped
        if let drops = use.drops, drops != traffic.datagramsDroppedByKernel {
            dropped = dropped || drops > traffic.datagramsDroppedByKernel
            traffic.datagramsDroppedByKernel = drops
        }
        shedding.looked(backlog: use.used, limit: use.limit, dropped: dropped,
                        nowMs: MonotonicClock.coarseMilliseconds())
    }

    /// ClientHellos without a valid cookie the front door left unanswered to keep up (HelloShedding).
    var helloesShedCount: Int {
        lock.withLock { shedding.skipped }
    }

    /// The share of them it answers now, out of HelloShedding.scale.
    var helloAnswerShare: Int {
        lock.withLock { shedding.share }
    }

    /// Whether the front door counts hello sources now: while shedding, or under a flood of repeating
    /// sources (HelloShedding.countsSources).
    var countsHelloSources: Bool {
        lock.withLock { shedding.countsSources }
    }

    /// HelloVerifyRequests the front door sent (cookie-less or bad-cookie ClientHellos answered statelessly).
    var helloVerifyRequestsSent: Int {
        lock.withLock { helloVerifyRequests }
    }

    /// Addresses this server keeps a route for (pending and taken peers), for tests of what a flood leaves.
    var routeCount: Int {
        lock.withLock { routes.values.filter { $0.peer != nil }.count }
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
    /// server loop can sleep on its socket instead of spinning; poll() then routes what came. Under a
    /// hello flood that the last poll kept up with, it first sleeps floodGatherMs.
    public func wait(timeoutMs: Int) -> GodotError {
        let function = "UDPServer.wait"
        guard timeoutMs >= 0 else {
            return ErrorReport.fail(.invalidParameter, "\(function): timeout \(timeoutMs) ms is negative")
        }
        let (socket, gather) = lock.withLock { (self.socket, shedding.countsSources && lastPollDrained) }
        guard let socket else {
            return ErrorReport.fail(.unconfigured, "\(function): the server is not listening; listen() first")
        }
        // No lock is held while blocked: other threads may poll or stop meanwhile.
        var remainingMs = timeoutMs
        if gather, timeoutMs > 0 {
            // Under a flood that the last poll() kept up with, the socket is never empty for long: let
            // the flood gather, so that poll() reads it in full batches instead of the server waking
            // for every datagram or two.
            usleep(UInt32(Self.floodGatherMs * 1000))
            remainingMs = max(0, timeoutMs - Self.floodGatherMs)
        }
        switch socket.waitReadable(timeoutMs: remainingMs) {
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
            guard socket != nil, let peer = pending.removeFirst() else { return nil }
            if let remote = peer.remoteAddress, let route = routes[remote], route.peer === peer { route.taken = true }
            return peer
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
    /// full, or for peers whose queues stayed full.
    public var droppedDatagrams: Int {
        lock.withLock { Int(traffic.datagramsDropped) }
    }

    /// What this server routed, dropped, and saw the kernel drop, and what its peers hold now.
    public func getStats() -> UDPStats {
        lock.withLock {
            if let drops = socket?.receiveBufferUse()?.drops { traffic.datagramsDroppedByKernel = drops }
            var snapshot = traffic
            sendBatch.addStats(to: &snapshot)
            // Every peer that holds packets is in `routes` (pending ones too); ours, then theirs.
            let queuedByPeers = routes.values.reduce(0) { $0 + ($1.peer?.getStats().packetsQueued ?? 0) }
            snapshot.packetsQueued = UInt64(heldBack.count) + queuedByPeers
            snapshot.bytesQueued = UInt64(max(0, budget.bytesUsed))
                + heldBack.reduce(0) { $0 + UInt64($1.bytes.count + PacketQueue.bookkeepingBytes) }
            return snapshot
        }
    }

    // MARK: - Queue limits (beyond Godot)

    /// The bytes each peer made from now on may queue (24 bytes of bookkeeping per datagram
    /// included; an empty queue takes any one datagram). Default 1 MiB; Godot's is 64 KiB.
    public var peerQueueLimit: Int {
        lock.withLock { peerQueueBytes }
    }

    /// Sets peerQueueLimit for peers made from now on; peers made already keep theirs.
    /// .invalidParameter (and no change) below 1.
    public func setPeerQueueLimit(_ bytes: Int) -> GodotError {
        guard bytes >= 1 else {
            return ErrorReport.fail(.invalidParameter, "UDPServer.set_peer_queue_limit: \(bytes) bytes is too few; "
                + "at least 1 (an empty queue always takes one datagram)")
        }
        lock.withLock { peerQueueBytes = bytes }
        return .ok
    }

    /// The bytes all this server's peers may queue together. Default 16 MiB.
    public var totalQueueLimit: Int {
        budget.byteLimit
    }

    /// Sets totalQueueLimit, for every peer at once (queued packets stay; new ones wait until
    /// enough is read). .invalidParameter (and no change) below 1.
    public func setTotalQueueLimit(_ bytes: Int) -> GodotError {
        guard bytes >= 1 else {
            return ErrorReport.fail(.invalidParameter, "UDPServer.set_total_queue_limit: \(bytes) bytes is too few")
        }
        budget.setLimit(bytes)
        return .ok
    }
}
