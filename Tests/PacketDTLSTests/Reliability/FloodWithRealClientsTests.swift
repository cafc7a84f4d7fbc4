// FloodWithRealClientsTests.swift — real clients connect while a thread floods the server with
// cookie-less ClientHellos from many source ports as fast as it can: every client connects, the
// flood leaves no memory behind and gets back fewer bytes than it sends.
//
//   PACKETDTLS_REL_FLOOD_CLIENTS  real clients in each phase (default 20; the figure uses 100)
//   PACKETDTLS_REL_FLOOD_PORTS    source ports of the flood (default 200; the figure uses 1000)
//   PACKETDTLS_REL_FLOOD_BATCH    clients handshaking at once (default 10)
//   PACKETDTLS_REL_FLOOD_RATE     hellos a second (default 20000, 2000 under a sanitizer; 0 = as fast as one thread can send,
//                                 the target's flood, which the figure uses)

import XCTest
@testable import PacketDTLS

final class FloodWithRealClientsTests: XCTestCase {
    private typealias Client = (udp: PacketPeerUDP, dtls: PacketPeerDTLS)

    private static func nanoseconds() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// Connects `count` clients, `batch` at a time, to `server`, polled on this thread; returns each
    /// one's connect time in milliseconds (connect_to_peer to CONNECTED) and the clients that failed.
    private func connect(_ count: Int, batch: Int, to server: ReliableServer, everyRound: () -> Void)
        -> (times: [Double], connected: [Client], failures: [String]) {
        let options = Reliability.clientOptions(minMs: 100, maxMs: 6400)
        var started = 0
        var active: [(client: Client, since: UInt64)] = []
        var times: [Double] = [], connected: [Client] = [], failures: [String] = []
        Reliability.run(within: 120, {
            while active.count < batch, started < count {
                active.append((startClient(port: server.port, options: options), Self.nanoseconds()))
                started += 1
            }
            server.step()
            active.removeAll { entry in
                entry.client.dtls.poll()
                switch entry.client.dtls.getStatus() {
                case .handshaking:
                    return false
                case .connected:
                    times.append(Double(Self.nanoseconds() - entry.since) / 1e6)
                    connected.append(entry.client)
                default:
                    failures.append("\(entry.client.dtls.getStatus()): \(entry.client.dtls.getErrorMessage())")
                }
                return true
            }
            everyRound()
        }, until: { started == count && active.isEmpty })
        failures += active.map { _ in "still handshaking after 120 s" }
        return (times, connected, failures)
    }

    private func disconnect(_ clients: [Client], from server: ReliableServer) {
        for client in clients { _ = client.dtls.disconnectFromPeer() }
        Reliability.run(within: 5, { server.step() }, until: { server.peerCount == 0 })
    }

    private static func percentile(_ values: [Double], _ fraction: Double) -> Double {
        guard !values.isEmpty else { return .nan }
        let sorted = values.sorted()
        return sorted[Int((Double(sorted.count - 1) * fraction).rounded())]
    }

    private static func ms(_ value: Double) -> String { String(format: "%.1f ms", value) }

