// BenchWorkloads.swift — the loops behind `packetdtls-cli bench`, written as a Godot program would.
//
// One thread steps both ends: a UDPServer + DTLSServer on one socket (take_connection, keep the
// HANDSHAKING peers, poll them) and a PacketPeerDTLS client over a connected PacketPeerUDP; for the
// echo by default both ends sit on connected PacketPeerUDPs, as in the plain-C baseline.

import PacketDTLS
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

enum BenchClock {
    static func seconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}

enum BenchLine {
    /// `<mode> <count> <seconds> <per_second> <tail>`, the baseline's line.
    static func print(_ mode: String, _ count: Int, _ seconds: Double, _ tail: String) {
        let rate = seconds > 0 ? Double(count) / seconds : 0
        Output.line("\(mode) \(count) \(fixed(seconds, 4)) \(fixed(rate, 1)) \(tail)")
    }

    static func fixed(_ value: Double, _ digits: Int) -> String {
        var buffer = [CChar](repeating: 0, count: 64)
        _ = withVaList([value]) { vsnprintf(&buffer, buffer.count, "%.\(digits)f", $0) }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// This process's resident set in KiB (VmRSS in /proc/self/status).
    static func residentKiB() -> Int {
        guard let file = fopen("/proc/self/status", "r") else { return 0 }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if text.hasPrefix("VmRSS:") {
                return Int(text.dropFirst(6).filter { $0.isNumber }) ?? 0
            }
        }
        return 0
    }
}

/// A loopback server and the means to connect clients to it, all stepped by the caller's thread.
final class BenchPair {
    let udpServer = UDPServer()
    let dtlsServer = DTLSServer()
    let port: Int
    let clientOptions = TLSOptions.clientUnsafe()

    init(serverOptions: TLSOptions) throws(CLIFailure) {
        guard dtlsServer.setup(serverOptions: serverOptions) == .ok else {
            throw .tls("DTLSServer.setup failed: \(ErrorReport.message)")
        }
        guard udpServer.listen(port: 0, bindAddress: "127.0.0.1") == .ok else {
            throw .network("UDPServer.listen failed: \(ErrorReport.message)")
        }
        port = udpServer.getLocalPort()
    }

    /// One handshake (with cookie exchange) of a new client; both ends, connected. With `resuming`,
    /// the client offers that saved session, for an abbreviated handshake.
    func handshake(resuming saved: ResumableSession? = nil)
        throws(CLIFailure) -> (client: PacketPeerDTLS, server: PacketPeerDTLS, suite: String) {
        let udp = PacketPeerUDP()
        guard udp.connectToHost("127.0.0.1", port: port) == .ok else {
            throw .network("connect_to_host failed: \(ErrorReport.message)")
        }
        let client = PacketPeerDTLS()
        client.setSession(saved)
        guard client.connectToPeer(udp, hostname: "", clientOptions: clientOptions) == .ok else {
            throw .tls("connect_to_peer failed: \(ErrorReport.message)")
        }
        let server = try Self.completeHandshake(client) { current in
            var server = current
            _ = udpServer.poll()
            while let taken = udpServer.takeConnection() {
                if let peer = dtlsServer.takeConnection(taken), peer.getStatus() == .handshaking { server = peer }
            }
            return server
        }
        return (client, server, client.getCipherSuite())
    }

    /// Steps `client` and the server end until both are connected; `step` is given the current server
    /// end (nil at first) and returns the one to go on with (a new client's first ClientHello only
    /// earns a cookie, so the second makes the real one).
    static func completeHandshake(_ client: PacketPeerDTLS, _ step: (PacketPeerDTLS?) -> PacketPeerDTLS?)
        throws(CLIFailure) -> PacketPeerDTLS {
        var server: PacketPeerDTLS?
        let deadline = BenchClock.seconds() + 30
        while client.getStatus() != .connected || server?.getStatus() != .connected {
            client.poll()
            server = step(server)
            server?.poll()
            for end in [client, server].compactMap({ $0 }) where end.getStatus() == .error {
                throw .tls("handshake failed: \(end.getErrorMessage())")
            }
            if BenchClock.seconds() > deadline { throw .network("the handshake did not finish within 30 s") }
        }
        return server!
    }

