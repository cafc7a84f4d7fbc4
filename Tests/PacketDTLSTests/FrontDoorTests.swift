// FrontDoorTests.swift — the stateless ClientHello screen, joins, reconnects from the same address,
// and the handshake budget, over real loopback sockets.

import XCTest
@testable import PacketDTLS

/// Byte-level helpers around real ClientHellos.
enum Hellos {
    /// The first ClientHello a client sends (no cookie), caught by a plain socket.
    static func captured() throws -> [UInt8] {
        let sniffer = PacketPeerUDP()
        XCTAssertEqual(sniffer.bind(port: 0, bindAddress: "127.0.0.1"), .ok)
        let udp = PacketPeerUDP()
        XCTAssertEqual(udp.connectToHost("127.0.0.1", port: sniffer.getLocalPort()), .ok)
        let client = PacketPeerDTLS()
        XCTAssertEqual(client.connectToPeer(udp, validateCerts: false), .ok)
        XCTAssertEqual(sniffer.wait(timeoutMs: 2000), .ok)
        let hello = sniffer.getPacket()
        XCTAssertEqual(sniffer.getPacketError(), .ok)
        return hello
    }

    /// `hello` with its cookie replaced by `cookie` (lengths fixed up).
    static func with(cookie: [UInt8], _ hello: [UInt8]) throws -> [UInt8] {
        let fields = try XCTUnwrap(hello.withUnsafeBytes { ClientHelloFields.parse($0) })
        let delta = cookie.count - fields.cookie.count
        var made = Array(hello[..<(fields.cookie.lowerBound - 1)]) + [UInt8(cookie.count)] + cookie
            + Array(hello[fields.cookie.upperBound...])
        func add(_ range: Range<Int>) {
            var value = range.reduce(0) { $0 << 8 | Int(made[$1]) } + delta
            for index in range.reversed() {
                made[index] = UInt8(value & 0xFF)
                value >>= 8
            }
        }
        add(11..<13)  // record length
        add(14..<17)  // handshake length
        add(22..<25)  // fragment length
        return made
    }

    /// `hello` with a new client random, as a client that started over sends.
    static func withNewRandom(_ hello: [UInt8]) throws -> [UInt8] {
        let fields = try XCTUnwrap(hello.withUnsafeBytes { ClientHelloFields.parse($0) })
        var made = hello
        for index in fields.random { made[index] = .random(in: 0...255) }
        return made
    }
}

/// A client bound to a fixed local port (0 = any), as a game client after a restart would be.
final class PortClient {
    let udp = PacketPeerUDP()
    let dtls = PacketPeerDTLS()
    let localPort: Int

    init(serverPort: Int, localPort: Int = 0, session: ResumableSession? = nil, options: TLSOptions? = nil) {
        XCTAssertEqual(udp.bind(port: localPort, bindAddress: "127.0.0.1"), .ok, ErrorReport.message)
        self.localPort = udp.getLocalPort()
        XCTAssertEqual(udp.connectToHost("127.0.0.1", port: serverPort), .ok)
        dtls.setSession(session)
        if let options {
            XCTAssertEqual(dtls.connectToPeer(udp, hostname: "localhost", clientOptions: options), .ok)
        } else {
            XCTAssertEqual(dtls.connectToPeer(udp, validateCerts: false), .ok)
        }
    }

    /// Dies without a word: the socket goes first, so freeing the DTLS peer sends nothing.
    func crash() {
        udp.close()
    }

    func poll() { dtls.poll() }
    var connected: Bool { dtls.getStatus() == .connected }
}

final class FrontDoorTests: XCTestCase {
    private func run(within seconds: Double, _ step: () -> Void, until done: () -> Bool) -> Bool {
        DTLSLoopbackTests.run(within: seconds, step, until: done)
    }

    /// Connects `client` to `server` and echoes one packet; the milliseconds it took.
    @discardableResult
    private func connectAndEcho(_ client: PortClient, _ server: EchoServer, within seconds: Double = 5,
                                file: StaticString = #filePath, line: UInt = #line) -> Double? {
        let start = MonotonicClock.milliseconds()
        var sent = false
        var echoed = false
        let done = run(within: seconds, {
            server.step()
            client.poll()
            if client.connected {
                if !sent { sent = client.dtls.putPacket(Array("ping".utf8)) == .ok }
                while client.dtls.getAvailablePacketCount() > 0 { echoed = client.dtls.getPacket() == Array("ping".utf8) }
            }
        }, until: { echoed })
        XCTAssertTrue(done, "\(client.dtls.getStatus()): \(client.dtls.getErrorMessage())", file: file, line: line)
        return done ? Double(MonotonicClock.milliseconds() - start) : nil
    }

