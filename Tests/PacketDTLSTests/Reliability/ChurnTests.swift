// ChurnTests.swift — many sessions one after another, clients that vanish, and several threads
// sharing one server.
//
//   PACKETDTLS_REL_CHURN        connect/exchange/disconnect cycles (default 100; the figure uses 10000)
//   PACKETDTLS_REL_VANISH       clients that vanish without close_notify (default 60; the figure uses 1000)
//   PACKETDTLS_REL_THREADS      client threads sharing one server (default 4)
//   PACKETDTLS_REL_THREAD_PEERS clients per thread (default 4)

import XCTest
@testable import PacketDTLS
#if canImport(Glibc)
import Glibc
#endif

final class ChurnTests: XCTestCase {
    /// One client: connect, one echo, close_notify. True when all of it happened.
    private func cycle(_ server: ReliableServer, index: Int) -> Bool {
        let client = startClient(port: server.port)
        var echoed = false
        let payload = LossyNetworkTests.packet(index, size: 32)
        Reliability.run(within: 10, {
            server.step()
            client.dtls.poll()
            if client.dtls.getStatus() == .connected {
                if client.dtls.getAvailablePacketCount() > 0 { echoed = client.dtls.getPacket() == payload }
                else if !echoed { _ = client.dtls.putPacket(payload) }
            }
        }, until: { echoed || client.dtls.getStatus() == .error })
        client.dtls.disconnectFromPeer()
        return echoed
    }

    /// Figures: N connect/exchange/disconnect cycles in a row; every one completes, the server lets
    /// go of every session (close_notify), and its memory stays flat.
    func testConnectExchangeDisconnectChurn() throws {
        let cycles = Reliability.knob("CHURN", 100)
        let server = try ReliableServer()
        for index in 0..<min(50, cycles) { _ = cycle(server, index: index) }  // warm-up
        Reliability.run(within: 5, { server.step() }, until: { server.peerCount == 0 })
        Reliability.mallocTrim()
        let before = Reliability.residentBytes()
        let start = MonotonicClock.milliseconds()
        var completed = 0
        for index in 0..<cycles where cycle(server, index: index) { completed += 1 }
        let seconds = Double(MonotonicClock.milliseconds() - start) / 1000
        Reliability.run(within: 5, { server.step() }, until: { server.peerCount == 0 })
        let afterNoTrim = Reliability.residentBytes()
        Reliability.mallocTrim()
        let after = Reliability.residentBytes()
        XCTAssertEqual(completed, cycles)
        XCTAssertEqual(server.peerCount, 0, "the server let go of every ended session")
        Reliability.assertMemory(Double(after), atMost: Double(before) * 1.05, "memory within 5% after churn")
        Reliability.figure("churn (\(cycles) connect/exchange/disconnect cycles)",
                           "\(completed)/\(cycles) completed in \(String(format: "%.1f", seconds)) s "
                           + "(\(String(format: "%.1f", seconds * 1000 / Double(max(1, cycles)))) ms each); server peers left "
                           + "\(server.peerCount); RSS \(Reliability.kib(before)) before, \(Reliability.kib(afterNoTrim)) after "
                           + "(\(Reliability.kib(after)) after malloc_trim)")
    }

