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
    /// MSG_NOSIGNAL | MSG_DONTWAIT, computed where they are known (UDPSocket).
    private static let sendFlags = UDPSocket.nonBlockingSendFlags
    private let headers: UnsafeMutablePointer<packetdtls_mmsghdr>
    private let vectors: UnsafeMutablePointer<iovec>
    private let addresses: UnsafeMutablePointer<sockaddr_storage>
    private let buffers: UnsafeMutableRawPointer
    private let controls: UnsafeMutableRawPointer

    init(capacity: Int) {
        precondition(capacity > 0)
        self.capacity = capacity
        headers = .allocate(capacity: capacity)
        headers.initialize(repeating: packetdtls_mmsghdr(), count: capacity)
        vectors = .allocate(capacity: capacity)
        vectors.initialize(repeating: iovec(), count: capacity)
        addresses = .allocate(capacity: capacity)
        addresses.initialize(repeating: sockaddr_storage(), count: capacity)
        buffers = .allocate(byteCount: capacity * Self.slotSize, alignment: 16)
        controls = .allocate(byteCount: capacity * DatagramArrival.controlSpace, alignment: 16)
    }

    deinit {
        headers.deallocate()
        vectors.deallocate()
        addresses.deallocate()
        buffers.deallocate()
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
        let slot = count
        guard let namelength = destination.withSockaddr(family: family, { address, length in
            UnsafeMutableRawPointer(addresses + slot).copyMemory(from: address, byteCount: Int(length))
            return length
        }) else { return false }
        vectors[slot] = iovec(iov_base: buffers + slot * Self.slotSize, iov_len: length)
        headers[slot] = packetdtls_mmsghdr()
        headers[slot].msg_hdr.msg_name = UnsafeMutableRawPointer(addresses + slot)
        headers[slot].msg_hdr.msg_namelen = namelength
        headers[slot].msg_hdr.msg_iov = vectors + slot
        headers[slot].msg_hdr.msg_iovlen = 1
        if var raw = source?.raw {
            packetdtls_set_reply_source(&headers[slot].msg_hdr, controls + slot * DatagramArrival.controlSpace, &raw)
        }
        count += 1
        return true
    }

    /// Sends every reply taken, without blocking, and empties the batch; returns how many left. A
    /// reply the kernel refuses (a full send buffer, say) is lost as the network might lose it: its
    /// client sends its hello again.
    func flush(on descriptor: Int32) -> Int {
        var sent = 0, next = 0
        while next < count {
            let result = Int(packetdtls_sendmmsg(descriptor, headers + next, UInt32(count - next),
                                                 Self.sendFlags))
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