    /// Registers the DTLS server as the UDP server's front door the way a real loop does: one client
    /// goes through the cookie exchange and connects.
    private func warmedServer() throws -> (server: EchoServer, first: PortClient) {
        let identity = try Reliability.identity()
        let server = try EchoServer(key: identity.key, certificate: identity.certificate)
        let first = PortClient(serverPort: server.port)
        connectAndEcho(first, server)
        return (server, first)
    }

    // MARK: The stateless HelloVerifyRequest

    /// The front door's HelloVerifyRequest equals, byte for byte, the one mbedTLS's server writes
    /// for the same ClientHello (cookies compared by validity: they carry a time stamp).
    func testHelloVerifyRequestIsTheOneMbedTLSWrites() throws {
        let identity = try Reliability.identity()
        let server = try EchoServer(key: identity.key, certificate: identity.certificate)
        let hello = try Hellos.captured()
        let raw = PacketPeerUDP()
        XCTAssertEqual(raw.connectToHost("127.0.0.1", port: server.port), .ok)
        // No front door yet: the pending peer's mbedTLS context answers.
        XCTAssertEqual(raw.putPacket(hello), .ok)
        XCTAssertTrue(run(within: 2, { server.step() }, until: { raw.getAvailablePacketCount() > 0 }))
        let fromMbedTLS = raw.getPacket()
        XCTAssertEqual(server.cookieRounds, 1)
        // That take_connection made the DTLS server the UDP server's front door: now it answers.
        XCTAssertEqual(raw.putPacket(hello), .ok)
        XCTAssertTrue(run(within: 2, { server.step() }, until: { raw.getAvailablePacketCount() > 0 }))
        let fromScreen = raw.getPacket()
        XCTAssertEqual(server.cookieRounds, 1, "answered by the front door, no DTLS peer made")
        XCTAssertEqual(server.udp.helloVerifyRequestsSent, 1)
        XCTAssertEqual(fromScreen.count, fromMbedTLS.count)
        let cookieStart = fromMbedTLS.count - CookieSecret.cookieLength
        XCTAssertEqual(Array(fromScreen[..<cookieStart]), Array(fromMbedTLS[..<cookieStart]),
                       "headers: \(fromScreen.prefix(cookieStart)) vs \(fromMbedTLS.prefix(cookieStart))")
        let door = try XCTUnwrap(server.dtls.frontDoor)
        let clientID = try XCTUnwrap(SocketAddress.parse(literal: "127.0.0.1", port: UInt16(raw.getLocalPort()))).transportID
        for reply in [fromScreen, fromMbedTLS] {
            let cookie = Array(reply[cookieStart...])
            XCTAssertTrue(cookie.withUnsafeBytes { door.screen.cookies.isValid(cookie: $0, for: clientID) })
        }
    }

    /// Issue 17: 100 ClientHellos from distinct ports all get a HelloVerifyRequest in the first poll,
    /// and nothing is kept for addresses that never return a cookie.
    func testBurstOfHundredHellosIsAnsweredInOnePollAndLeavesNoState() throws {
        let (server, first) = try warmedServer()
        let hello = try Hellos.captured()
        let wrongCookie = try Hellos.with(cookie: (0..<CookieSecret.cookieLength).map { _ in .random(in: 0...255) }, hello)
        let sockets = (0..<100).map { _ in PacketPeerUDP() }
        for (index, socket) in sockets.enumerated() {
            XCTAssertEqual(socket.connectToHost("127.0.0.1", port: server.port), .ok)
            XCTAssertEqual(socket.putPacket(index % 2 == 0 ? hello : wrongCookie), .ok)
        }
        let routesBefore = server.udp.routeCount
        XCTAssertEqual(server.udp.poll(), .ok)
        XCTAssertEqual(server.udp.helloVerifyRequestsSent, 100)
        var answered = 0
        XCTAssertTrue(run(within: 2, {}, until: {
            answered = sockets.filter { $0.getAvailablePacketCount() > 0 }.count
            return answered == 100
        }), "\(answered) of 100 answered")
        for socket in sockets {
            let reply = socket.getPacket()
            XCTAssertEqual(reply.count > 25 ? reply[13] : 0, ClientHelloFields.helloVerifyRequestType)
        }
        XCTAssertEqual(server.udp.pendingConnectionCount, 0)
        XCTAssertEqual(server.udp.routeCount, routesBefore, "no route for an address that sent no cookie")
        XCTAssertEqual(server.dtls.handshakesInFlight, 0)
        XCTAssertEqual(server.udp.droppedDatagrams, 0)
        XCTAssertTrue(first.connected)
    }

