// UDPServerTests.swift — UDPServer over real loopback sockets, with Godot's own UDPServer cases
// (tests/core/io/test_udp_server.h) and the places where ours differs on purpose.

import XCTest
@testable import PacketDTLS

final class UDPServerTests: XCTestCase {
    private typealias Support = UDPTestSupport

    private func listeningServer(_ address: String = "127.0.0.1", file: StaticString = #filePath,
                                 line: UInt = #line) -> UDPServer {
        let server = UDPServer()
        XCTAssertEqual(server.listen(port: 0, bindAddress: address), .ok, ErrorReport.message, file: file, line: line)
        return server
    }

    /// A client connected to `server` that has sent `bytes`.
    private func client(of server: UDPServer, sending bytes: [UInt8], host: String = "127.0.0.1",
                        file: StaticString = #filePath, line: UInt = #line) -> PacketPeerUDP {
        let client = PacketPeerUDP()
        XCTAssertEqual(client.connectToHost(host, port: server.getLocalPort()), .ok, ErrorReport.message,
                       file: file, line: line)
        XCTAssertEqual(client.putPacket(bytes), .ok, ErrorReport.message, file: file, line: line)
        return client
    }

    /// Polls until a connection is available, then takes it.
    private func take(from server: UDPServer, file: StaticString = #filePath, line: UInt = #line) -> PacketPeerUDP? {
        XCTAssertTrue(Support.eventually {
            _ = server.poll()
            return server.isConnectionAvailable()
        }, "no connection arrived", file: file, line: line)
        return server.takeConnection()
    }

    // MARK: - Godot's cases

    func testAcceptAConnectionAndExchangeBothWays() throws {
        let server = listeningServer()
        XCTAssertTrue(server.isListening())
        XCTAssertGreaterThan(server.getLocalPort(), 0)
        let client = client(of: server, sending: Array("Hello".utf8))
        let peer = try XCTUnwrap(take(from: server))
        XCTAssertTrue(peer.isSocketConnected())
        XCTAssertTrue(peer.isBound())
        XCTAssertEqual(peer.getLocalPort(), server.getLocalPort())
        XCTAssertEqual(peer.getAvailablePacketCount(), 1)
        XCTAssertEqual(peer.getPacket(), Array("Hello".utf8))
        XCTAssertEqual(peer.getPacketIP(), "127.0.0.1")
        XCTAssertEqual(peer.getPacketPort(), client.getLocalPort())

        XCTAssertEqual(peer.putPacket(Array("Hello back".utf8)), .ok)
        XCTAssertEqual(Support.receive(client), Array("Hello back".utf8))
        XCTAssertEqual(client.getPacketPort(), server.getLocalPort())

        XCTAssertEqual(client.putPacket(Array("again".utf8)), .ok)
        XCTAssertTrue(Support.eventually {
            _ = server.poll()
            return peer.getAvailablePacketCount() == 1
        })
        XCTAssertFalse(server.isConnectionAvailable(), "a known client makes no new connection")
        XCTAssertEqual(peer.getPacket(), Array("again".utf8))
    }

    func testHandleFiveClientsAtOnce() throws {
        let server = listeningServer()
        let clients = (0..<5).map { client(of: server, sending: [UInt8($0)]) }
        var peers: [PacketPeerUDP] = []
        XCTAssertTrue(Support.eventually {
            _ = server.poll()
            while let peer = server.takeConnection() { peers.append(peer) }
            return peers.count == 5
        })
        for peer in peers {
            let first = peer.getPacket()
            XCTAssertEqual(first.count, 1)
            let index = Int(first[0])
            XCTAssertEqual(peer.getPacketPort(), clients[index].getLocalPort())
            XCTAssertEqual(peer.putPacket([UInt8(index + 100)]), .ok)
        }
        for (index, client) in clients.enumerated() {
            XCTAssertEqual(Support.receive(client), [UInt8(index + 100)])
        }
    }

    func testAStoppedServerRefusesEverything() {
        let server = listeningServer()
        let port = server.getLocalPort()
        server.stop()
        XCTAssertFalse(server.isListening())
        XCTAssertEqual(server.getLocalPort(), 0)
        XCTAssertEqual(server.poll(), .unconfigured)
        XCTAssertTrue(ErrorReport.message.contains("not listening"), ErrorReport.message)
        let client = PacketPeerUDP()
        XCTAssertEqual(client.setDestAddress("127.0.0.1", port: port), .ok)
        XCTAssertEqual(client.putPacket([1]), .ok)
        XCTAssertFalse(server.isConnectionAvailable())
        XCTAssertNil(server.takeConnection())
        XCTAssertEqual(UDPServer().poll(), .unconfigured, "a server that never listened")
    }

