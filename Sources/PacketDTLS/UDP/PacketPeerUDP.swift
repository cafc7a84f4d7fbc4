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

public final class PacketPeerUDP: @unchecked Sendable {
    /// Godot's default recv_buf_size.
    public static let defaultReceiveBufferSize = 65536
    /// The largest UDP payload over IPv4 (65535 - 8 UDP - 20 IP header bytes).
    public static let maxDatagramSize = 65507

    /// The tie of a peer made by a UDPServer: what sending needs. The server itself is held apart
    /// (`linkedServer`), so that copying the link on every send copies no weak reference.
    private struct ServerLink {
        /// The server's socket, shared by all its peers.
        let socket: UDPSocket
        /// The client this peer stands for.
        let remote: SocketAddress
    }

    private let lock = Lock()
    // Every stored `var` below is read and written under `lock` only, so Swift's dynamic exclusivity
    // checks would guard nothing; @exclusivity(unchecked) drops them (about 3.5k instructions per echo
    // round trip, docs/PERFORMANCE.md).
    /// This peer's own socket; nil when unbound or when it belongs to a server.
    @exclusivity(unchecked) private var ownSocket: UDPSocket?
    /// Set while this peer belongs to a UDPServer (pending or taken).
    @exclusivity(unchecked) private var serverLink: ServerLink?
    /// The server that made this peer, while `serverLink` is set. Weak: the server holds its peers
    /// weakly too, and a peer must not keep a stopped server alive.
    @exclusivity(unchecked) private weak var linkedServer: UDPServer?
    /// The host given to connect_to_host, while the own socket is connected to it.
    @exclusivity(unchecked) private var connectedHost: SocketAddress?
    /// Where put_packet sends on an unconnected socket (set_dest_address).
    @exclusivity(unchecked) private var destination: SocketAddress?
    @exclusivity(unchecked) private var queue = PacketQueue(byteLimit: PacketPeerUDP.defaultReceiveBufferSize)
    /// The source of the last datagram handed out (get_packet_ip / get_packet_port).
    @exclusivity(unchecked) private var lastSource: SocketAddress?
    @exclusivity(unchecked) private var lastPacketError = GodotError.ok
    @exclusivity(unchecked) private var broadcastEnabled = false
    /// recvmmsg space for DTLS reads on our own socket, made on the first such read.
    @exclusivity(unchecked) private var ownReceiveBatch: DatagramBatch?

    /// A new peer with no socket.
    public init() {}

    /// A peer of `server` for the client at `remote`, made by the server's poll(). `slot`: the DTLS
    /// handshake place its ClientHello (with a valid cookie) was given, handed on by take_connection.
    init(server: UDPServer, socket: UDPSocket, remote: SocketAddress, handshakeSlot: HandshakeSlot? = nil) {
        serverLink = ServerLink(socket: socket, remote: remote)
        linkedServer = server
        self.handshakeSlot = handshakeSlot
    }

    /// See init(server:socket:remote:handshakeSlot:).
    @exclusivity(unchecked) private var handshakeSlot: HandshakeSlot?

    deinit {
        ownSocket?.close()
    }

    /// The socket in use: our own, or the server's.
    private var socketLocked: UDPSocket? { ownSocket ?? serverLink?.socket }
    /// The one remote this peer talks to, if it is connected.
    private var remoteLocked: SocketAddress? { serverLink?.remote ?? connectedHost }

    // MARK: - Binding and closing

