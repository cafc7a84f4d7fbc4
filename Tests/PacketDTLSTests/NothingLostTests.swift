// NothingLostTests.swift — issue 19 over real loopback sockets: what the kernel kept reaches the
// application or is counted, replies leave from the address the client used.

import XCTest
@testable import PacketDTLS

final class NothingLostTests: XCTestCase {
    private typealias Support = UDPTestSupport

    private func listeningServer(_ address: String = "127.0.0.1", file: StaticString = #filePath,
                                 line: UInt = #line) -> UDPServer {
        let server = UDPServer()
        XCTAssertEqual(server.listen(port: 0, bindAddress: address), .ok, ErrorReport.message, file: file, line: line)
        return server
    }

    private func connectedClient(to host: String, port: Int, file: StaticString = #filePath,
                                 line: UInt = #line) -> PacketPeerUDP {
        let client = PacketPeerUDP()
        XCTAssertEqual(client.connectToHost(host, port: port), .ok, ErrorReport.message, file: file, line: line)
        return client
    }

    private func take(from server: UDPServer, file: StaticString = #filePath, line: UInt = #line) -> PacketPeerUDP? {
        XCTAssertTrue(Support.eventually {
            _ = server.poll()
            return server.isConnectionAvailable()
        }, "no connection arrived", file: file, line: line)
        return server.takeConnection()
    }

    // MARK: - Bursts

    func testBurstOf500WhileTheServerIsBusyArrivesWhole() throws {
        let server = listeningServer()
        let client = connectedClient(to: "127.0.0.1", port: server.getLocalPort())
        XCTAssertEqual(client.putPacket([0]), .ok)
        let peer = try XCTUnwrap(take(from: server))
        XCTAssertEqual(peer.getPacket(), [0])
        for index in 0..<500 {
            XCTAssertEqual(client.putPacket([UInt8](repeating: UInt8(index & 0xff), count: 1024)), .ok)
        }
        usleep(300_000)  // the server is busy elsewhere; the kernel holds the burst
        XCTAssertEqual(server.poll(), .ok)
        XCTAssertEqual(peer.getAvailablePacketCount(), 500, "one poll moves the whole burst with the defaults")
        for index in 0..<500 {
            XCTAssertEqual(peer.getPacket(), [UInt8](repeating: UInt8(index & 0xff), count: 1024))
        }
        let stats = server.getStats()
        XCTAssertEqual(stats.datagramsDropped, 0)
        XCTAssertEqual(stats.datagramsDroppedByKernel, 0)
        XCTAssertEqual(stats.datagramsReceived, 501)
        XCTAssertEqual(peer.getStats().datagramsReceived, 501)
        XCTAssertEqual(stats.bytesQueued, 0, "everything was read: the shared budget is whole again")
    }

    func testAFullQueueLeavesTheRestInTheKernelForTheNextPoll() throws {
        let server = listeningServer()
        XCTAssertEqual(server.setPeerQueueLimit(10 * (1000 + PacketQueue.bookkeepingBytes)), .ok)
        let first = connectedClient(to: "127.0.0.1", port: server.getLocalPort())
        let second = connectedClient(to: "127.0.0.1", port: server.getLocalPort())
        XCTAssertEqual(first.putPacket([1]), .ok)
        let firstPeer = try XCTUnwrap(take(from: server))
        XCTAssertEqual(firstPeer.getPacket(), [1])
        XCTAssertEqual(second.putPacket([2]), .ok)
        let secondPeer = try XCTUnwrap(take(from: server))
        XCTAssertEqual(secondPeer.getPacket(), [2])

        // 25 for the first (its queue holds 10), then 5 for the second behind them.
        for _ in 0..<25 { XCTAssertEqual(first.putPacket([UInt8](repeating: 1, count: 1000)), .ok) }
        for _ in 0..<5 { XCTAssertEqual(second.putPacket([UInt8](repeating: 2, count: 1000)), .ok) }
        usleep(50_000)
        XCTAssertEqual(server.poll(), .ok)
        XCTAssertEqual(firstPeer.getAvailablePacketCount(), 10)
        XCTAssertEqual(secondPeer.getAvailablePacketCount(), 0, "behind a full queue, the socket is left alone")
        var received = 0
        XCTAssertTrue(Support.eventually {
            while firstPeer.getAvailablePacketCount() > 0 {
                XCTAssertEqual(firstPeer.getPacket().count, 1000)
                received += 1
            }
            _ = server.poll()
            return received == 25 && firstPeer.getAvailablePacketCount() == 0
                && secondPeer.getAvailablePacketCount() == 5
        }, "received \(received) of 25")
        XCTAssertEqual(server.getStats().datagramsDropped, 0, "a peer read between polls loses nothing")
        XCTAssertEqual(firstPeer.getStats().datagramsDropped, 0)
    }

