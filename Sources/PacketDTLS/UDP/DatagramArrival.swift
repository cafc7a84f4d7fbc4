// DatagramArrival.swift — what the kernel tells beside a datagram, and replies sent from the right address.
//
// A socket bound to a wildcard address receives datagrams sent to any of the host's addresses. The
// kernel picks the source of a reply by its routing table, which need not be the address the client
// sent to (a second IPv4 address, 127.0.0.5 on loopback, an IPv6 host with several addresses); a
// client with a connected socket then drops every reply. With IP_PKTINFO / IPV6_RECVPKTINFO the
// kernel says where each datagram was sent to, and a reply carrying that address as its source
// (sendmsg with a pktinfo message) leaves from it. SO_RXQ_OVFL adds the number of datagrams the
// socket's buffer has dropped, so a server can report what the kernel lost too; a UDPServer asks it
// only of a kernel whose SO_MEMINFO does not tell drops (a control message per datagram costs about
// a tenth of reading one, which matters under a flood).
//
// The control-message code itself is C (CSocketBatch/shim.h); this file is its one Swift caller.

internal import CSocketBatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The local address a client's datagram was sent to: where replies to that client come from.
/// Plain integers, not the C struct, so copying it on the send path costs a few moves.
struct ReplySource: Sendable {
    private let family: Int32
    private let interfaceIndex: UInt32
    /// The 16 address bytes as they lie in memory (IPv4 in the first 4).
    private let address: (UInt64, UInt64)

    fileprivate init(_ raw: packetdtls_local_address) {
        var raw = raw
        family = raw.family
        interfaceIndex = raw.interface_index
        address = withUnsafeBytes(of: &raw.address) { ($0.loadUnaligned(as: UInt64.self),
                                                        $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self)) }
    }

    /// The C form the send shim takes.
    var raw: packetdtls_local_address {
        var raw = packetdtls_local_address()
        raw.family = family
        raw.interface_index = interfaceIndex
        var words = address
        withUnsafeMutableBytes(of: &raw.address) { target in
            withUnsafeBytes(of: &words) { target.copyMemory(from: $0) }
        }
        return raw
    }

    /// The address as text, for messages and tests.
    var host: String {
        var words = address
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        _ = withUnsafeBytes(of: &words) { inet_ntop(family, $0.baseAddress, &text, socklen_t(text.count)) }
        return String(cString: text)
    }
}

/// What the control messages of one received datagram told.
struct DatagramArrival: Sendable {
    /// Where the datagram was sent to; nil when unknown (no pktinfo asked, or a multicast destination).
    let destination: ReplySource?
    /// The socket's count of datagrams its full buffer dropped since it opened; nil when not told.
    let kernelDrops: UInt32?

    /// Bytes of control space one received datagram needs.
    static let controlSpace = Int(PACKETDTLS_CONTROL_SPACE)

    init() {
        destination = nil
        kernelDrops = nil
    }

    /// Reads the control messages of a received header.
    init(reading header: UnsafePointer<msghdr>) {
        var arrival = packetdtls_arrival()
        packetdtls_read_arrival(header, &arrival)
        destination = arrival.destination.family != 0 ? ReplySource(arrival.destination) : nil
        kernelDrops = arrival.has_drop_count != 0 ? arrival.drop_count : nil
    }
}

extension UDPSocket {
    /// Asks the kernel to tell, beside every datagram, how many the socket's buffer dropped, and, when
    /// `destinations` (a socket bound to a wildcard address), where each was sent to. 0 or errno.
    func enableArrivalInfo(destinations: Bool, dropCounts: Bool) -> Int32 {
        var status: Int32 = 0
        if dropCounts { status = Self.setIntOption(descriptor, SOL_SOCKET, PACKETDTLS_SO_RXQ_OVFL, 1) }
        guard status == 0, destinations else { return status }
        // A dual-stack IPv6 socket reports its IPv4 clients through IP_PKTINFO.
        if family == AF_INET || reach != .ipv6Only {
            status = Self.setIntOption(descriptor, PACKETDTLS_IPPROTO_IP, PACKETDTLS_IP_PKTINFO, 1)
            if status != 0 && family == AF_INET { return status }
        }
        if family == AF_INET6 {
            status = Self.setIntOption(descriptor, PACKETDTLS_IPPROTO_IPV6, PACKETDTLS_IPV6_RECVPKTINFO, 1)
        }
        return status
    }

    /// One sendto with `source` as the datagram's source address; the byte count or -1 with errno.
    static func send(on descriptor: Int32, _ bytes: UnsafeRawBufferPointer, flags: Int32,
                     to address: UnsafePointer<sockaddr>, length: socklen_t, from source: ReplySource) -> Int {
        withUnsafePointer(to: source.raw) {
            packetdtls_sendto_from(descriptor, bytes.baseAddress, bytes.count, flags, address, length, $0)
        }
    }

    private static func setIntOption(_ descriptor: Int32, _ level: Int32, _ name: Int32, _ value: Int32) -> Int32 {
        var value = value
        return setsockopt(descriptor, level, name, &value, socklen_t(MemoryLayout<Int32>.size)) == 0 ? 0 : errno
    }
}