    // MARK: Shedding under a flood (HelloShedding)

    /// A join storm's backlog (1,000 cookie-less hellos waiting at once, as a tick server finds them)
    /// is answered in full: no hello of it is shed.
    func testAJoinStormBacklogIsAnsweredInFull() throws {
        let (server, first) = try warmedServer()
        let hello = try Hellos.captured()
        let sockets = (0..<100).map { _ in PacketPeerUDP() }
        for socket in sockets { XCTAssertEqual(socket.connectToHost("127.0.0.1", port: server.port), .ok) }
        for _ in 0..<10 {
            for socket in sockets { XCTAssertEqual(socket.putPacket(hello), .ok) }
        }
        let use = try XCTUnwrap(server.udp.sharedSocket?.receiveBufferUse())
        try XCTSkipIf(use.used * HelloShedding.pressureFraction >= use.limit,
                      "a receive buffer of \(use.limit) bytes is too small for a backlog of 1,000 hellos")
        let answeredBefore = server.udp.helloVerifyRequestsSent
        XCTAssertEqual(server.udp.poll(), .ok)
        XCTAssertEqual(server.udp.helloVerifyRequestsSent - answeredBefore, 1000)
        XCTAssertEqual(server.udp.helloesShedCount, 0)
        XCTAssertEqual(server.udp.helloAnswerShare, HelloShedding.scale)
        XCTAssertEqual(server.udp.droppedDatagrams, 0)
        XCTAssertTrue(first.connected)
    }

    /// Sends cookie-less hellos from 100 ports, a round at a time, until the server's socket holds
    /// half its buffer (at most 40,000): the hello, the flood's sockets and how many were sent.
    private func floodPastHalfTheBuffer(of server: EchoServer) throws
        -> (hello: [UInt8], sockets: [PacketPeerUDP], sent: Int) {
        let hello = try Hellos.captured()
        let sockets = (0..<100).map { _ in PacketPeerUDP() }
        for socket in sockets { XCTAssertEqual(socket.connectToHost("127.0.0.1", port: server.port), .ok) }
        var sent = 0
        while sent < 40_000 {
            for socket in sockets { XCTAssertEqual(socket.putPacket(hello), .ok) }
            sent += sockets.count
            if let use = server.udp.sharedSocket?.receiveBufferUse(), use.used * 2 >= use.limit { break }
        }
        return (hello, sockets, sent)
    }

    /// A backlog of cookie-less hellos past a quarter of the socket's buffer (a flood the server did not keep
    /// up with): some go unanswered, counted as dropped, a connected client's record queued behind
    /// them is served, and once the flood is over every hello is answered again.
    func testAFloodPastAQuarterOfTheBufferIsShedAndTheRealClientIsServed() throws {
        let (server, first) = try warmedServer()
        let (hello, _, sent) = try floodPastHalfTheBuffer(of: server)
        XCTAssertEqual(first.dtls.putPacket(Array("ping".utf8)), .ok)
        let answeredBefore = server.udp.helloVerifyRequestsSent
        var echoed = false
        XCTAssertTrue(run(within: 10, {
            server.step()
            first.poll()
            while first.dtls.getAvailablePacketCount() > 0 { echoed = first.dtls.getPacket() == Array("ping".utf8) }
        }, until: { echoed }))
        XCTAssertTrue(run(within: 5, { server.step() }, until: { server.udp.sharedSocket?.receiveBufferUse()?.used == 0 }))
        let answered = server.udp.helloVerifyRequestsSent - answeredBefore
        let shed = server.udp.helloesShedCount
        let kernelDrops = Int(server.udp.getStats().datagramsDroppedByKernel)
        XCTAssertGreaterThan(shed, 0, "\(sent) hellos sent")
        XCTAssertGreaterThan(answered, 0)
        XCTAssertEqual(answered + shed + kernelDrops, sent)
        XCTAssertEqual(server.udp.droppedDatagrams, shed)
        XCTAssertEqual(server.udp.pendingConnectionCount, 0)
        XCTAssertTrue(first.connected)
        // The flood is over: drained polls bring the share back to every hello.
        XCTAssertTrue(run(within: 3, { server.step() }, until: { server.udp.helloAnswerShare == HelloShedding.scale }))
        let fresh = PacketPeerUDP()
        XCTAssertEqual(fresh.connectToHost("127.0.0.1", port: server.port), .ok)
        let before = server.udp.helloVerifyRequestsSent
        XCTAssertEqual(fresh.putPacket(hello), .ok)
        XCTAssertTrue(run(within: 2, { server.step() }, until: { fresh.getAvailablePacketCount() > 0 }))
        XCTAssertEqual(server.udp.helloVerifyRequestsSent, before + 1)
    }