    func testStopUnbindsTakenPeers() throws {
        let server = listeningServer()
        _ = client(of: server, sending: [1])
        let peer = try XCTUnwrap(take(from: server))
        XCTAssertTrue(peer.isSocketConnected())
        server.stop()
        XCTAssertFalse(peer.isSocketConnected())
        XCTAssertFalse(peer.isBound())
        XCTAssertFalse(peer.isConnectedToPeer)
        XCTAssertEqual(peer.putPacket([2]), .unconfigured)
        XCTAssertEqual(peer.getAvailablePacketCount(), 0)
        XCTAssertEqual(server.listen(port: 0, bindAddress: "127.0.0.1"), .ok, "a stopped server listens again")
    }

    func testMaxPendingThreeWithFiveClientsDropsTwo() {
        let server = listeningServer()
        XCTAssertEqual(server.maxPendingConnections, 16)
        server.maxPendingConnections = 3
        XCTAssertEqual(server.maxPendingConnections, 3)
        let clients = (0..<5).map { client(of: server, sending: [UInt8($0)]) }
        XCTAssertTrue(Support.eventually {
            _ = server.poll()
            return server.droppedDatagrams == 2
        })
        XCTAssertNotNil(server.takeConnection())
        XCTAssertNotNil(server.takeConnection())
        XCTAssertNotNil(server.takeConnection())
        XCTAssertNil(server.takeConnection())
        XCTAssertFalse(server.isConnectionAvailable())
        XCTAssertEqual(clients.count, 5)
    }

    func testLoweringMaxPendingDropsTheNewestAndRaisingKeeps() throws {
        let server = listeningServer()
        var clients: [PacketPeerUDP] = []
        for index in 0..<5 {
            clients.append(client(of: server, sending: [UInt8(index)]))
            // One poll per client keeps the pending order the test relies on.
            XCTAssertTrue(Support.eventually {
                _ = server.poll()
                return server.pendingConnectionCount == index + 1
            })
        }
        XCTAssertEqual(server.setMaxPendingConnections(2), .ok)
        XCTAssertEqual(server.setMaxPendingConnections(10), .ok, "raising keeps the two left")
        let first = try XCTUnwrap(server.takeConnection())
        let second = try XCTUnwrap(server.takeConnection())
        XCTAssertNil(server.takeConnection())
        XCTAssertEqual(first.getPacket(), [0], "the oldest stay")
        XCTAssertEqual(second.getPacket(), [1])

        // A dropped client is new again when it speaks next.
        XCTAssertEqual(clients[4].putPacket([44]), .ok)
        let again = try XCTUnwrap(take(from: server))
        XCTAssertEqual(again.getPacket(), [44])
        XCTAssertEqual(again.getPacketPort(), clients[4].getLocalPort())
    }

    func testMaxPendingZeroRefusesAndNegativeIsInvalid() {
        let server = listeningServer()
        XCTAssertEqual(server.setMaxPendingConnections(-1), .invalidParameter)
        XCTAssertTrue(ErrorReport.message.contains("negative"), ErrorReport.message)
        server.maxPendingConnections = -5
        XCTAssertEqual(server.maxPendingConnections, 16, "a negative value leaves the limit alone")
        XCTAssertEqual(server.setMaxPendingConnections(0), .ok)
        _ = client(of: server, sending: [1])
        XCTAssertTrue(Support.eventually {
            _ = server.poll()
            return server.droppedDatagrams == 1
        })
        XCTAssertFalse(server.isConnectionAvailable())
    }

    // MARK: - listen

    func testListenErrors() {
        let server = listeningServer()
        XCTAssertEqual(server.listen(port: 0, bindAddress: "127.0.0.1"), .alreadyInUse)
        let other = UDPServer()
        XCTAssertEqual(other.listen(port: 0, bindAddress: "nowhere"), .invalidParameter)
        XCTAssertEqual(other.listen(port: -1), .invalidParameter)
        XCTAssertEqual(other.listen(port: 70000), .invalidParameter)
        XCTAssertEqual(other.listen(port: server.getLocalPort(), bindAddress: "127.0.0.1"), .unavailable)
        XCTAssertTrue(ErrorReport.message.contains("in use"), ErrorReport.message)
        XCTAssertFalse(other.isListening())
    }