    func testAnUnreadFullPeerCannotStallTheOthersAndItsDropsAreCounted() throws {
        let server = listeningServer()
        XCTAssertEqual(server.setPeerQueueLimit(4 * (100 + PacketQueue.bookkeepingBytes)), .ok)
        let idle = connectedClient(to: "127.0.0.1", port: server.getLocalPort())
        let busy = connectedClient(to: "127.0.0.1", port: server.getLocalPort())
        XCTAssertEqual(idle.putPacket([1]), .ok)
        let idlePeer = try XCTUnwrap(take(from: server))
        XCTAssertEqual(busy.putPacket([2]), .ok)
        let busyPeer = try XCTUnwrap(take(from: server))
        _ = busyPeer.getPacket()
        for _ in 0..<10 { XCTAssertEqual(idle.putPacket([UInt8](repeating: 1, count: 100)), .ok) }
        for _ in 0..<3 { XCTAssertEqual(busy.putPacket([UInt8](repeating: 2, count: 100)), .ok) }
        XCTAssertTrue(Support.eventually {
            _ = server.poll()
            return busyPeer.getAvailablePacketCount() == 3
        }, "the datagrams behind an unread peer came through")
        // The idle peer kept its first datagram and 3 more; the other 7 were dropped, and said so.
        XCTAssertEqual(idlePeer.getAvailablePacketCount(), 4)
        XCTAssertEqual(idlePeer.getStats().datagramsDropped, 7)
        XCTAssertEqual(server.getStats().datagramsDropped, 7)
        XCTAssertEqual(server.droppedDatagrams, 7)
    }

    func testTotalQueueLimitBoundsAllPeersTogether() throws {
        let server = listeningServer()
        XCTAssertEqual(server.setTotalQueueLimit(0), .invalidParameter)
        XCTAssertEqual(server.setPeerQueueLimit(0), .invalidParameter)
        XCTAssertEqual(server.peerQueueLimit, UDPServer.defaultPeerQueueLimit)
        XCTAssertEqual(server.setTotalQueueLimit(3 * (500 + PacketQueue.bookkeepingBytes)), .ok)
        XCTAssertEqual(server.totalQueueLimit, 3 * (500 + PacketQueue.bookkeepingBytes))
        let clients = (0..<2).map { _ in connectedClient(to: "127.0.0.1", port: server.getLocalPort()) }
        for client in clients {
            for _ in 0..<3 { XCTAssertEqual(client.putPacket([UInt8](repeating: 7, count: 500)), .ok) }
        }
        usleep(50_000)
        XCTAssertEqual(server.poll(), .ok)
        // Three fit the shared budget; an empty queue always takes one (the second client's first).
        let stats = server.getStats()
        XCTAssertEqual(stats.datagramsReceived, 4)
        XCTAssertEqual(stats.datagramsDropped, 0)
        XCTAssertEqual(stats.packetsQueued, 6, "4 queued, and 2 read in the same batch held back by the server")
        XCTAssertEqual(stats.bytesQueued, UInt64(6 * (500 + PacketQueue.bookkeepingBytes)))
    }