    /// A flood from a hundred sources, each sending hundreds of hellos: once the server sheds, it
    /// counts the sources, tells the flood by its repeating ones and stays under it (repeating sources
    /// get HelloShedding.repeatingShare); a real client's hello is still answered; and wait() lets
    /// the flood gather for floodGatherMs rather than waking for each datagram.
    func testAFloodOfRepeatingSourcesIsToldApartAndGathered() throws {
        let (server, first) = try warmedServer()
        let (hello, sockets, _) = try floodPastHalfTheBuffer(of: server)
        // Reading the backlog sheds, and the sources, each past freshLimit, make it a flood.
        XCTAssertTrue(run(within: 10, { server.step() }, until: {
            server.udp.countsHelloSources && server.udp.sharedSocket?.receiveBufferUse()?.used == 0
        }))
        let answeredBefore = server.udp.helloVerifyRequestsSent
        for _ in 0..<10 {
            for socket in sockets { XCTAssertEqual(socket.putPacket(hello), .ok) }
        }
        let newcomer = PacketPeerUDP()
        XCTAssertEqual(newcomer.connectToHost("127.0.0.1", port: server.port), .ok)
        XCTAssertEqual(newcomer.putPacket(hello), .ok)
        XCTAssertTrue(run(within: 2, { server.step() }, until: { newcomer.getAvailablePacketCount() > 0 }),
                      "the newcomer's hello is answered")
        XCTAssertTrue(server.udp.countsHelloSources, "still under the flood")
        // 1,000 hellos from 100 repeating sources: the newcomer's answer, each source's first freshLimit
        // if a new window began meanwhile, and a sixty-fourth of the rest (rounding: one more).
        let answered = server.udp.helloVerifyRequestsSent - answeredBefore
        let bound = 1 + 100 * Int(HelloSourceSketch.freshLimit) + 1000 * HelloShedding.repeatingShare / HelloShedding.scale + 1
        XCTAssertLessThanOrEqual(answered, bound)
        // Drained, under the flood: wait() takes at least floodGatherMs although a hello waits.
        XCTAssertTrue(run(within: 2, { server.step() }, until: { server.udp.sharedSocket?.receiveBufferUse()?.used == 0 }))
        XCTAssertEqual(sockets[0].putPacket(hello), .ok)
        let start = MonotonicClock.milliseconds()
        XCTAssertEqual(server.udp.wait(timeoutMs: 1000), .ok)
        let waited = MonotonicClock.milliseconds() - start
        if server.udp.countsHelloSources {
            XCTAssertGreaterThanOrEqual(waited, UInt64(UDPServer.floodGatherMs), "gathered")
        }
        XCTAssertTrue(first.connected)
    }

    /// Issue 14: on a wildcard socket the front door's batched answers (sendmmsg) each leave from the
    /// address their hello was sent to: connected clients of 127.0.0.5 and ::1 hear them, in one poll.
    func testBatchedAnswersOnAWildcardServerComeFromTheAddressTheClientUsed() throws {
        let identity = try TestIdentity.make()
        let server = UDPServer()
        XCTAssertEqual(server.listen(port: 0, bindAddress: "*"), .ok)
        let dtls = DTLSServer()
        XCTAssertEqual(dtls.setup(key: identity.key, certificate: identity.certificate), .ok)
        // One client connects: its take_connection makes the DTLS server the front door.
        let udp = PacketPeerUDP()
        XCTAssertEqual(udp.connectToHost("127.0.0.1", port: server.getLocalPort()), .ok)
        let client = PacketPeerDTLS()
        XCTAssertEqual(client.connectToPeer(udp, validateCerts: false), .ok)
        var peers: [PacketPeerDTLS] = []
        XCTAssertTrue(run(within: 10, {
            _ = server.poll()
            while let taken = server.takeConnection() {
                if let peer = dtls.takeConnection(taken), peer.getStatus() == .handshaking { peers.append(peer) }
            }
            for peer in peers { peer.poll() }
            client.poll()
        }, until: { client.getStatus() == .connected }), "\(client.getStatus()) \(client.getErrorMessage())")
        XCTAssertNotNil(dtls.frontDoor)
        let hello = try Hellos.captured()
        let before = server.helloVerifyRequestsSent
        let sockets = (0..<24).map { index in
            let socket = PacketPeerUDP()
            XCTAssertEqual(socket.connectToHost(index % 2 == 0 ? "127.0.0.5" : "::1", port: server.getLocalPort()), .ok)
            return socket
        }
        for socket in sockets { XCTAssertEqual(socket.putPacket(hello), .ok) }
        XCTAssertEqual(server.poll(), .ok)
        XCTAssertEqual(server.helloVerifyRequestsSent - before, sockets.count, "answered in one poll")
        XCTAssertTrue(run(within: 2, {}, until: { sockets.allSatisfy { $0.getAvailablePacketCount() > 0 } }),
                      "\(sockets.filter { $0.getAvailablePacketCount() > 0 }.count) of \(sockets.count) heard their answer")
        let door = try XCTUnwrap(dtls.frontDoor)
        for (index, socket) in sockets.enumerated() {
            let reply = socket.getPacket()
            XCTAssertEqual(reply.count, 13 + 12 + 3 + CookieSecret.cookieLength)
            XCTAssertEqual(reply.count > 25 ? reply[13] : 0, ClientHelloFields.helloVerifyRequestType)
            XCTAssertEqual(socket.getPacketIP(), index % 2 == 0 ? "127.0.0.5" : "::1")
            // The cookie is bound to the client's own address (127.0.0.1 reaches 127.0.0.5 on loopback).
            let clientID = try XCTUnwrap(SocketAddress.parse(literal: index % 2 == 0 ? "127.0.0.1" : "::1",
                                                             port: UInt16(socket.getLocalPort()))).transportID
            let cookie = Array(reply.suffix(CookieSecret.cookieLength))
            XCTAssertTrue(cookie.withUnsafeBytes { door.screen.cookies.isValid(cookie: $0, for: clientID) })
        }
        XCTAssertEqual(server.routeCount, 1, "nothing kept for the hellos")
    }

