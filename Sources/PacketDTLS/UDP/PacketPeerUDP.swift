// PacketPeerUDP.swift — Godot's PacketPeerUDP: datagrams over one non-blocking UDP socket.
//
// A peer either owns its socket (bind, connect_to_host, or put_packet after set_dest_address)
// or shares the socket of the UDPServer that made it: such a peer is "connected" to one client,
// sends with sendto through the server's socket, and receives only what the server's poll()
// routes to it.
//
// Locking: every call takes this peer's lock. A UDPServer takes its own lock and then this one
// (deliver, detachFromServer); this peer never waits for its server's lock while holding its own:
// close() lets go of its lock before telling the server, and wait() blocks with no lock held.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Synchronization

public final class PacketPeerUDP: @unchecked Sendable {
    /// Godot's default recv_buf_size.
    public static let defaultReceiveBufferSize = 65536
    /// The largest UDP payload over IPv4 (65535 - 8 UDP - 20 IP header bytes).
    public static let maxDatagramSize = 65507

    /// The tie of a peer made by a UDPServer: what sending needs. The server itself is held apart
    /// (`linkedServer`), so that copying the link on every send copies no weak reference.
    struct ServerLink {
        /// The server's socket, shared by all its peers.
        let socket: UDPSocket
        /// The client this peer stands for.
        let remote: SocketAddress
        /// The server's send batch (UDPServer+SendBatching.swift).
        let sendBatch: SendBatch
    }

    /// A ServerLink's socket and batch as Unmanaged references (trivial to copy) and its remote.
    /// Valid only while the peer's lock is held and `serverLink` is the link it was made from.
    struct UnretainedServerLink {
        let socket: Unmanaged<UDPSocket>
        let remote: SocketAddress
        let sendBatch: Unmanaged<SendBatch>

        init(_ link: ServerLink) {
            socket = Unmanaged.passUnretained(link.socket)
            remote = link.remote
            sendBatch = Unmanaged.passUnretained(link.sendBatch)
        }
    }

    let lock = Lock()
    /// PacketPeer's encode_buffer_max_size (read and set through PacketPeer, no lock needed).
    let encodeBufferMaxSizeSetting = Atomic<Int>(EncodeBufferSize.godotDefault)
    /// put_var / get_var's Variant numbering when given none: 3 or 4 (see PacketPeer.godotVersion).
    let godotVersionSetting = Atomic<Int>(GodotVersion.godot4.rawValue)
    // The state below is internal rather than private only so that the PacketPeerUDP+*.swift files
    // reach it. Every stored `var` is touched under `lock` only: @exclusivity(unchecked), see Lock.
    /// This peer's own socket; nil when unbound or when it belongs to a server.
    @exclusivity(unchecked) var ownSocket: UDPSocket? {
        didSet { unretainedOwnSocket = ownSocket.map { Unmanaged.passUnretained($0) } }
    }
    /// `ownSocket` without a reference count, for the DTLS receive and send under the lock (which
    /// `ownSocket` cannot change without): a retain and release fewer per datagram.
    @exclusivity(unchecked) var unretainedOwnSocket: Unmanaged<UDPSocket>?
    /// Set while this peer belongs to a UDPServer (pending or taken). Only init(server:...) sets it;
    /// once cleared it stays nil (see `fedByServer`).
    @exclusivity(unchecked) var serverLink: ServerLink? {
        didSet { unretainedLink = serverLink.map(UnretainedServerLink.init) }
    }
    /// `serverLink` without reference counts, for a server peer's DTLS sends under the lock (which
    /// `serverLink`, holding the socket and batch strongly, cannot change without): copying the link
    /// retained and released its socket and batch, four pairs per datagram (docs/PERFORMANCE.md, session 5).
    @exclusivity(unchecked) var unretainedLink: UnretainedServerLink?
    /// `serverLink != nil`, readable without the lock: false means it stays false, so mayHaveDatagram
    /// can answer true at once (see PacketPeerUDP+DatagramTransport.swift). Written under the lock.
    let fedByServer = Atomic<Bool>(false)
    /// The server that made this peer, while `serverLink` is set. Weak: the server holds its peers
    /// weakly too, and a peer must not keep a stopped server alive.
    @exclusivity(unchecked) weak var linkedServer: UDPServer?
    /// The host given to connect_to_host, while the own socket is connected to it.
    @exclusivity(unchecked) var connectedHost: SocketAddress?
    /// Where put_packet sends on an unconnected socket (set_dest_address).
    @exclusivity(unchecked) var destination: SocketAddress?
    @exclusivity(unchecked) var queue = PacketQueue(byteLimit: PacketPeerUDP.defaultReceiveBufferSize)
    /// The source of the last datagram handed out (get_packet_ip / get_packet_port).
    @exclusivity(unchecked) var lastSource: SocketAddress?
    @exclusivity(unchecked) var lastPacketError = GodotError.ok
    @exclusivity(unchecked) var broadcastEnabled = false
    /// What the receive queue took in and what this peer's server could not keep for it.
    @exclusivity(unchecked) var traffic = UDPStats()
    /// Set when a full queue made the server stop reading its socket for a poll; cleared when a
    /// packet is read from the queue. See deliver().
    @exclusivity(unchecked) var heldServerBack = false
    /// While this peer belongs to a server bound to a wildcard address: the local address its client
    /// sends to, which every reply leaves from (see DatagramArrival). Apart from `serverLink`, so that
    /// a send copies it only where it is set.
    @exclusivity(unchecked) var replySource: ReplySource?

