// BenchServerClients.swift — the client process of `bench server` (and of the baseline's server mode).
//
// Connects CLIENTS DTLS clients (at most 16 handshakes at once, UDPServer's default pending limit),
// says "ready" on stdout when all of them play, and from then on sends every client's 100-byte input
// each tick. Half a second later it starts JOINERS clients at once and says "joined <seconds>" when
// the last of them is connected; joiners then play too. Any failure is one line on stdout, then exit.
//
// The clients stand in for remote machines, but here they share the server's cores. With
// BENCH_CLIENT_SCHED=nice (nice 19) or =idle (SCHED_IDLE) in the environment this process runs below
// the server, so that what the server's ticks measure is the server, not the clients' handshakes
// preempting it (docs/PERFORMANCE.md reports both).

import PacketDTLS
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

struct GameClients {
    let port: Int
    let clients: Int
    let joiners: Int
    let hz: Int

    static let inputSize = 100
    /// Handshakes in flight while the players connect (not measured).
    static let connectWindow = 16

    private typealias Client = (udp: PacketPeerUDP, dtls: PacketPeerDTLS)

    func run() throws(CLIFailure) {
        Self.raiseDescriptorLimit()
        try Self.lowerPriority()
        let options = TLSOptions.clientUnsafe()
        var players: [Client] = []
        var connecting: [Client] = []
        players.reserveCapacity(clients + joiners)
        let input = [UInt8](repeating: 0x49, count: Self.inputSize)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 2048, alignment: 16)
        defer { buffer.deallocate() }
        let period = 1.0 / Double(hz)
        var started = 0
        var ready = false
        var stormAt = 0.0, stormStarted = 0.0
        var joined = joiners == 0
        var nextTick = BenchClock.seconds()
        while true {
            let now = BenchClock.seconds()
            if !ready {
                while started < clients, connecting.count < Self.connectWindow {
                    connecting.append(try Self.connect(port: port, options: options))
                    started += 1
                }
            } else if started < clients + joiners, now >= stormAt {
                stormStarted = now
                while started < clients + joiners {
                    connecting.append(try Self.connect(port: port, options: options))
                    started += 1
                }
            }
            pollHandshakes(&connecting, peer: { $0.dtls }, connected: { players.append($0) }, failed: { client in
                Self.fail("a client's handshake failed: \(client.dtls.getErrorMessage())")
            })
            if !ready, players.count == clients {
                ready = true
                stormAt = BenchClock.seconds() + 0.5
                Output.line("ready")
            }
            if ready, !joined, started == clients + joiners, connecting.isEmpty {
                joined = true
                Output.line("joined \(BenchLine.fixed(BenchClock.seconds() - stormStarted, 3))")
            }
            if now >= nextTick {
                for player in players {
                    player.dtls.poll()
                    guard player.dtls.getStatus() == .connected else {
                        Self.fail("a playing client lost its session: \(player.dtls.getErrorMessage())")
                    }
                    while player.dtls.getAvailablePacketCount() > 0 { _ = player.dtls.getPacket(into: buffer) }
                    _ = input.withUnsafeBytes { player.dtls.putPacket($0) }
                }
                nextTick += period
                if nextTick < now { nextTick = now + period }
            }
            // Handshakes under way are stepped every millisecond; otherwise wait for the next tick (or the storm).
            let stormPending = ready && started < clients + joiners
            let wakeAt = !connecting.isEmpty ? now + 0.001 : stormPending ? min(nextTick, stormAt) : nextTick
            let wait = wakeAt - BenchClock.seconds()
            if wait > 0 { GameServerLoop.sleep(min(wait, 0.05)) }
        }
    }

    private static func connect(port: Int, options: TLSOptions) throws(CLIFailure) -> Client {
        let udp = PacketPeerUDP(), dtls = PacketPeerDTLS()
        guard udp.connectToHost("127.0.0.1", port: port) == .ok,
              dtls.connectToPeer(udp, hostname: "", clientOptions: options) == .ok
        else { throw .network("client: \(ErrorReport.message)") }
        return (udp, dtls)
    }

    private static func fail(_ message: String) -> Never {
        Output.line("failed: \(message)")
        exit(1)
    }

    /// BENCH_CLIENT_SCHED: "nice" runs this process at nice 19, "idle" under SCHED_IDLE; unset or empty
    /// leaves it at the server's priority.
    static func lowerPriority() throws(CLIFailure) {
        guard let value = getenv("BENCH_CLIENT_SCHED").map({ String(cString: $0) }), !value.isEmpty else { return }
        switch value {
        case "nice":
            guard setpriority(PRIORITY_PROCESS_WHICH, 0, 19) == 0 else {
                throw .network("BENCH_CLIENT_SCHED=nice: setpriority: \(String(cString: strerror(errno)))")
            }
        case "idle":
            var parameters = sched_param()
            parameters.sched_priority = 0
            // SCHED_IDLE (5) is declared only under _GNU_SOURCE; the number is the kernel's ABI.
            guard sched_setscheduler(0, 5, &parameters) == 0 else {
                throw .network("BENCH_CLIENT_SCHED=idle: sched_setscheduler: \(String(cString: strerror(errno)))")
            }
        default:
            throw .network("BENCH_CLIENT_SCHED must be nice, idle or empty, not \(value)")
        }
    }

    /// Raises this process's open-file limit to its hard limit (many sockets).
    static func raiseDescriptorLimit() {
        var limit = rlimit()
        if getrlimit(RLIMIT_NOFILE_RESOURCE, &limit) == 0, limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max
            _ = setrlimit(RLIMIT_NOFILE_RESOURCE, &limit)
        }
    }
}

#if canImport(Glibc)
private let RLIMIT_NOFILE_RESOURCE = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
private let PRIORITY_PROCESS_WHICH = __priority_which_t(PRIO_PROCESS.rawValue)
#else
private let RLIMIT_NOFILE_RESOURCE = RLIMIT_NOFILE
private let PRIORITY_PROCESS_WHICH = PRIO_PROCESS
#endif
