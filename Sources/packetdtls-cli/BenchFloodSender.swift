// BenchFloodSender.swift — `packetdtls-cli bench flood-sender` (started by `bench flood`): one thread
// sends one cookie-less ClientHello round robin from many UDP sockets on 127.0.0.1, as fast as it can
// (or at a given rate), sendmmsg with a few copies per socket and system call, until SIGTERM (or --count).
//
// It reads nothing while it sends (reading would cost the flood rate); each socket's receive buffer
// keeps what the server answers until it is full, and the kernel counts what it drops there. Every
// 100 ms it prints `sent <datagrams> <bytes> <monotonic seconds>`; at the end it reads every
// socket empty and prints `final <datagrams sent> <bytes sent> <answers read> <bytes read>
// <answers dropped at the flood sockets>`, then exits.

import ArgumentParser
internal import CSocketBatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

struct BenchFloodSender: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flood-sender",
        abstract: "The flood of `bench flood` (started by it): one ClientHello from many ports, as fast as one thread sends.",
        shouldDisplay: false)

    @Option(help: "The server's port on 127.0.0.1.") var port: Int
    @Option(help: "Source ports (sockets).") var ports = 1000
    @Option(help: "Datagrams a second; 0 = as fast as one thread sends.") var rate = 0
    @Option(help: "Copies per socket and sendmmsg call.") var burst = 8
    @Option(help: "Stop after this many datagrams (0 = at SIGTERM).") var count = 0
    @Option(help: "The datagram, in hex (default: a ClientHello caught from a client of this library).")
    var hello: String?

    func validate() throws {
        guard (1...65535).contains(port) else { throw ValidationError("--port must be in 1...65535") }
        guard (1...20000).contains(ports) else { throw ValidationError("--ports must be in 1...20000") }
        guard rate >= 0 else { throw ValidationError("--rate must be 0 or more") }
        guard (1...64).contains(burst) else { throw ValidationError("--burst must be in 1...64") }
        guard count >= 0 else { throw ValidationError("--count must be 0 or more") }
        if let hello, FloodDatagram.bytes(hex: hello) == nil { throw ValidationError("--hello must be hex bytes") }
    }

    func run() throws {
        StopSignal.install()
        GameClients.raiseDescriptorLimit()
        var datagram = try hello.map { FloodDatagram.bytes(hex: $0)! } ?? BenchFlood.captureClientHello()
        let sockets = try FloodSockets(count: ports)
        defer { sockets.close() }
        var destination = FloodSockets.loopback(port: port)
        let headers = UnsafeMutablePointer<packetdtls_mmsghdr>.allocate(capacity: burst)
        defer { headers.deallocate() }
        var sent = 0, bytes = 0
        let start = BenchClock.seconds()
        var nextReport = start
        datagram.withUnsafeMutableBytes { payload in
            var vector = iovec(iov_base: payload.baseAddress, iov_len: payload.count)
            withUnsafeMutablePointer(to: &vector) { vector in
                withUnsafeMutablePointer(to: &destination) { target in
                    for index in 0..<burst {
                        headers[index] = packetdtls_mmsghdr()
                        headers[index].msg_hdr.msg_name = UnsafeMutableRawPointer(target)
                        headers[index].msg_hdr.msg_namelen = socklen_t(MemoryLayout<sockaddr_in>.size)
                        headers[index].msg_hdr.msg_iov = vector
                        headers[index].msg_hdr.msg_iovlen = 1
                    }
                    while !StopSignal.isRequested, count == 0 || sent < count {
                        for descriptor in sockets.descriptors {
                            if rate > 0 {
                                // Paced: each burst waits for its due time.
                                let due = start + Double(sent) / Double(rate)
                                let wait = due - BenchClock.seconds()
                                if wait > 0 { GameServerLoop.sleep(min(wait, 0.1)) }
                            }
                            let count = packetdtls_sendmmsg(descriptor, headers, UInt32(burst), Int32(MSG_DONTWAIT))
                            if count > 0 {
                                sent += Int(count)
                                bytes += Int(count) * payload.count
                            }
                        }
                        let now = BenchClock.seconds()
                        if now >= nextReport {
                            Output.line("sent \(sent) \(bytes) \(BenchLine.fixed(now, 6))")
                            nextReport = now + 0.1
                        }
                    }
                }
            }
        }
        Output.line("sent \(sent) \(bytes) \(BenchLine.fixed(BenchClock.seconds(), 6))")
        // What the server still sends arrives within a moment; then every socket is read empty.
        Clock.sleep(ms: 300)
        let answers = sockets.drain()
        let dropped = FloodSockets.kernelDrops(localPorts: Set(sockets.ports))
        Output.line("final \(sent) \(bytes) \(answers.datagrams) \(answers.bytes) \(dropped)")
    }
}