    /// The array of the last datagram the DTLS peer above read from the queue of a server's peer,
    /// kept (up to spareDatagramLimit bytes) so the server's next datagram of the same length for
    /// this peer is copied into it instead of a new allocation: one malloc and one free fewer per
    /// datagram (docs/PERFORMANCE.md, session 5). Empty ([], no allocation) otherwise.
    @exclusivity(unchecked) var spareDatagram: [UInt8] = []

    /// A new peer with no socket.
    public init() {}

    /// A peer of `server` for the client at `remote`, made by the server's poll(). `handshakeSlot`: the
    /// DTLS handshake place its ClientHello (with a valid cookie) was given, handed on by take_connection.
    init(server: UDPServer, socket: UDPSocket, remote: SocketAddress,
         queueLimit: Int = PacketPeerUDP.defaultReceiveBufferSize, budget: QueueBudget? = nil,
         handshakeSlot: HandshakeSlot? = nil) {
        let link = ServerLink(socket: socket, remote: remote, sendBatch: server.sendBatch)
        serverLink = link
        // Observers do not run in an initializer.
        unretainedLink = UnretainedServerLink(link)
        fedByServer.store(true, ordering: .relaxed)
        linkedServer = server
        queue = PacketQueue(byteLimit: queueLimit, budget: budget)
        self.handshakeSlot = handshakeSlot
    }

    /// See init(server:socket:remote:handshakeSlot:).
    @exclusivity(unchecked) var handshakeSlot: HandshakeSlot?

    deinit {
        ownSocket?.close()
        // Give the server's budget back what this peer still held.
        queue.removeAll()
    }

    /// The socket in use: our own, or the server's.
    var socketLocked: UDPSocket? { ownSocket ?? serverLink?.socket }
    /// The one remote this peer talks to, if it is connected.
    var remoteLocked: SocketAddress? { serverLink?.remote ?? connectedHost }

    /// The DTLS peer over this UDP peer, if any. Not weak: a weak reference would give the DTLS peer
    /// a side table and make every retain and release of it slower; the DTLS peer detaches instead
    /// before it goes (see attachDTLSPeer).
    @exclusivity(unchecked) unowned(unsafe) var dtlsPeer: DatagramArrivalObserver?
    /// Whether `dtlsPeer` is told about every datagram deliver() queues.
    @exclusivity(unchecked) var reportsArrivals = false
    /// `dtlsPeer` as the PacketPeerDTLS it is (nil for another observer), unretained like it, for
    /// a stopping server to end its session (endSessionForStoppedServer).
    @exclusivity(unchecked) var stoppableSession: Unmanaged<PacketPeerDTLS>?

    // MARK: - Binding and closing

    /// Opens a socket on `port` (0 = any free port) and `bindAddress` ("*" = dual-stack wildcard,
    /// "0.0.0.0" IPv4 only, an IPv6 address IPv6 only). `recvBufferSize` bounds the bytes queued here
    /// and grows the kernel's receive buffer to at least that size.
    public func bind(port: Int, bindAddress: String = "*",
                     recvBufferSize: Int = PacketPeerUDP.defaultReceiveBufferSize) -> GodotError {
        let function = "PacketPeerUDP.bind"
        return Failure.reported { () throws(Failure) in
            let port = try HostResolver.port(port, in: 0...65535, for: function)
            let target = try HostResolver.bindTarget(bindAddress, port: port, for: function)
            guard recvBufferSize > 0 else {
                throw Failure(.invalidParameter, "\(function): recv_buf_size \(recvBufferSize) must be positive")
            }
            return try lock.withLock { () throws(Failure) in
                if serverLink != nil {
                    throw Failure(.locked, "\(function): this peer belongs to a UDPServer and uses its socket")
                }
                if ownSocket != nil {
                    throw Failure(.alreadyInUse, "\(function): the peer is already bound to port "
                        + "\(ownSocket!.localPort); close() it first")
                }
                let socket = try UDPSocket.openBound(target, port: port, bindAddress: bindAddress, for: function)
                socket.growReceiveBuffer(to: recvBufferSize)
                if broadcastEnabled { _ = socket.setBroadcast(true) }
                queue = PacketQueue(byteLimit: recvBufferSize)
                ownSocket = socket
                return .ok
            }
        }
    }

    /// Godot 3.x name of bind().
    public func listen(port: Int, bindAddress: String = "*",
                       recvBufferSize: Int = PacketPeerUDP.defaultReceiveBufferSize) -> GodotError {
        bind(port: port, bindAddress: bindAddress, recvBufferSize: recvBufferSize)
    }