    /// Issue 17: a join burst larger than max_pending_connections costs no client a retransmission.
    func testJoinBurstBeyondMaxPendingNeedsNoRetransmission() throws {
        let (server, _) = try warmedServer()
        XCTAssertEqual(server.udp.maxPendingConnections, 16)
        let joiners = Reliability.knob("JOINERS", 40)
        let start = MonotonicClock.milliseconds()
        let clients = (0..<joiners).map { _ in PortClient(serverPort: server.port) }
        XCTAssertTrue(run(within: 20, {
            server.step()
            for client in clients { client.poll() }
        }, until: { clients.allSatisfy(\.connected) }), "\(clients.filter(\.connected).count) of \(joiners) connected")
        Reliability.figure("join burst (\(joiners) clients at once, max_pending_connections 16, one process)",
                           "all CONNECTED in \(MonotonicClock.milliseconds() - start) ms")
        let retransmissions = clients.map { $0.dtls.getStats().handshakeRetransmissions }.reduce(0, +)
        XCTAssertEqual(retransmissions, 0, "no client waited for its retransmission timer")
        XCTAssertEqual(server.udp.droppedDatagrams, 0)
        XCTAssertEqual(server.dtls.handshakesInFlight, 0, "every handshake gave its place back")
    }

    // MARK: Reconnecting from the same address (issue 18)

    /// A client dies without close_notify; a new one on the same port is CONNECTED and echoing within
    /// 1.5 s, and the old server peer ends DISCONNECTED saying the client reconnected.
    func testReconnectFromTheSameAddressAndPort() throws {
        let (server, first) = try warmedServer()
        let oldPeer = try XCTUnwrap(server.peers.last)
        XCTAssertEqual(oldPeer.getStatus(), .connected)
        first.crash()
        let second = PortClient(serverPort: server.port, localPort: first.localPort)
        let ms = try XCTUnwrap(connectAndEcho(second, server, within: 5))
        XCTAssertLessThan(ms, 1500, "reconnected in \(ms) ms")
        Reliability.figure("reconnect from the same address and port (default timers)", "CONNECTED and echoing in \(Int(ms)) ms")
        XCTAssertEqual(second.dtls.getStats().handshakeRetransmissions, 0)
        XCTAssertEqual(oldPeer.getStatus(), .disconnected)
        XCTAssertTrue(oldPeer.getErrorMessage().contains("reconnected"), oldPeer.getErrorMessage())
        XCTAssertEqual(server.dtls.handshakesInFlight, 0)
    }

