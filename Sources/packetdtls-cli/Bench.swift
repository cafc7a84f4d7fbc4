// Bench.swift — `packetdtls-cli bench`: the workloads scripts/bench compares with plain mbedTLS.
//
// Every workload prints one line, `<mode> <count> <seconds> <per_second> <ciphersuite>` (sessions:
// `... <KiB per session> KiB <poll ms> ms` in place of the suite), the same line the plain-C
// baseline in Tests/bench/baseline.c prints, so a script can divide one by the other.

import ArgumentParser
import PacketDTLS

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure PacketDTLS on loopback: handshakes, echo round trips, plain UDP, many sessions.",
        discussion: """
            Each workload prints one line on stdout:
              <mode> <count> <seconds> <per_second> <ciphersuite>
            - mode: the workload (handshake, handshake-resumed, echo, udp or sessions).
            - count: how many were done (--count): handshakes, round trips or sessions.
            - seconds: their wall-clock time, on the monotonic clock.
            - per_second: count / seconds.
            - ciphersuite: the suite the sessions agreed on (plain_udp for udp); `bench sessions` \
            prints memory and poll time in its place (see `bench sessions --help`).
            The library's default configuration is used throughout. scripts/bench runs these against \
            the plain-mbedTLS baseline (Tests/bench/baseline.c) and prints the ratios. While a handshake \
            or sessions bench runs, a progress line is drawn on stderr when stderr is a terminal.
            """,
        subcommands: [BenchHandshake.self, BenchEcho.self, BenchUDP.self, BenchSessions.self,
                      BenchSessionsClient.self, BenchRestartStorm.self, BenchFleet.self, BenchServer.self,
                      BenchServerClient.self, BenchFlood.self, BenchFloodSender.self]
    )
}

/// The server identity of a workload: files (the baseline's own, for a like-for-like run) or made now.
struct BenchIdentity: ParsableArguments {
    @Option(help: "Key type of the certificate made for the run: ec (P-256) or rsa (2048 bits).")
    var key: String = "ec"

    @Option(help: ArgumentHelp("Use this certificate instead of making one (with --key-file).", valueName: "file"))
    var certFile: String?

    @Option(help: ArgumentHelp("The private key of --cert-file.", valueName: "file"))
    var keyFile: String?

    func validate() throws {
        guard key == "ec" || key == "rsa" else { throw ValidationError("--key must be ec or rsa") }
        guard (certFile == nil) == (keyFile == nil) else {
            throw ValidationError("--cert-file and --key-file go together")
        }
    }

    func serverOptions() throws(CLIFailure) -> TLSOptions {
        let identity: Identity
        if let certFile, let keyFile {
            identity = try Identity.load(keyPath: keyFile, certificatePath: certFile)
        } else {
            identity = try Identity.selfSigned(commonName: "localhost", subjectAltNames: ["DNS:localhost"], days: 1,
                                               rsaBits: key == "rsa" ? 2048 : nil)
        }
        return TLSOptions.server(key: identity.key, certificate: identity.certificate)
    }
}

struct BenchHandshake: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "handshake",
        abstract: "N full handshakes (cookie exchange on), client and server in one thread over loopback UDP.")

    @Option(help: "Handshakes to make.") var count = 100
    @Flag(help: ArgumentHelp("Resume a saved session (session ticket) each time instead of full handshakes; "
                             + "prints mode 'handshake-resumed'.")) var resume = false
    @OptionGroup var identity: BenchIdentity

    func validate() throws { guard count > 0 else { throw ValidationError("--count must be positive") } }

    func run() throws {
        let pair = try BenchPair(serverOptions: identity.serverOptions())
        // One full handshake outside the clock gives the ticket every resumed one offers.
        let saved = resume ? try savedSession(pair) : nil
        let started = BenchClock.seconds()
        var suite = ""
        var progress = Progress("bench handshake", total: count)
        for done in 0..<count {
            let ends = try pair.handshake(resuming: saved)
            if resume, !ends.client.isSessionResumed() {
                throw CLIFailure.tls("the server did not resume the saved session")
            }
            suite = ends.suite
            progress.update(done + 1)
        }
        progress.finish()
        BenchLine.print(resume ? "handshake-resumed" : "handshake", count, BenchClock.seconds() - started, suite)
    }

    private func savedSession(_ pair: BenchPair) throws -> ResumableSession {
        guard let saved = try pair.handshake().client.getSession() else {
            throw CLIFailure.tls("no session to resume: \(ErrorReport.message)")
        }
        return saved
    }
}

