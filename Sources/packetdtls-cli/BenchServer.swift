// BenchServer.swift — `packetdtls-cli bench server`: a game server's fixed-rate tick loop under a join storm.
//
// This process is the server, written as a Godot game server is: every tick it polls the UDPServer,
// takes new connections through the DTLSServer, polls every peer, reads every client's input and sends
// every connected client one state packet. A second process (`bench server-client`, spawned here) runs
// the playing clients and, once they all play, the join storm; it reports on a pipe when its clients are
// ready and when the last joiner connected. The plain-C baseline (Tests/bench/baseline.c, mode server)
// runs the same loop with plain mbedTLS against the same client process.

import ArgumentParser
import PacketDTLS
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

struct BenchServer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "A game server's tick loop (UDPServer + DTLSServer) with playing clients and a join storm.",
        discussion: """
            A second process runs CLIENTS clients that send a 100-byte input every tick; once all of them \
            play, it starts JOINERS new clients at once. Every tick the server polls, takes connections, \
            polls every peer, reads the inputs and sends each connected client a 200-byte state. The \
            measured window starts when all CLIENTS play and lasts --seconds (longer if the storm is not \
            over). Prints one line:
              server <clients> <joiners> <tick_hz> <tick_p50_ms> <tick_p99_ms> <tick_max_ms> <join_all_s> \
            <server_cpu_ms_per_tick>
            tick_*_ms: the work of one tick (poll to last send, not the sleep until the next), median, 99th \
            percentile and maximum over the window; join_all_s: seconds from the storm's first ClientHello \
            until the last joiner is connected, as the client process sees it (0 without joiners); \
            server_cpu_ms_per_tick: this process's CPU time (user + system, every thread) in the window \
            divided by the ticks in it.
            """)

    @Option(help: "Clients playing throughout.") var clients = 200
    @Option(help: "Clients joining at once after all the others play.") var joiners = 100
    @Option(help: "Ticks per second of the server and of every client's input.") var hz = 20
    @Option(help: "Seconds to measure after all clients play.") var seconds: Double = 5
    @Option(parsing: .unconditional, help: ArgumentHelp(HandshakeThreadsOption.help, valueName: "n"))
    var handshakeThreads = 0
    @Option(help: "UDPServer.max_pending_connections (Godot's default unless given).")
    var maxPending = UDPServer.defaultMaxPendingConnections
    @Flag(help: "Send each state packet at once (Godot's way) instead of batching a tick's sends (UDPServer send batching, one sendmmsg per 512, flushed at the end of the tick).")
    var noSendBatching = false
    @OptionGroup var identity: BenchIdentity

    func validate() throws {
        guard clients >= 0, joiners >= 0, clients + joiners > 0 else {
            throw ValidationError("--clients and --joiners must be 0 or more, and not both 0")
        }
        guard (1...1000).contains(hz) else { throw ValidationError("--hz must be in 1...1000") }
        guard seconds > 0, seconds <= 3600 else { throw ValidationError("--seconds must be in (0, 3600]") }
        guard (-1...DTLSServer.maxHandshakeThreads).contains(handshakeThreads) else {
            throw ValidationError("--handshake-threads must be in -1...\(DTLSServer.maxHandshakeThreads)")
        }
        guard maxPending >= 0 else { throw ValidationError("--max-pending must be 0 or more") }
    }

    func run() throws {
        try GameServerLoop(options: identity.serverOptions(), clients: clients, joiners: joiners, hz: hz,
                           seconds: seconds, handshakeThreads: handshakeThreads, maxPending: maxPending,
                           sendBatching: !noSendBatching).run()
    }
}

struct BenchServerClient: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server-client",
        abstract: "The client side of `bench server` (started by it, or by the baseline's server mode).",
        shouldDisplay: false)

    @Option var port: Int
    @Option var clients: Int
    @Option var joiners: Int
    @Option var hz: Int

    func run() throws {
        try GameClients(port: port, clients: clients, joiners: joiners, hz: hz).run()
    }
}

/// The server side of `bench server`.
struct GameServerLoop {
    let options: TLSOptions
    let clients: Int
    let joiners: Int
    let hz: Int
    let seconds: Double
    let handshakeThreads: Int
    let maxPending: Int
    let sendBatching: Bool

    static let stateSize = 200

