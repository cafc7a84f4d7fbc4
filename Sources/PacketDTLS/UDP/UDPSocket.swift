// UDPSocket.swift — one non-blocking UDP socket and the system calls made on it.
//
// Results come back as errno values or small enums; the Godot classes above turn them into
// GodotError and sentences. Calls are made under the owning object's lock (a PacketPeerUDP's,
// or a UDPServer's for the socket it shares with its peers), and close() is made under that
// same lock, so they never overlap. The one call made outside any lock is waitReadable(),
// because it blocks: close() wakes such waiters and leaves the descriptor to the last of them,
// so a closed number is never polled again (it might already name someone else's file).

import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The outcome of one recvfrom.
enum SocketReceive {
    /// A datagram of `length` bytes arrived from `source`; `truncated` when it did not fit the
    /// buffer (the rest is gone: UDP keeps no partial datagrams).
    case datagram(length: Int, source: SocketAddress, truncated: Bool)
    /// Nothing is waiting (EAGAIN).
    case empty
    case failed(errno: Int32)
}

/// The outcome of one recvmmsg into a DatagramBatch.
enum SocketBatchReceive {
    /// This many datagrams (at least one) are in the batch's first slots.
    case received(Int)
    /// Nothing is waiting (EAGAIN).
    case empty
    case failed(errno: Int32)
}

/// The outcome of peeking at the next datagram.
enum SocketPeek {
    case size(Int)
    case empty
    case failed(errno: Int32)
}

/// The outcomes above, seen only for their errno.
private protocol SocketOutcome {
    var failure: Int32? { get }
}

extension SocketReceive: SocketOutcome {
    fileprivate var failure: Int32? { if case .failed(let code) = self { return code }; return nil }
}

extension SocketBatchReceive: SocketOutcome {
    fileprivate var failure: Int32? { if case .failed(let code) = self { return code }; return nil }
}

extension SocketPeek: SocketOutcome {
    fileprivate var failure: Int32? { if case .failed(let code) = self { return code }; return nil }
}

extension SocketSend: SocketOutcome {
    fileprivate var failure: Int32? { if case .failed(let code) = self { return code }; return nil }
}

/// The outcome of one send.
enum SocketSend {
    case sent
    /// The send buffer is full (EAGAIN, ENOBUFS): nothing was sent.
    case wouldBlock
    case failed(errno: Int32)
}

/// The outcome of waiting for a datagram.
enum SocketWait {
    case readable
    case timedOut
    /// The socket was closed while waiting.
    case closed
    case failed(errno: Int32)
}

final class UDPSocket: @unchecked Sendable {
    /// AF_INET or AF_INET6.
    let family: Int32
    /// Which destination addresses this socket can reach.
    let reach: AddressReach
    let descriptor: Int32
    /// Guards `isClosed` and `waiters`, the state close() shares with waitReadable().
    private let waitLock = Lock()
    private var isClosed = false
    private var waiters = 0
    /// ICMP refusals the kernel reported on this socket (see retryingRefusal).
    private let refusals = Atomic<UInt64>(0)

    private init(descriptor: Int32, family: Int32, reach: AddressReach) {
        self.descriptor = descriptor
        self.family = family
        self.reach = reach
    }

    deinit {
        waitLock.withLock {
            if !isClosed { _ = Glibc.close(descriptor) }
        }
    }

    /// Opens a non-blocking socket able to reach `reach`: IPv4, IPv6 only, or dual-stack IPv6
    /// (IPV6_V6ONLY off), falling back to IPv4 when the system has no IPv6.
    /// A failure is .cantCreate, its sentence naming `function`.
    static func open(reaching reach: AddressReach, for function: String) throws(Failure) -> UDPSocket {
        let family = reach == .ipv4Only ? AF_INET : AF_INET6
        let type = Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        let descriptor = socket(family, type, 0)
        guard descriptor >= 0 else {
            let error = errno
            if reach == .any && (error == EAFNOSUPPORT || error == EPROTONOSUPPORT) {
                return try open(reaching: .ipv4Only, for: function)
            }
            throw cannotOpen(error, for: function)
        }
        if family == AF_INET6 {
            let status = setOption(descriptor, Int32(IPPROTO_IPV6), IPV6_V6ONLY, Int32(reach == .ipv6Only ? 1 : 0))
            if status != 0 {
                _ = Glibc.close(descriptor)
                throw cannotOpen(status, for: function)
            }
        }
        return UDPSocket(descriptor: descriptor, family: family, reach: reach)
    }