    /// Opens a socket on `port` (0 = any free port) and `bindAddress` ("*" = dual-stack wildcard,
    /// "0.0.0.0" IPv4 only, an IPv6 address IPv6 only). `recvBufferSize` bounds the bytes queued here
    /// and grows the kernel's receive buffer to at least that size.
    public func bind(port: Int, bindAddress: String = "*",
                     recvBufferSize: Int = PacketPeerUDP.defaultReceiveBufferSize) -> GodotError {
        let function = "PacketPeerUDP.bind"
        guard case .success(let port) = HostResolver.port(port, in: 0...65535, for: function),
              case .success(let target) = HostResolver.bindTarget(bindAddress, port: port, for: function)
        else { return .invalidParameter }
        guard recvBufferSize > 0 else {
            return ErrorReport.fail(.invalidParameter, "\(function): recv_buf_size \(recvBufferSize) must be positive")
        }
        return lock.withLock {
            if serverLink != nil {
                return ErrorReport.fail(.locked, "\(function): this peer belongs to a UDPServer and uses its socket")
            }
            if ownSocket != nil {
                return ErrorReport.fail(.alreadyInUse, "\(function): the peer is already bound to port "
                    + "\(ownSocket!.localPort); close() it first")
            }
            let socket: UDPSocket
            switch UDPSocket.openBound(target, port: port, bindAddress: bindAddress, for: function) {
            case .success(let bound): socket = bound
            case .failure(let error): return error
            }
            socket.growReceiveBuffer(to: recvBufferSize)
            if broadcastEnabled { _ = socket.setBroadcast(true) }
            queue = PacketQueue(byteLimit: recvBufferSize)
            ownSocket = socket
            return .ok
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
            linkedServer = nil
            ownSocket?.close()
            ownSocket = nil
            connectedHost = nil
            destination = nil
            queue = PacketQueue(byteLimit: Self.defaultReceiveBufferSize)
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

    // MARK: - Peers and destinations

    /// Connects the socket to `host` (an address or a name) and `port`: afterwards only that host's
    /// datagrams arrive and putPacket sends there. An unbound peer first gets an ephemeral socket of
    /// the host's family. Packets queued before are dropped, as in Godot.
    public func connectToHost(_ host: String, port: Int) -> GodotError {
        let function = "PacketPeerUDP.connect_to_host"
        let refusal = "\(function): this peer belongs to a UDPServer and is connected already"
        if lock.withLock({ serverLink != nil }) { return ErrorReport.fail(.locked, refusal) }
        let candidates: [SocketAddress]
        switch HostResolver.resolveRemote(host, port: port, for: function) {
        case .success(let found): candidates = found
        case .failure(let error): return error
        }
        return lock.withLock {
            if serverLink != nil { return ErrorReport.fail(.locked, refusal) }
            let address: SocketAddress
            switch HostResolver.pick(candidates, for: ownSocket?.reach ?? .any, host: host, function: function) {
            case .success(let usable): address = usable
            case .failure(let error): return error
            }
            var socket = ownSocket
            if socket == nil {
                switch UDPSocket.open(reaching: address.isIPv4 ? .ipv4Only : .ipv6Only) {
                case .success(let opened): socket = opened
                case .failure(let code):
                    return ErrorReport.fail(.cantCreate, "\(function): cannot open a UDP socket: \(errnoText(code))")
                }
                if broadcastEnabled { _ = socket!.setBroadcast(true) }
            }
            let status = socket!.connect(to: address)
            guard status == 0 else {
                if ownSocket == nil { socket!.close() }
                return ErrorReport.fail(.cantConnect, "\(function): cannot connect to \(address.description) "
                    + "(\(host)): \(errnoText(status))")
            }
            ownSocket = socket
            connectedHost = address
            queue.removeAll()
            return .ok
        }
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
        let refusal = "\(function): the socket is connected; its destination is the connected host"
        if lock.withLock({ remoteLocked != nil }) { return ErrorReport.fail(.unconfigured, refusal) }
        let candidates: [SocketAddress]
        switch HostResolver.resolveRemote(host, port: port, for: function) {
        case .success(let found): candidates = found
        case .failure(let error): return error
        }
        return lock.withLock {
            if remoteLocked != nil { return ErrorReport.fail(.unconfigured, refusal) }
            switch HostResolver.pick(candidates, for: ownSocket?.reach ?? .any, host: host, function: function) {
            case .success(let usable):
                destination = usable
                return .ok
            case .failure(let error):
                return error
            }
        }
    }

    // MARK: - Sending

    /// Sends `bytes` as one datagram to the connected host or the destination. Without a socket,
    /// one of the destination's family is opened first (as Godot does).
    public func putPacket(_ bytes: UnsafeRawBufferPointer) -> GodotError {
        let function = "PacketPeerUDP.put_packet"
        guard bytes.count <= Self.maxDatagramSize else {
            return ErrorReport.fail(.invalidParameter,
                "\(function): \(bytes.count) bytes exceed the largest UDP datagram (\(Self.maxDatagramSize) bytes)")
        }
        return lock.withLock {
            guard let route = sendRouteLocked() else {
                return ErrorReport.fail(.unconfigured,
                    "\(function): no destination; call set_dest_address() or connect_to_host() first")
            }
            var socket = route.socket
            if socket == nil {
                switch UDPSocket.open(reaching: route.target!.isIPv4 ? .ipv4Only : .ipv6Only) {
                case .success(let opened): socket = opened
                case .failure(let code):
                    return ErrorReport.fail(.cantCreate, "\(function): cannot open a UDP socket: \(errnoText(code))")
                }
                if broadcastEnabled { _ = socket!.setBroadcast(true) }
                ownSocket = socket
            }
            let whereTo = (route.target ?? remoteLocked)?.description ?? "the connected host"
            switch socket!.send(bytes, to: route.target) {
            case .sent:
                return .ok
            case .wouldBlock:
                return ErrorReport.fail(.busy, "\(function): the send buffer is full; nothing was sent to \(whereTo)")
            case .failed(let code) where code == EAFNOSUPPORT:
                let kind = socket!.family == AF_INET ? "IPv4" : "IPv6-only"
                return ErrorReport.fail(.invalidParameter, "\(function): this \(kind) socket cannot send to \(whereTo)")
            case .failed(let code):
                return ErrorReport.fail(.failed, "\(function): sending to \(whereTo) failed: \(errnoText(code))")
            }
        }
    }

    /// Sends the bytes of any collection as one datagram; see putPacket(_: UnsafeRawBufferPointer).
    public func putPacket<Bytes: Collection>(_ bytes: Bytes) -> GodotError where Bytes.Element == UInt8 {
        if let result = bytes.withContiguousStorageIfAvailable({ putPacket(UnsafeRawBufferPointer($0)) }) {
            return result
        }
        return Array(bytes).withUnsafeBytes { putPacket($0) }
    }

    /// Where a datagram goes now: the socket (nil = none opened yet) and the address for sendto
    /// (nil = the connected host of a connected socket). nil when there is nowhere to send.
    private func sendRouteLocked() -> (socket: UDPSocket?, target: SocketAddress?)? {
        if let serverLink { return (serverLink.socket, serverLink.remote) }
        if let ownSocket, connectedHost != nil { return (ownSocket, nil) }
        guard let destination else { return nil }
        return (ownSocket, destination)
    }

    /// SO_BROADCAST, now and on any socket opened later. .locked for a peer of a UDPServer.
    @discardableResult
    public func setBroadcastEnabled(_ enabled: Bool) -> GodotError {
        lock.withLock {
            if serverLink != nil {
                return ErrorReport.fail(.locked, "PacketPeerUDP.set_broadcast_enabled: this peer uses its "
                    + "UDPServer's socket, which it cannot change")
            }
            broadcastEnabled = enabled
            guard let ownSocket else { return .ok }
            let status = ownSocket.setBroadcast(enabled)
            return status == 0 ? .ok
                : ErrorReport.fail(.failed, "PacketPeerUDP.set_broadcast_enabled: \(errnoText(status))")
        }
    }

    // MARK: - Receiving

    /// The number of datagrams ready to read, after reading what the socket holds (up to the
    /// queue's limit). 0 without a socket.
    public func getAvailablePacketCount() -> Int {
        lock.withLock {
            drainSocketLocked()
            return queue.count
        }
    }

    /// Takes the next datagram; [] with getPacketError() == .unavailable when none is queued.
    public func getPacket() -> [UInt8] {
        lock.withLock {
            drainSocketLocked()
            guard let packet = queue.removeFirst() else {
                lastPacketError = reportNothingQueuedLocked()
                return []
            }
            lastSource = packet.source
            lastPacketError = .ok
            return packet.bytes
        }
    }

    /// Takes the next datagram into `buffer` (the C ABI's form); `length` gets its size.
    /// - Returns: .ok; .unavailable when none is queued; .parameterRangeError when `buffer` is too
    ///   small: then `length` is the size needed and the datagram stays queued.
    public func getPacket(into buffer: UnsafeMutableRawBufferPointer, length: inout Int) -> GodotError {
        lock.withLock {
            drainSocketLocked()
            guard let packet = queue.first else {
                length = 0
                lastPacketError = reportNothingQueuedLocked()
                return lastPacketError
            }
            length = packet.bytes.count
            guard packet.bytes.count <= buffer.count else {
                lastPacketError = ErrorReport.fail(.parameterRangeError, "PacketPeerUDP.get_packet: the buffer holds "
                    + "\(buffer.count) bytes, the next datagram has \(packet.bytes.count); it stays queued")
                return lastPacketError
            }
            packet.bytes.withUnsafeBytes { buffer.copyMemory(from: $0) }
            _ = queue.removeFirst()
            lastSource = packet.source
            lastPacketError = .ok
            return .ok
        }
    }

    /// The result of the last getPacket.
    public func getPacketError() -> GodotError {
        lock.withLock { lastPacketError }
    }

    /// The source address of the last datagram read ("" before any); IPv4 as a dotted quad.
    public func getPacketIP() -> String {
        lock.withLock { lastSource?.host ?? "" }
    }

    /// The source port of the last datagram read, 0 before any.
    public func getPacketPort() -> Int {
        lock.withLock { Int(lastSource?.port ?? 0) }
    }

    private func reportNothingQueuedLocked() -> GodotError {
        let why = socketLocked == nil ? "the peer has no socket" : "no datagram is queued"
        return ErrorReport.fail(.unavailable, "PacketPeerUDP.get_packet: \(why)")
    }

    /// Moves waiting datagrams from our own socket into the queue until the socket is empty or the
    /// queue is full (the rest stays in the kernel). A peer of a UDPServer is fed by the server.
    private func drainSocketLocked() {
        guard let socket = ownSocket else { return }
        while true {
            let size: Int
            switch socket.nextDatagramSize() {
            case .size(let waiting): size = waiting
            case .empty: return
            case .failed(let code):
                ErrorReport.set("PacketPeerUDP: reading the socket failed: \(errnoText(code))")
                return
            }
            guard queue.hasRoom(for: size) else { return }
            var outcome = SocketReceive.empty
            let bytes = [UInt8](unsafeUninitializedCapacity: size) { storage, initialized in
                outcome = socket.receive(into: UnsafeMutableRawBufferPointer(storage))
                if case .datagram(let length, _, false) = outcome { initialized = length }
            }
            guard case .datagram(_, let source, let truncated) = outcome, !truncated else { return }
            queue.append(.init(bytes: bytes, source: source))
        }
    }

    // MARK: - Waiting

    /// Blocks until a datagram can be read. For a peer of a UDPServer this waits for the server's
    /// socket, as in Godot: call the server's poll() to route what arrived.
    public func wait() -> GodotError {
        waitForDatagram(timeoutMs: -1)
    }

    /// As wait(), giving up after `timeoutMs` milliseconds with .timeout.
    public func wait(timeoutMs: Int) -> GodotError {
        guard timeoutMs >= 0 else {
            return ErrorReport.fail(.invalidParameter, "PacketPeerUDP.wait: timeout \(timeoutMs) ms is negative")
        }
        return waitForDatagram(timeoutMs: timeoutMs)
    }

    private func waitForDatagram(timeoutMs: Int) -> GodotError {
        let function = "PacketPeerUDP.wait"
        let socket: UDPSocket? = lock.withLock { queue.isEmpty ? socketLocked : nil }
        guard let socket else {
            let queued = lock.withLock { !queue.isEmpty }
            return queued ? .ok : ErrorReport.fail(.unconfigured, "\(function): the peer has no socket; bind() first")
        }
        // No lock is held while blocked: other threads may send, read or close meanwhile.
        switch socket.waitReadable(timeoutMs: timeoutMs) {
        case .readable:
            lock.withLock { drainSocketLocked() }
            return .ok
        case .timedOut:
            return ErrorReport.fail(.timeout, "\(function): no datagram arrived within \(timeoutMs) ms")
        case .closed:
            return ErrorReport.fail(.unconfigured, "\(function): the socket was closed while waiting")
        case .failed(let code):
            return ErrorReport.fail(.failed, "\(function): poll() failed: \(errnoText(code))")
        }
    }

    // MARK: - Multicast

    /// Joins multicast group `address` on the interface named `interfaceName` ("" = the system's
    /// choice). The socket must be bound.
    public func joinMulticastGroup(_ address: String, interfaceName: String) -> GodotError {
        changeMulticastGroup(join: true, address, interfaceName: interfaceName)
    }

    /// Leaves a multicast group joined before.
    public func leaveMulticastGroup(_ address: String, interfaceName: String) -> GodotError {
        changeMulticastGroup(join: false, address, interfaceName: interfaceName)
    }

    private func changeMulticastGroup(join: Bool, _ address: String, interfaceName: String) -> GodotError {
        let function = join ? "PacketPeerUDP.join_multicast_group" : "PacketPeerUDP.leave_multicast_group"
        guard let group = SocketAddress.parse(literal: address, port: 0), group.isMulticast else {
            return ErrorReport.fail(.invalidParameter, "\(function): \"\(address)\" is not a multicast group address")
        }
        var interfaceIndex: UInt32 = 0
        if !interfaceName.isEmpty {
            interfaceIndex = if_nametoindex(interfaceName)
            guard interfaceIndex != 0 else {
                return ErrorReport.fail(.invalidParameter,
                                        "\(function): no network interface is named \"\(interfaceName)\"")
            }
        }
        return lock.withLock {
            if serverLink != nil {
                return ErrorReport.fail(.locked, "\(function): this peer uses its UDPServer's socket")
            }
            guard let ownSocket else {
                return ErrorReport.fail(.unconfigured, "\(function): the peer has no socket; bind() first")
            }
            let status = ownSocket.changeMembership(join: join, group: group, interfaceIndex: interfaceIndex)
            switch status {
            case 0:
                return .ok
            case EAFNOSUPPORT:
                return ErrorReport.fail(.invalidParameter,
                                        "\(function): an IPv4 socket cannot join IPv6 group \(address)")
            default:
                return ErrorReport.fail(.failed, "\(function): group \(address) on interface "
                    + "\"\(interfaceName.isEmpty ? "any" : interfaceName)\": \(errnoText(status))")
            }
        }
    }

    // MARK: - Hooks for UDPServer (its lock is held, then ours)

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
            // Told under our lock: an observer unregisters under it too, so it is never told once gone.
            arrivalObserver?.datagramArrived()
            return .queued
        }
    }

