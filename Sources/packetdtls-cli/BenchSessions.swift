// BenchSessions.swift — `bench sessions`: many sessions on one UDPServer socket, awake and hibernated.
//
// This process is the server; client processes (`bench sessions-client`, at most `clientsPerProcess`
// sockets each, for the file-descriptor limit) make the sessions: one full handshake, then resumption
// of its session for the rest; each client binds to 127.0.0.x, a new x every `clientsPerAddress`
// sockets, so one address never runs out of ports. Each client sends one packet once connected (the
// server echoes it), so neither end still keeps the handshake's last flight.
//
// Phases, told to the clients over their stdin and answered on their stdout, one line each:
//   hibernated: both ends hibernate after --hibernate-after-ms from the start, as a server would run:
//               memory once all sleep, idle poll, and the echo through sessions asleep on both ends.
//   awake:      the same sessions woken and kept awake (hibernation 0): memory, idle poll, echo.
// Memory is the resident-set growth over the sessions, per session; the hibernated figure is also
// given after malloc_trim(0), which hands back the heap pages that freed contexts left empty.

@_spi(Diagnostics) import PacketDTLS
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

struct BenchSessionsServer {
    let options: TLSOptions
    let count: Int
    let concurrent: Int
    let pings: Int
    let hibernateAfterMs: UInt32
    let timeoutMs: UInt64

    static let clientsPerProcess = 15_000
    static let clientsPerAddress = 20_000