    /// Figures: N clients connect and vanish without close_notify. The server reclaims every one by
    /// its idle timeout, and its memory returns to within 5% of where it started.
    func testVanishedClientsAreReclaimedByIdleTimeout() throws {
        XCTAssertEqual(TLSOptions.clientUnsafe().idleTimeout, 300_000, "the idle timeout is on by default, 300 s")
        let total = Reliability.knob("VANISH", 60)
        let idleMs: UInt32 = 500
        let server = try ReliableServer(idleTimeoutMs: idleMs, maxPending: 64)
        let batch = 50

        /// Connects `count` clients at once, one echo each, then makes them vanish: the socket is
        /// closed first, so the close_notify of the DTLS peer's deinit goes nowhere.
        /// The vanished clients: silent from the moment they connected and echoed, their sockets kept
        /// open until the server has reclaimed them. Closed at once, their ports could be handed to the
        /// next batch's clients, and a new client on the address and port of a live session is that
        /// client reconnecting: the server would end the old session for it, not by idle timeout.
        var silent: [(udp: PacketPeerUDP, dtls: PacketPeerDTLS)] = []
        func release() {
            for client in silent { client.udp.close() }
            silent = []
        }

        func vanish(_ count: Int) -> Int {
            var connected = 0
            var start = 0
            while start < count {
                let clients = (0..<min(batch, count - start)).map { _ in startClient(port: server.port) }
                var echoed = Set<Int>()
                Reliability.run(within: 20, {
                    server.step()
                    for (index, client) in clients.enumerated() {
                        client.dtls.poll()
                        guard client.dtls.getStatus() == .connected, !echoed.contains(index) else { continue }
                        if client.dtls.getAvailablePacketCount() > 0 { echoed.insert(index) } else { _ = client.dtls.putPacket([1]) }
                    }
                }, until: { echoed.count == clients.count })
                connected += echoed.count
                silent += clients
                start += clients.count
            }
            return connected
        }

        func reclaimAll() -> Bool {
            Reliability.run(within: Double(idleMs) / 1000 + 10, { server.step() }, until: { server.peerCount == 0 })
        }

        // Warm-up: one batch through the whole cycle, so one-time allocations are behind us.
        _ = vanish(batch)
        XCTAssertTrue(reclaimAll())
        release()
        Reliability.mallocTrim()
        let before = Reliability.residentBytes()
        let idleBefore = server.idleTimeouts
        let start = MonotonicClock.milliseconds()
        let connected = vanish(total)
        var peak = Reliability.residentBytes()
        let connectSeconds = Double(MonotonicClock.milliseconds() - start) / 1000
        XCTAssertTrue(reclaimAll(), "\(server.peerCount) sessions still held")
        peak = max(peak, Reliability.residentBytes())
        release()
        let afterNoTrim = Reliability.residentBytes()
        Reliability.mallocTrim()
        let after = Reliability.residentBytes()
        let reclaimed = server.idleTimeouts - idleBefore
        XCTAssertEqual(connected, total)
        XCTAssertEqual(reclaimed, total, "every vanished client ended by idle timeout")
        Reliability.assertMemory(Double(after), atMost: Double(before) * 1.05, "memory within 5% of the start")
        Reliability.figure("vanished clients (\(total), idle timeout \(idleMs) ms)",
                           "\(connected) connected in \(String(format: "%.1f", connectSeconds)) s and vanished; "
                           + "\(reclaimed) reclaimed by idle timeout; server peers left \(server.peerCount); RSS "
                           + "\(Reliability.kib(before)) before, peak \(Reliability.kib(peak)), after "
                           + "\(Reliability.kib(afterNoTrim)) (\(Reliability.kib(after)) after malloc_trim) = "
                           + String(format: "%+.1f%%", (Double(after) / Double(before) - 1) * 100))
    }

    /// Several threads, each driving its own clients and the server sessions it takes, all sharing
    /// one UDPServer and one DTLSServer (poll, take_connection from every thread at once).
    func testThreadsSharingOneServer() throws {
        let threads = Reliability.knob("THREADS", 4)
        let perThread = Reliability.knob("THREAD_PEERS", 4)
        let echoesEach = 20
        let server = try ReliableServer()
        let udp = server.udp, dtls = server.dtls, port = server.port
        final class Tally: @unchecked Sendable {
            let lock = NSLock()
            var done = 0, finished = 0
            var failures: [String] = []
        }
        let tally = Tally()
        let group = DispatchGroup()
        for thread in 0..<threads {
            group.enter()
            let worker = Thread {
                defer { group.leave() }
                let clients = (0..<perThread).map { _ in startClient(port: port) }
                var taken: [PacketPeerDTLS] = []
                var echoes = Array(repeating: 0, count: perThread)
                var markedDone = false
                // Every thread serves until all are done: it may hold server sessions of others' clients.
                let ok = Reliability.run(within: 60, {
                    udp.poll()
                    while let peer = udp.takeConnection() {
                        if let session = dtls.takeConnection(peer), session.getStatus() == .handshaking { taken.append(session) }
                    }
                    for session in taken {
                        session.poll()
                        while session.getAvailablePacketCount() > 0 { _ = session.putPacket(session.getPacket()) }
                    }
                    taken.removeAll { $0.getStatus() != .handshaking && $0.getStatus() != .connected }
                    for (index, client) in clients.enumerated() {
                        client.dtls.poll()
                        guard client.dtls.getStatus() == .connected else { continue }
                        while client.dtls.getAvailablePacketCount() > 0 {
                            if client.dtls.getPacket() == [UInt8(thread), UInt8(index)] { echoes[index] += 1 }
                        }
                        if echoes[index] < echoesEach { _ = client.dtls.putPacket([UInt8(thread), UInt8(index)]) }
                    }
                    if !markedDone, echoes.allSatisfy({ $0 >= echoesEach }) {
                        markedDone = true
                        tally.lock.withLock { tally.done += 1 }
                    }
                }, until: { tally.lock.withLock { tally.done == threads } })
                for client in clients { client.dtls.disconnectFromPeer() }
                tally.lock.withLock {
                    if ok && markedDone { tally.finished += 1 } else {
                        tally.failures.append("thread \(thread): echoes \(echoes), statuses "
                                              + "\(clients.map { $0.dtls.getStatus().description })")
                    }
                }
            }
            worker.start()
        }
        XCTAssertEqual(group.wait(timeout: .now() + 90), .success)
        tally.lock.withLock {
            XCTAssertEqual(tally.finished, threads, tally.failures.joined(separator: "; "))
            Reliability.figure("threads (\(threads) threads x \(perThread) clients, one shared server)",
                               "\(tally.finished)/\(threads) threads got \(echoesEach) echoes on every client")
        }
    }
}