    /// The DTLS peer to tell about each datagram the server queues here. Not weak: a weak reference
    /// would give the DTLS peer a side table and make every retain and release of it slower (measured
    /// on the echo path); the observer unregisters instead before it goes (see observeArrivals).
    @exclusivity(unchecked) private unowned(unsafe) var arrivalObserver: DatagramArrivalObserver?

    /// Server-taken peers are fed only by deliver(), so they can tell an observer about every datagram.
    /// The observer is not retained: it must unregister (nil) before it is freed. An observer this
    /// peer would not tell about every datagram (false) is not kept at all.
    public func observeArrivals(_ observer: DatagramArrivalObserver?) -> Bool {
        lock.withLock {
            let observed = serverLink != nil && ownSocket == nil
            arrivalObserver = observed ? observer : nil
            return observed
        }
    }

    /// The client of this taken peer reconnected (a new ClientHello with a valid cookie): the server
    /// routes it to a new peer now. This one leaves the server, and its DTLS peer is told.
    func supersedeByReconnect() {
        lock.withLock {
            arrivalObserver?.clientReconnected()
            arrivalObserver?.datagramArrived()
        }
        detachFromServer()
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

// MARK: - DatagramTransport (what a DTLS connection uses)

/// These calls run for every peer on every DTLS poll, so they stay cheap: one lock, no allocation.
extension PacketPeerUDP: DatagramTransport {
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
            if let packet = queue.removeFirst() {
                lastSource = packet.source
                let more = mayHaveDatagramLocked
                guard packet.bytes.count <= buffer.count else { return (.oversized(packet.bytes.count), more) }
                packet.bytes.withUnsafeBytes { buffer.copyMemory(from: $0) }
                return (.datagram(packet.bytes.count), more)
            }
            guard let ownSocket else {
                if serverLink != nil { return (.empty, false) }
                return (.failed("the UDP peer has no socket (closed, or its server stopped)"), false)
            }
            // Two at once: the first straight into `buffer`, and a second, if one waits, queued. Only one
            // means the socket is empty behind it, so the reader need not ask again (no EAGAIN call).
            let batch = ownReceiveBatch
                ?? DatagramBatch(capacity: 2, slotSize: Self.maxDatagramSize + 1, callerFillsFirstSlot: true)
            ownReceiveBatch = batch
            // A connected socket hears only its peer: the sources need not be asked for.
            let peer = connectedHost
            switch ownSocket.receive(into: batch, firstInto: buffer, sources: peer == nil) {
            case .received(let count):
                let first = batch.datagram(0)
                lastSource = peer ?? first.source
                if count > 1 {
                    let second = batch.datagram(1)
                    queue.append(.init(bytes: Array(second.bytes), source: peer ?? second.source))
                }
                return (first.truncated ? .oversized(first.length) : .datagram(first.length), count > 1)
            case .empty:
                return (.empty, false)
            case .failed(let code):
                return (.failed("recv on UDP port \(ownSocket.localPort) failed: \(errnoText(code))"), false)
            }
        }
    }

