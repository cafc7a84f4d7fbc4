// SocketAddress.swift — one UDP endpoint (address + port) as a small hashable value.
//
// Every address is held in IPv6 form, IPv4 as IPv4-mapped (::ffff:a.b.c.d), so a dual-stack
// socket and an IPv4 socket see the same key for the same client, and the UDP server can route
// by it with one dictionary lookup. The sockaddr conversions live here and nowhere else.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

struct SocketAddress: Hashable, Sendable {
    /// The 16 address bytes as they lie in memory (network order), split in two for hashing.
    private var upper: UInt64
    private var lower: UInt64
    /// The port in host order.
    var port: UInt16
    /// The IPv6 scope (interface index) of a link-local address; 0 otherwise.
    var scopeID: UInt32 = 0

    /// Bytes 8...11 of an IPv4-mapped address (0 0 0xff 0xff) as they sit in `lower`, and the mask that
    /// keeps those bytes; both built from bytes, so they hold on any endianness. Bytes 0...7 are zero.
    private static let mappedLowerPrefix = UInt64(memoryBytes: (0, 0, 0xff, 0xff, 0, 0, 0, 0))
    private static let mappedLowerMask = UInt64(memoryBytes: (0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0))

    /// From 16 address bytes (IPv6 or IPv4-mapped form).
    init(bytes16: UnsafeRawBufferPointer, port: UInt16, scopeID: UInt32 = 0) {
        precondition(bytes16.count == 16)
        upper = bytes16.loadUnaligned(as: UInt64.self)
        lower = bytes16.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
        self.port = port
        self.scopeID = scopeID
    }

    init(_ address: in6_addr, port: UInt16, scopeID: UInt32 = 0) {
        var address = address
        self = withUnsafeBytes(of: &address) { SocketAddress(bytes16: $0, port: port, scopeID: scopeID) }
    }

    /// An IPv4 address, held IPv4-mapped. No allocation: the server's receive path runs through here.
    init(_ address: in_addr, port: UInt16) {
        let v4 = withUnsafeBytes(of: address) { $0.loadUnaligned(as: UInt32.self) }
        var lowerBytes: (UInt32, UInt32) = (0, v4)
        withUnsafeMutableBytes(of: &lowerBytes) { $0[2] = 0xff; $0[3] = 0xff }
        upper = 0
        lower = withUnsafeBytes(of: &lowerBytes) { $0.loadUnaligned(as: UInt64.self) }
        self.port = port
    }

    /// True for an IPv4 address (held IPv4-mapped).
    /// The 16 address bytes as two words, as they lie in memory (addressBytes without allocating).
    var addressWords: (UInt64, UInt64) { (upper, lower) }

    var isIPv4: Bool {
        upper == 0 && lower & Self.mappedLowerMask == Self.mappedLowerPrefix
    }

    /// The 16 address bytes (IPv6, or IPv4-mapped form).
    var addressBytes: [UInt8] {
        var words = (upper, lower)
        return withUnsafeBytes(of: &words) { Array($0) }
    }

    /// The same address with another port.
    func with(port: UInt16) -> SocketAddress {
        var copy = self
        copy.port = port
        return copy
    }

    // MARK: - Text

