// HandshakeWorkersChurnTests.swift — connect/exchange/disconnect churn with the server's handshakes on
// worker threads (DTLSServer.setHandshakeThreads), and half the clients vanishing mid-handshake.
//
//   PACKETDTLS_REL_CHURN   cycles (default 100; the figure uses 10000)

import XCTest
@testable import PacketDTLS

final class HandshakeWorkersChurnTests: XCTestCase {
    /// One client: connect, one echo, close_notify; every fifth vanishes instead once the server holds
    /// its handshake (on a worker). True when the client did what it was meant to.
    private func cycle(_ server: ReliableServer, index: Int) -> Bool {
        let client = startClient(port: server.port)
        let vanishes = index % 5 == 4
        var echoed = false
        let payload = LossyNetworkTests.packet(index, size: 32)
        // Peers taken so far: those still held and those dropped once ended.
        let taken = { server.ended + server.peerCount }
        let before = taken()
        Reliability.run(within: 10, {
            server.step()
            if vanishes && taken() > before { return }
            client.dtls.poll()
            if client.dtls.getStatus() == .connected {
                if client.dtls.getAvailablePacketCount() > 0 { echoed = client.dtls.getPacket() == payload }
                else if !echoed { _ = client.dtls.putPacket(payload) }
            }
        }, until: { echoed || client.dtls.getStatus() == .error || (vanishes && taken() > before) })
        client.dtls.disconnectFromPeer()
        return vanishes ? taken() > before : echoed
    }

    /// Figures: N cycles with 2 handshake threads; every one completes, the server lets go of every
    /// session (close_notify or handshake timeout), and its memory is back within 5%.
    func testChurnWithHandshakeWorkers() throws {
        let cycles = Reliability.knob("CHURN", 100)
        let server = try ReliableServer(handshakeMinMs: 20, handshakeMaxMs: 160)
        XCTAssertEqual(server.dtls.setHandshakeThreads(2), .ok)
        for index in 0..<min(50, cycles) { _ = cycle(server, index: index) }  // warm-up
        Reliability.run(within: 5, { server.step() }, until: { server.peerCount == 0 })
        Reliability.mallocTrim()
        let before = Reliability.residentBytes()
        let start = MonotonicClock.milliseconds()
        var completed = 0
        for index in 0..<cycles where cycle(server, index: index) { completed += 1 }
        let seconds = Double(MonotonicClock.milliseconds() - start) / 1000
        Reliability.run(within: 5, { server.step() }, until: { server.peerCount == 0 })
        Reliability.mallocTrim()
        let after = Reliability.residentBytes()
        XCTAssertEqual(completed, cycles)
        XCTAssertEqual(server.peerCount, 0, "the server let go of every session, vanished ones by timeout")
        Reliability.assertMemory(Double(after), atMost: Double(before) * 1.05, "memory within 5% after churn")
        Reliability.figure("churn with 2 handshake threads (\(cycles) cycles, every fifth client vanishing mid-handshake)",
                           "\(completed)/\(cycles) completed in \(String(format: "%.1f", seconds)) s; server peers left "
                           + "\(server.peerCount); RSS \(Reliability.kib(before)) before, \(Reliability.kib(after)) after "
                           + "(after malloc_trim)")
    }
}