    /// Sends one datagram to the connected host, or the client of a UDPServer peer.
    public func sendDatagram(_ bytes: UnsafeRawBufferPointer) -> DatagramSend {
        lock.withLock {
            guard let route = sendRouteLocked(), let socket = route.socket else {
                return .failed("the UDP peer has no socket or destination")
            }
            switch socket.send(bytes, to: route.target) {
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
        lock.withLock { mayHaveDatagramLocked }
    }

    private var mayHaveDatagramLocked: Bool { !queue.isEmpty || ownSocket != nil }

    public var isConnectedToPeer: Bool {
        lock.withLock { socketLocked != nil && remoteLocked != nil }
    }

    /// The remote's 16 address bytes (IPv4 in mapped form) and 2 port bytes (big-endian), and its
    /// printable address.
    public var remoteIdentity: (transportID: [UInt8], host: String)? {
        guard let remote = lock.withLock({ socketLocked != nil ? remoteLocked : nil }) else { return nil }
        return (remote.addressBytes + [UInt8(remote.port >> 8), UInt8(remote.port & 0xff)], remote.host)
    }

    /// The client of a peer of a UDPServer, nil once it left the server.
    var remoteAddress: SocketAddress? {
        lock.withLock { serverLink?.remote }
    }

    /// A pending peer's client started over before the peer was taken: its new ClientHello replaces
    /// what was queued.
    func replaceQueued(with bytes: [UInt8], from source: SocketAddress) {
        lock.withLock {
            queue.removeAll()
            queue.append(.init(bytes: bytes, source: source))
        }
    }

    /// Hands the handshake place of a pending peer to the DTLS peer made from it (once).
    func takeHandshakeSlot() -> HandshakeSlot? {
        lock.withLock {
            defer { handshakeSlot = nil }
            return handshakeSlot
        }
    }

    /// Lets the UDPServer this peer came from answer cookie-less ClientHellos for `dtlsServer`.
    func registerFrontDoor(_ dtlsServer: DTLSServer) {
        let server = lock.withLock { serverLink != nil ? linkedServer : nil }
        server?.adoptFrontDoor(dtlsServer)
    }

    public func putBackDatagram(_ bytes: UnsafeRawBufferPointer) {
        lock.withLock {
            guard let source = serverLink?.remote ?? connectedHost ?? lastSource else { return }
            queue.prepend(.init(bytes: Array(bytes), source: source))
        }
    }

    /// A peer of a UDPServer leaves it, so the client's next datagram becomes a new pending peer.
    /// A peer with its own socket keeps it: its owner decides.
    public func sessionEnded() {
        if lock.withLock({ serverLink != nil }) { close() }
    }
}
