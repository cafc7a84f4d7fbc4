// ReceiveScratch.swift — one 64 KiB scratch buffer per thread for reads from a peer's own socket whose
// datagram may not fit the caller's buffer (PacketPeerUDP.receiveOwnLocked).
//
// Per thread, not per peer: each peer holding its own made every socket that ever read cost a heap
// chunk (its header page resident), which a process with thousands of sockets pays in full. A read
// uses the scratch only until it returns (its bytes are copied out or queued before the peer's lock is
// released), so one buffer per thread serves every peer that thread reads.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

enum ReceiveScratch {
    /// More than any UDP payload (65,507 bytes over IPv4, 65,527 over IPv6).
    static let size = 65536

    /// The thread's buffer, freed when the thread ends.
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        let made = pthread_key_create(&key) { buffer in buffer?.deallocate() }
        precondition(made == 0, "pthread_key_create failed: \(made)")
        return key
    }()

    /// This thread's scratch buffer, made on its first use.
    static func buffer() -> UnsafeMutableRawBufferPointer {
        if let existing = pthread_getspecific(key) {
            return UnsafeMutableRawBufferPointer(start: existing, count: size)
        }
        let made = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        pthread_setspecific(key, made)
        return UnsafeMutableRawBufferPointer(start: made, count: size)
    }
}
