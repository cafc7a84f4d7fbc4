// BenchFlood.swift — `packetdtls-cli bench flood`: real clients connect while a flood of cookie-less
// ClientHellos from many spoofed ports hits the server; three processes, as a real server sees it.
//
// The server is `packetdtls-cli serve` in a process of its own (as serve runs by default: a handshake
// thread per core at the loop's priority; --handshake-threads 0 puts them in its loop, Godot's way);
// the flood is `bench flood-sender` in a third; this process runs the real clients and reads the
// others' figures from /proc (the server's resident memory and CPU time, the kernel's drop counts of
// every socket). Phases: a warm-up (not reported),
// CLIENTS clients unloaded, then the flood starts, runs WARMUP seconds, and the same number connect
// again. Prints one line (see the discussion).

import ArgumentParser
import PacketDTLS
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

struct BenchFlood: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flood",
        abstract: "Real clients connect during a flood of cookie-less ClientHellos; server, clients, flood in 3 processes.",
        discussion: """
            Prints one line:
              flood connected=<unloaded>/<n>,<flooded>/<n> median_ms=<unloaded>,<flooded> ratio=<r> \
            p90_ms=<unloaded>,<flooded> rate=<hellos/s> kernel_drops=<server socket, flooded phase> (<percent>) \
            amplification=<a> rss_kib=<unloaded phase growth>,<flooded phase growth> cpu=<server>,<flood>,<clients>
            - connect times: connect_to_peer to CONNECTED of each client (handshake timer 100 ms doubling to \
            6400 ms), CONCURRENT at a time.
            - rate: hellos the flood sent per second during the flooded phase.
            - kernel_drops: datagrams the kernel dropped at the server's full socket buffer during the flooded \
            phase (/proc/net/udp), and their share of what was sent to it.
            - amplification: the bytes of every answer that reached the flood's sockets (read, or dropped at \
            their full buffers) over the flood bytes the server read (sent less dropped at its socket).
            - rss_kib: growth of the server's resident memory over each phase (start to peak); the flood's \
            cost is the flooded growth less the unloaded one.
            - cpu: each process's CPU time during the flooded phase over its wall-clock time (1.0 = one core).
            """)

    @Option(help: "Real clients in each phase.") var clients = 100
    @Option(help: "Real clients handshaking at once.") var concurrent = 10
    @Option(help: "Source ports of the flood.") var ports = 1000
    @Option(help: "Flood hellos a second; 0 = as fast as one thread sends.") var rate = 0
    @Option(help: "Flood copies per socket and sendmmsg call.") var burst = 8
    @Option(help: "Seconds the flood runs before the clients start.") var warmup: Double = 0.5
    @Option(parsing: .unconditional,
            help: ArgumentHelp(HandshakeThreadsOption.help + " Default: serve's (-1, at the loop's priority).",
                               valueName: "n"))
    var handshakeThreads = -1
    @Option(help: "Give up on a phase after this many seconds.") var timeout: Double = 120
    @Flag(help: "Print the raw counts on stderr.") var verbose = false
    @Flag(help: ArgumentHelp("Exit 1 unless issue 14's targets are met: every client connects in both phases, the "
                             + "flooded median is at most 2x the unloaded one, amplification at most 1.0, the "
                             + "server's memory grows at most 1 MiB in the flooded phase."))
    var check = false

    func validate() throws {
        guard clients > 0, concurrent > 0 else { throw ValidationError("--clients and --concurrent must be positive") }
        guard (1...20000).contains(ports) else { throw ValidationError("--ports must be in 1...20000") }
        guard rate >= 0 else { throw ValidationError("--rate must be 0 or more") }
        guard (1...64).contains(burst) else { throw ValidationError("--burst must be in 1...64") }
        guard warmup >= 0, warmup <= 60 else { throw ValidationError("--warmup must be in 0...60 seconds") }
        guard (-1...DTLSServer.maxHandshakeThreads).contains(handshakeThreads) else {
            throw ValidationError("--handshake-threads must be in -1...\(DTLSServer.maxHandshakeThreads)")
        }
    }

    func run() throws {
        GameClients.raiseDescriptorLimit()
        let probe = UDPServer()
        guard probe.listen(port: 0, bindAddress: "127.0.0.1") == .ok else {
            throw CLIFailure.network("no free port: \(ErrorReport.message)")
        }
        let port = probe.getLocalPort()
        probe.stop()
        let server = try BenchRestartStorm.spawn(["packetdtls-cli", "serve", "--bind", "127.0.0.1", "--port", "\(port)",
                                                  "--quiet", "--handshake-threads", "\(handshakeThreads)"])
        defer { BenchRestartStorm.stop(server) }
        let timeoutMs = Clock.milliseconds(timeout)
        try BenchRestartStorm.waitUntilServing(port: port, timeoutMs: timeoutMs)
        let hello = try Self.captureClientHello()
        let watch = ProcessWatch(pid: server)

        _ = try connectPhase(port: port, timeoutMs: timeoutMs, during: {})
        let quietStart = watch.residentBytes()
        var quietPeak = quietStart
        let ownWatch = ProcessWatch(pid: getpid())
        let quietCPUStart = (server: watch.cpuSeconds(), clients: ownWatch.cpuSeconds(), wall: BenchClock.seconds())
        let quiet = try connectPhase(port: port, timeoutMs: timeoutMs, during: { quietPeak = max(quietPeak, watch.residentBytes()) })
        // What the handshakes take of the machine unloaded (the phase includes its 200 ms pause at the
        // end): the flooded phase has what the flood leaves of it.
        let quietCPU = (server: watch.cpuSeconds() - quietCPUStart.server, clients: ownWatch.cpuSeconds() - quietCPUStart.clients,
                        seconds: BenchClock.seconds() - quietCPUStart.wall)

        let serverDropsBeforeFlood = Self.serverDrops(port: port)
        let spawning = BenchClock.seconds()
        let flood = try ClientProcess(arguments: ["bench", "flood-sender", "--port", "\(port)", "--ports", "\(ports)",
                                                  "--rate", "\(rate)", "--burst", "\(burst)",
                                                  "--hello", FloodDatagram.hex(hello)])
        defer { flood.stop() }
        var floodLog = FloodLog()
        let floodStarted = BenchClock.seconds()
        while floodLog.latest == nil || BenchClock.seconds() - floodStarted < warmup {
            try floodLog.read(flood)
            guard flood.isRunning else { throw CLIFailure.network("the flood process exited early") }
            Clock.sleep(ms: 10)
        }
        // The phase's baselines: taken together, then the flood's first count printed after them.
        let floodWatch = ProcessWatch(pid: flood.pid)
        let startCPU = (watch.cpuSeconds(), floodWatch.cpuSeconds(), ownWatch.cpuSeconds())
        let dropsStart = Self.serverDrops(port: port)
        let loadedStart = watch.residentBytes()
        var loadedPeak = loadedStart
        let started = BenchClock.seconds()
        while floodLog.latest!.seconds < started {
            guard BenchClock.seconds() - started < 10, flood.isRunning else {
                throw CLIFailure.network("the flood process stopped reporting")
            }
            Clock.sleep(ms: 5)
            try floodLog.read(flood)
        }
        let startSent = floodLog.latest!
        if verbose {
            Output.error("flood: spawn took \(BenchLine.fixed(floodStarted - spawning, 3)) s; phase starts at "
                + "\(BenchLine.fixed(started, 3)) (flood count of \(BenchLine.fixed(startSent.seconds, 3)))")
        }
        let loaded = try connectPhase(port: port, timeoutMs: timeoutMs, during: {
            loadedPeak = max(loadedPeak, watch.residentBytes())
            try floodLog.read(flood)
        })
        try floodLog.read(flood)
        let endSent = floodLog.latest!
        let dropsEnd = Self.serverDrops(port: port)
        let elapsed = BenchClock.seconds() - started
        let endCPU = (watch.cpuSeconds(), floodWatch.cpuSeconds(), ownWatch.cpuSeconds())
        kill(flood.pid, SIGTERM)
        let final = try floodLog.waitForFinal(flood, timeoutMs: 10_000)
        let serverDropsAfterFlood = Self.serverDrops(port: port)
        loadedPeak = max(loadedPeak, watch.residentBytes())

        let phaseSent = endSent.datagrams - startSent.datagrams
        let phaseSeconds = max(endSent.seconds - startSent.seconds, 0.001)
        let phaseDrops = dropsEnd - dropsStart
        let read = max(1, final.bytesSent - (serverDropsAfterFlood - serverDropsBeforeFlood) * hello.count)
        let answerSize = final.answersRead > 0 ? final.answerBytes / final.answersRead : 0
        let answered = final.answerBytes + final.answersDropped * answerSize
        let cpu = { (end: Double, start: Double) in BenchLine.fixed((end - start) / elapsed, 2) }
        let quietMedian = Self.percentile(quiet.times, 0.5), loadedMedian = Self.percentile(loaded.times, 0.5)
        if verbose {
            // The spread: a client whose first hello went unanswered connects a retransmission later.
            let spread = { (times: [Double]) in
                [0.1, 0.25, 0.5, 0.75, 0.9].map { BenchLine.fixed(Self.percentile(times, $0), 1) }.joined(separator: " ")
            }
            Output.error("flood: connect ms p10 p25 p50 p75 p90: unloaded \(spread(quiet.times)); flooded \(spread(loaded.times))")
            Output.error("flood: unloaded phase \(BenchLine.fixed(quietCPU.seconds, 3)) s, cpu server "
                + "\(BenchLine.fixed(quietCPU.server / quietCPU.seconds, 2)), "
                + "clients \(BenchLine.fixed(quietCPU.clients / quietCPU.seconds, 2))")
        }
        Output.line("flood connected=\(quiet.times.count)/\(clients),\(loaded.times.count)/\(clients) "
            + "median_ms=\(BenchLine.fixed(quietMedian, 1)),\(BenchLine.fixed(loadedMedian, 1)) "
            + "ratio=\(BenchLine.fixed(loadedMedian / quietMedian, 2)) "
            + "p90_ms=\(BenchLine.fixed(Self.percentile(quiet.times, 0.9), 1)),"
            + "\(BenchLine.fixed(Self.percentile(loaded.times, 0.9), 1)) "
            + "rate=\(Int(Double(phaseSent) / phaseSeconds)) "
            + "kernel_drops=\(phaseDrops) (\(BenchLine.fixed(100 * Double(phaseDrops) / Double(max(1, phaseSent)), 1))%) "
            + "amplification=\(BenchLine.fixed(Double(answered) / Double(read), 3)) "
            + "(answers \(final.answersRead)+\(final.answersDropped) of \(answerSize) B, hellos \(final.sent) of \(hello.count) B, "
            + "\(serverDropsAfterFlood - serverDropsBeforeFlood) dropped) "
            + "rss_kib=\((quietPeak - quietStart) / 1024),\((loadedPeak - loadedStart) / 1024) "
            + "cpu=\(cpu(endCPU.0, startCPU.0)),\(cpu(endCPU.1, startCPU.1)),\(cpu(endCPU.2, startCPU.2))"
            + (loaded.failures.isEmpty ? "" : " failed: \(loaded.failures.prefix(3).joined(separator: "; "))"))
        if check {
            var missed: [String] = []
            if quiet.times.count < clients || loaded.times.count < clients { missed.append("not every client connected") }
            if !(loadedMedian <= 2 * quietMedian) { missed.append("flooded median over 2x the unloaded one") }
            if Double(answered) > Double(read) { missed.append("amplification over 1.0") }
            if loadedPeak - loadedStart > 1 << 20 { missed.append("server memory grew over 1 MiB") }
            if !missed.isEmpty { throw CLIFailure.network("target missed: " + missed.joined(separator: "; ")) }
        }
    }

    /// `clients` clients to 127.0.0.1:`port`, `concurrent` at a time; each one's connect time in ms,
    /// and why the others failed. Connected clients disconnect at the end. `during` runs every round.
    private func connectPhase(port: Int, timeoutMs: UInt64, during: () throws -> Void) throws
        -> (times: [Double], failures: [String]) {
        let options = TLSOptions.clientUnsafe()
        _ = options.setHandshakeTimeout(minMs: 100, maxMs: 6400)
        var active: [(udp: PacketPeerUDP, dtls: PacketPeerDTLS, since: Double)] = []
        var connected: [PacketPeerDTLS] = []
        var times: [Double] = [], failures: [String] = []
        var started = 0
        let start = Clock.nowMs()
        while started < clients || !active.isEmpty {
            guard Clock.nowMs() - start < timeoutMs else {
                failures += active.map { _ in "still handshaking after \(timeout) s" }
                break
            }
            while started < clients, active.count < concurrent {
                let udp = PacketPeerUDP(), dtls = PacketPeerDTLS()
                let since = BenchClock.seconds()
                guard udp.connectToHost("127.0.0.1", port: port) == .ok,
                      dtls.connectToPeer(udp, hostname: "", clientOptions: options) == .ok
                else { throw CLIFailure.network("client \(started): \(ErrorReport.message)") }
                active.append((udp, dtls, since))
                started += 1
            }
            let before = active.count
            pollHandshakes(&active, peer: { $0.dtls }, connected: { client in
                times.append((BenchClock.seconds() - client.since) * 1000)
                connected.append(client.dtls)
            }, failed: { client in
                failures.append("\(client.dtls.getStatus()): \(client.dtls.getErrorMessage())")
            })
            try during()
            if active.count == before { usleep(200) }
        }
        for client in connected { client.disconnectFromPeer() }
        // The server sees the close_notify and lets the sessions go before the next phase.
        Clock.sleep(ms: 200)
        return (times, failures)
    }

    /// The first ClientHello a client sends (no cookie yet), caught by a plain UDP socket.
    static func captureClientHello() throws(CLIFailure) -> [UInt8] {
        let catcher = PacketPeerUDP()
        guard catcher.bind(port: 0, bindAddress: "127.0.0.1") == .ok else {
            throw .network("cannot bind a socket to catch a ClientHello: \(ErrorReport.message)")
        }
        let udp = PacketPeerUDP(), dtls = PacketPeerDTLS()
        guard udp.connectToHost("127.0.0.1", port: catcher.getLocalPort()) == .ok,
              dtls.connectToPeer(udp, hostname: "", clientOptions: TLSOptions.clientUnsafe()) == .ok
        else { throw .network("cannot start a client to catch its ClientHello: \(ErrorReport.message)") }
        let deadline = Clock.nowMs() + 5000
        while Clock.nowMs() < deadline {
            dtls.poll()
            if catcher.getAvailablePacketCount() > 0 { return catcher.getPacket() }
            Clock.sleep(ms: 1)
        }
        throw .network("no ClientHello caught within 5 s")
    }

    /// The datagrams the kernel dropped at the server's socket so far.
    static func serverDrops(port: Int) -> Int {
        FloodSockets.kernelDrops(localPorts: [port])
    }

    static func percentile(_ values: [Double], _ fraction: Double) -> Double {
        guard !values.isEmpty else { return .nan }
        let sorted = values.sorted()
        return sorted[Int((Double(sorted.count - 1) * fraction).rounded())]
    }
}