    /// The same while the old server peer is still HANDSHAKING (the client gave up after the cookie).
    func testReconnectWhileTheOldPeerIsHandshaking() throws {
        let (server, _) = try warmedServer()
        let first = PortClient(serverPort: server.port)
        XCTAssertTrue(run(within: 5, { server.step(); first.poll() },
                          until: { server.peers.count == 2 }))
        let oldPeer = try XCTUnwrap(server.peers.last)
        XCTAssertEqual(oldPeer.getStatus(), .handshaking)
        first.crash()
        let second = PortClient(serverPort: server.port, localPort: first.localPort)
        let ms = try XCTUnwrap(connectAndEcho(second, server, within: 5))
        XCTAssertLessThan(ms, 1500, "reconnected in \(ms) ms")
        XCTAssertEqual(oldPeer.getStatus(), .disconnected)
        XCTAssertTrue(oldPeer.getErrorMessage().contains("reconnected"), oldPeer.getErrorMessage())
    }

    /// disconnect_from_peer() and at once connect_to_peer() on the same socket: connected under 100 ms.
    func testReconnectRightAfterDisconnectFromPeer() throws {
        let (server, first) = try warmedServer()
        var times: [Double] = []
        for _ in 0..<5 {
            first.dtls.disconnectFromPeer()
            let start = MonotonicClock.milliseconds()
            XCTAssertEqual(first.dtls.connectToPeer(first.udp, validateCerts: false), .ok)
            XCTAssertTrue(run(within: 5, { server.step(); first.poll() }, until: { first.connected }),
                          first.dtls.getErrorMessage())
            times.append(Double(MonotonicClock.milliseconds() - start))
        }
        Reliability.figure("disconnect_from_peer then connect_to_peer on the same socket", "CONNECTED in \(times.map { Int($0) }) ms")
        XCTAssertLessThan(times.sorted()[2], 100, "median reconnect after disconnect: \(times) ms")
        XCTAssertLessThan(times.max() ?? 0, 1000, "no reconnect waited for a retransmission: \(times) ms")
    }

    /// A client that saved its session resumes it from the same port after a crash.
    func testResumptionFromTheSamePort() throws {
        let (server, first) = try warmedServer()
        let saved = try XCTUnwrap(first.dtls.getSession())
        let oldPeer = try XCTUnwrap(server.peers.last)
        first.crash()
        let second = PortClient(serverPort: server.port, localPort: first.localPort, session: saved)
        let ms = try XCTUnwrap(connectAndEcho(second, server, within: 5))
        XCTAssertLessThan(ms, 1500)
        XCTAssertTrue(second.dtls.isSessionResumed())
        XCTAssertEqual(oldPeer.getStatus(), .disconnected)
    }

    /// Through a proxy dropping 20% each way: the reconnect succeeds in at least 9 of 10 seeds.
    func testReconnectThroughTwentyPercentLoss() throws {
        var succeeded = 0
        var failures: [String] = []
        for seed in UInt64(1)...10 {
            let server = try ReliableServer()
            let proxy = LossyProxy(serverPort: server.port, seed: seed, both: .none)
            // The default timers' pattern (1 s doubling to 60 s: seven tries) scaled down tenfold.
            let options = Reliability.clientOptions(minMs: 100, maxMs: 6000)
            let first = PortClient(serverPort: proxy.port, options: options)
            XCTAssertTrue(Reliability.run(within: 10, { proxy.pump(); server.step(); first.poll() },
                                          until: { first.connected }))
            proxy.setFaults(.loss(20))
            first.crash()
            let second = PortClient(serverPort: proxy.port, localPort: first.localPort, options: options)
            var echoed = false
            _ = Reliability.run(within: 20, {
                proxy.pump()
                server.step()
                second.poll()
                if second.connected {
                    _ = second.dtls.putPacket(Array("ping".utf8))
                    while second.dtls.getAvailablePacketCount() > 0 { echoed = echoed || second.dtls.getPacket() == Array("ping".utf8) }
                }
            }, until: { echoed })
            if echoed { succeeded += 1 } else {
                failures.append("seed \(seed): \(second.dtls.getStatus()) \(second.dtls.getErrorMessage()), "
                                + "\(second.dtls.getStats().handshakeRetransmissions) retransmissions")
            }
        }
        Reliability.figure("reconnect through 20% loss", "\(succeeded)/10 seeds"
                           + (failures.isEmpty ? "" : "; failed: \(failures.joined(separator: "; "))"))
        XCTAssertGreaterThanOrEqual(succeeded, 9, "\(failures)")
    }

