// PacketPeerUDP+Receiving.swift — Godot's receive path: get_packet from the queue (fed from the own
// socket, or by the server), and wait().

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension PacketPeerUDP {
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
            // Nothing queued: the next datagram comes straight from the socket (one read, no peek).
            if queue.isEmpty, let socket = ownSocket {
                let spill = receiveSpillLocked()
                guard let got = receiveOwnLocked(socket, into: spill, spill: Self.noSpill) else {
                    lastPacketError = reportNothingQueuedLocked()
                    return []
                }
                lastSource = got.source
                lastPacketError = .ok
                return Array(UnsafeRawBufferPointer(rebasing: spill[..<got.length]))
            }
            guard let packet = takeQueuedLocked() else {
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
    ///   small: then `length` is the size needed and the datagram stays queued (what `buffer` holds
    ///   then is unspecified: a datagram read from the socket lands there first).
    public func getPacket(into buffer: UnsafeMutableRawBufferPointer, length: inout Int) -> GodotError {
        lock.withLock {
            // Nothing queued: one read from the socket straight into `buffer` (no peek, no allocation);
            // a datagram larger than `buffer` is queued whole, and reported below like a queued one.
            if queue.isEmpty, let socket = ownSocket {
                let spill = buffer.count >= Self.spillSize ? Self.noSpill : receiveSpillLocked()
                guard let got = receiveOwnLocked(socket, into: buffer, spill: spill) else {
                    length = 0
                    lastPacketError = reportNothingQueuedLocked()
                    return lastPacketError
                }
                if got.length <= buffer.count {
                    if got.inSpill, got.length > 0 {
                        buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: spill[..<got.length]))
                    }
                    length = got.length
                    lastSource = got.source
                    lastPacketError = .ok
                    return .ok
                }
                let bytes = got.inSpill ? Array(UnsafeRawBufferPointer(rebasing: spill[..<got.length]))
                    : [UInt8](unsafeUninitializedCapacity: got.length) { storage, initialized in
                        let whole = UnsafeMutableRawBufferPointer(storage)
                        whole.copyMemory(from: UnsafeRawBufferPointer(buffer))
                        UnsafeMutableRawBufferPointer(rebasing: whole[buffer.count...])
                            .copyMemory(from: UnsafeRawBufferPointer(rebasing: spill[..<(got.length - buffer.count)]))
                        initialized = got.length
                    }
                queue.append(.init(bytes: bytes, source: got.source))
            }
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
            _ = takeQueuedLocked()
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

    func reportNothingQueuedLocked() -> GodotError {
        let why = socketLocked == nil ? "the peer has no socket" : "no datagram is queued"
        return ErrorReport.fail(.unavailable, "PacketPeerUDP.get_packet: \(why)")
    }

    /// Moves waiting datagrams from our own socket into the queue until the socket is empty or the
    /// queue is full (the rest stays in the kernel). A peer of a UDPServer is fed by the server.
    func drainSocketLocked() {
        guard let socket = ownSocket else { return }
        while true {
            if queue.isEmpty {
                // An empty queue takes any datagram: read it whole at once, no peek at its size first.
                let spill = receiveSpillLocked()
                guard let got = receiveOwnLocked(socket, into: spill, spill: Self.noSpill) else { return }
                queue.append(.init(bytes: Array(UnsafeRawBufferPointer(rebasing: spill[..<got.length])),
                                   source: got.source))
                continue
            }
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
            traffic.datagramsReceived += 1
        }
    }

    /// The size of `receiveSpill`: more than any UDP payload (65,507 bytes over IPv4, 65,527 over IPv6).
    static let spillSize = 65536
    /// No spill buffer: the read goes into the one buffer given.
    static var noSpill: UnsafeMutableRawBufferPointer { UnsafeMutableRawBufferPointer(start: nil, count: 0) }

    func receiveSpillLocked() -> UnsafeMutableRawBufferPointer {
        if let receiveSpill { return receiveSpill }
        let made = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.spillSize, alignment: 16)
        receiveSpill = made
        return made
    }

    /// A caller's buffer up to this size gets its datagram read into the spill buffer and copied out:
    /// recvfrom and a copy of a small datagram cost less than recvmsg's two-part read (about 0.2 us a
    /// call here; docs/PERFORMANCE.md). Larger buffers are read into directly.
    static let copyThroughSpillBelow = 4096

    /// Reads one datagram from our own socket in one system call: into `buffer`, with any rest that does
    /// not fit into `spill` (empty when `buffer` holds any datagram); a small `buffer` is not read into
    /// at all: then the whole datagram is in `spill` (`inSpill`). nil when nothing waits, when the read
    /// failed (reported, as drainSocketLocked does) or when the datagram did not fit (dropped). Counted
    /// as received. On a connected socket the kernel is not asked for the source: it is the connected host.
    func receiveOwnLocked(_ socket: UDPSocket, into buffer: UnsafeMutableRawBufferPointer,
                          spill: UnsafeMutableRawBufferPointer)
        -> (length: Int, source: SocketAddress, inSpill: Bool)? {
        let peer = connectedHost
        let inSpill = !spill.isEmpty && buffer.count < Self.copyThroughSpillBelow
        let outcome = inSpill
            ? socket.receive(into: spill, spill: Self.noSpill, wantSource: peer == nil)
            : socket.receive(into: buffer, spill: spill, wantSource: peer == nil)
        switch outcome {
        case .datagram(let length, let source, let truncated):
            guard !truncated else {
                traffic.datagramsDropped += 1
                return nil
            }
            traffic.datagramsReceived += 1
            return (length, peer ?? source, inSpill)
        case .empty:
            return nil
        case .failed(let code):
            ErrorReport.set("PacketPeerUDP: reading the socket failed: \(errnoText(code))")
            return nil
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

    func waitForDatagram(timeoutMs: Int) -> GodotError {
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
}