    func run() throws(CLIFailure) {
        let udp = UDPServer(), dtls = DTLSServer()
        guard dtls.setup(serverOptions: options) == .ok else { throw .tls("DTLSServer.setup: \(ErrorReport.message)") }
        try HandshakeThreadsOption.apply(handshakeThreads, to: dtls)
        guard udp.listen(port: 0, bindAddress: "127.0.0.1") == .ok, udp.setMaxPendingConnections(maxPending) == .ok
        else { throw .network("UDPServer.listen: \(ErrorReport.message)") }
        guard udp.setSendBatching(sendBatching) == .ok else {
            throw .network("UDPServer.set_send_batching: \(ErrorReport.message)")
        }
        let child = try ClientProcess(arguments: ["bench", "server-client", "--port", "\(udp.getLocalPort())",
                                                  "--clients", "\(clients)", "--joiners", "\(joiners)", "--hz", "\(hz)"])
        defer { child.stop() }

        var handshaking = HandshakingPeers()
        var players: [PacketPeerDTLS] = []
        players.reserveCapacity(clients + joiners)
        let state = [UInt8](repeating: 0x53, count: Self.stateSize)
        let input = UnsafeMutableRawBufferPointer.allocate(byteCount: 2048, alignment: 16)
        defer { input.deallocate() }
        let period = 1.0 / Double(hz)
        let giveUp = BenchClock.seconds() + 300 + seconds
        var window: (start: Double, cpu: Double)?
        var ticks: [Double] = []
        var tickUsage: [TickUsage] = []
        var joinSeconds: Double? = joiners == 0 ? 0 : nil
        var nextTick = BenchClock.seconds()
        while true {
            let started = BenchClock.seconds()
            let usageBefore = TickUsage.now()
            // Godot's loop: the socket, the new connections, every peer, then this tick's states.
            let pollStart = TickUsage.threadCPU()
            _ = udp.poll()
            let admitStart = TickUsage.threadCPU()
            let pollCPU = admitStart - pollStart
            let admitted = handshaking.admit(from: udp, through: dtls)
            let admitCPU = TickUsage.threadCPU() - admitStart
            // A failed client retries, as a game client would; the client process reports failures.
            let advanceStart = TickUsage.threadCPU()
            let playersBefore = players.count
            _ = handshaking.advance { players.append($0) }
            let advanceCPU = TickUsage.threadCPU() - advanceStart
            for peer in players {
                peer.poll()
                // This tick's inputs: what is queued now (one more arriving meanwhile waits for the next tick).
                for _ in 0..<peer.getAvailablePacketCount() { _ = peer.getPacket(into: input) }
                _ = state.withUnsafeBytes { peer.putPacket($0) }
            }
            // With send batching, this tick's states leave now, together (a full buffer or a refusal is
            // counted in the server's stats and reported below).
            _ = udp.flushSends()
            let finished = BenchClock.seconds()
            if window != nil {
                ticks.append(finished - started)
                var usage = TickUsage.now().since(usageBefore, wall: finished - started)
                usage.admitted = admitted
                usage.admitCPU = admitCPU
                usage.pollCPU = pollCPU
                usage.connected = players.count - playersBefore
                usage.advanceCPU = advanceCPU
                tickUsage.append(usage)
            }

            for line in try child.lines() {
                if line == "ready" {
                    window = (finished, Self.cpuSeconds())
                } else if line.hasPrefix("joined "), let value = Double(line.dropFirst(7)) {
                    joinSeconds = value
                } else {
                    throw .network("the client process: \(line)")
                }
            }
            if let window, finished - window.start >= seconds, joinSeconds != nil {
                let cpu = Self.cpuSeconds() - window.cpu
                let sorted = ticks.sorted()
                let ms = { (value: Double) in BenchLine.fixed(value * 1000, 3) }
                let sends = udp.getStats()
                if sends.datagramsSendFailed > 0 || sends.datagramsWaitingToSend > 0 {
                    Output.error("bench server: \(sends.datagramsSendFailed) state datagrams refused by the kernel, "
                        + "\(sends.datagramsWaitingToSend) still queued (send batching)")
                }
                if getenv("BENCH_TICK_DETAIL") != nil { TickUsage.report(tickUsage) }
                Output.line("server \(clients) \(joiners) \(hz) \(ms(sorted[sorted.count / 2])) "
                    + "\(ms(sorted[min(sorted.count - 1, sorted.count * 99 / 100)])) \(ms(sorted.last!)) "
                    + "\(BenchLine.fixed(joinSeconds!, 3)) \(ms(cpu / Double(sorted.count)))")
                return
            }
            if finished > giveUp {
                throw .network("gave up: \(players.count) of \(clients + joiners) clients connected"
                    + (window == nil ? ", the clients never all played" : ", the join storm did not finish"))
            }
            if !child.isRunning { throw .network("the client process exited early") }
            nextTick += period
            let now = BenchClock.seconds()
            if nextTick > now { Self.sleep(nextTick - now) } else { nextTick = now }
        }
    }