    /// 1,000 spoofed epoch-0 ClientHellos (no cookie, a wrong one, a replayed valid one) from a live
    /// session's own address leave it CONNECTED and exchanging data.
    func testSpoofedHellosFromALiveSessionsAddressChangeNothing() throws {
        let (server, first) = try warmedServer()
        let peer = try XCTUnwrap(server.peers.last)
        let hello = try Hellos.captured()
        let wrong = try Hellos.with(cookie: (0..<CookieSecret.cookieLength).map { _ in .random(in: 0...255) }, hello)
        let truncated = Array(hello.prefix(60))
        var echoes = 0
        for index in 0..<1000 {
            // Sent from the client's own socket: the server cannot tell them from the client's.
            let spoof = [hello, wrong, truncated][index % 3]
            XCTAssertEqual(first.udp.putPacket(spoof), .ok)
            if index % 50 == 49 {
                XCTAssertEqual(first.dtls.putPacket(Array("ping".utf8)), .ok)
                let before = echoes
                XCTAssertTrue(run(within: 2, {
                    server.step()
                    first.poll()
                    while first.dtls.getAvailablePacketCount() > 0 { if first.dtls.getPacket() == Array("ping".utf8) { echoes += 1 } }
                }, until: { echoes > before }), "echo \(index / 50) lost: \(first.dtls.getStatus()) \(first.dtls.getErrorMessage())")
            }
        }
        XCTAssertEqual(echoes, 20)
        XCTAssertEqual(peer.getStatus(), .connected, peer.getErrorMessage())
        XCTAssertTrue(first.connected)
        XCTAssertEqual(server.peers.count, 1, "no new connection was made")
        XCTAssertEqual(server.dtls.handshakesInFlight, 0)
    }

    // MARK: A server peer on its own connected socket

    /// A server over a PacketPeerUDP connected to one client (no UDPServer): the session's own screen
    /// answers spoofed hellos and sees the reconnect; the app takes the connection again.
    func testReconnectOnAConnectedServerSocket() throws {
        let identity = try Reliability.identity()
        let dtls = DTLSServer()
        XCTAssertEqual(dtls.setup(key: identity.key, certificate: identity.certificate), .ok)
        let serverUDP = PacketPeerUDP()
        XCTAssertEqual(serverUDP.bind(port: 0, bindAddress: "127.0.0.1"), .ok)
        let first = PortClient(serverPort: serverUDP.getLocalPort())
        XCTAssertEqual(serverUDP.connectToHost("127.0.0.1", port: first.localPort), .ok)
        var serverPeer: PacketPeerDTLS?
        /// The app's loop: take a connection while none handshakes, poll, echo.
        func step() {
            if serverPeer == nil || serverPeer!.getStatus() == .disconnected {
                if serverUDP.getAvailablePacketCount() > 0 { serverPeer = dtls.takeConnection(serverUDP) }
            }
            guard let peer = serverPeer else { return }
            peer.poll()
            while peer.getStatus() == .connected, peer.getAvailablePacketCount() > 0 { _ = peer.putPacket(peer.getPacket()) }
        }
        XCTAssertTrue(run(within: 5, { step(); first.poll() }, until: { first.connected }))
        let oldPeer = try XCTUnwrap(serverPeer)
        // Spoofed hellos from the client's address change nothing.
        let hello = try Hellos.captured()
        for _ in 0..<200 { XCTAssertEqual(first.udp.putPacket(hello), .ok) }
        XCTAssertEqual(first.dtls.putPacket(Array("ping".utf8)), .ok)
        var echoed = false
        XCTAssertTrue(run(within: 3, {
            step()
            first.poll()
            while first.dtls.getAvailablePacketCount() > 0 { echoed = first.dtls.getPacket() == Array("ping".utf8) }
        }, until: { echoed }))
        XCTAssertTrue(oldPeer === serverPeer)
        XCTAssertEqual(oldPeer.getStatus(), .connected)
        // The client restarts on the same port.
        first.crash()
        let second = PortClient(serverPort: serverUDP.getLocalPort(), localPort: first.localPort)
        let start = MonotonicClock.milliseconds()
        echoed = false
        XCTAssertTrue(run(within: 5, {
            step()
            second.poll()
            if second.connected, second.dtls.getStats().packetsSent == 0 { _ = second.dtls.putPacket(Array("ping".utf8)) }
            while second.dtls.getAvailablePacketCount() > 0 { echoed = second.dtls.getPacket() == Array("ping".utf8) }
        }, until: { echoed }), "\(second.dtls.getStatus()) \(second.dtls.getErrorMessage())")
        XCTAssertLessThan(MonotonicClock.milliseconds() - start, 1500)
        XCTAssertEqual(oldPeer.getStatus(), .disconnected)
        XCTAssertTrue(oldPeer.getErrorMessage().contains("reconnected"), oldPeer.getErrorMessage())
        XCTAssertFalse(oldPeer === serverPeer, "the app took the new connection")
    }

    // MARK: Handshakes in flight (issue 20)

