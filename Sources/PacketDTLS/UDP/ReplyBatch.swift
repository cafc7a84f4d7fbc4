// ReplyBatch.swift — the HelloVerifyRequests of one receive batch, sent in one system call.
//
// A UDPServer's front door answers every cookie-less ClientHello it reads. Under a flood those
// answers are most of what the server does, so they are written straight into buffers held here
// (nothing allocated per hello) and leave together with sendmmsg after the batch they answer has
// been read and routed: the real clients' datagrams of that batch reach their peers first. Each
// reply goes from the address its hello was sent to (a pktinfo control message), as every reply of
// the server does (DatagramArrival). Allocated once per server, reused for every batch.

internal import CSocketBatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

final class ReplyBatch {
    let capacity: Int
    /// Bytes of each reply slot: a HelloVerifyRequest with the largest cookie fits.
    static let slotSize = (ClientHelloScreen.replyCapacity + 15) & ~15
    private(set) var count = 0
    /// Where each reply goes and from where; its bytes are slot i of `buffers`. Sent by the same C
    /// code as SendBatch's queue (packetdtls_sendmmsg_slots, send_batch.h), which writes the headers.
    private let slots: UnsafeMutablePointer<packetdtls_send_slot>
    private let buffers: UnsafeMutableRawPointer
    private let headers: UnsafeMutablePointer<packetdtls_mmsghdr>
    private let vectors: UnsafeMutablePointer<iovec>
    private let controls: UnsafeMutableRawPointer

    init(capacity: Int) {
        precondition(capacity > 0 && capacity <= 1024)
        self.capacity = capacity
        slots = .allocate(capacity: capacity)
        buffers = .allocate(byteCount: capacity * Self.slotSize, alignment: 16)
        headers = .allocate(capacity: capacity)
        vectors = .allocate(capacity: capacity)
        controls = .allocate(byteCount: capacity * Int(PACKETDTLS_CONTROL_SPACE), alignment: 16)
    }

    deinit {
        slots.deallocate()
        buffers.deallocate()
        headers.deallocate()
        vectors.deallocate()
        controls.deallocate()
    }

    var isFull: Bool { count == capacity }

    /// Where the next reply is written (slotSize bytes); add(length:...) then takes it.
    var nextBuffer: UnsafeMutableRawBufferPointer {
        precondition(!isFull)
        return UnsafeMutableRawBufferPointer(start: buffers + count * Self.slotSize, count: Self.slotSize)
    }

    /// Takes the first `length` bytes of nextBuffer as a reply to `destination`, sent from `source`
    /// (nil: the kernel's choice) on a socket of `family`. False (and nothing taken) when the
    /// destination cannot be reached on such a socket.
    func add(length: Int, to destination: SocketAddress, family: Int32, from source: ReplySource?) -> Bool {
        precondition(!isFull && length <= Self.slotSize)
        guard (slots + count).fill(to: destination, family: family, from: source, offset: count * Self.slotSize,
                                   length: length) else { return false }
        count += 1
        return true
    }

    /// Sends every reply taken, without blocking (the server's socket is non-blocking), and empties
    /// the batch; returns how many left. A reply the kernel refuses (a full send buffer, say) is lost
    /// as the network might lose it: its client sends its hello again.
    func flush(on descriptor: Int32) -> Int {
        let space = packetdtls_send_space(headers: headers, vectors: vectors,
                                          controls: controls.assumingMemoryBound(to: CChar.self))
        let arena = buffers.assumingMemoryBound(to: UInt8.self)
        var sent = 0, next = 0
        while next < count {
            let result = Int(packetdtls_sendmmsg_slots(descriptor, arena, slots + next, UInt32(count - next), space))
            if result > 0 {
                sent += result
                next += result
            } else if result < 0 && errno == EINTR {
                continue
            } else {
                next += 1  // the first one failed: skip it, send the rest
            }
        }
        count = 0
        return sent
    }
}