    func testUploadsOf16KiBAtFullSpeedToA60HzServerAreDeliveredOrCounted() throws {
        let server = listeningServer()
        let client = connectedClient(to: "127.0.0.1", port: server.getLocalPort())
        XCTAssertEqual(client.putPacket([0]), .ok)
        let peer = try XCTUnwrap(take(from: server))
        _ = peer.getPacket()
        let payload = [UInt8](repeating: 0x5a, count: 16 * 1024)
        final class Count: @unchecked Sendable { var value = 0 }
        let sent = Count()
        let finished = DispatchSemaphore(value: 0)
        let sender = Thread {
            for _ in 0..<200 where client.putPacket(payload) == .ok { sent.value += 1 }
            finished.signal()
        }
        var delivered = 0
        sender.start()
        let deadline = MonotonicClock.milliseconds() + 1500
        while MonotonicClock.milliseconds() < deadline {
            _ = server.poll()
            while peer.getAvailablePacketCount() > 0 {
                if peer.getPacket().count == payload.count { delivered += 1 }
            }
            usleep(16_667)
        }
        finished.wait()
        // A last datagram carries the kernel's final drop count.
        XCTAssertEqual(client.putPacket([1]), .ok)
        XCTAssertTrue(Support.eventually {
            _ = server.poll()
            while peer.getAvailablePacketCount() > 0 {
                if peer.getPacket().count == payload.count { delivered += 1 } else { return true }
            }
            return false
        })
        let stats = server.getStats()
        XCTAssertEqual(UInt64(sent.value), UInt64(delivered) + stats.datagramsDropped + stats.datagramsDroppedByKernel,
                       "sent \(sent.value), delivered \(delivered), \(stats)")
        XCTAssertEqual(stats.datagramsDropped, 0, "a server reading each frame drops nothing itself")
    }

    func testWhatTheKernelDropsIsCountedToo() throws {
        let server = listeningServer()
        let client = connectedClient(to: "127.0.0.1", port: server.getLocalPort())
        XCTAssertEqual(client.putPacket([0]), .ok)
        let peer = try XCTUnwrap(take(from: server))
        _ = peer.getPacket()
        // More than any socket buffer the kernel grants (rmem_max caps it), while the server does not poll.
        let payload = [UInt8](repeating: 1, count: 60000)
        var sent = 0
        for _ in 0..<400 where client.putPacket(payload) == .ok { sent += 1 }
        XCTAssertEqual(client.putPacket([2]), .ok)  // the last datagram tells the final count
        var delivered = 0
        var ended = false
        XCTAssertTrue(Support.eventually {
            _ = server.poll()
            while peer.getAvailablePacketCount() > 0 {
                if peer.getPacket().count == payload.count { delivered += 1 } else { ended = true }
            }
            return ended
        })
        let stats = server.getStats()
        XCTAssertGreaterThan(stats.datagramsDroppedByKernel, 0, "sent \(sent), delivered \(delivered)")
        XCTAssertEqual(UInt64(sent), UInt64(delivered) + stats.datagramsDroppedByKernel + stats.datagramsDropped)
    }

    func testADTLSBurstOf500WhileTheServerIsBusyArrivesWhole() throws {
        let identity = try TestIdentity.make()
        let server = try EchoServer(key: identity.key, certificate: identity.certificate)
        let client = try XCTUnwrap(connectedClients(1, to: server).first)
        let serverPeer = try XCTUnwrap(server.peers.first { $0.getStatus() == .connected })
        while serverPeer.getAvailablePacketCount() > 0 { _ = serverPeer.getPacket() }
        for index in 0..<500 {
            XCTAssertEqual(client.putPacket([UInt8](repeating: UInt8(index & 0xff), count: 1024)), .ok)
        }
        usleep(300_000)
        var received: [UInt8] = []
        XCTAssertTrue(DTLSLoopbackTests.run(within: 5, {
            _ = server.udp.poll()
            serverPeer.poll()
            while serverPeer.getAvailablePacketCount() > 0 { received.append(serverPeer.getPacket().first ?? 0) }
        }, until: { received.count == 500 }), "received \(received.count)")
        XCTAssertEqual(received, (0..<500).map { UInt8($0 & 0xff) }, "whole and in order")
        XCTAssertEqual(serverPeer.getStats().datagramsDropped, 0)
        XCTAssertEqual(server.udp.getStats().datagramsDropped, 0)
    }