    func run() throws(CLIFailure) {
        let udp = UDPServer(), dtls = DTLSServer()
        let processes = (count + Self.clientsPerProcess - 1) / Self.clientsPerProcess
        // Setting up many sessions takes longer than the default idle timeout (120 s), and the first
        // sessions stay idle throughout: keep the check running, but past the end of the run.
        _ = options.setIdleTimeout(ms: UInt32(clamping: timeoutMs + 60_000))
        guard dtls.setup(serverOptions: options) == .ok else { throw .tls("DTLSServer.setup: \(ErrorReport.message)") }
        guard udp.listen(port: 0, bindAddress: "127.0.0.1") == .ok,
              udp.setMaxPendingConnections(max(UDPServer.defaultMaxPendingConnections, concurrent * processes)) == .ok
        else { throw .network("UDPServer.listen: \(ErrorReport.message)") }
        var server = SessionsServerLoop(udp: udp, dtls: dtls, deadline: Clock.nowMs() + timeoutMs)
        server.established.reserveCapacity(count)
        dtls.setHibernateAfterMs(hibernateAfterMs)
        let rssBefore = BenchLine.residentKiB()
        mallocStatsIfAsked()
        var children: [BenchChild] = []
        defer { for child in children { child.stop() } }
        var first = 0
        while first < count {
            let slice = min(Self.clientsPerProcess, count - first)
            children.append(try BenchChild.spawn(["bench", "sessions-client", "--port", "\(udp.getLocalPort())",
                                                  "--count", "\(slice)", "--first", "\(first)",
                                                  "--concurrent", "\(concurrent)", "--pings", "\(pings)",
                                                  "--hibernate-after-ms", "\(hibernateAfterMs)"]))
            first += slice
        }
        let started = BenchClock.seconds()
        // Each child says "ready <KiB before> <KiB after> <KiB after malloc_trim>" once its clients are
        // connected and asleep.
        let ready = try server.serve(until: children, expecting: "ready")
        let seconds = BenchClock.seconds() - started
        guard server.established.count == count else {
            throw .network("\(server.established.count) of \(count) sessions established")
        }
        try server.pollUntilHibernated()
        let hibernatedKiB = Double(BenchLine.residentKiB() - rssBefore) / Double(count)
        BenchSessionsServer.mallocTrim()
        let trimmedKiB = Double(BenchLine.residentKiB() - rssBefore) / Double(count)
        mallocStatsIfAsked()
        let hibernatedClientKiB = Self.perSession(ready, count)
        let trimmedClientKiB = Self.perSession(ready.map { Array($0.prefix(2)) + Array($0.dropFirst(3)) }, count)
        let (hibernatedPoll, hibernatedPollMin) = server.medianPollMs()
        // Every pinged session sleeps on both ends: the round trip includes both wakes.
        server.packetPolls.removeAll()
        for child in children { child.send("ping") }
        let wakeLatency = Self.latencies(try server.serve(until: children, expecting: "latency"))
        let wakePolls = Self.percentiles(server.packetPolls)
        let wakePollsP90 = Self.percentile(server.packetPolls, 90)

        // The same sessions kept awake: 0 turns hibernation off and wakes them.
        for peer in server.established { peer.setHibernateAfterMs(0) }
        for child in children { child.send("wake") }
        let woken = try server.serve(until: children, expecting: "awake")
        let awakeKiB = Double(BenchLine.residentKiB() - rssBefore) / Double(count)
        let awakeClientKiB = Self.perSession(woken, count)
        let (awakePoll, awakePollMin) = server.medianPollMs()
        server.packetPolls.removeAll()
        for child in children { child.send("ping") }
        let awakeLatency = Self.latencies(try server.serve(until: children, expecting: "latency"))
        let awakePolls = Self.percentiles(server.packetPolls)
        let awakePollsP90 = Self.percentile(server.packetPolls, 90)
        let connected = server.established.filter { $0.getStatus() == .connected }.count
        guard connected == count else { throw .network("\(count - connected) sessions ended") }

        let kib = { (value: Double) in BenchLine.fixed(value, 2) }
        let ms = { (value: Double) in BenchLine.fixed(value, 3) }
        Output.line("hibernated: server \(kib(hibernatedKiB)) KiB/session (\(kib(trimmedKiB)) after malloc_trim), "
            + "client \(kib(hibernatedClientKiB)) KiB/session (\(kib(trimmedClientKiB)) after malloc_trim), poll all \(ms(hibernatedPoll)) ms (fastest pass \(ms(hibernatedPollMin))), "
            + "echo through sleeping sessions p50 \(ms(wakeLatency.p50)) ms p99 \(ms(wakeLatency.p99)) ms")
        Output.line("awake: server \(kib(awakeKiB)) KiB/session, client \(kib(awakeClientKiB)) KiB/session, "
            + "poll all \(ms(awakePoll)) ms (fastest pass \(ms(awakePollMin))), echo p50 \(ms(awakeLatency.p50)) ms p99 \(ms(awakeLatency.p99)) ms; "
            + "waking adds \(ms(wakeLatency.p99 - awakeLatency.p99)) ms at p99")
        Output.line("server poll() of a peer bringing a packet in: asleep p50 \(ms(wakePolls.p50)) ms p99 "
            + "\(ms(wakePolls.p99)) ms, awake p50 \(ms(awakePolls.p50)) ms p99 \(ms(awakePolls.p99)) ms; "
            + "the wake adds \(ms(wakePolls.p99 - awakePolls.p99)) ms at p99 (p90: asleep \(ms(wakePollsP90)) ms, "
            + "awake \(ms(awakePollsP90)) ms)")
        // For scripts/bench (SESSIONS_BIG): the hibernated figures in the same layout, then the client's
        // and what the wake adds to the server's poll() of a peer bringing a packet in, at p99.
        BenchLine.print("sessions-hibernated", count, seconds, "\(kib(hibernatedKiB)) KiB \(ms(hibernatedPoll)) ms "
            + "\(kib(hibernatedClientKiB)) KiB-client \(ms(wakePolls.p99 - awakePolls.p99)) ms-wake-p99 "
            + "\(ms(hibernatedPollMin)) ms-poll-fastest")
        // Last, in the format scripts/bench reads (the awake figures, beside plain mbedTLS's).
        BenchLine.print("sessions", count, seconds, "\(kib(awakeKiB)) KiB \(ms(awakePoll)) ms")
    }

    /// glibc's malloc_stats() on stderr when BENCH_MALLOC_STATS is set: the heap in use beside the
    /// resident set, to tell live bytes from fragmentation.
    private func mallocStatsIfAsked() {
        guard getenv("BENCH_MALLOC_STATS") != nil,
              let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_stats") else { return }
        typealias Stats = @convention(c) () -> Void
        unsafeBitCast(symbol, to: Stats.self)()
    }

    /// Per session, from children's lines "<word> <KiB before> <KiB after>".
    private static func perSession(_ lines: [[String]], _ count: Int) -> Double {
        let grown = lines.reduce(0) { total, words in
            total + (words.count >= 3 ? (Int(words[2]) ?? 0) - (Int(words[1]) ?? 0) : 0)
        }
        return Double(grown) / Double(count)
    }