struct BenchEcho: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "echo", abstract: "N round trips of SIZE bytes over one DTLS session.")

    /// Where the server end of the session reads and sends.
    enum ServerSocket: String, ExpressibleByArgument, CaseIterable {
        /// Its own PacketPeerUDP connected to the client: two connected sockets, as in the baseline.
        case connected
        /// A UDPServer shared by all clients (unconnected: the kernel looks the route up per send).
        case udpserver
    }

    @Option(help: "Round trips.") var count = 10000
    @Option(help: "Bytes per packet.") var size = 1024
    @Option(help: "The server end's socket: connected (its own, like the baseline) or udpserver (shared).")
    var server: ServerSocket = .connected
    @OptionGroup var identity: BenchIdentity

    func validate() throws {
        guard count > 0 else { throw ValidationError("--count must be positive") }
        guard (1...16384).contains(size) else { throw ValidationError("--size must be in 1...16384") }
    }

    func run() throws {
        let pair = try BenchPair(serverOptions: identity.serverOptions())
        let (seconds, suite) = server == .connected ? try pair.connectedEcho(count: count, size: size)
                                                    : try pair.echo(count: count, size: size)
        BenchLine.print("echo", count, seconds, suite)
    }
}

struct BenchUDP: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "udp", abstract: "N round trips of SIZE bytes over plain UDP (PacketPeerUDP): the loopback limit.")

    /// How the server end's socket sends.
    enum ServerSocket: String, ExpressibleByArgument, CaseIterable {
        /// Connected to the client: two connected sockets, as in the baseline (`send`).
        case connected
        /// Bound, sending to a destination set with set_dest_address (`sendto`: the kernel looks the
        /// route up on every send).
        case unconnected
    }

    @Option(help: "Round trips.") var count = 10000
    @Option(help: "Bytes per packet.") var size = 1024
    @Option(help: "The server end's socket: connected (like the baseline) or unconnected (set_dest_address).")
    var server: ServerSocket = .connected

    func validate() throws {
        guard count > 0 else { throw ValidationError("--count must be positive") }
        guard (0...65507).contains(size) else { throw ValidationError("--size must be in 0...65507") }
    }

    func run() throws {
        BenchLine.print("udp", count, try BenchPair.udpEcho(count: count, size: size, connected: server == .connected),
                        "plain_udp")
    }
}

struct BenchSessions: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sessions",
        abstract: "N sessions to one UDPServer + DTLSServer socket, awake and hibernated; clients in other processes.",
        discussion: """
            Prints one line of hibernated and one of awake figures (resident KiB per session on the server and \
            the client side, the time to poll every idle peer once, the echo round trip through sleeping and \
            through awake sessions, p50 and p99), then last, as scripts/bench reads it:
              sessions <count> <seconds> <per_second> <kib> KiB <poll_ms> ms
            - count: sessions established (--count).
            - seconds: wall-clock time from starting the clients to the last session established.
            - per_second: count / seconds, the handshakes this one server thread completed per second.
            - kib: memory per awake session, the server process's resident-set growth (VmRSS) from just \
            before the first client, divided by count.
            - poll_ms: one idle pass over the awake sessions in milliseconds, UDPServer.poll() and then \
            PacketPeerDTLS.poll() on every session (the median of 21 passes, 50 ms apart).
            The clients make one full handshake and resume its session for the rest, bound to 127.0.0.x (a new \
            x every 20,000), at most 15,000 per process. Both ends hibernate from the start; then the sessions \
            are woken and kept awake.
            """)

    @Option(help: "Sessions to establish.") var count = 1000
    @Option(help: "Client handshakes in flight at once per client process.") var concurrent = 256
    @Option(help: "Echo round trips timed per client process and phase.") var pings = 1000
    @Option(help: "Quiet milliseconds before a session hibernates, on both ends, in the first phase.")
    var hibernateAfterMs: UInt32 = 50
    @Option(help: "Give up after this many seconds.") var timeout: Double = 900
    @OptionGroup var identity: BenchIdentity

    func validate() throws {
        guard count > 0 else { throw ValidationError("--count must be positive") }
        guard concurrent > 0 else { throw ValidationError("--concurrent must be positive") }
        guard pings > 0 else { throw ValidationError("--pings must be positive") }
    }

    func run() throws {
        try BenchSessionsServer(options: identity.serverOptions(), count: count, concurrent: concurrent, pings: pings,
                                hibernateAfterMs: hibernateAfterMs, timeoutMs: Clock.milliseconds(timeout)).run()
    }
}

struct BenchSessionsClient: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sessions-client",
        abstract: "The client side of `bench sessions` (started by it): N DTLS clients, then commands on stdin.",
        shouldDisplay: false)

    @Option var port: Int
    @Option var count: Int
    @Option var first = 0
    @Option var concurrent: Int
    @Option var pings = 1000
    @Option var hibernateAfterMs: UInt32 = 50

    func run() throws {
        try BenchSessionsClients.run(port: port, count: count, first: first, concurrent: concurrent, pings: pings,
                                     hibernateAfterMs: hibernateAfterMs)
    }
}