    private static func cannotOpen(_ code: Int32, for function: String) -> Failure {
        Failure(.cantCreate, "\(function): cannot open a UDP socket: \(errnoText(code))")
    }

    /// Opens a socket for `target` and binds it to `port` there, as bind() and UDPServer.listen() both
    /// need; a failure names `function` and `bindAddress`. With `reusePort`, SO_REUSEPORT is set
    /// before binding (see UDPServer.setReusePort).
    static func openBound(_ target: HostResolver.BindTarget, port: UInt16, bindAddress: String,
                          for function: String, reusePort: Bool = false) throws(Failure) -> UDPSocket {
        let socket = try open(reaching: target.reach, for: function)
        if reusePort {
            let status = setOption(socket.descriptor, SOL_SOCKET, SO_REUSEPORT, Int32(1))
            guard status == 0 else {
                socket.close()
                throw Failure(.cantCreate, "\(function): cannot set SO_REUSEPORT: \(errnoText(status))")
            }
        }
        let address = target.address ?? SocketAddress.wildcard(family: socket.family, port: port)
        let status = socket.bind(to: address)
        guard status == 0 else {
            socket.close()
            throw Failure(.unavailable, "\(function): cannot bind to \(bindAddress) port \(port): " + errnoText(status))
        }
        return socket
    }

    // MARK: - Addresses

    /// Binds to `address`; 0 or errno. EAFNOSUPPORT when the address does not fit the family.
    func bind(to address: SocketAddress) -> Int32 {
        address.withSockaddr(family: family) { Glibc.bind(descriptor, $0, $1) == 0 ? 0 : errno } ?? EAFNOSUPPORT
    }

    /// Connects to `address` (the kernel then delivers only its datagrams); 0 or errno.
    func connect(to address: SocketAddress) -> Int32 {
        address.withSockaddr(family: family) { Glibc.connect(descriptor, $0, $1) == 0 ? 0 : errno } ?? EAFNOSUPPORT
    }

    /// The bound local port, 0 when unbound or unknown.
    /// The descriptor, for an event loop to watch (never to read, close or poll after close()).
    var fileDescriptor: Int32 { descriptor }

    var localPort: Int {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let status = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard status == 0, let address = SocketAddress(storage: &storage) else { return 0 }
        return Int(address.port)
    }

    // MARK: - Datagrams

    /// Sends one datagram, to `destination` or (nil) to the connected peer; from `source` when given
    /// (a reply from the address its client sent to, see DatagramArrival).
    func send(_ bytes: UnsafeRawBufferPointer, to destination: SocketAddress?, from source: ReplySource? = nil)
        -> SocketSend {
        // Two paths, so the common one (no source) stays the plain sendto it always was.
        guard let source, let destination else { return retryingRefusal { sendOnce(bytes, to: destination) } }
        return retryingRefusal { sendOnce(bytes, to: destination, from: source) }
    }

    /// Takes the next datagram into `buffer` without blocking and without allocating.
    func receive(into buffer: UnsafeMutableRawBufferPointer) -> SocketReceive {
        retryingRefusal { receiveOnce(into: buffer) }
    }

    /// Takes the next datagram without blocking and without allocating, in one system call: its first
    /// bytes into `buffer`, the rest (if it is larger) into `spill` (recvmsg), so a datagram larger than
    /// `buffer` is not lost; with an empty `spill`, into `buffer` alone (recvfrom). `truncated` only when
    /// it did not fit both. Without `wantSource` the kernel is not asked for
    /// the sender (a connected socket knows its one peer) and the source is the wildcard address.
    func receive(into buffer: UnsafeMutableRawBufferPointer, spill: UnsafeMutableRawBufferPointer,
                 wantSource: Bool) -> SocketReceive {
        retryingRefusal { receiveOnce(into: buffer, spill: spill, wantSource: wantSource) }
    }