    /// User + system CPU seconds of this process, every thread.
    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF_VALUE, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    static func sleep(_ seconds: Double) {
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - seconds.rounded(.down)) * 1e9))
        nanosleep(&request, nil)
    }
}

/// This program with ARGUMENTS, its stdout on a pipe this process reads line by line, without waiting.
final class ClientProcess {
    let pid: pid_t
    private let output: Int32
    private var pending: [UInt8] = []
    private var exited = false

    init(arguments: [String]) throws(CLIFailure) {
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else { throw .network("pipe: \(String(cString: strerror(errno)))") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, ends[1], 1)
        posix_spawn_file_actions_addclose(&actions, ends[0])
        posix_spawn_file_actions_addclose(&actions, ends[1])
        var argv: [UnsafeMutablePointer<CChar>?] = (["packetdtls-cli"] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        // The path /proc/self/exe names, not the link itself: under valgrind the link is valgrind's tool,
        // while readlink tells this program (so the server alone can be profiled, docs/PERFORMANCE.md).
        var path = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let pathLength = readlink("/proc/self/exe", &path, path.count - 1)
        let program = pathLength > 0 ? String(cString: path) : "/proc/self/exe"
        let status = posix_spawn(&pid, program, &actions, nil, &argv, environ)
        close(ends[1])
        guard status == 0 else {
            close(ends[0])
            throw .network("cannot start the client process: \(String(cString: strerror(status)))")
        }
        self.pid = pid
        output = ends[0]
        _ = fcntl(output, F_SETFL, fcntl(output, F_GETFL) | O_NONBLOCK)
    }

    /// The complete lines written since the last call.
    func lines() throws(CLIFailure) -> [String] {
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let got = read(output, &chunk, chunk.count)
            if got > 0 { pending += chunk[..<got] } else { break }
        }
        var lines: [String] = []
        while let newline = pending.firstIndex(of: 0x0A) {
            lines.append(String(decoding: pending[..<newline], as: UTF8.self))
            pending.removeSubrange(...newline)
        }
        return lines
    }

    var isRunning: Bool {
        if exited { return false }
        var status: Int32 = 0
        exited = waitpid(pid, &status, WNOHANG) == pid
        return !exited
    }

    func stop() {
        close(output)
        guard !exited else { return }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        exited = true
    }
}

#if canImport(Glibc)
private let RUSAGE_SELF_VALUE = __rusage_who_t(RUSAGE_SELF.rawValue)
#else
private let RUSAGE_SELF_VALUE = RUSAGE_SELF
#endif

/// What the tick thread did in one tick besides taking wall time (BENCH_TICK_DETAIL=1 prints a summary to
/// stderr): its own CPU time, and how often it was switched out: involuntarily (preempted by another
/// thread or process) or voluntarily (it waited, e.g. for a lock a handshake worker held).
struct TickUsage {
    var wall = 0.0
    var cpu = 0.0
    var voluntary = 0
    var involuntary = 0
    /// Connections taken (UDPServer.take_connection + DTLSServer.take_connection) in the tick, and the
    /// thread's CPU time for taking them.
    var admitted = 0
    var admitCPU = 0.0
    /// Handshakes that ended CONNECTED in the tick's polls of the handshaking peers, and the thread's CPU
    /// time for those polls (all handshaking peers, the hand-back from the workers included).
    var connected = 0
    var advanceCPU = 0.0
    /// The thread's CPU time in UDPServer.poll() (reading and routing every datagram, the front door's
    /// answers to cookie-less ClientHellos).
    var pollCPU = 0.0