/// Hex text to bytes and back, for handing a datagram to the sender on its command line.
enum FloodDatagram {
    static func bytes(hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard !digits.isEmpty, digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let high = value(digits[index]), let low = value(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(bytes.count * 2)
        for byte in bytes { text += [digits[Int(byte >> 4)], digits[Int(byte & 0xF)]] }
        return String(decoding: text, as: UTF8.self)
    }

    private static func value(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return digit - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

/// The flood's sockets: bound to 127.0.0.1 on free ports.
final class FloodSockets {
    let descriptors: [Int32]
    let ports: [Int]

    init(count: Int) throws(CLIFailure) {
        var descriptors: [Int32] = [], ports: [Int] = []
        for _ in 0..<count {
            let descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            guard descriptor >= 0 else {
                descriptors.forEach { _ = Glibc.close($0) }
                throw .network("flood socket \(descriptors.count + 1): \(String(cString: strerror(errno)))")
            }
            descriptors.append(descriptor)
            var local = Self.loopback(port: 0)
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0
                }
            }
            guard bound else {
                descriptors.forEach { _ = Glibc.close($0) }
                throw .network("flood socket bind: \(String(cString: strerror(errno)))")
            }
            ports.append(Int(UInt16(bigEndian: local.sin_port)))
        }
        self.descriptors = descriptors
        self.ports = ports
    }

    func close() { descriptors.forEach { _ = Glibc.close($0) } }

    static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = in_addr_t(UInt32(0x7f00_0001).bigEndian)
        return address
    }

    /// Reads every socket empty; what was read, in datagrams and bytes.
    func drain() -> (datagrams: Int, bytes: Int) {
        var buffer = [UInt8](repeating: 0, count: 2048)
        var datagrams = 0, bytes = 0
        for descriptor in descriptors {
            while true {
                let got = recv(descriptor, &buffer, buffer.count, Int32(MSG_DONTWAIT))
                guard got >= 0 else { break }
                datagrams += 1
                bytes += got
            }
        }
        return (datagrams, bytes)
    }

    /// The datagrams the kernel dropped at full receive buffers of the UDP sockets bound to 127.0.0.1 on
    /// `localPorts` (/proc/net/udp, its last column), added up.
    static func kernelDrops(localPorts: Set<Int>) -> Int {
        // The kernel writes the table a page at a time; a socket made or closed meanwhile can repeat a
        // line: each socket (inode) counts once.
        var drops: [Int: Int] = [:]
        for line in procNetUDP() where localPorts.contains(line.port) { drops[line.inode] = line.drops }
        return drops.values.reduce(0, +)
    }

    /// The sockets of /proc/net/udp bound to 127.0.0.1: local port, receive queue bytes, inode, drops.
    static func procNetUDP() -> [(port: Int, receiveQueue: Int, inode: Int, drops: Int)] {
        guard let file = fopen("/proc/net/udp", "r") else { return [] }
        defer { fclose(file) }
        var lines: [(port: Int, receiveQueue: Int, inode: Int, drops: Int)] = []
        var buffer = [CChar](repeating: 0, count: 512)
        while fgets(&buffer, Int32(buffer.count), file) != nil {
            let fields = String(cString: buffer).split(whereSeparator: { $0 == " " || $0 == "\n" })
            guard fields.count >= 13, fields[1].hasPrefix("0100007F:"),
                  let port = Int(fields[1].dropFirst(9), radix: 16),
                  let queue = fields[4].split(separator: ":").last.flatMap({ Int($0, radix: 16) }),
                  let inode = Int(fields[9]), let drops = Int(fields[fields.count - 1])
            else { continue }
            lines.append((port, queue, inode, drops))
        }
        return lines
    }
}
