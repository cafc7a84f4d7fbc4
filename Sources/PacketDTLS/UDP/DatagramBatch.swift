// DatagramBatch.swift — the buffers and headers for reading several datagrams in one system call.
//
// recvmmsg returns as many datagrams as are waiting, up to the batch's capacity. Getting fewer than
// asked for means the socket was empty behind them: the reader can stop without another read that
// would only have said EAGAIN. In the kernel that costs about what the EAGAIN read did
// (docs/PERFORMANCE.md); the saving is the reader's own round through mbedTLS for nothing, and under a
// burst one call takes several datagrams. Everything is allocated once, by the owner of the batch,
// and reused for every call.

internal import CSocketBatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

final class DatagramBatch {
    /// One datagram read into a slot.
    struct Datagram {
        /// The bytes received (at most the slot's size).
        let bytes: UnsafeRawBufferPointer
        /// The datagram's full length; larger than `bytes.count` when it was truncated.
        let length: Int
        let source: SocketAddress
        /// What the control messages told (destination address, drop count); empty without them.
        let arrival: DatagramArrival
        var truncated: Bool { length > bytes.count }
    }

    /// How many datagrams one call may return.
    let capacity: Int
    /// The size of each slot's own buffer.
    let slotSize: Int
    private let headers: UnsafeMutablePointer<packetdtls_mmsghdr>
    private let vectors: UnsafeMutablePointer<iovec>
    private let addresses: UnsafeMutablePointer<sockaddr_storage>
    private let buffers: UnsafeMutableRawPointer
    /// Control-message space per slot (see DatagramArrival), nil when the owner wants none.
    private let controls: UnsafeMutableRawPointer?

    init(capacity: Int, slotSize: Int, controlMessages: Bool = false) {
        precondition(capacity > 0 && slotSize > 0)
        self.capacity = capacity
        self.slotSize = slotSize
        headers = .allocate(capacity: capacity)
        headers.initialize(repeating: packetdtls_mmsghdr(), count: capacity)
        vectors = .allocate(capacity: capacity)
        vectors.initialize(repeating: iovec(), count: capacity)
        addresses = .allocate(capacity: capacity)
        addresses.initialize(repeating: sockaddr_storage(), count: capacity)
        // Untouched pages of a large allocation cost no memory: only slots that received use any.
        buffers = .allocate(byteCount: capacity * slotSize, alignment: 16)
        controls = controlMessages
            ? .allocate(byteCount: capacity * DatagramArrival.controlSpace, alignment: 16) : nil
    }

    deinit {
        headers.deallocate()
        vectors.deallocate()
        addresses.deallocate()
        buffers.deallocate()
        controls?.deallocate()
    }

    /// One recvmmsg on `descriptor` with `flags` (UDPSocket's), every slot into its own buffer with
    /// its sender's address. Returns what recvmmsg returns: the count received, or -1 with `errno` set.
    func receive(on descriptor: Int32, flags: Int32) -> Int {
        for slot in 0..<capacity {
            vectors[slot] = iovec(iov_base: buffers + slot * slotSize, iov_len: slotSize)
            headers[slot] = packetdtls_mmsghdr()
            headers[slot].msg_hdr.msg_name = UnsafeMutableRawPointer(addresses + slot)
            headers[slot].msg_hdr.msg_namelen = socklen_t(MemoryLayout<sockaddr_storage>.size)
            headers[slot].msg_hdr.msg_iov = vectors + slot
            headers[slot].msg_hdr.msg_iovlen = 1
            if let controls {
                headers[slot].msg_hdr.msg_control = controls + slot * DatagramArrival.controlSpace
                headers[slot].msg_hdr.msg_controllen = DatagramArrival.controlSpace
            }
        }
        return Int(packetdtls_recvmmsg(descriptor, headers, UInt32(capacity), flags))
    }

    /// The datagram in `slot` after a receive that returned more than `slot`; its source is the
    /// wildcard address when the kernel gave none it could name.
    func datagram(_ slot: Int) -> Datagram {
        let vector = vectors[slot]
        let length = Int(headers[slot].msg_len)
        let source = SocketAddress(storage: addresses + slot) ?? SocketAddress.wildcard(port: 0)
        // No control message came (the common case on a socket bound to one address): nothing to read.
        let arrival = controls == nil || headers[slot].msg_hdr.msg_controllen == 0
            ? DatagramArrival() : DatagramArrival(reading: &headers[slot].msg_hdr)
        return Datagram(bytes: UnsafeRawBufferPointer(start: vector.iov_base, count: min(length, vector.iov_len)),
                        length: length, source: source, arrival: arrival)
    }
}