    func testIPv6AndDualStackServers() throws {
        let v6 = listeningServer("::1")
        _ = client(of: v6, sending: [6], host: "::1")
        let peer6 = try XCTUnwrap(take(from: v6))
        XCTAssertEqual(peer6.getPacket(), [6])
        XCTAssertEqual(peer6.getPacketIP(), "::1")

        let dual = listeningServer("*")
        let v4Client = client(of: dual, sending: [4], host: "127.0.0.1")
        let peer4 = try XCTUnwrap(take(from: dual))
        XCTAssertEqual(peer4.getPacket(), [4])
        XCTAssertEqual(peer4.getPacketIP(), "127.0.0.1", "IPv4-mapped prints as a dotted quad")
        XCTAssertEqual(peer4.remoteIdentity?.host, "127.0.0.1")
        XCTAssertEqual(peer4.putPacket([40]), .ok)
        XCTAssertEqual(Support.receive(v4Client), [40])
    }

    // MARK: - Taken peers

    func testTakenPeerIsLockedToItsServer() throws {
        let server = listeningServer()
        _ = client(of: server, sending: [1])
        let peer = try XCTUnwrap(take(from: server))
        XCTAssertEqual(peer.bind(port: 0), .locked)
        XCTAssertEqual(peer.connectToHost("127.0.0.1", port: 9), .locked)
        XCTAssertEqual(peer.setDestAddress("127.0.0.1", port: 9), .unconfigured)
        XCTAssertEqual(peer.setBroadcastEnabled(true), .locked)
        XCTAssertEqual(peer.joinMulticastGroup("224.0.0.251", interfaceName: ""), .locked)
    }

    func testClosedTakenPeerLeavesAndItsClientStartsAfresh() throws {
        let server = listeningServer()
        let client = client(of: server, sending: [1])
        let peer = try XCTUnwrap(take(from: server))
        peer.close()
        XCTAssertFalse(peer.isSocketConnected())
        XCTAssertEqual(peer.putPacket([1]), .unconfigured)
        XCTAssertEqual(client.putPacket([2]), .ok)
        let fresh = try XCTUnwrap(take(from: server))
        XCTAssertFalse(fresh === peer)
        XCTAssertEqual(fresh.getPacket(), [2])
        XCTAssertEqual(peer.getAvailablePacketCount(), 0, "the closed peer gets nothing")
        XCTAssertEqual(peer.bind(port: 0, bindAddress: "127.0.0.1"), .ok, "a peer that left is free again")
    }

    func testFreedTakenPeerVanishesFromTheServer() throws {
        let server = listeningServer()
        let client = client(of: server, sending: [1])
        weak var weakPeer: PacketPeerUDP?
        do {
            let peer = try XCTUnwrap(take(from: server))
            weakPeer = peer
        }
        XCTAssertNil(weakPeer, "the server holds taken peers weakly")
        XCTAssertEqual(client.putPacket([2]), .ok)
        let fresh = try XCTUnwrap(take(from: server))
        XCTAssertEqual(fresh.getPacket(), [2])
    }

    func testFullTakenPeerQueueDropsAndCounts() throws {
        let server = listeningServer()
        XCTAssertEqual(server.setPeerQueueLimit(65536), .ok)
        let client = client(of: server, sending: [0])
        let peer = try XCTUnwrap(take(from: server))
        // The third waits one poll (the queue stopped the server), then is dropped: nobody read.
        // 65536 bytes hold two 30000-byte datagrams (plus bookkeeping) besides the first, not three.
        for _ in 0..<3 { XCTAssertEqual(client.putPacket([UInt8](repeating: 1, count: 30000)), .ok) }
        XCTAssertTrue(Support.eventually {
            _ = server.poll()
            return server.droppedDatagrams == 1
        })
        XCTAssertEqual(peer.getAvailablePacketCount(), 3)
    }

    func testServerDeinitDisconnectsTakenPeers() throws {
        var server: UDPServer? = listeningServer()
        _ = client(of: server!, sending: [1])
        let peer = try XCTUnwrap(take(from: server!))
        XCTAssertTrue(peer.isSocketConnected())
        server = nil
        XCTAssertFalse(peer.isSocketConnected(), "a server nobody holds stops")
        XCTAssertEqual(peer.putPacket([1]), .unconfigured)
    }

    // MARK: - DatagramTransport on taken peers