    /// Percentiles over every child's "latency <ms> <ms> ..." line.
    private static func latencies(_ lines: [[String]]) -> (p50: Double, p99: Double) {
        let all = lines.flatMap { $0.dropFirst().compactMap { Double($0) } }
        let (p50, p99) = percentiles(all)
        return (p50 / 1000, p99 / 1000)
    }

    /// The `percent`th percentile of `samples`, times 1000 (seconds in, milliseconds out).
    private static func percentile(_ samples: [Double], _ percent: Int) -> Double {
        let sorted = samples.sorted()
        guard !sorted.isEmpty else { return 0 }
        return sorted[min(sorted.count - 1, sorted.count * percent / 100)] * 1000
    }

    /// p50 and p99 of `samples`, times 1000 (seconds in, milliseconds out).
    private static func percentiles(_ samples: [Double]) -> (p50: Double, p99: Double) {
        let sorted = samples.sorted()
        guard !sorted.isEmpty else { return (0, 0) }
        return (sorted[sorted.count / 2] * 1000, sorted[min(sorted.count - 1, sorted.count * 99 / 100)] * 1000)
    }

    /// glibc's malloc_trim(0), looked up (not in Swift's Glibc module).
    static func mallocTrim() {
        typealias Trim = @convention(c) (Int) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return }
        _ = unsafeBitCast(symbol, to: Trim.self)(0)
    }
}

/// The server's side of the run: accepts, polls, echoes every packet.
struct SessionsServerLoop {
    let udp: UDPServer
    let dtls: DTLSServer
    let deadline: UInt64
    var handshaking = HandshakingPeers()
    var established: [PacketPeerDTLS] = []
    var failures = 0
    /// Seconds that one peer's poll() took when it brought a packet in (the wake, when the session
    /// slept, and the decryption): the server's own cost, free of the two processes' scheduling.
    var packetPolls: [Double] = []
    private var buffer = [UInt8](repeating: 0, count: 2048)

    init(udp: UDPServer, dtls: DTLSServer, deadline: UInt64) {
        self.udp = udp
        self.dtls = dtls
        self.deadline = deadline
    }

    /// One pass: new connections, handshakes, and every established peer polled and echoed.
    mutating func step() {
        _ = udp.poll()
        handshaking.admit(from: udp, through: dtls)
        failures += handshaking.advance { established.append($0) }
        for peer in established {
            let start = BenchClock.seconds()
            peer.poll()
            let took = BenchClock.seconds() - start
            if peer.getAvailablePacketCount() > 0 { packetPolls.append(took) }
            while peer.getAvailablePacketCount() > 0 {
                let (error, length) = buffer.withUnsafeMutableBytes { peer.getPacket(into: $0) }
                guard error == .ok else { break }
                _ = buffer.withUnsafeBytes { peer.putPacket(UnsafeRawBufferPointer(rebasing: $0[0..<length])) }
            }
        }
    }

    /// Steps until every child printed a line starting with `word`; returns those lines' words.
    mutating func serve(until children: [BenchChild], expecting word: String) throws(CLIFailure) -> [[String]] {
        var lines: [[String]?] = Array(repeating: nil, count: children.count)
        while lines.contains(where: { $0 == nil }) {
            step()
            for (index, child) in children.enumerated() where lines[index] == nil {
                if let line = try child.readLine() {
                    let words = line.split(separator: " ").map(String.init)
                    guard words.first == word else { throw .network("client process: \(line)") }
                    lines[index] = words
                }
            }
            if Clock.nowMs() > deadline {
                throw .network("timed out waiting for '\(word)' (\(established.count) sessions, \(failures) failed)")
            }
        }
        return lines.map { $0! }
    }

    mutating func pollUntilHibernated() throws(CLIFailure) {
        var report = Clock.nowMs() + 10_000
        while established.contains(where: { !$0.isHibernated() }) {
            Clock.sleep(ms: 5)
            step()
            if Clock.nowMs() > deadline { throw .network("sessions did not hibernate in time") }
            if Clock.nowMs() > report {
                let awake = established.filter { !$0.isHibernated() }
                let statuses = Dictionary(grouping: awake, by: { "\($0.getStatus())" }).mapValues(\.count)
                Output.error("bench sessions: \(awake.count) sessions still awake: \(statuses); "
                    + "first: \(awake.first.map { "\($0.getStats())" } ?? "")")
                Self.printRefusals(awake)
                report = Clock.nowMs() + 10_000
            }
        }
    }

