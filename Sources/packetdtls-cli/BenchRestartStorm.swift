// BenchRestartStorm.swift — `packetdtls-cli bench restart-storm`: N clients connected, the server
// process restarted with its key file, every client back with its saved session.
//
// The server is `packetdtls-cli serve --keys FILE` in a process of its own; this process runs the
// clients. Phase one times N full handshakes (the cookie exchange included) and keeps each
// client's session; then the server is stopped (SIGTERM) and started again on the same port with
// the same key file and certificate; once it answers, phase two times N new clients offering the
// saved sessions. Prints `restart-full N S RATE SUITE`, then `restart-resumed N S RATE resumed=K`.

import ArgumentParser
import PacketDTLS
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

struct BenchRestartStorm: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restart-storm",
        abstract: "N clients connect, the server process restarts with its key file, all N resume.")

    @Option(help: "Clients.") var count = 1000
    @Option(help: "Client handshakes in flight at once.") var concurrent = 100
    @Option(help: "Give up after this many seconds per phase.") var timeout: Double = 600

    func validate() throws {
        guard count > 0, concurrent > 0 else { throw ValidationError("--count and --concurrent must be positive") }
        // Sources 127.0.0.2 to 127.0.0.254.
        let most = Self.clientsPerAddress * 253
        guard count <= most else { throw ValidationError("--count must be at most \(most)") }
    }

    func run() throws {
        var template = Array("/tmp/packetdtls-storm-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw CLIFailure.network("cannot make a temporary folder") }
        let folder = String(cString: made)
        let files = (keys: folder + "/server.keys", cert: folder + "/cert.pem", key: folder + "/key.pem")
        defer {
            for path in [files.keys, files.cert, files.key] { unlink(path) }
            rmdir(folder)
        }
        let identity = try Identity.selfSigned(commonName: "localhost", subjectAltNames: ["DNS:localhost"], days: 1)
        guard DTLSServer().saveKeys(path: files.keys) == .ok, identity.key.save(path: files.key) == .ok,
              identity.certificate.save(path: files.cert) == .ok else {
            throw CLIFailure.tls("cannot write the run's files: \(ErrorReport.message)")
        }
        let probe = UDPServer()
        guard probe.listen(port: 0, bindAddress: "127.0.0.1") == .ok else {
            throw CLIFailure.network("no free port: \(ErrorReport.message)")
        }
        let port = probe.getLocalPort()
        probe.stop()
        let arguments = ["packetdtls-cli", "serve", "--bind", "127.0.0.1", "--port", "\(port)", "--quiet",
                         "--keys", files.keys, "--cert", files.cert, "--key", files.key,
                         "--max-pending", "\(max(concurrent, 16))"]
        let timeoutMs = Clock.milliseconds(timeout)

        var server = try Self.spawn(arguments)
        defer { Self.stop(server) }
        try Self.waitUntilServing(port: port, timeoutMs: timeoutMs)
        let full = try Self.connect(count: count, concurrent: concurrent, port: port, sessions: nil, timeoutMs: timeoutMs)

        Self.stop(server)
        server = try Self.spawn(arguments)
        try Self.waitUntilServing(port: port, timeoutMs: timeoutMs)
        let resumed = try Self.connect(count: count, concurrent: concurrent, port: port, sessions: full.sessions,
                                       timeoutMs: timeoutMs)
        BenchLine.print("restart-full", count, full.seconds, full.suite)
        BenchLine.print("restart-resumed", count, resumed.seconds, "resumed=\(resumed.resumedCount)")
    }

    /// Clients per source address: below HandshakeBudget.defaultMaxPerAddress (128 handshakes at once
    /// from one address), which 1,000 clients from 127.0.0.1 alone ran into (a stalled second of
    /// retransmission in every phase with 100 in flight).
    static let clientsPerAddress = 50

    struct Phase {
        var seconds: Double
        var sessions: [ResumableSession]
        var resumedCount: Int
        var suite: String
    }

    /// `count` clients to 127.0.0.1:`port`, at most `concurrent` handshaking at once; client i offers
    /// sessions[i] when given. Times the first start to the last CONNECTED.
    static func connect(count: Int, concurrent: Int, port: Int, sessions: [ResumableSession]?,
                                timeoutMs: UInt64) throws(CLIFailure) -> Phase {
        let options = TLSOptions.clientUnsafe()
        var inFlight: [(index: Int, udp: PacketPeerUDP, dtls: PacketPeerDTLS)] = []
        var saved = [ResumableSession?](repeating: nil, count: count)
        var connected: [PacketPeerDTLS] = []
        connected.reserveCapacity(count)
        var resumedCount = 0
        var suite = ""
        var started = 0
        let start = Clock.nowMs()
        while connected.count < count {
            guard Clock.nowMs() - start < timeoutMs else {
                throw .network("restart-storm: \(connected.count) of \(count) clients connected before the time-out")
            }
            while started < count, inFlight.count < concurrent {
                let udp = PacketPeerUDP(), dtls = PacketPeerDTLS()
                if let sessions { dtls.setSession(sessions[started]) }
                // Players come from many addresses: a new 127.0.0.x every clientsPerAddress clients keeps
                // the bench under the server's handshakes-per-address limit, as real players are.
                let address = "127.0.0.\(2 + started / Self.clientsPerAddress)"
                guard udp.bind(port: 0, bindAddress: address) == .ok,
                      udp.connectToHost("127.0.0.1", port: port) == .ok,
                      dtls.connectToPeer(udp, hostname: "", clientOptions: options) == .ok
                else { throw .network("client \(started): \(ErrorReport.message)") }
                inFlight.append((started, udp, dtls))
                started += 1
            }
            try pollHandshakes(&inFlight, peer: { $0.dtls }, connected: { client in
                connected.append(client.dtls)
                saved[client.index] = client.dtls.getSession()
                if client.dtls.isSessionResumed() { resumedCount += 1 }
                if suite.isEmpty { suite = client.dtls.getCipherSuite() }
            }, failed: { client throws(CLIFailure) in
                throw .tls("a client's handshake failed: \(client.dtls.getErrorMessage())")
            })
        }
        let seconds = Double(Clock.nowMs() - start) / 1000
        return Phase(seconds: seconds, sessions: saved.compactMap { $0 }, resumedCount: resumedCount, suite: suite)
    }

    /// Returns once one client completes a handshake with the server on `port`.
    static func waitUntilServing(port: Int, timeoutMs: UInt64) throws(CLIFailure) {
        let start = Clock.nowMs()
        while Clock.nowMs() - start < timeoutMs {
            if let _ = try? connect(count: 1, concurrent: 1, port: port, sessions: nil, timeoutMs: 3000) { return }
            Clock.sleep(ms: 20)
        }
        throw .network("the server did not answer on port \(port)")
    }

    /// Starts `/proc/self/exe arguments...` with its stdout and stderr to `logPath` (/dev/null by default).
    static func spawn(_ arguments: [String], logPath: String = "/dev/null") throws(CLIFailure) -> pid_t {
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        // The server's log would mix with the figures: it goes to /dev/null.
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var pid: pid_t = 0
        let status = posix_spawn(&pid, "/proc/self/exe", &actions, nil, &argv, environ)
        guard status == 0 else { throw .network("cannot start the server: \(String(cString: strerror(status)))") }
        return pid
    }

    static func stop(_ pid: pid_t) {
        guard kill(pid, SIGTERM) == 0 else { return }
        var status: Int32 = 0
        _ = waitpid(pid, &status, 0)
    }
}
