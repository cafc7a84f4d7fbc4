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

    /// `count` round trips of `size` bytes between two PacketPeerUDP; returns the seconds taken.
    static func udpEcho(count: Int, size: Int) throws(CLIFailure) -> Double {
        let server = PacketPeerUDP(), client = PacketPeerUDP()
        guard server.bind(port: 0, bindAddress: "127.0.0.1") == .ok,
              client.connectToHost("127.0.0.1", port: server.getLocalPort()) == .ok,
              server.setDestAddress("127.0.0.1", port: client.getLocalPort()) == .ok
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

/// `bench sessions`: this process is the server; a second process runs the clients.
struct BenchSessionsServer {
    let options: TLSOptions
    let count: Int
    let concurrent: Int
    let timeoutMs: UInt64

    func run() throws(CLIFailure) {
        let udp = UDPServer(), dtls = DTLSServer()
        // Setting up 10,000 sessions takes longer than the default idle timeout (300 s), and the first
        // sessions stay idle throughout: keep the check running, but past the end of the run.
        options.setIdleTimeout(ms: UInt32(clamping: timeoutMs + 60_000))
        guard dtls.setup(serverOptions: options) == .ok else { throw .tls("DTLSServer.setup: \(ErrorReport.message)") }
        guard udp.listen(port: 0, bindAddress: "127.0.0.1") == .ok,
              udp.setMaxPendingConnections(max(UDPServer.defaultMaxPendingConnections, concurrent)) == .ok
        else { throw .network("UDPServer.listen: \(ErrorReport.message)") }
        var handshaking: [PacketPeerDTLS] = []
        var established: [PacketPeerDTLS] = []
        handshaking.reserveCapacity(concurrent)
        established.reserveCapacity(count)
        let rssBefore = BenchLine.residentKiB()
        let child = try Self.spawnClients(port: udp.getLocalPort(), count: count, concurrent: concurrent)
        defer {
            kill(child, SIGKILL)
            var status: Int32 = 0
            waitpid(child, &status, 0)
        }
        let started = BenchClock.seconds()
        let deadline = Clock.nowMs() + timeoutMs
        var failures = 0
        var progress = Progress("bench sessions: established", total: count)
        defer { progress.finish() }
        while established.count < count {
            progress.update(established.count)
            _ = udp.poll()
            while let taken = udp.takeConnection() {
                if let peer = dtls.takeConnection(taken), peer.getStatus() == .handshaking { handshaking.append(peer) }
            }
            var index = 0
            while index < handshaking.count {
                let peer = handshaking[index]
                peer.poll()
                switch peer.getStatus() {
                case .handshaking:
                    index += 1
                    continue
                case .connected:
                    established.append(peer)
                default:
                    failures += 1
                }
                handshaking.swapAt(index, handshaking.count - 1)
                handshaking.removeLast()
            }
            for peer in established { peer.poll() }
            if Clock.nowMs() > deadline {
                throw .network("\(established.count) of \(count) sessions after \(timeoutMs / 1000) s "
                    + "(\(failures) handshakes failed)")
            }
            var status: Int32 = 0
            if waitpid(child, &status, WNOHANG) == child { throw .network("the client process exited early") }
        }
        let seconds = BenchClock.seconds() - started
        let rssAfter = BenchLine.residentKiB()
        var passes: [Double] = []
        // BENCH_PROFILE_POLL=seconds: keep polling that long first, for a profiler attached now.
        if let text = getenv("BENCH_PROFILE_POLL"), let extra = Double(String(cString: text)) {
            Output.error("bench sessions: established; polling for \(extra) s")
            let until = BenchClock.seconds() + extra
            while BenchClock.seconds() < until {
                _ = udp.poll()
                for peer in established { peer.poll() }
            }
        }
        // 21 passes, 50 ms apart, so that one busy spell of a shared machine does not set the median.
        for _ in 0..<21 {
            Clock.sleep(ms: 50)
            let start = BenchClock.seconds()
            _ = udp.poll()
            for peer in established { peer.poll() }
            passes.append(BenchClock.seconds() - start)
        }
        let connected = established.filter { $0.getStatus() == .connected }.count
        guard connected == count else { throw .network("\(count - connected) sessions ended while idle") }
        let perSession = Double(rssAfter - rssBefore) / Double(count)
        let pollMs = passes.sorted()[passes.count / 2] * 1000
        Output.error("bench sessions: poll passes min \(BenchLine.fixed(passes.min()! * 1000, 3)) ms, "
            + "max \(BenchLine.fixed(passes.max()! * 1000, 3)) ms")
        BenchLine.print("sessions", count, seconds,
                        "\(BenchLine.fixed(perSession, 1)) KiB \(BenchLine.fixed(pollMs, 3)) ms")
    }

    /// Starts `/proc/self/exe bench sessions-client ...` and returns its pid.
    static func spawnClients(port: Int, count: Int, concurrent: Int) throws(CLIFailure) -> pid_t {
        let arguments = ["packetdtls-cli", "bench", "sessions-client", "--port", "\(port)", "--count", "\(count)",
                         "--concurrent", "\(concurrent)"]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, "/proc/self/exe", nil, nil, &argv, environ)
        guard status == 0 else {
            throw .network("cannot start the client process: \(String(cString: strerror(status)))")
        }
        return pid
    }

    /// The client process: `count` clients, at most `concurrent` handshaking at once, then idle until killed.
    static func runClients(port: Int, count: Int, concurrent: Int) throws(CLIFailure) {
        var limit = rlimit()
        if getrlimit(RLIMIT_NOFILE_VALUE, &limit) == 0, limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max
            _ = setrlimit(RLIMIT_NOFILE_VALUE, &limit)
        }
        let options = TLSOptions.clientUnsafe()
        var inFlight: [(udp: PacketPeerUDP, dtls: PacketPeerDTLS)] = []
        var done: [(udp: PacketPeerUDP, dtls: PacketPeerDTLS)] = []
        done.reserveCapacity(count)
        var started = 0
        while done.count < count {
            while started < count, inFlight.count < concurrent {
                let udp = PacketPeerUDP(), dtls = PacketPeerDTLS()
                guard udp.connectToHost("127.0.0.1", port: port) == .ok,
                      dtls.connectToPeer(udp, hostname: "", clientOptions: options) == .ok
                else { throw .network("client \(started): \(ErrorReport.message)") }
                inFlight.append((udp, dtls))
                started += 1
            }
            var index = 0
            while index < inFlight.count {
                let client = inFlight[index]
                client.dtls.poll()
                switch client.dtls.getStatus() {
                case .handshaking:
                    index += 1
                    continue
                case .connected:
                    done.append(client)
                default:
                    throw .tls("a client's handshake failed: \(client.dtls.getErrorMessage())")
                }
                inFlight.swapAt(index, inFlight.count - 1)
                inFlight.removeLast()
            }
        }
        while true { pause() }
    }
}

#if canImport(Glibc)
private let RLIMIT_NOFILE_VALUE = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
#else
private let RLIMIT_NOFILE_VALUE = RLIMIT_NOFILE
#endif