    /// A histogram of why `peers` refused to hibernate (their last refusal), most frequent first.
    static func printRefusals(_ peers: [PacketPeerDTLS]) {
        // Parts in braces vary from peer to peer (times, counts): grouped without them, one example shown.
        func key(_ reason: String) -> String {
            var depth = 0
            return String(reason.filter { character in
                if character == "{" { depth += 1 } else if character == "}" { depth -= 1; return false }
                return depth == 0
            })
        }
        let grouped = Dictionary(grouping: peers.map { $0.hibernationRefusal() ?? "no refusal recorded" }, by: key)
        let reasons = grouped.mapValues(\.count)
        for (reason, count) in reasons.sorted(by: { $0.value > $1.value }).prefix(12) {
            Output.error("bench sessions:   \(count) x \(reason)")
            if let example = grouped[reason]?.first, example != reason { Output.error("bench sessions:     e.g. \(example)") }
        }
        if reasons.count > 12 { Output.error("bench sessions:   ... \(reasons.count - 12) more reasons") }
    }

    /// The median of 21 passes (50 ms apart, so one busy spell of a shared machine does not set it)
    /// of UDPServer.poll() and PacketPeerDTLS.poll() on every peer, all idle; and the fastest pass
    /// (on a loaded machine, the one least cut into by other processes).
    func medianPollMs() -> (median: Double, fastest: Double) {
        var passes: [Double] = []
        for _ in 0..<21 {
            Clock.sleep(ms: 50)
            let start = BenchClock.seconds()
            _ = udp.poll()
            for peer in established { peer.poll() }
            passes.append(BenchClock.seconds() - start)
        }
        let sorted = passes.sorted()
        return (sorted[sorted.count / 2] * 1000, sorted[0] * 1000)
    }
}

/// A client process: commands on its stdin, one answer line each on its stdout.
final class BenchChild {
    let pid: pid_t
    private let commands: Int32
    private let answers: Int32
    private var pending: [UInt8] = []

    private init(pid: pid_t, commands: Int32, answers: Int32) {
        self.pid = pid
        self.commands = commands
        self.answers = answers
    }

    /// Starts `/proc/self/exe arguments...` with pipes on its stdin and stdout.
    static func spawn(_ arguments: [String]) throws(CLIFailure) -> BenchChild {
        var toChild: [Int32] = [0, 0], fromChild: [Int32] = [0, 0]
        guard pipe(&toChild) == 0, pipe(&fromChild) == 0 else { throw .network("pipe: \(String(cString: strerror(errno)))") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, toChild[0], 0)
        posix_spawn_file_actions_adddup2(&actions, fromChild[1], 1)
        for descriptor in toChild + fromChild { posix_spawn_file_actions_addclose(&actions, descriptor) }
        let argv0 = ["packetdtls-cli"] + arguments
        var argv: [UnsafeMutablePointer<CChar>?] = argv0.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, "/proc/self/exe", &actions, nil, &argv, environ)
        close(toChild[0])
        close(fromChild[1])
        guard status == 0 else {
            throw .network("cannot start a client process: \(String(cString: strerror(status)))")
        }
        _ = fcntl(fromChild[0], F_SETFL, fcntl(fromChild[0], F_GETFL) | O_NONBLOCK)
        return BenchChild(pid: pid, commands: toChild[1], answers: fromChild[0])
    }

    func send(_ command: String) {
        let bytes = Array((command + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(commands, $0.baseAddress, $0.count) }
    }

    /// A whole line when one has arrived, nil otherwise; fails when the child has gone.
    func readLine() throws(CLIFailure) -> String? {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let got = chunk.withUnsafeMutableBytes { read(answers, $0.baseAddress, $0.count) }
        if got > 0 { pending += chunk[0..<got] }
        if got == 0, !pending.contains(0x0A) { throw .network("a client process exited early") }
        guard let end = pending.firstIndex(of: 0x0A) else { return nil }
        let line = String(decoding: pending[0..<end], as: UTF8.self)
        pending.removeSubrange(0...end)
        return line
    }

    func stop() {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        close(commands)
        close(answers)
    }
}