    /// take_connection on a connected socket beyond the cap: a peer in ERROR that says which cap,
    /// and the place is free again once the held handshake ends.
    func testTakeConnectionOnASocketBeyondTheCapIsRefused() throws {
        let identity = try Reliability.identity()
        let dtls = DTLSServer()
        XCTAssertEqual(dtls.setup(key: identity.key, certificate: identity.certificate), .ok)
        XCTAssertEqual(dtls.setHandshakeLimits(HandshakeLimits(maxInFlight: 1, maxPerAddress: 0, deadlineMs: 0)), .ok)
        func serverSocket(for client: PortClient, _ socket: PacketPeerUDP) {
            XCTAssertEqual(socket.connectToHost("127.0.0.1", port: client.localPort), .ok)
        }
        let sockets = [PacketPeerUDP(), PacketPeerUDP()]
        for socket in sockets { XCTAssertEqual(socket.bind(port: 0, bindAddress: "127.0.0.1"), .ok) }
        let first = PortClient(serverPort: sockets[0].getLocalPort())
        serverSocket(for: first, sockets[0])
        var held: PacketPeerDTLS?
        XCTAssertTrue(run(within: 5, {
            if sockets[0].getAvailablePacketCount() > 0, held?.getStatus() != .handshaking {
                held = dtls.takeConnection(sockets[0])
            }
            if held?.getStatus() != .handshaking { first.poll() }
        }, until: { held?.getStatus() == .handshaking }))
        XCTAssertEqual(dtls.handshakesInFlight, 1)
        let second = PortClient(serverPort: sockets[1].getLocalPort())
        serverSocket(for: second, sockets[1])
        XCTAssertTrue(run(within: 2, {}, until: { sockets[1].getAvailablePacketCount() > 0 }))
        let refused = try XCTUnwrap(dtls.takeConnection(sockets[1]))
        XCTAssertEqual(refused.getStatus(), .error)
        XCTAssertTrue(refused.getErrorMessage().contains("in flight"), refused.getErrorMessage())
        held?.disconnectFromPeer()
        XCTAssertEqual(dtls.handshakesInFlight, 0, "the ended handshake gave its place back")
        let taken = try XCTUnwrap(dtls.takeConnection(sockets[1]))
        XCTAssertNotEqual(taken.getStatus(), .error, taken.getErrorMessage())
    }

    func testHandshakeLimitsAreValidated() {
        let dtls = DTLSServer()
        XCTAssertEqual(dtls.handshakeLimits, HandshakeLimits())
        XCTAssertEqual(dtls.setHandshakeLimits(HandshakeLimits(maxInFlight: -1)), .invalidParameter)
        XCTAssertEqual(dtls.handshakeLimits, HandshakeLimits())
        XCTAssertEqual(dtls.setHandshakeLimits(HandshakeLimits(maxInFlight: 3, maxPerAddress: 2, deadlineMs: 500)), .ok)
        XCTAssertEqual(dtls.handshakeLimits.maxPerAddress, 2)
    }

    /// Stalled clients (they pass the cookie, then fall silent): the per-address cap holds back the
    /// third, and the deadline ends the stalled ones long before mbedTLS's own timeout.
    func testStalledHandshakesAreCappedPerAddressAndEndAtTheDeadline() throws {
        let (server, _) = try warmedServer()
        XCTAssertEqual(server.dtls.setHandshakeLimits(HandshakeLimits(maxInFlight: 10, maxPerAddress: 2,
                                                                      deadlineMs: 400)), .ok)
        let stalled = (0..<3).map { _ in PortClient(serverPort: server.port) }
        // Each client answers the HelloVerifyRequest, then stops.
        XCTAssertTrue(run(within: 3, {
            server.step()
            for client in stalled where client.dtls.getStats().datagramsSent < 2 { client.poll() }
        }, until: { stalled.allSatisfy { $0.dtls.getStats().datagramsSent >= 2 } }))
        XCTAssertTrue(run(within: 1, { server.step() }, until: { server.udp.droppedDatagrams >= 1 }))
        XCTAssertEqual(server.dtls.handshakesInFlight, 2, "the third client's hello found the per-address cap")
        let start = MonotonicClock.milliseconds()
        XCTAssertTrue(run(within: 3, { server.step() }, until: { server.dtls.handshakesInFlight == 0 }))
        XCTAssertLessThan(MonotonicClock.milliseconds() - start, 1500)
        let ended = server.peers.filter { $0.getErrorMessage().hasPrefix("handshake deadline") }
        XCTAssertEqual(ended.count, 2, server.peers.map { $0.getErrorMessage() }.joined(separator: "; "))
        // A real client still gets in.
        connectAndEcho(PortClient(serverPort: server.port), server)
    }
}