    func testTakenPeerAsTransport() throws {
        let server = listeningServer()
        let client = client(of: server, sending: [1, 2, 3])
        let peer = try XCTUnwrap(take(from: server))
        XCTAssertTrue(peer.isConnectedToPeer)
        let identity = try XCTUnwrap(peer.remoteIdentity)
        XCTAssertEqual(identity.host, "127.0.0.1")
        XCTAssertEqual(identity.transportID.count, 18)
        let port = client.getLocalPort()
        XCTAssertEqual(Array(identity.transportID.suffix(2)), [UInt8(port >> 8), UInt8(port & 0xff)])

        var buffer = [UInt8](repeating: 0, count: 2)
        XCTAssertEqual(buffer.withUnsafeMutableBytes { peer.receiveDatagram(into: $0) }, .oversized(3))
        XCTAssertEqual(client.putPacket([4]), .ok)
        XCTAssertEqual(buffer.withUnsafeMutableBytes { peer.receiveDatagram(into: $0) }, .empty,
                       "a taken peer never reads the shared socket itself")
        XCTAssertTrue(Support.eventually {
            _ = server.poll()
            return buffer.withUnsafeMutableBytes { peer.receiveDatagram(into: $0) } == .datagram(1)
        })
        XCTAssertEqual(buffer[0], 4)
        XCTAssertEqual([UInt8](arrayLiteral: 5, 6).withUnsafeBytes { peer.sendDatagram($0) }, .sent)
        XCTAssertEqual(Support.receive(client), [5, 6])

        peer.sessionEnded()
        XCTAssertFalse(peer.isConnectedToPeer, "a session's end lets the server's peer go")
        XCTAssertNil(peer.remoteIdentity)
        XCTAssertEqual(client.putPacket([7]), .ok)
        let fresh = try XCTUnwrap(take(from: server))
        XCTAssertEqual(fresh.getPacket(), [7])
    }

    func testPollingTenThousandIdlePeersIsCheap() {
        let server = listeningServer()
        let socket = server.sharedSocket!
        let peers = (0..<10_000).map { index in
            PacketPeerUDP(server: server, socket: socket,
                          remote: SocketAddress.parse(literal: "127.0.0.1", port: UInt16(1 + index))!)
        }
        var buffer = [UInt8](repeating: 0, count: 1500)
        var best = UInt64.max
        for _ in 0..<5 {
            let start = DispatchTime.now().uptimeNanoseconds
            buffer.withUnsafeMutableBytes { raw in
                for peer in peers where peer.receiveDatagram(into: raw) != .empty { XCTFail("not idle") }
            }
            best = min(best, DispatchTime.now().uptimeNanoseconds - start)
        }
        // The budget is 5 ms in an optimized build; a debug build gets four times that.
        XCTAssertLessThan(best, 20_000_000, "10,000 idle peers took \(best / 1000) µs")
        print("10,000 idle peers polled in \(best / 1000) µs")
    }

    // MARK: - Threads

    func testPollCloseAndSendFromSeveralThreadsDoNotDeadlock() throws {
        let server = listeningServer()
        let clients = (0..<4).map { client(of: server, sending: [UInt8($0)]) }
        var peers: [PacketPeerUDP] = []
        XCTAssertTrue(Support.eventually {
            _ = server.poll()
            while let peer = server.takeConnection() { peers.append(peer) }
            return peers.count == 4
        })
        let finished = UDPTestBox(0)
        let rounds = 2000
        let poller = Thread {
            for _ in 0..<rounds { _ = server.poll() }
            finished.update { $0 += 1 }
        }
        let talkers = peers.enumerated().map { index, peer in
            Thread {
                for round in 0..<rounds {
                    _ = clients[index].putPacket([UInt8(round & 0xff)])
                    _ = peer.putPacket([1])
                    _ = peer.getPacket()
                    if round == rounds / 2 && index % 2 == 0 { peer.close() }
                }
                server.maxPendingConnections = 4 + index
                finished.update { $0 += 1 }
            }
        }
        poller.start()
        talkers.forEach { $0.start() }
        XCTAssertTrue(Support.eventually(within: 30_000) { finished.get() == 5 }, "a thread is stuck")
        server.stop()
    }
}

final class UDPServerWaitTests: XCTestCase {
    func testWaitSleepsOnTheSocketUntilADatagramComes() {
        let server = UDPServer()
        XCTAssertEqual(server.wait(timeoutMs: 10), .unconfigured)
        XCTAssertEqual(server.listen(port: 0, bindAddress: "127.0.0.1"), .ok)
        XCTAssertEqual(server.wait(timeoutMs: 20), .timeout)
        XCTAssertEqual(server.wait(timeoutMs: -1), .invalidParameter)
        let client = PacketPeerUDP()
        XCTAssertEqual(client.connectToHost("127.0.0.1", port: server.getLocalPort()), .ok)
        XCTAssertEqual(client.putPacket([1]), .ok)
        XCTAssertEqual(server.wait(timeoutMs: 5000), .ok)
        XCTAssertEqual(server.poll(), .ok)
        XCTAssertTrue(server.isConnectionAvailable())
    }
}