/// The client process of `bench sessions`.
enum BenchSessionsClients {
    static func run(port: Int, count: Int, first: Int, concurrent: Int, pings: Int,
                    hibernateAfterMs: UInt32) throws(CLIFailure) {
        raiseDescriptorLimit()
        let options = TLSOptions.clientUnsafe()
        _ = options.setIdleTimeout(ms: 0)
        let before = BenchLine.residentKiB()
        var inFlight: [PacketPeerDTLS] = []
        var connected: [PacketPeerDTLS] = []
        var echoed = 0
        var nextSweep = 0.0
        connected.reserveCapacity(count)
        var saved: ResumableSession?
        var started = 0
        var payload = [UInt8](repeating: 0x2A, count: 32)
        while echoed < count {
            // The first client makes a full handshake; the others resume its session.
            while started < count, inFlight.count < (saved == nil ? 1 : concurrent) {
                let udp = PacketPeerUDP(), dtls = PacketPeerDTLS()
                dtls.setHibernateAfterMs(hibernateAfterMs)
                let address = "127.0.0.\(1 + (first + started) / BenchSessionsServer.clientsPerAddress)"
                dtls.setSession(saved)
                guard udp.bind(port: 0, bindAddress: address, recvBufferSize: 4096) == .ok,
                      udp.connectToHost("127.0.0.1", port: port) == .ok,
                      dtls.connectToPeer(udp, hostname: "", clientOptions: options) == .ok
                else { throw .network("client \(first + started): \(ErrorReport.message)") }
                inFlight.append(dtls)
                started += 1
            }
            var index = 0
            while index < inFlight.count {
                let client = inFlight[index]
                client.poll()
                switch client.getStatus() {
                case .handshaking:
                    index += 1
                    continue
                case .connected:
                    if saved == nil { saved = client.getSession() }
                    _ = client.putPacket(payload)
                    connected.append(client)
                default:
                    throw .tls("a client's handshake failed: \(client.getErrorMessage())")
                }
                inFlight.swapAt(index, inFlight.count - 1)
                inFlight.removeLast()
            }
            for client in connected[echoed...] where client.getAvailablePacketCount() > 0 || pollHasPacket(client) {
                _ = client.getPacket()
            }
            while echoed < connected.count, connected[echoed].getStats().packetsReceived > 0 { echoed += 1 }
            // The clients done so far are polled now and then, so that they hibernate as a program
            // polling all its peers would let them, rather than all at the end.
            if BenchClock.seconds() >= nextSweep {
                for client in connected[..<echoed] { client.poll() }
                nextSweep = BenchClock.seconds() + 0.02
            }
        }
        while connected.contains(where: { !$0.isHibernated() }) {
            Clock.sleep(ms: 5)
            for client in connected { client.poll() }
        }
        let asleep = BenchLine.residentKiB()
        BenchSessionsServer.mallocTrim()
        Output.line("ready \(before) \(asleep) \(BenchLine.residentKiB())")
        var pinged = 0
        while let command = readLine() {
            switch command {
            case "ping":
                var samples: [String] = []
                for _ in 0..<min(pings, count) {
                    let client = connected[pinged % count]
                    pinged += 1
                    payload[0] = UInt8(truncatingIfNeeded: pinged)
                    let start = BenchClock.seconds()
                    guard client.putPacket(payload) == .ok else { throw .tls("ping: \(ErrorReport.message)") }
                    let giveUp = start + 5
                    while !pollHasPacket(client), BenchClock.seconds() < giveUp {}
                    guard client.getPacket() == payload else { throw .tls("ping: no echo within 5 s") }
                    samples.append(BenchLine.fixed((BenchClock.seconds() - start) * 1000, 4))
                }
                Output.line("latency " + samples.joined(separator: " "))
            case "wake":
                for client in connected { client.setHibernateAfterMs(0) }
                Output.line("awake \(before) \(BenchLine.residentKiB())")
            default:
                Output.line("unknown command \(command)")
            }
        }
    }

    private static func pollHasPacket(_ client: PacketPeerDTLS) -> Bool {
        client.poll()
        return client.getAvailablePacketCount() > 0
    }

    private static func raiseDescriptorLimit() {
        var limit = rlimit()
        if getrlimit(RLIMIT_NOFILE_VALUE, &limit) == 0, limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max
            _ = setrlimit(RLIMIT_NOFILE_VALUE, &limit)
        }
    }
}

#if canImport(Glibc)
private let RLIMIT_NOFILE_VALUE = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
#else
private let RLIMIT_NOFILE_VALUE = RLIMIT_NOFILE
#endif