    /// `count` round trips of `size` bytes, client to server and back; returns the seconds taken.
    static func echo(client: PacketPeerDTLS, server: PacketPeerDTLS, count: Int, size: Int,
                     udpServer: UDPServer? = nil) throws(CLIFailure) -> Double {
        let payload = [UInt8](repeating: 0x78, count: size)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 16384, alignment: 16)
        defer { buffer.deallocate() }
        let started = BenchClock.seconds()
        for _ in 0..<count {
            guard payload.withUnsafeBytes({ client.putPacket($0) }) == .ok else {
                throw .network("client put_packet failed: \(ErrorReport.message)")
            }
            // Godot's loop: poll, then see what came.
            repeat {
                _ = udpServer?.poll()
                guard server.poll() == .ok else { throw .network("server poll: \(server.getErrorMessage())") }
            } while server.getAvailablePacketCount() == 0
            let got = server.getPacket(into: buffer)
            guard got.error == .ok, server.putPacket(UnsafeRawBufferPointer(rebasing: buffer[..<got.length])) == .ok
            else { throw .network("server echo failed: \(ErrorReport.message)") }
            repeat {
                guard client.poll() == .ok else { throw .network("client poll: \(client.getErrorMessage())") }
            } while client.getAvailablePacketCount() == 0
            guard client.getPacket(into: buffer) == (.ok, size) else {
                throw .network("client get_packet failed: \(ErrorReport.message)")
            }
        }
        return BenchClock.seconds() - started
    }

    /// `count` round trips of `size` bytes between two PacketPeerUDP; returns the seconds taken. The
    /// client is connected to the server; the server end is `connected` to the client too (two connected
    /// sockets, as in the baseline) or sends through set_dest_address.
    static func udpEcho(count: Int, size: Int, connected: Bool) throws(CLIFailure) -> Double {
        let server = PacketPeerUDP(), client = PacketPeerUDP()
        guard server.bind(port: 0, bindAddress: "127.0.0.1") == .ok,
              client.connectToHost("127.0.0.1", port: server.getLocalPort()) == .ok,
              connected ? server.connectToHost("127.0.0.1", port: client.getLocalPort()) == .ok
                        : server.setDestAddress("127.0.0.1", port: client.getLocalPort()) == .ok
        else { throw .network("UDP setup failed: \(ErrorReport.message)") }
        let payload = [UInt8](repeating: 0x78, count: size)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(size, 1), alignment: 16)
        defer { buffer.deallocate() }
        var length = 0
        let started = BenchClock.seconds()
        for _ in 0..<count {
            while payload.withUnsafeBytes({ client.putPacket($0) }) != .ok {}
            while server.getPacket(into: buffer, length: &length) != .ok {}
            while server.putPacket(UnsafeRawBufferPointer(rebasing: buffer[..<length])) != .ok {}
            while client.getPacket(into: buffer, length: &length) != .ok {}
        }
        return BenchClock.seconds() - started
    }
}

extension BenchPair {
    /// Echo over a session of this pair: the server's datagrams go through its UDPServer.
    func echo(count: Int, size: Int) throws(CLIFailure) -> (seconds: Double, suite: String) {
        let (client, server, suite) = try handshake()
        return (try Self.echo(client: client, server: server, count: count, size: size, udpServer: udpServer), suite)
    }

    /// Echo with the server end on its own PacketPeerUDP connected to the client (what Godot 4 documents
    /// for DTLSServer.take_connection: "a udp_peer which must be already connected"): two connected
    /// sockets, as in the plain-C baseline and the reference workload.
    func connectedEcho(count: Int, size: Int) throws(CLIFailure) -> (seconds: Double, suite: String) {
        let serverUDP = PacketPeerUDP(), clientUDP = PacketPeerUDP()
        guard serverUDP.bind(port: 0, bindAddress: "127.0.0.1") == .ok,
              clientUDP.bind(port: 0, bindAddress: "127.0.0.1") == .ok,
              clientUDP.connectToHost("127.0.0.1", port: serverUDP.getLocalPort()) == .ok,
              serverUDP.connectToHost("127.0.0.1", port: clientUDP.getLocalPort()) == .ok
        else { throw .network("UDP setup failed: \(ErrorReport.message)") }
        let client = PacketPeerDTLS()
        guard client.connectToPeer(clientUDP, hostname: "", clientOptions: clientOptions) == .ok else {
            throw .tls("connect_to_peer failed: \(ErrorReport.message)")
        }
        let server = try Self.completeHandshake(client) { current in
            // A ClientHello waits while no handshake is under way: a new server end takes it.
            guard current?.getStatus() != .handshaking, serverUDP.getAvailablePacketCount() > 0 else { return current }
            return dtlsServer.takeConnection(serverUDP)
        }
        return (try Self.echo(client: client, server: server, count: count, size: size), client.getCipherSuite())
    }
}