    /// A connected socket's next datagram into `buffer`, without blocking (recv: no source asked for
    /// and none made; `source` is the wildcard address). The DTLS reads of a peer's own connected socket.
    func receiveConnected(into buffer: UnsafeMutableRawBufferPointer) -> SocketReceive {
        retryingRefusal {
            let received = recv(descriptor, buffer.baseAddress, buffer.count, Int32(MSG_TRUNC) | Int32(MSG_DONTWAIT))
            return Self.receiveOutcome(received, source: nil, capacity: buffer.count)
        }
    }

    /// Takes as many waiting datagrams as `batch` holds in one system call, without blocking. Fewer
    /// than the batch's capacity: the socket is now empty.
    func receive(into batch: DatagramBatch) -> SocketBatchReceive {
        retryingRefusal {
            // MSG_TRUNC: each length is the datagram's real one, so a truncated datagram is recognised.
            let count = batch.receive(on: descriptor, flags: Int32(MSG_TRUNC) | Int32(MSG_DONTWAIT))
            if count > 0 { return .received(count) }
            let error = errno
            return count == 0 || error == EAGAIN || error == EWOULDBLOCK ? .empty : .failed(errno: error)
        }
    }

    /// The size of the next waiting datagram, without taking it.
    func nextDatagramSize() -> SocketPeek {
        retryingRefusal {
            let size = recv(descriptor, nil, 0, Int32(MSG_PEEK) | Int32(MSG_TRUNC) | Int32(MSG_DONTWAIT))
            if size >= 0 { return .size(size) }
            let error = errno
            return error == EAGAIN || error == EWOULDBLOCK ? .empty : .failed(errno: error)
        }
    }

    /// A connected UDP socket reports an ICMP "port unreachable" for an earlier datagram once, on
    /// whichever call comes next. It says nothing about this call (UDP keeps no connection, and
    /// DTLS retransmits), so the call is made again once; the notice is consumed by then, and counted
    /// for whoever judges whether the peer is gone (refusalsSeen).
    private func retryingRefusal<Outcome: SocketOutcome>(_ attempt: () -> Outcome) -> Outcome {
        let first = attempt()
        guard first.failure == ECONNREFUSED else { return first }
        refusals.add(1, ordering: .relaxed)
        return attempt()
    }

    /// How many ICMP "connection refused" notices this socket has reported.
    var refusalsSeen: UInt64 { refusals.load(ordering: .relaxed) }

    private func sendOnce(_ bytes: UnsafeRawBufferPointer, to destination: SocketAddress?) -> SocketSend {
        let sent: Int
        if let destination {
            guard let result = destination.withSockaddr(family: family, { address, length in
                sendto(descriptor, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL), address, length)
            }) else { return .failed(errno: EAFNOSUPPORT) }
            sent = result
        } else {
            sent = Glibc.send(descriptor, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
        }
        return Self.sendOutcome(sent)
    }

    /// sendOnce from `source` (sendmsg with a pktinfo message, DatagramArrival.swift).
    private func sendOnce(_ bytes: UnsafeRawBufferPointer, to destination: SocketAddress,
                          from source: ReplySource) -> SocketSend {
        guard let sent = destination.withSockaddr(family: family, { address, length in
            Self.send(on: descriptor, bytes, flags: Int32(MSG_NOSIGNAL), to: address, length: length, from: source)
        }) else { return .failed(errno: EAFNOSUPPORT) }
        return Self.sendOutcome(sent)
    }

    private static func sendOutcome(_ sent: Int) -> SocketSend {
        if sent >= 0 { return .sent }
        let error = errno
        return error == EAGAIN || error == EWOULDBLOCK || error == ENOBUFS ? .wouldBlock : .failed(errno: error)
    }

