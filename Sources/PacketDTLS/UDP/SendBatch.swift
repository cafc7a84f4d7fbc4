// SendBatch.swift — a UDPServer's send batching (beyond Godot, off by default): the datagrams its
// peers send are queued here and leave together, in order, in one sendmmsg(2) per up to `capacity`.
//
// A game server sends every client a state packet each tick: one sendto per client costs a system
// call each, and sendmmsg pays that entry once for hundreds (docs/PERFORMANCE.md, "The game server
// under load"). While batching is on, a send only copies the datagram into the arena here; it leaves
// at the next flush: UDPServer.flushSends(), the next UDPServer.poll(), the batch filling up, turning
// batching off, or the server stopping.
//
// Nothing is lost silently. A full socket buffer (EAGAIN, ENOBUFS) keeps the datagrams not yet sent,
// in order, for the next flush; a send that finds the batch full and still cannot flush reports
// .wouldBlock to its caller, as a direct send to a full buffer does. A datagram the kernel refuses
// (any other errno) is dropped and counted (datagramsSendFailed), and the flush reports it.
//
// Locking: the batch's lock is a leaf. Peers enqueue with their own lock held (a DTLS peer's, then its
// UDP peer's, then this); the server flushes with or without its own. Nothing here calls out.

internal import CSocketBatch
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

final class SendBatch: @unchecked Sendable {
    /// Datagrams per sendmmsg (the kernel takes at most UIO_MAXIOV = 1024).
    static let capacity = 512
    /// Bytes the queued datagrams may take together; any one datagram (at most 65,507 bytes) fits.
    static let arenaSize = 256 << 10

    /// What a flush achieved.
    enum FlushOutcome: Equatable {
        /// Every queued datagram left (or none was queued).
        case sent
        /// The socket's send buffer was full: the rest stays queued, in order, for the next flush.
        case busy
        /// This many datagrams were refused by the kernel, dropped and counted; the sentence names the first.
        case failed(Int, String)
    }

    /// Read without the lock by every send: a peer only takes the lock while batching is on.
    private let enabled = Atomic<Bool>(false)
    private let lock = Lock()
    // Every `var` below is touched under `lock` only.
    @exclusivity(unchecked) private var socket: UDPSocket? {
        didSet { family = socket?.family ?? 0 }
    }
    /// The attached socket's address family, 0 without one.
    @exclusivity(unchecked) private var family: Int32 = 0
    @exclusivity(unchecked) private var count = 0
    @exclusivity(unchecked) private var arenaUsed = 0
    /// Allocated when batching is first turned on, freed with the server.
    @exclusivity(unchecked) private var arena: UnsafeMutableRawPointer?
    @exclusivity(unchecked) private var slots: UnsafeMutablePointer<packetdtls_send_slot>?
    @exclusivity(unchecked) private var headers: UnsafeMutablePointer<packetdtls_mmsghdr>?
    @exclusivity(unchecked) private var vectors: UnsafeMutablePointer<iovec>?
    @exclusivity(unchecked) private var controls: UnsafeMutableRawPointer?
    @exclusivity(unchecked) private var sent: UInt64 = 0
    @exclusivity(unchecked) private var failed: UInt64 = 0
    @exclusivity(unchecked) private var calls: UInt64 = 0

    init() {}

    deinit {
        arena?.deallocate()
        slots?.deallocate()
        headers?.deallocate()
        vectors?.deallocate()
        controls?.deallocate()
    }

    var isEnabled: Bool { enabled.load(ordering: .relaxed) }

    /// The socket the batch sends on, from listen() until stop() (nil: sends go the direct way).
    func attach(_ socket: UDPSocket?) {
        lock.withLock { self.socket = socket }
    }

    /// Flushes what is queued and lets go of the socket (the server stops). What still cannot leave
    /// (a full send buffer) is dropped and counted: the socket is about to close.
    func detach() {
        lock.withLock {
            _ = flushLocked()
            failed += UInt64(count)
            count = 0
            arenaUsed = 0
            socket = nil
        }
    }

    /// Turns batching on or off. Off flushes first; .busy (and batching stays on) when some queued
    /// datagrams cannot leave yet, so that no later direct send overtakes them.
    func setEnabled(_ on: Bool) -> FlushOutcome {
        lock.withLock {
            if on {
                allocateLocked()
                enabled.store(true, ordering: .releasing)
                return .sent
            }
            let outcome = flushLocked()
            if outcome == .busy { return .busy }
            enabled.store(false, ordering: .releasing)
            return outcome
        }
    }