    // MARK: - Replies from the address the client used

    private func assertEcho(serverAddress: String, clientHost: String, file: StaticString = #filePath,
                            line: UInt = #line) throws {
        let server = listeningServer(serverAddress, file: file, line: line)
        let client = connectedClient(to: clientHost, port: server.getLocalPort(), file: file, line: line)
        XCTAssertEqual(client.putPacket([1, 2, 3]), .ok, file: file, line: line)
        let peer = try XCTUnwrap(take(from: server, file: file, line: line), file: file, line: line)
        XCTAssertEqual(peer.getPacket(), [1, 2, 3], file: file, line: line)
        XCTAssertEqual(peer.replySourceHost, clientHost, file: file, line: line)
        XCTAssertEqual(peer.putPacket([4, 5]), .ok, file: file, line: line)
        XCTAssertEqual(Support.receive(client, file: file, line: line), [4, 5],
                       "the connected client hears the reply only if it comes from \(clientHost)",
                       file: file, line: line)
    }

    func testReplyToAClientOf127_0_0_5ComesFromThatAddress() throws {
        try assertEcho(serverAddress: "*", clientHost: "127.0.0.5")
        try assertEcho(serverAddress: "0.0.0.0", clientHost: "127.0.0.5")
    }

    func testReplyToAnIPv6ClientOnAWildcardServer() throws {
        try assertEcho(serverAddress: "*", clientHost: "::1")
        try assertEcho(serverAddress: "::", clientHost: "::1")
    }

    func testDTLSThroughAnotherAddressOfTheHostConnectsAndEchoes() throws {
        let identity = try TestIdentity.make()
        for host in ["127.0.0.5", "::1"] {
            let server = UDPServer()
            XCTAssertEqual(server.listen(port: 0, bindAddress: "*"), .ok)
            let dtls = DTLSServer()
            XCTAssertEqual(dtls.setup(key: identity.key, certificate: identity.certificate), .ok)
            let udp = connectedClient(to: host, port: server.getLocalPort())
            let client = PacketPeerDTLS()
            XCTAssertEqual(client.connectToPeer(udp, validateCerts: false), .ok)
            var peers: [PacketPeerDTLS] = []
            var echoed: [UInt8] = []
            var sent = false
            let done = DTLSLoopbackTests.run(within: 10, {
                _ = server.poll()
                while let taken = server.takeConnection() {
                    if let peer = dtls.takeConnection(taken), peer.getStatus() == .handshaking { peers.append(peer) }
                }
                for peer in peers {
                    peer.poll()
                    while peer.getAvailablePacketCount() > 0 { _ = peer.putPacket(peer.getPacket()) }
                }
                client.poll()
                if client.getStatus() == .connected && !sent { sent = client.putPacket([9, 8, 7]) == .ok }
                if client.getAvailablePacketCount() > 0 { echoed = client.getPacket() }
            }, until: { echoed == [9, 8, 7] })
            XCTAssertTrue(done, "\(host): client \(client.getStatus()) \(client.getErrorMessage())")
        }
    }

    // MARK: - stop() ends the sessions

    private func connectedClients(_ count: Int, to server: EchoServer) -> [PacketPeerDTLS] {
        let clients = (0..<count).map { _ in server.startClient() }
        XCTAssertTrue(DTLSLoopbackTests.run(within: 20, {
            server.step()
            for client in clients { client.poll() }
        }, until: {
            clients.allSatisfy { $0.getStatus() == .connected }
                && server.peers.filter { $0.getStatus() == .connected }.count == count
        }), "clients: \(clients.map { $0.getStatus() })")
        return clients
    }