    private func receiveOnce(into buffer: UnsafeMutableRawBufferPointer) -> SocketReceive {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let flags = Int32(MSG_TRUNC) | Int32(MSG_DONTWAIT)
        let received = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                recvfrom(descriptor, buffer.baseAddress, buffer.count, flags, $0, &length)
            }
        }
        guard received >= 0 else {
            let error = errno
            return error == EAGAIN || error == EWOULDBLOCK ? .empty : .failed(errno: error)
        }
        let source = SocketAddress(storage: &storage) ?? SocketAddress.wildcard(port: 0)
        return .datagram(length: received, source: source, truncated: received > buffer.count)
    }

    private func receiveOnce(into buffer: UnsafeMutableRawBufferPointer, spill: UnsafeMutableRawBufferPointer,
                             wantSource: Bool) -> SocketReceive {
        var storage = sockaddr_storage()
        if spill.isEmpty {
            // One buffer: recvfrom, which costs the kernel less than recvmsg (no header to copy in).
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            return withUnsafeMutablePointer(to: &storage) { address in
                let received = withUnsafeMutablePointer(to: &length) { addressLength in
                    address.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        recvfrom(descriptor, buffer.baseAddress, buffer.count, Int32(MSG_TRUNC) | Int32(MSG_DONTWAIT),
                                 wantSource ? $0 : nil, wantSource ? addressLength : nil)
                    }
                }
                return Self.receiveOutcome(received, source: wantSource ? UnsafePointer(address) : nil,
                                           capacity: buffer.count)
            }
        }
        var vectors = (iovec(iov_base: buffer.baseAddress, iov_len: buffer.count),
                       iovec(iov_base: spill.baseAddress, iov_len: spill.count))
        let received = withUnsafeMutablePointer(to: &storage) { address in
            withUnsafeMutableBytes(of: &vectors) { vectorBytes in
                var header = msghdr()
                if wantSource {
                    header.msg_name = UnsafeMutableRawPointer(address)
                    header.msg_namelen = socklen_t(MemoryLayout<sockaddr_storage>.size)
                }
                header.msg_iov = vectorBytes.baseAddress!.assumingMemoryBound(to: iovec.self)
                header.msg_iovlen = spill.isEmpty ? 1 : 2
                // MSG_TRUNC: the result is the datagram's real length, so a truncated one is recognised.
                return recvmsg(descriptor, &header, Int32(MSG_TRUNC) | Int32(MSG_DONTWAIT))
            }
        }
        return withUnsafePointer(to: &storage) {
            Self.receiveOutcome(received, source: wantSource ? $0 : nil, capacity: buffer.count + spill.count)
        }
    }

    /// A receive's result: -1 with errno, or the datagram's full length (MSG_TRUNC) read into `capacity`
    /// bytes, from `source` (the wildcard address when not asked for).
    private static func receiveOutcome(_ received: Int, source: UnsafePointer<sockaddr_storage>?,
                                       capacity: Int) -> SocketReceive {
        guard received >= 0 else {
            let error = errno
            return error == EAGAIN || error == EWOULDBLOCK ? .empty : .failed(errno: error)
        }
        let from = source.flatMap { SocketAddress(storage: $0) } ?? SocketAddress.wildcard(port: 0)
        return .datagram(length: received, source: from, truncated: received > capacity)
    }

    // MARK: - Options

    /// Grows the kernel's receive buffer to at least `bytes` (never shrinks the system default).
    /// What the kernel's SO_MEMINFO tells of the receive buffer (Linux): the bytes the datagrams
    /// waiting in it take now (its bookkeeping included), the most it holds before it drops, and the
    /// datagrams it has dropped since the socket opened (nil from a kernel too old to tell). nil when
    /// the kernel does not tell at all.
    func receiveBufferUse() -> (used: Int, limit: Int, drops: UInt64?)? {
        // SO_MEMINFO (55) fills an array of u32: [0] rmem_alloc, [1] rcvbuf, ..., [8] drops; room for 16.
        var info = (UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0),
                    UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0))
        var length = socklen_t(MemoryLayout.size(ofValue: info))
        guard getsockopt(descriptor, SOL_SOCKET, 55, &info, &length) == 0, length >= 8, info.1 > 0 else { return nil }
        return (Int(info.0), Int(info.1), length >= 36 ? UInt64(info.8) : nil)
    }

    func growReceiveBuffer(to bytes: Int) {
        var current: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &current, &length) == 0 else { return }
        // Linux reports twice the size asked for (it counts its bookkeeping); compare like with like.
        guard Int(current) / 2 < bytes else { return }
        _ = Self.setOption(descriptor, SOL_SOCKET, SO_RCVBUF, Int32(clamping: bytes))
    }

    /// SO_BROADCAST on or off; 0 or errno.
    func setBroadcast(_ enabled: Bool) -> Int32 {
        Self.setOption(descriptor, SOL_SOCKET, SO_BROADCAST, Int32(enabled ? 1 : 0))
    }

    /// Joins or leaves multicast `group` on interface `interfaceIndex` (0 = the system's choice); 0 or errno.
    func changeMembership(join: Bool, group: SocketAddress, interfaceIndex: UInt32) -> Int32 {
        let bytes = group.addressBytes
        if group.isIPv4 {
            var request = ip_mreqn()
            withUnsafeMutableBytes(of: &request.imr_multiaddr) { $0.copyBytes(from: bytes[12..<16]) }
            request.imr_ifindex = Int32(bitPattern: interfaceIndex)
            return Self.setOption(descriptor, Int32(IPPROTO_IP), join ? IP_ADD_MEMBERSHIP : IP_DROP_MEMBERSHIP, request)
        }
        guard family == AF_INET6 else { return EAFNOSUPPORT }
        var request = ipv6_mreq()
        withUnsafeMutableBytes(of: &request.ipv6mr_multiaddr) { $0.copyBytes(from: bytes) }
        request.ipv6mr_interface = interfaceIndex
        return Self.setOption(descriptor, Int32(IPPROTO_IPV6), join ? IPV6_JOIN_GROUP : IPV6_LEAVE_GROUP, request)
    }

    /// setsockopt with a value of a plain C type; 0 or errno.
    private static func setOption<Value>(_ descriptor: Int32, _ level: Int32, _ name: Int32,
                                          _ value: Value) -> Int32 {
        withUnsafeBytes(of: value) {
            setsockopt(descriptor, level, name, $0.baseAddress, socklen_t($0.count)) == 0 ? 0 : errno
        }
    }

    // MARK: - Waiting and closing

    /// Blocks until a datagram can be read, `timeoutMs` passes (-1 = forever), or the socket closes.
    /// Called without the owner's lock held, so other calls on the owner go on meanwhile.
    func waitReadable(timeoutMs: Int) -> SocketWait {
        let entered = waitLock.withLock { () -> Bool in
            if isClosed { return false }
            waiters += 1
            return true
        }
        guard entered else { return .closed }
        let deadline = timeoutMs >= 0 ? MonotonicClock.milliseconds() + UInt64(timeoutMs) : nil
        var outcome = SocketWait.timedOut
        while true {
            var remaining: Int32 = -1
            if let deadline {
                let now = MonotonicClock.milliseconds()
                remaining = now >= deadline ? 0 : Int32(clamping: deadline - now)
            }
            var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&entry, 1, remaining)
            if ready > 0 {
                outcome = .readable
            } else if ready < 0 {
                let error = errno
                if error == EINTR { continue }
                outcome = .failed(errno: error)
            }
            break
        }
        return waitLock.withLock {
            waiters -= 1
            guard isClosed else { return outcome }
            if waiters == 0 { _ = Glibc.close(descriptor) }
            return .closed
        }
    }

    /// Closes the socket. A thread blocked in waitReadable() is woken (shutdown, which Linux
    /// honours even on unconnected UDP sockets) and closes the descriptor on its way out.
    func close() {
        waitLock.withLock {
            guard !isClosed else { return }
            isClosed = true
            if waiters > 0 {
                _ = shutdown(descriptor, Int32(SHUT_RDWR))
            } else {
                _ = Glibc.close(descriptor)
            }
        }
    }
}

/// errno as a sentence, e.g. "Address already in use (errno 98)".
func errnoText(_ code: Int32) -> String {
    "\(String(cString: strerror(code))) (errno \(code))"
}