    /// Closes the socket and forgets the connection, the destination and every queued packet.
    /// A peer taken from a UDPServer leaves it: the client's next datagram makes a new pending peer.
    public func close() {
        let leftServer: (server: UDPServer?, remote: SocketAddress)? = lock.withLock {
            let link = serverLink
            let server = linkedServer
            serverLink = nil
            fedByServer.store(false, ordering: .relaxed)
            linkedServer = nil
            replySource = nil
            ownSocket?.close()
            ownSocket = nil
            connectedHost = nil
            destination = nil
            queue.removeAll()
            queue = PacketQueue(byteLimit: Self.defaultReceiveBufferSize)
            spareDatagram = []
            // A quiet DTLS peer above must look again, to find the transport gone.
            if reportsArrivals { dtlsPeer?.datagramArrived() }
            return link.map { (server, $0.remote) }
        }
        // Our lock is released: the server may lock itself, and then us, freely.
        if let leftServer { leftServer.server?.forget(self, at: leftServer.remote) }
    }

    /// True when the peer has a socket: bound, connected, or belonging to a listening UDPServer.
    public func isBound() -> Bool {
        lock.withLock { socketLocked != nil }
    }

    /// Godot 3.x name of isBound().
    public func isListening() -> Bool { isBound() }

    /// The local port of the socket (the server's for a peer of a UDPServer); 0 without one.
    public func getLocalPort() -> Int {
        lock.withLock { socketLocked?.localPort ?? 0 }
    }

    /// The socket's file descriptor for select/poll/epoll, nil with no socket (beyond Godot). Readable
    /// means get_packet (or, for a UDPServer's peer, whose descriptor is the server's, the server's
    /// poll) has something. The peer owns it: watch it, never read or close it; it is gone after close().
    public func fileDescriptor() -> Int32? {
        lock.withLock { socketLocked?.fileDescriptor }
    }

    // MARK: - Peers and destinations

    /// Connects the socket to `host` (an address or a name) and `port`: afterwards only that host's
    /// datagrams arrive and putPacket sends there. An unbound peer first gets an ephemeral socket of
    /// the host's family. Packets queued before are dropped, as in Godot.
    public func connectToHost(_ host: String, port: Int) -> GodotError {
        let function = "PacketPeerUDP.connect_to_host"
        let refusal = Failure(.locked, "\(function): this peer belongs to a UDPServer and is connected already")
        return withRemote(host, port: port, function: function, refusal: refusal,
                          refusedLocked: { serverLink != nil }) { address throws(Failure) in
            try connectLocked(to: address, host: host, function: function)
        }
    }

    /// Resolves `host` with no lock held (a name lookup may block), then, under the lock, runs `body`
    /// with the first of its addresses this peer's socket can reach. `refusedLocked` is asked before
    /// and again under the lock (another thread may have changed the peer meanwhile): true throws
    /// `refusal`. Failures are reported; the result is body's.
    private func withRemote(_ host: String, port: Int, function: String, refusal: Failure,
                            refusedLocked: () -> Bool,
                            _ body: (SocketAddress) throws(Failure) -> GodotError) -> GodotError {
        Failure.reported { () throws(Failure) in
            if lock.withLock(refusedLocked) { throw refusal }
            let candidates = try HostResolver.resolveRemote(host, port: port, for: function)
            return try lock.withLock { () throws(Failure) in
                if refusedLocked() { throw refusal }
                return try body(try HostResolver.pick(candidates, for: ownSocket?.reach ?? .any, host: host,
                                                      function: function))
            }
        }
    }

    /// connect_to_host's work under the lock, once `address` is chosen.
    func connectLocked(to address: SocketAddress, host: String, function: String) throws(Failure) -> GodotError {
        var socket = ownSocket
        if socket == nil {
            socket = try UDPSocket.open(reaching: address.isIPv4 ? .ipv4Only : .ipv6Only, for: function)
            if broadcastEnabled { _ = socket!.setBroadcast(true) }
        }
        let status = socket!.connect(to: address)
        guard status == 0 else {
            if ownSocket == nil { socket!.close() }
            throw Failure(.cantConnect, "\(function): cannot connect to \(address.description) "
                + "(\(host)): \(errnoText(status))")
        }
        ownSocket = socket
        connectedHost = address
        queue.removeAll()
        return .ok
    }

    /// True after a successful connectToHost, and for peers taken from a UDPServer.
    public func isSocketConnected() -> Bool {
        lock.withLock { socketLocked != nil && remoteLocked != nil }
    }

    /// Godot 3.x name of isSocketConnected().
    public func isConnectedToHost() -> Bool { isSocketConnected() }

    /// Sets where putPacket sends on an unconnected socket. `host` may be an address or a name.
    public func setDestAddress(_ host: String, port: Int) -> GodotError {
        let function = "PacketPeerUDP.set_dest_address"
        let refusal = Failure(.unconfigured,
                              "\(function): the socket is connected; its destination is the connected host")
        return withRemote(host, port: port, function: function, refusal: refusal,
                          refusedLocked: { remoteLocked != nil }) { address in
            destination = address
            return .ok
        }
    }
}