    func testStopWithTenConnectedClientsDisconnectsEveryClientWithinASecond() throws {
        let identity = try TestIdentity.make()
        let server = try EchoServer(key: identity.key, certificate: identity.certificate)
        let clients = connectedClients(10, to: server)
        server.udp.stop()
        for peer in server.peers { XCTAssertEqual(peer.getStatus(), .disconnected, "a server-side peer knows at once") }
        let connectedBefore = server.peers.filter { $0.getErrorMessage().contains("close_notify was sent") }
        XCTAssertEqual(connectedBefore.count, 10, server.peers.map { $0.getErrorMessage() }.joined(separator: "; "))
        let start = MonotonicClock.milliseconds()
        XCTAssertTrue(DTLSLoopbackTests.run(within: 1, {
            for client in clients { client.poll() }
        }, until: { clients.allSatisfy { $0.getStatus() == .disconnected } }),
                      "clients: \(clients.map { $0.getStatus() })")
        XCTAssertLessThan(MonotonicClock.milliseconds() - start, 1000)
        XCTAssertTrue(clients.allSatisfy { $0.getErrorMessage().contains("close_notify") })
    }

    func testFreeingTheServerEndsItsSessionsToo() throws {
        let identity = try TestIdentity.make()
        var server: EchoServer? = try EchoServer(key: identity.key, certificate: identity.certificate)
        let clients = connectedClients(3, to: server!)
        let serverPeers = server!.peers
        server = nil  // the UDPServer goes with it; the DTLS peers are still held here
        XCTAssertTrue(serverPeers.filter { $0.getErrorMessage().contains("close_notify") }.count == 3)
        XCTAssertTrue(DTLSLoopbackTests.run(within: 1, {
            for client in clients { client.poll() }
        }, until: { clients.allSatisfy { $0.getStatus() == .disconnected } }))
    }

    // MARK: - Misuse refused

    func testTwoDTLSPeersOverOneUDPPeerAreRefused() throws {
        let identity = try TestIdentity.make()
        let server = try EchoServer(key: identity.key, certificate: identity.certificate)
        let udp = connectedClient(to: "127.0.0.1", port: server.port)
        let first = PacketPeerDTLS()
        XCTAssertEqual(first.connectToPeer(udp, validateCerts: false), .ok)
        let second = PacketPeerDTLS()
        XCTAssertEqual(second.connectToPeer(udp, validateCerts: false), .alreadyInUse)
        XCTAssertTrue(ErrorReport.message.contains("connect_to_peer: another"), ErrorReport.message)
        XCTAssertEqual(second.getStatus(), .disconnected)
        XCTAssertTrue(DTLSLoopbackTests.run(within: 10, {
            server.step()
            first.poll()
        }, until: { first.getStatus() == .connected }), "the first session is undisturbed")
        first.disconnectFromPeer()
        XCTAssertEqual(second.connectToPeer(udp, validateCerts: false), .ok, "free again once the first ended")
    }

    func testTakeConnectionTwiceWithOneUDPPeerIsRefused() throws {
        let identity = try TestIdentity.make()
        let udpServer = listeningServer()
        let dtls = DTLSServer()
        XCTAssertEqual(dtls.setup(key: identity.key, certificate: identity.certificate), .ok)
        let udp = connectedClient(to: "127.0.0.1", port: udpServer.getLocalPort())
        let client = PacketPeerDTLS()
        XCTAssertEqual(client.connectToPeer(udp, validateCerts: false), .ok)
        var accepted: (udp: PacketPeerUDP, dtls: PacketPeerDTLS)?
        XCTAssertTrue(DTLSLoopbackTests.run(within: 10, {
            _ = udpServer.poll()
            while let taken = udpServer.takeConnection() {
                if let peer = dtls.takeConnection(taken), peer.getStatus() == .handshaking { accepted = (taken, peer) }
            }
            client.poll()
        }, until: { accepted != nil }))
        let (taken, serverPeer) = try XCTUnwrap(accepted)
        XCTAssertNil(dtls.takeConnection(taken))
        XCTAssertTrue(ErrorReport.message.contains("take_connection: another"), ErrorReport.message)
        XCTAssertTrue(DTLSLoopbackTests.run(within: 10, {
            _ = udpServer.poll()
            serverPeer.poll()
            client.poll()
        }, until: { client.getStatus() == .connected && serverPeer.getStatus() == .connected }),
                      "the first handshake goes on: \(client.getErrorMessage()) \(serverPeer.getErrorMessage())")
    }

