// HostResolver.swift — turns "127.0.0.1", "::1" or "localhost" into socket addresses.
//
// Literals are parsed without a lookup; names go through getaddrinfo (which may block, as in
// Godot). Resolution runs before any object lock is taken, so a slow DNS answer never holds up
// other calls on the same peer; the caller then picks the address its socket can use.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Which addresses a socket can reach.
enum AddressReach: Sendable {
    /// No socket yet, or a dual-stack one: anything goes.
    case any
    case ipv4Only
    case ipv6Only

    func accepts(_ address: SocketAddress) -> Bool {
        switch self {
        case .any: return true
        case .ipv4Only: return address.isIPv4
        case .ipv6Only: return !address.isIPv4
        }
    }

    /// "IPv4", "IPv6" or "IP", for messages.
    var familyName: String {
        switch self {
        case .any: return "IP"
        case .ipv4Only: return "IPv4"
        case .ipv6Only: return "IPv6"
        }
    }
}

enum HostResolver {
    /// The family a bind asks for, and its address (nil = the wildcard of whatever family opens).
    typealias BindTarget = (reach: AddressReach, address: SocketAddress?)

    /// A remote's candidate addresses: `port` must be 1...65535, then `host` is resolved.
    static func resolveRemote(_ host: String, port: Int, for function: String) throws(Failure) -> [SocketAddress] {
        try resolve(host, port: try self.port(port, in: 1...65535, for: function), for: function)
    }

    /// Every address `host` names, at `port`, in the resolver's order of preference. Throws
    /// .invalidParameter for an empty host, .cantResolve for a name that does not resolve.
    static func resolve(_ host: String, port: UInt16, for function: String) throws(Failure) -> [SocketAddress] {
        if host.isEmpty {
            throw Failure(.invalidParameter, "\(function): the host is empty")
        }
        if let literal = SocketAddress.parse(literal: host, port: port) {
            return [literal]
        }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &list)
        defer { if let list { freeaddrinfo(list) } }
        guard status == 0 else {
            let reason = status == EAI_SYSTEM ? String(cString: strerror(errno)) : String(cString: gai_strerror(status))
            throw Failure(.cantResolve, "\(function): cannot resolve host \"\(host)\": \(reason)")
        }
        var addresses: [SocketAddress] = []
        var entry = list
        while let current = entry {
            if let raw = current.pointee.ai_addr {
                var storage = sockaddr_storage()
                withUnsafeMutableBytes(of: &storage) { target in
                    target.copyMemory(from: UnsafeRawBufferPointer(start: raw, count: Int(current.pointee.ai_addrlen)))
                }
                if let address = SocketAddress(storage: &storage), !addresses.contains(address.with(port: port)) {
                    addresses.append(address.with(port: port))
                }
            }
            entry = current.pointee.ai_next
        }
        guard !addresses.isEmpty else {
            throw Failure(.cantResolve, "\(function): host \"\(host)\" has no IPv4 or IPv6 address")
        }
        return addresses
    }

    /// The first of `addresses` a socket with `need` can use, or .cantResolve with a sentence.
    static func pick(_ addresses: [SocketAddress], for reach: AddressReach, host: String,
                     function: String) throws(Failure) -> SocketAddress {
        if let usable = addresses.first(where: reach.accepts) { return usable }
        throw Failure(.cantResolve, "\(function): host \"\(host)\" has no \(reach.familyName) "
            + "address, and this socket is \(reach.familyName) only")
    }

    /// What a bind address asks for: "*" is the dual-stack wildcard (address nil, any family);
    /// an IPv4 literal makes an IPv4 socket, an IPv6 literal ("::" included) an IPv6-only one.
    /// Names are not resolved here, as in Godot, whose bind takes an IP address.
    static func bindTarget(_ text: String, port: UInt16, for function: String) throws(Failure) -> BindTarget {
        if text == "*" { return (.any, nil) }
        guard let address = SocketAddress.parse(literal: text, port: port) else {
            throw Failure(.invalidParameter,
                "\(function): bind address \"\(text)\" is not an IPv4 or IPv6 address, nor \"*\"")
        }
        return (address.isIPv4 ? .ipv4Only : .ipv6Only, address)
    }

    /// A port argument checked to lie in `range`; .invalidParameter with a sentence otherwise.
    static func port(_ value: Int, in range: ClosedRange<Int>, for function: String) throws(Failure) -> UInt16 {
        guard range.contains(value) else {
            throw Failure(.invalidParameter,
                "\(function): port \(value) is outside \(range.lowerBound)...\(range.upperBound)")
        }
        return UInt16(value)
    }
}