/// What the flood process has said: its latest count, and its final line.
private struct FloodLog {
    struct Sent { var datagrams: Int; var bytes: Int; var seconds: Double }
    struct Final { var sent: Int; var bytesSent: Int; var answersRead: Int; var answerBytes: Int; var answersDropped: Int }

    var latest: Sent?
    var final: Final?

    mutating func read(_ process: ClientProcess) throws(CLIFailure) {
        for line in try process.lines() {
            let fields = line.split(separator: " ")
            if fields.first == "sent", fields.count == 4, let datagrams = Int(fields[1]), let bytes = Int(fields[2]),
               let seconds = Double(fields[3]) {
                latest = Sent(datagrams: datagrams, bytes: bytes, seconds: seconds)
            } else if fields.first == "final", fields.count == 6 {
                let numbers = fields.dropFirst().compactMap { Int($0) }
                guard numbers.count == 5 else { throw .network("the flood process: \(line)") }
                final = Final(sent: numbers[0], bytesSent: numbers[1], answersRead: numbers[2], answerBytes: numbers[3],
                              answersDropped: numbers[4])
            } else {
                throw .network("the flood process: \(line)")
            }
        }
    }

    mutating func waitForFinal(_ process: ClientProcess, timeoutMs: UInt64) throws(CLIFailure) -> Final {
        let start = Clock.nowMs()
        while Clock.nowMs() - start < timeoutMs {
            try read(process)
            if let final { return final }
            Clock.sleep(ms: 10)
        }
        throw .network("the flood process did not report within \(timeoutMs) ms")
    }
}

/// Another process's resident memory and CPU time, from /proc.
struct ProcessWatch {
    let pid: pid_t

    func residentBytes() -> Int {
        Self.numbers(in: "/proc/\(pid)/statm").dropFirst().first.map { $0 * Int(sysconf(Int32(_SC_PAGESIZE))) } ?? 0
    }

    /// User + system CPU seconds, every thread.
    func cpuSeconds() -> Double {
        // /proc/PID/stat: fields 14 and 15 (utime, stime) in clock ticks, after the ")" that ends the name.
        guard let text = Self.text(of: "/proc/\(pid)/stat"), let close = text.lastIndex(of: ")") else { return 0 }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    private static func numbers(in path: String) -> [Int] {
        (text(of: path) ?? "").split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { Int($0) }
    }

    private static func text(of path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var buffer = [CChar](repeating: 0, count: 1024)
        guard fgets(&buffer, Int32(buffer.count), file) != nil else { return nil }
        return String(cString: buffer)
    }
}
