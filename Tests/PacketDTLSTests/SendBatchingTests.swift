// SendBatchingTests.swift — UDPServer send batching (beyond Godot): off, every put_packet leaves at
// once; on, the peers' datagrams leave together at flushSends(), poll(), a full batch or stop(), in
// order and exactly once, and what the kernel refuses is counted and reported.

import Foundation
import Synchronization
import XCTest
@testable import PacketDTLS
#if canImport(Glibc)
import Glibc
#endif

final class SendBatchingTests: XCTestCase {
    private typealias Support = UDPTestSupport

    /// A server on 127.0.0.1 and `count` clients, each taken as a server peer (one datagram each).
    private func serverWithClients(_ count: Int, file: StaticString = #filePath, line: UInt = #line) throws
        -> (UDPServer, [(client: PacketPeerUDP, peer: PacketPeerUDP)]) {
        let server = UDPServer()
        XCTAssertEqual(server.listen(port: 0, bindAddress: "127.0.0.1"), .ok, ErrorReport.message, file: file, line: line)
        XCTAssertEqual(server.setMaxPendingConnections(count), .ok)
        var pairs: [(client: PacketPeerUDP, peer: PacketPeerUDP)] = []
        for index in 0..<count {
            let client = Support.boundPeer()
            XCTAssertEqual(client.connectToHost("127.0.0.1", port: server.getLocalPort()), .ok, file: file, line: line)
            XCTAssertEqual(client.putPacket([UInt8(index)]), .ok, file: file, line: line)
            XCTAssertTrue(Support.eventually {
                _ = server.poll()
                return server.isConnectionAvailable()
            }, "client \(index) never arrived", file: file, line: line)
            let peer = try XCTUnwrap(server.takeConnection(), file: file, line: line)
            pairs.append((client, peer))
        }
        return (server, pairs)
    }

    /// The datagrams waiting on `client`'s socket now, read until it is empty (sends on loopback are
    /// delivered within the sending call, so what was sent is there).
    private func drain(_ client: PacketPeerUDP) -> [[UInt8]] {
        var got: [[UInt8]] = []
        while client.getAvailablePacketCount() > 0 { got.append(client.getPacket()) }
        return got
    }

    private func numbered(_ index: Int) -> [UInt8] { Self.numbered(index) }
    private static func numbered(_ index: Int) -> [UInt8] { [UInt8(index >> 8), UInt8(index & 0xff), 0x42] }

    func testOffByDefaultEveryPutPacketLeavesAtOnce() throws {
        let (server, pairs) = try serverWithClients(1)
        XCTAssertFalse(server.isSendBatching())
        XCTAssertEqual(pairs[0].peer.putPacket(numbered(1)), .ok)
        XCTAssertEqual(Support.receive(pairs[0].client), numbered(1))
        XCTAssertEqual(server.flushSends(), .ok, "a flush with batching off is harmless")
        let stats = server.getStats()
        XCTAssertEqual(stats.datagramsSentBatched, 0)
        XCTAssertEqual(stats.sendBatchCalls, 0)
    }

    func testQueuedUntilFlushThenDeliveredInOrderExactlyOnce() throws {
        let (server, pairs) = try serverWithClients(3)
        XCTAssertEqual(server.setSendBatching(true), .ok)
        XCTAssertTrue(server.isSendBatching())
        for round in 0..<20 {
            for (index, pair) in pairs.enumerated() {
                XCTAssertEqual(pair.peer.putPacket(numbered(round * 3 + index)), .ok)
            }
        }
        XCTAssertEqual(server.getStats().datagramsWaitingToSend, 60)
        for pair in pairs { XCTAssertEqual(drain(pair.client), [], "nothing leaves before the flush") }
        XCTAssertEqual(server.flushSends(), .ok, ErrorReport.message)
        for (index, pair) in pairs.enumerated() {
            XCTAssertTrue(Support.eventually { pair.client.getAvailablePacketCount() >= 20 })
            XCTAssertEqual(drain(pair.client), (0..<20).map { numbered($0 * 3 + index) }, "client \(index)")
        }
        XCTAssertEqual(server.flushSends(), .ok)
        for pair in pairs { XCTAssertEqual(drain(pair.client), [], "a second flush sends nothing again") }
        let stats = server.getStats()
        XCTAssertEqual(stats.datagramsSentBatched, 60)
        XCTAssertEqual(stats.datagramsWaitingToSend, 0)
        XCTAssertEqual(stats.datagramsSendFailed, 0)
        XCTAssertEqual(stats.sendBatchCalls, 1, "60 datagrams to three clients in one sendmmsg")
    }

    func testPollFlushesAndAFullBatchFlushesItself() throws {
        let (server, pairs) = try serverWithClients(4)
        XCTAssertEqual(server.setSendBatching(true), .ok)
        XCTAssertEqual(pairs[0].peer.putPacket(numbered(7)), .ok)
        XCTAssertEqual(drain(pairs[0].client), [])
        XCTAssertEqual(server.poll(), .ok)
        XCTAssertTrue(Support.eventually { pairs[0].client.getAvailablePacketCount() == 1 })
        XCTAssertEqual(drain(pairs[0].client), [numbered(7)])

        // 600 datagrams: the batch (512) fills and flushes itself once; the rest leaves at the flush.
        let perClient = 150
        for round in 0..<perClient {
            for pair in pairs { XCTAssertEqual(pair.peer.putPacket(numbered(round)), .ok) }
        }
        XCTAssertEqual(server.getStats().datagramsWaitingToSend, UInt64(pairs.count * perClient - SendBatch.capacity))
        XCTAssertEqual(server.flushSends(), .ok, ErrorReport.message)
        for (index, pair) in pairs.enumerated() {
            XCTAssertTrue(Support.eventually { pair.client.getAvailablePacketCount() >= perClient })
            XCTAssertEqual(drain(pair.client), (0..<perClient).map(numbered), "client \(index)")
        }
        XCTAssertEqual(server.getStats().datagramsSentBatched, UInt64(1 + pairs.count * perClient))
    }

    func testTurningOffFlushesAndSendsDirectlyAgain() throws {
        let (server, pairs) = try serverWithClients(1)
        XCTAssertEqual(server.setSendBatching(true), .ok)
        XCTAssertEqual(pairs[0].peer.putPacket(numbered(1)), .ok)
        XCTAssertEqual(server.setSendBatching(false), .ok)
        XCTAssertFalse(server.isSendBatching())
        XCTAssertEqual(pairs[0].peer.putPacket(numbered(2)), .ok)
        XCTAssertTrue(Support.eventually { pairs[0].client.getAvailablePacketCount() == 2 })
        XCTAssertEqual(drain(pairs[0].client), [numbered(1), numbered(2)])
    }

    func testStopSendsWhatIsQueued() throws {
        let (server, pairs) = try serverWithClients(2)
        XCTAssertEqual(server.setSendBatching(true), .ok)
        for pair in pairs { XCTAssertEqual(pair.peer.putPacket(numbered(9)), .ok) }
        server.stop()
        for pair in pairs {
            XCTAssertTrue(Support.eventually { pair.client.getAvailablePacketCount() == 1 })
            XCTAssertEqual(drain(pair.client), [numbered(9)])
        }
        XCTAssertEqual(server.flushSends(), .unconfigured)
        XCTAssertEqual(server.getStats().datagramsSendFailed, 0)
    }

    func testARefusedDatagramIsCountedAndReportedAndTheRestStillLeave() throws {
        let (server, pairs) = try serverWithClients(1)
        XCTAssertEqual(server.setSendBatching(true), .ok)
        // A peer for the broadcast address: the kernel refuses it (EACCES, no SO_BROADCAST) at the flush.
        var broadcast = in_addr()
        broadcast.s_addr = 0xffff_ffff
        let socket = try XCTUnwrap(server.sharedSocket)
        let refused = PacketPeerUDP(server: server, socket: socket, remote: SocketAddress(broadcast, port: 9))
        XCTAssertEqual(pairs[0].peer.putPacket(numbered(1)), .ok)
        XCTAssertEqual(refused.putPacket(numbered(2)), .ok, "queued; the refusal comes at the flush")
        XCTAssertEqual(pairs[0].peer.putPacket(numbered(3)), .ok)
        XCTAssertEqual(server.flushSends(), .failed)
        XCTAssertTrue(ErrorReport.message.contains("255.255.255.255"), ErrorReport.message)
        XCTAssertTrue(ErrorReport.message.contains("1 datagrams were refused"), ErrorReport.message)
        XCTAssertTrue(Support.eventually { pairs[0].client.getAvailablePacketCount() == 2 })
        XCTAssertEqual(drain(pairs[0].client), [numbered(1), numbered(3)])
        let stats = server.getStats()
        XCTAssertEqual(stats.datagramsSendFailed, 1)
        XCTAssertEqual(stats.datagramsSentBatched, 2)
        XCTAssertEqual(stats.datagramsWaitingToSend, 0)
        XCTAssertEqual(server.flushSends(), .ok, "a refused datagram is not tried again")
    }

    func testSendsFromSeveralThreadsWhileTheServerPollsAndFlushesArriveInOrderExactlyOnce() throws {
        let (server, pairs) = try serverWithClients(4)
        XCTAssertEqual(server.setSendBatching(true), .ok)
        let perClient = 100
        let finished = Atomic<Int>(0)
        let peers = pairs.map(\.peer)
        for peer in peers {
            Thread.detachNewThread {
                for index in 0..<perClient {
                    // A full batch that cannot flush says .busy; nothing is queued then, so try again.
                    var tries = 0
                    while peer.putPacket(Self.numbered(index)) != .ok, tries < 1000 { tries += 1; sched_yield() }
                }
                finished.add(1, ordering: .releasing)
            }
        }
        let deadline = MonotonicClock.milliseconds() + 10_000
        while finished.load(ordering: .acquiring) < peers.count, MonotonicClock.milliseconds() < deadline {
            _ = server.poll()
            _ = server.flushSends()
            sched_yield()
        }
        XCTAssertEqual(finished.load(ordering: .acquiring), peers.count, "the sending threads finished")
        XCTAssertEqual(server.flushSends(), .ok, ErrorReport.message)
        for (index, pair) in pairs.enumerated() {
            XCTAssertTrue(Support.eventually { pair.client.getAvailablePacketCount() >= perClient }, "client \(index)")
            XCTAssertEqual(drain(pair.client), (0..<perClient).map(numbered), "client \(index): in order, each once")
        }
        let stats = server.getStats()
        XCTAssertEqual(stats.datagramsSentBatched, UInt64(peers.count * perClient))
        XCTAssertEqual(stats.datagramsSendFailed, 0)
    }

    func testSeedsLoopWithBatchingOnHandshakesAndEchoes() throws {
        let identity = try TestIdentity.make()
        let server = try EchoServer(key: identity.key, certificate: identity.certificate)
        XCTAssertEqual(server.udp.setSendBatching(true), .ok)
        let clients = (0..<3).map { _ in server.startClient() }
        var replies = [[String]](repeating: [], count: clients.count)
        var sent = [Int](repeating: 0, count: clients.count)
        let done = DTLSLoopbackTests.run({
            server.step()  // the seeds' loop, unchanged; its replies leave at the next poll
            for (index, client) in clients.enumerated() {
                client.poll()
                guard client.getStatus() == .connected else { continue }
                while sent[index] < 5, client.putPacket(Array("m\(sent[index])".utf8)) == .ok { sent[index] += 1 }
                while client.getAvailablePacketCount() > 0 {
                    replies[index].append(String(decoding: client.getPacket(), as: UTF8.self))
                }
            }
        }, until: { replies.allSatisfy { $0.count == 5 } })
        XCTAssertTrue(done, "replies: \(replies); \(clients.map { $0.getErrorMessage() })")
        for reply in replies { XCTAssertEqual(reply, (0..<5).map { "m\($0)" }, "in order, each once") }
        XCTAssertGreaterThan(server.udp.getStats().datagramsSentBatched, 0)
        XCTAssertEqual(server.udp.getStats().datagramsSendFailed, 0)
    }
}