    /// The printable address: a dotted quad for IPv4 (also when it came IPv4-mapped), else IPv6 text.
    var host: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        var words = (upper, lower)
        withUnsafeBytes(of: &words) { raw in
            if isIPv4 {
                _ = inet_ntop(AF_INET, raw.baseAddress! + 12, &buffer, socklen_t(buffer.count))
            } else {
                _ = inet_ntop(AF_INET6, raw.baseAddress!, &buffer, socklen_t(buffer.count))
            }
        }
        let text = String(cBuffer: buffer)
        return scopeID != 0 && !isIPv4 ? "\(text)%\(scopeID)" : text
    }

    /// "host:port", or "[host]:port" for IPv6, for messages.
    var description: String { isIPv4 ? "\(host):\(port)" : "[\(host)]:\(port)" }

    /// Parses an IPv4 or IPv6 literal ("127.0.0.1", "::1", "fe80::1%2"); nil for anything else.
    static func parse(literal text: String, port: UInt16) -> SocketAddress? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return SocketAddress(v4, port: port) }
        var name = Substring(text)
        var scope: UInt32 = 0
        if let percent = text.firstIndex(of: "%") {
            name = text[..<percent]
            let zone = String(text[text.index(after: percent)...])
            if let index = UInt32(zone) { scope = index } else { scope = if_nametoindex(zone) }
            if scope == 0 { return nil }
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, String(name), &v6) == 1 else { return nil }
        return SocketAddress(v6, port: port, scopeID: scope)
    }

    // MARK: - sockaddr

    /// The wildcard address of a socket of `family` (0.0.0.0 or ::), at `port`.
    static func wildcard(family: Int32 = AF_INET6, port: UInt16) -> SocketAddress {
        family == AF_INET ? SocketAddress(in_addr(s_addr: 0), port: port) : SocketAddress(in6addr_any, port: port)
    }

    /// True for a multicast group address (224.0.0.0/4 or ff00::/8).
    var isMulticast: Bool {
        let bytes = addressBytes
        return isIPv4 ? bytes[12] & 0xf0 == 0xe0 : bytes[0] == 0xff
    }

    /// Reads a sockaddr_in or sockaddr_in6 the kernel filled in; nil for another family.
    init?(storage: UnsafePointer<sockaddr_storage>) {
        switch Int32(storage.pointee.ss_family) {
        case AF_INET:
            let v4 = UnsafeRawPointer(storage).load(as: sockaddr_in.self)
            self.init(v4.sin_addr, port: UInt16(bigEndian: v4.sin_port))
        case AF_INET6:
            let v6 = UnsafeRawPointer(storage).load(as: sockaddr_in6.self)
            self.init(v6.sin6_addr, port: UInt16(bigEndian: v6.sin6_port), scopeID: v6.sin6_scope_id)
        default:
            return nil
        }
    }

    /// Calls `body` with this address as a sockaddr of `family` (AF_INET or AF_INET6); nil when the
    /// address cannot be expressed in that family (an IPv6 address for an IPv4 socket).
    func withSockaddr<T>(family: Int32, _ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T? {
        var words = (upper, lower)
        if family == AF_INET {
            guard isIPv4 else { return nil }
            var v4 = sockaddr_in()
            v4.sin_family = sa_family_t(AF_INET)
            v4.sin_port = port.bigEndian
            withUnsafeBytes(of: &words) { raw in
                let v4Bytes = UnsafeRawBufferPointer(rebasing: raw[12..<16])
                withUnsafeMutableBytes(of: &v4.sin_addr) { $0.copyMemory(from: v4Bytes) }
            }
            return Self.withGenericSockaddr(&v4, body)
        }
        var v6 = sockaddr_in6()
        v6.sin6_family = sa_family_t(AF_INET6)
        v6.sin6_port = port.bigEndian
        v6.sin6_scope_id = scopeID
        withUnsafeBytes(of: &words) { raw in
            withUnsafeMutableBytes(of: &v6.sin6_addr) { $0.copyMemory(from: raw) }
        }
        return Self.withGenericSockaddr(&v6, body)
    }

    /// Calls `body` with a sockaddr_in or sockaddr_in6 seen as the generic sockaddr the socket calls take.
    private static func withGenericSockaddr<Specific, T>(_ address: inout Specific,
                                                         _ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
        let length = socklen_t(MemoryLayout<Specific>.size)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) }
        }
    }
}

// MARK: - Hashing for the UDP server's route table

extension SocketAddress {
    /// What a Dictionary (the UDPServer's route table, looked up for every datagram) hashes with,
    /// in place of the Hasher (SipHash-1-3) that hash(into:) feeds: two keyed 64x64->128-bit
    /// multiplications folded (the mixing step of wyhash), then MurmurHash3's finalizer: about 30
    /// instructions against about 250
    /// (docs/PERFORMANCE.md, session 5).
    ///
    /// Hash flooding: clients choose their source port (and, with IPv6, much of their address). The
    /// key is 256 random bits per process, never shown, mixed with the table's own seed, so a client
    /// cannot compute which addresses share a bucket. The table also holds only peers the server took
    /// in (pending ones are bounded by max_pending_connections, and behind a DTLS server's front door
    /// only clients that returned a valid cookie get one), and a lookup of an unknown source stops at
    /// the first empty bucket. Not a cryptographic PRF like SipHash: a table whose keys anyone could
    /// insert would keep the default.
    func _rawHashValue(seed: Int) -> Int {
        let key = Self.hashKey
        let first = Self.fold(upper ^ key.0, lower ^ key.1)
        let rest = UInt64(port) | UInt64(scopeID) << 16
        let mixed = Self.fold(first ^ key.2 ^ UInt64(UInt(bitPattern: seed)), rest ^ key.3)
        // A fold by a fixed factor leaves the low bits (the bucket) weak when only the port changes and
        // the factor is even: half the buckets of 4,096 ports stayed empty for some keys
        // (ServerPathTests). MurmurHash3's 64-bit finalizer spreads every bit over the low ones.
        return Int(truncatingIfNeeded: Self.finalize(mixed))
    }

    @inline(__always)
    private static func finalize(_ value: UInt64) -> UInt64 {
        var h = value
        h ^= h >> 33
        h &*= 0xff51_afd7_ed55_8ccd
        h ^= h >> 33
        h &*= 0xc4ce_b9fe_1a85_ec53
        h ^= h >> 33
        return h
    }

    /// The high and low halves of the 128-bit product, xored.
    @inline(__always)
    private static func fold(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let product = a.multipliedFullWidth(by: b)
        return product.high ^ product.low
    }

    /// Drawn once per process from the system's generator (getrandom). A factor is zero, and its
    /// product blind to the other word, only for an address word equal to a key word: a 2^-64 chance.
    private static let hashKey: (UInt64, UInt64, UInt64, UInt64) = {
        var generator = SystemRandomNumberGenerator()
        return (generator.next(), generator.next(), generator.next(), generator.next())
    }()
}

private extension UInt64 {
    /// The word whose bytes in memory are exactly these, whatever the machine's byte order.
    init(memoryBytes bytes: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8)) {
        self = withUnsafeBytes(of: bytes) { $0.loadUnaligned(as: UInt64.self) }
    }
}