    /// Queues one datagram to `destination`, leaving from `source` when given. nil when batching is off
    /// or the server has no socket: the caller sends it directly. .wouldBlock when the batch is full
    /// and the socket's buffer too; .failed(EAFNOSUPPORT) when the socket cannot reach `destination`.
    func enqueue(_ bytes: UnsafeRawBufferPointer, to destination: SocketAddress?, from source: ReplySource?)
        -> SocketSend? {
        guard enabled.load(ordering: .relaxed), let destination else { return nil }
        return lock.withLock { () -> SocketSend? in
            // Re-read under the lock: turning batching off flushes under it, so nothing queued after that.
            // The socket's family, not the socket: reading `socket` would retain and release it per datagram.
            guard enabled.load(ordering: .relaxed), family != 0, let arena, let slots else { return nil }
            if count == Self.capacity || arenaUsed + bytes.count > Self.arenaSize {
                _ = flushLocked()
                if count == Self.capacity || arenaUsed + bytes.count > Self.arenaSize { return .wouldBlock }
            }
            guard (slots + count).fill(to: destination, family: family, from: source, offset: arenaUsed,
                                       length: bytes.count) else { return .failed(errno: EAFNOSUPPORT) }
            if let base = bytes.baseAddress, bytes.count > 0 { (arena + arenaUsed).copyMemory(from: base, byteCount: bytes.count) }
            arenaUsed += bytes.count
            count += 1
            return .sent
        }
    }

    /// UDPServer.poll()'s flush: what it refuses is counted (datagramsSendFailed), not reported.
    func flushForPoll() {
        guard isEnabled else { return }
        _ = flush()
    }

    /// Sends everything queued.
    func flush() -> FlushOutcome {
        lock.withLock { flushLocked() }
    }

    /// Datagrams waiting now.
    var waiting: Int {
        lock.withLock { count }
    }

    /// Adds this batch's figures to a server's.
    func addStats(to stats: inout UDPStats) {
        lock.withLock {
            stats.datagramsSentBatched = sent
            stats.datagramsSendFailed = failed
            stats.datagramsWaitingToSend = UInt64(count)
            stats.sendBatchCalls = calls
        }
    }

    private func allocateLocked() {
        guard arena == nil else { return }
        arena = .allocate(byteCount: Self.arenaSize, alignment: 16)
        slots = .allocate(capacity: Self.capacity)
        headers = .allocate(capacity: Self.capacity)
        vectors = .allocate(capacity: Self.capacity)
        controls = .allocate(byteCount: Self.capacity * Int(PACKETDTLS_CONTROL_SPACE), alignment: 16)
    }

    private func flushLocked() -> FlushOutcome {
        guard count > 0, let socket, let arena, let slots, let headers, let vectors, let controls else { return .sent }
        let space = packetdtls_send_space(headers: headers, vectors: vectors,
                                          controls: controls.assumingMemoryBound(to: CChar.self))
        var start = 0
        var refused = 0
        var firstRefusal = ""
        var busy = false
        var retriedRefusal = false
        while start < count {
            let result = packetdtls_sendmmsg_slots(socket.descriptor, arena.assumingMemoryBound(to: UInt8.self),
                                                   slots + start, UInt32(count - start), space)
            calls += 1
            if result > 0 {
                sent += UInt64(result)
                start += Int(result)
                continue
            }
            let error = errno
            if error == EINTR { continue }
            if error == EAGAIN || error == EWOULDBLOCK || error == ENOBUFS {
                busy = true
                break
            }
            // An ICMP refusal of an earlier datagram is reported once, on whichever call comes next; it
            // says nothing about this one (UDPSocket.retryingRefusal), so the call is made again once.
            if error == ECONNREFUSED && !retriedRefusal {
                retriedRefusal = true
                continue
            }
            // The kernel refused the first datagram left: it is dropped and counted, the rest go on.
            if refused == 0 {
                let whereTo = withUnsafePointer(to: &slots[start].to) { SocketAddress(storage: $0)?.description }
                    ?? "a client"
                firstRefusal = "sending \(slots[start].length) bytes to \(whereTo) failed: \(errnoText(error))"
            }
            refused += 1
            failed += 1
            start += 1
        }
        keepFromLocked(start)
        if refused > 0 { return .failed(refused, firstRefusal) }
        return busy ? .busy : .sent
    }

    /// Drops the first `start` slots (sent or refused) and moves the rest, and their bytes, to the front.
    private func keepFromLocked(_ start: Int) {
        guard let arena, let slots else { return }
        guard start < count else {
            count = 0
            arenaUsed = 0
            return
        }
        let left = count - start
        let from = slots[start].offset
        (arena).copyMemory(from: arena + from, byteCount: arenaUsed - from)
        for index in 0..<left {
            slots[index] = slots[start + index]
            slots[index].offset -= from
        }
        count = left
        arenaUsed -= from
    }
}

extension UnsafeMutablePointer where Pointee == packetdtls_send_slot {
    /// Describes one datagram of a batch (SendBatch's queue, ReplyBatch's replies) for
    /// packetdtls_sendmmsg_slots: `length` bytes at `offset` in the batch's arena, to `destination` as
    /// a sockaddr of `family`, from `source` (nil: the kernel's choice). False, and the slot not to be
    /// used, when the destination cannot be reached on a socket of `family`.
    @inline(__always)
    func fill(to destination: SocketAddress, family: Int32, from source: ReplySource?, offset: Int, length: Int) -> Bool {
        let stored: Bool? = destination.withSockaddr(family: family) { address, addressLength in
            withUnsafeMutableBytes(of: &pointee.to) {
                $0.copyMemory(from: UnsafeRawBufferPointer(start: address, count: Int(addressLength)))
            }
            pointee.to_length = addressLength
            return true
        }
        guard stored != nil else { return false }
        pointee.from = source?.raw ?? packetdtls_local_address()
        pointee.offset = offset
        pointee.length = length
        return true
    }
}