    static func threadCPU() -> Double {
        var clock = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &clock)
        return Double(clock.tv_sec) + Double(clock.tv_nsec) / 1e9
    }

    static func now() -> TickUsage {
        var usage = rusage()
        getrusage(RUSAGE_THREAD_VALUE, &usage)
        var clock = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &clock)
        return TickUsage(wall: 0, cpu: Double(clock.tv_sec) + Double(clock.tv_nsec) / 1e9,
                         voluntary: usage.ru_nvcsw, involuntary: usage.ru_nivcsw)
    }

    func since(_ start: TickUsage, wall: Double) -> TickUsage {
        TickUsage(wall: wall, cpu: cpu - start.cpu, voluntary: voluntary - start.voluntary,
                  involuntary: involuntary - start.involuntary)
    }

    /// Percentiles of the thread's CPU per tick, of the wall time it lost (wall - CPU), and the switches
    /// in the slowest 1% of ticks.
    static func report(_ ticks: [TickUsage]) {
        guard !ticks.isEmpty else { return }
        let ms = { (value: Double) in BenchLine.fixed(value * 1000, 3) }
        func percentiles(_ values: [Double]) -> String {
            let sorted = values.sorted()
            return "p50 \(ms(sorted[sorted.count / 2])) p99 \(ms(sorted[min(sorted.count - 1, sorted.count * 99 / 100)])) "
                + "max \(ms(sorted.last!))"
        }
        let slowest = ticks.sorted { $0.wall > $1.wall }.prefix(max(1, ticks.count / 100))
        // The storm's ticks are few: the costliest five by the thread's CPU, with their place in the window.
        let costliest = ticks.indices.sorted { ticks[$0].cpu > ticks[$1].cpu }.prefix(5)
        Output.error("tick detail: thread cpu ms \(percentiles(ticks.map(\.cpu))); lost (wall - cpu) ms "
            + "\(percentiles(ticks.map { $0.wall - $0.cpu })); ticks preempted \(ticks.filter { $0.involuntary > 0 }.count), "
            + "waited \(ticks.filter { $0.voluntary > 0 }.count) of \(ticks.count); slowest 1%: "
            + "\(slowest.map { "wall \(ms($0.wall)) cpu \(ms($0.cpu)) inv \($0.involuntary) vol \($0.voluntary)" }.joined(separator: ", "))"
            + "; costliest ticks (cpu ms @ tick): \(costliest.map { "\(ms(ticks[$0].cpu))@\($0)" }.joined(separator: " "))"
            + "; \(admissions(ticks)); UDPServer.poll cpu ms \(percentiles(ticks.map(\.pollCPU))), costliest "
            + "\(ticks.indices.sorted { ticks[$0].pollCPU > ticks[$1].pollCPU }.prefix(3).map { "\(ms(ticks[$0].pollCPU))@\($0)" }.joined(separator: " "))")
    }
}

/// The ticks that took connections: how many, the thread's CPU for the taking alone and for the whole tick.
private func admissions(_ ticks: [TickUsage]) -> String {
    let joining = ticks.filter { $0.admitted > 0 }
    guard !joining.isEmpty else { return "no connections taken in the window" }
    let taken = joining.reduce(0) { $0 + $1.admitted }
    let admitCPU = joining.reduce(0.0) { $0 + $1.admitCPU }
    let ms = { (value: Double) in BenchLine.fixed(value * 1000, 3) }
    return "\(taken) connections taken in \(joining.count) ticks (at most \(joining.map(\.admitted).max()!) a tick): "
        + "taking them cost \(BenchLine.fixed(admitCPU * 1e6 / Double(taken), 1)) us of thread cpu each, "
        + "at most \(ms(joining.map(\.admitCPU).max()!)) ms a tick; those ticks' cpu max \(ms(joining.map(\.cpu).max()!)) ms; "
        + handBacks(ticks)
}

/// The ticks whose polls of handshaking peers found handshakes done.
private func handBacks(_ ticks: [TickUsage]) -> String {
    let completing = ticks.filter { $0.connected > 0 }
    guard !completing.isEmpty else { return "no handshake completed in the window" }
    let done = completing.reduce(0) { $0 + $1.connected }
    let ms = { (value: Double) in BenchLine.fixed(value * 1000, 3) }
    return "\(done) handshakes completed in \(completing.count) ticks (at most \(completing.map(\.connected).max()!) a tick): "
        + "polling the handshaking peers cost at most \(ms(completing.map(\.advanceCPU).max()!)) ms a tick, "
        + "\(BenchLine.fixed(completing.reduce(0.0) { $0 + $1.advanceCPU } * 1e6 / Double(done), 1)) us a completed handshake; "
        + "those ticks' cpu max \(ms(completing.map(\.cpu).max()!)) ms"
}

#if canImport(Glibc)
private let RUSAGE_THREAD_VALUE = __rusage_who_t(1)  // RUSAGE_THREAD, declared only under _GNU_SOURCE
#else
private let RUSAGE_THREAD_VALUE: Int32 = 1
#endif