    func testPollAfterClosingTheUDPPeerUnderAConnectedClientReportsItAtOnce() throws {
        let identity = try TestIdentity.make()
        let server = try EchoServer(key: identity.key, certificate: identity.certificate)
        let udp = connectedClient(to: "127.0.0.1", port: server.port)
        let client = PacketPeerDTLS()
        XCTAssertEqual(client.connectToPeer(udp, validateCerts: false), .ok)
        XCTAssertTrue(DTLSLoopbackTests.run(within: 10, {
            server.step()
            client.poll()
        }, until: { client.getStatus() == .connected }))
        udp.close()
        XCTAssertEqual(client.poll(), .connectionError)
        XCTAssertEqual(client.getStatus(), .error)
        XCTAssertTrue(client.getErrorMessage().contains("closed"), client.getErrorMessage())
    }

    // MARK: - Variant numbering

    func testAGodot3DictionaryReadWithTheGodot4DefaultIsInvalidDataNotATransform() throws {
        let receiver = Support.boundPeer()
        let sender = connectedClient(to: "127.0.0.1", port: receiver.getLocalPort())
        let dictionary = GodotVariant.dictionary([
            GodotDictionaryEntry(.string("alpha"), .int(1)),
            GodotDictionaryEntry(.string("beta"), .string("long enough for 48 bytes")),
        ])
        // Godot 3 numbers a Dictionary 18, Godot 4's Transform3D: 12 floats it would read from these bytes.
        let bytes = try VariantEncoder.encode(dictionary, version: .godot3)
        XCTAssertEqual(bytes[0], 18)
        XCTAssertGreaterThan(bytes.count, 52)

        XCTAssertEqual(sender.godotVersion, .godot4)
        sender.setGodotVersion(.godot3)
        XCTAssertEqual(sender.putVar(dictionary), .ok)
        XCTAssertEqual(sender.putVar(dictionary), .ok)
        XCTAssertTrue(Support.eventually { receiver.getAvailablePacketCount() == 2 })
        let mismatch = receiver.getVar()
        XCTAssertEqual(mismatch.error, .invalidData)
        XCTAssertEqual(mismatch.value, .null)
        XCTAssertTrue(ErrorReport.message.contains("reads whole with Godot 3"), ErrorReport.message)
        receiver.setGodotVersion(.godot3)
        let exact = receiver.getVar()
        XCTAssertEqual(exact.error, .ok)
        XCTAssertEqual(exact.value, dictionary)
    }

    func testDecodeWholeRefusesTrailingBytesAndUnknownHeaderBits() throws {
        let int = try VariantEncoder.encode(.int(7), version: .godot4)
        XCTAssertEqual(try VariantDecoder.decodeWhole(int), .int(7))
        XCTAssertThrowsError(try VariantDecoder.decodeWhole(int + [0, 0, 0, 0])) { error in
            XCTAssertEqual((error as? VariantError)?.code, .invalidData)
            XCTAssertTrue("\(error)".contains("4 bytes follow"), "\(error)")
        }
        // Bits of the header Godot never sets (here bit 8) are refused, by get_var and bytes_to_var alike.
        XCTAssertThrowsError(try VariantDecoder.decode([2, 1, 0, 0, 7, 0, 0, 0])) { error in
            XCTAssertEqual((error as? VariantError)?.code, .invalidData)
        }
        // Godot's bytes_to_var still ignores what follows a value.
        XCTAssertEqual(try VariantDecoder.decode(int + [0, 0, 0, 0]), .int(7))
    }
}