    /// Figures: connect times of real clients without and with a flood of cookie-less ClientHellos,
    /// the server's resident memory growth under the flood, and the flood's amplification.
    func testRealClientsConnectDuringCookieFlood() throws {
        let clientCount = Reliability.knob("FLOOD_CLIENTS", 20)
        let portCount = Reliability.knob("FLOOD_PORTS", 200)
        let batch = max(1, Reliability.knob("FLOOD_BATCH", 10))
        // Under a sanitizer the server is several times slower: a tenth of the rate keeps the test
        // about the flood's handling rather than about the sanitizer's cost.
        let rate = max(0, Reliability.knob("FLOOD_RATE", Reliability.underSanitizer ? 2000 : 20000))
        let hello = captureClientHello()
        let server = try ReliableServer(handshakeMinMs: 100, handshakeMaxMs: 6400)
        let replySize: Int
        if let door = server.dtls.frontDoor, case .unverified(let reply?) = hello.withUnsafeBytes({
            door.screen.judge($0, clientID: SocketAddress.parse(literal: "127.0.0.1", port: 1)!.transportID)
        }) {
            replySize = reply.count
        } else {
            replySize = 0
        }
        XCTAssertGreaterThan(replySize, 0, "the front door answers the captured hello")

        // 1. Unloaded, twice. The clients live in this process too, and every phase's stay allocated
        // to the end (freed, glibc does not hand their pages to the next phase's), so each phase's
        // growth is its new memory: the second unloaded phase's is what 100 more clients and
        // sessions cost, and the flood's cost is the flooded phase's growth less that.
        let warmUp = connect(clientCount, batch: batch, to: server, everyRound: {})
        disconnect(warmUp.connected, from: server)
        let quietBefore = Reliability.residentBytes()
        var quietPeak = quietBefore
        var quietRound = 0
        let quiet = connect(clientCount, batch: batch, to: server, everyRound: {
            quietRound += 1
            if quietRound % 64 == 0 { quietPeak = max(quietPeak, Reliability.residentBytes()) }
        })
        quietPeak = max(quietPeak, Reliability.residentBytes())
        disconnect(quiet.connected, from: server)
        let quietGrowth = quietPeak - quietBefore

        // 2. Flooded: the flood starts, warms up, then the same number of clients connect.
        let flood = try XCTUnwrap(FloodSender(datagram: hello, portCount: portCount, port: server.port, rate: rate),
                                  "\(portCount) flood sockets")
        flood.start()
        Reliability.run(within: 0.5, { server.step() }, until: { false })
        let before = Reliability.residentBytes()
        var peak = before
        let floodStart = flood.counts
        let frontDoorStart = server.udp.helloVerifyRequestsSent
        let roundsStart = server.cookieRounds
        let kernelDropsStart = server.udp.getStats().datagramsDroppedByKernel
        let shedStart = server.udp.helloesShedCount
        let droppedStart = server.udp.droppedDatagrams
        let start = Self.nanoseconds()
        var round = 0
        let loaded = connect(clientCount, batch: batch, to: server, everyRound: {
            round += 1
            if round % 64 == 0 { peak = max(peak, Reliability.residentBytes()) }
        })
        peak = max(peak, Reliability.residentBytes())
        flood.stop()
        let seconds = Double(Self.nanoseconds() - start) / 1e9
        let floodEnd = flood.counts
        Reliability.run(within: 0.3, { server.step() }, until: { false })
        let after = Reliability.residentBytes()
        peak = max(peak, after)
        let growth = peak - before - quietGrowth

        // Amplification, bounded from above: every HelloVerifyRequest the server sent in the phase
        // (the real clients' too) against the flood bytes the server read (sent, less every datagram
        // the kernel dropped at the server's socket, the real clients' too).
        let sent = floodEnd.datagramsSent - floodStart.datagramsSent
        let kernelDrops = Int(server.udp.getStats().datagramsDroppedByKernel - kernelDropsStart)
        let answers = (server.udp.helloVerifyRequestsSent - frontDoorStart) + (server.cookieRounds - roundsStart)
        let floodRead = max(1, sent - kernelDrops)
        // Hellos the front door left unanswered to keep up (HelloShedding): never silent, each one is
        // in the UDPServer's drops.
        let shed = server.udp.helloesShedCount - shedStart
        let dropped = server.udp.droppedDatagrams - droppedStart
        let amplification = Double(answers * replySize) / Double(floodRead * hello.count)
        let seen = Double(floodEnd.bytesReceived - floodStart.bytesReceived)
            / Double(max(1, floodEnd.bytesSent - floodStart.bytesSent))
        disconnect(loaded.connected, from: server)

        XCTAssertEqual(quiet.times.count, clientCount, "unloaded: every client connected; \(quiet.failures.prefix(3))")
        XCTAssertEqual(loaded.times.count, clientCount, "flooded: every client connected; \(loaded.failures.prefix(3))")
        XCTAssertGreaterThan(sent, 0, "the flood was sent")
        XCTAssertLessThanOrEqual(amplification, 1.0, "the flood gets back no more bytes than it sends")
        XCTAssertGreaterThanOrEqual(dropped, shed, "every unanswered hello is counted as dropped")
        XCTAssertLessThanOrEqual(answers + shed, floodRead + 4 * clientCount, "a hello is answered or shed, once")
        Reliability.assertMemory(Double(growth), atMost: Double(1 << 20), "the flood cost \(growth) bytes of resident memory")

        let quietMedian = Reliability.median(quiet.times) ?? .nan
        let loadedMedian = Reliability.median(loaded.times) ?? .nan
        Reliability.figure("real clients during a cookie flood (\(clientCount) clients, \(batch) at a time, "
                           + "against a flood from \(portCount) ports at " + (rate > 0 ? "\(rate)/s" : "full speed") + ")",
                           "connected \(quiet.times.count)/\(clientCount) unloaded, \(loaded.times.count)/\(clientCount) flooded; "
                           + "connect time median \(Self.ms(quietMedian)) unloaded, \(Self.ms(loadedMedian)) flooded "
                           + "(ratio \(String(format: "%.2f", loadedMedian / quietMedian))), p90 "
                           + "\(Self.ms(Self.percentile(quiet.times, 0.9))) unloaded, "
                           + "\(Self.ms(Self.percentile(loaded.times, 0.9))) flooded; flood \(sent) ClientHellos in "
                           + "\(String(format: "%.1f", seconds)) s (\(Int(Double(sent) / max(seconds, 0.001)))/s), "
                           + "\(kernelDrops) dropped by the kernel at the server's socket; amplification at most "
                           + "\(String(format: "%.3f", amplification)) (\(answers) HelloVerifyRequests of \(replySize) bytes "
                           + "for \(floodRead) hellos of \(hello.count) bytes read; \(shed) left unanswered by the "
                           + "front door's shedding), \(String(format: "%.3f", seen)) "
                           + "seen by the flood sockets; RSS grew \(Reliability.kib(quietGrowth)) in the unloaded phase "
                           + "(\(Reliability.kib(quietBefore)) to \(Reliability.kib(quietPeak))) and "
                           + "\(Reliability.kib(peak - before)) in the flooded one (\(Reliability.kib(before)) after 0.5 s of flood "
                           + "to a peak of \(Reliability.kib(peak)); \(Reliability.kib(after)) after): the flood's cost "
                           + "\(Reliability.kib(growth)); "
                           + "server peers left: \(server.peerCount)")
    }
}
