// HandshakeWorkersTests.swift — DTLSServer.setHandshakeThreads: every status path of a handshake that
// runs on the server's worker threads, over real UDP sockets on 127.0.0.1.

import XCTest
@testable import PacketDTLS

final class HandshakeWorkersTests: XCTestCase {
    /// A UDPServer + DTLSServer with workers; `take()` returns the server peers that are HANDSHAKING.
    private final class Server {
        let udp = UDPServer()
        var dtls: DTLSServer? = DTLSServer()

        init(options: TLSOptions, threads: Int = 2) {
            XCTAssertEqual(udp.listen(port: 0, bindAddress: "127.0.0.1"), .ok)
            XCTAssertEqual(dtls?.setup(serverOptions: options), .ok, ErrorReport.message)
            XCTAssertEqual(dtls?.setHandshakeThreads(threads), .ok, ErrorReport.message)
        }

        var port: Int { udp.getLocalPort() }

        func take() -> [PacketPeerDTLS] {
            udp.poll()
            var taken: [PacketPeerDTLS] = []
            while let peer = udp.takeConnection() {
                guard let dtlsPeer = dtls?.takeConnection(peer) else { continue }
                // take_connection answers at once: HANDSHAKING, or not kept after the cookie exchange.
                XCTAssertTrue([.handshaking, .disconnected].contains(dtlsPeer.getStatus()))
                if dtlsPeer.getStatus() == .handshaking { taken.append(dtlsPeer) }
            }
            return taken
        }
    }

    private static func client(port: Int, hostname: String = "", options: TLSOptions = .clientUnsafe())
        -> PacketPeerDTLS {
        let udp = PacketPeerUDP()
        XCTAssertEqual(udp.connectToHost("127.0.0.1", port: port), .ok)
        let client = PacketPeerDTLS()
        XCTAssertEqual(client.connectToPeer(udp, hostname: hostname, clientOptions: options), .ok)
        return client
    }

    private static func serverOptions(_ identity: (key: CryptoKey, certificate: X509Certificate)) -> TLSOptions {
        TLSOptions.server(key: identity.key, certificate: identity.certificate)
    }

    /// Steps the client and the server until the client leaves HANDSHAKING; returns the server peers taken.
    private static func handshake(_ client: PacketPeerDTLS, _ server: Server, pollServerPeers: Bool = true,
                                  within seconds: Double = 10) -> [PacketPeerDTLS] {
        var peers: [PacketPeerDTLS] = []
        _ = DTLSLoopbackTests.run(within: seconds, {
            peers += server.take()
            if pollServerPeers { for peer in peers { peer.poll() } }
            client.poll()
        }, until: { client.getStatus() != .handshaking })
        return peers
    }

    private static func settle(_ peer: PacketPeerDTLS, server: Server, within seconds: Double = 10) {
        _ = DTLSLoopbackTests.run(within: seconds, { server.udp.poll(); peer.poll() },
                                  until: { peer.getStatus() != .handshaking })
    }

    func testThreadCountsAreChecked() throws {
        let server = DTLSServer()
        XCTAssertEqual(server.getHandshakeThreads(), 0, "Godot's way by default")
        XCTAssertEqual(server.setHandshakeThreads(-2), .invalidParameter)
        XCTAssertTrue(ErrorReport.message.contains("set_handshake_threads"), ErrorReport.message)
        XCTAssertEqual(server.setHandshakeThreads(DTLSServer.maxHandshakeThreads + 1), .invalidParameter)
        XCTAssertEqual(server.setHandshakeThreads(-1), .ok)
        XCTAssertGreaterThanOrEqual(server.getHandshakeThreads(), 1, "one per core")
        XCTAssertEqual(server.setHandshakeThreads(3), .ok)
        XCTAssertEqual(server.getHandshakeThreads(), 3)
        XCTAssertEqual(server.setHandshakeThreads(0), .ok)
        XCTAssertEqual(server.getHandshakeThreads(), 0)
    }

    /// The workers run setHandshakeThreadsNice nicer than the thread that starts them: 10 by default, 0
    /// for a loop with no tick to keep; a new value restarts running workers; outside 0...19 is refused.
    func testWorkersRunAtTheNiceTheyWereGiven() throws {
        let server = DTLSServer()
        XCTAssertEqual(server.getHandshakeThreadsNice(), 10)
        XCTAssertEqual(server.setHandshakeThreadsNice(-1), .invalidParameter)
        XCTAssertTrue(ErrorReport.message.contains("set_handshake_threads_nice"), ErrorReport.message)
        XCTAssertEqual(server.setHandshakeThreadsNice(DTLSServer.maxHandshakeThreadsNice + 1), .invalidParameter)
        XCTAssertEqual(server.getHandshakeThreadsNice(), 10, "a refused value changes nothing")
        errno = 0
        let base = getpriority(PRIORITY_PROCESS, 0)
        try XCTSkipIf(errno != 0 || base > 9, "this thread's nice (\(base)) leaves no room to see 10 more")
        XCTAssertEqual(server.setHandshakeThreads(1), .ok)
        XCTAssertTrue(DTLSLoopbackTests.run(within: 5, { usleep(1000) }, until: { server.handshakeWorkers?.workerNice == base + 10 }),
                      "worker nice \(String(describing: server.handshakeWorkers?.workerNice)), expected \(base + 10)")
        XCTAssertEqual(server.setHandshakeThreadsNice(0), .ok)
        XCTAssertEqual(server.getHandshakeThreads(), 1, "restarted with the new value")
        XCTAssertTrue(DTLSLoopbackTests.run(within: 5, { usleep(1000) }, until: { server.handshakeWorkers?.workerNice == base }),
                      "worker nice \(String(describing: server.handshakeWorkers?.workerNice)), expected \(base)")
        XCTAssertEqual(server.setHandshakeThreads(0), .ok)
        XCTAssertEqual(server.setHandshakeThreadsNice(5), .ok, "without workers: kept for the next ones")
        XCTAssertEqual(server.getHandshakeThreads(), 0)
    }

    /// The workers finish the server's side with nobody polling the server peer: the client connects
    /// while the peer stays HANDSHAKING, and the peer's first poll after that makes it CONNECTED.
    func testWorkerCompletesTheHandshakeWithoutTheCallersPoll() throws {
        let identity = try TestIdentity.make()
        let server = Server(options: Self.serverOptions(identity))
        let client = Self.client(port: server.port)
        let peers = Self.handshake(client, server, pollServerPeers: false)
        XCTAssertEqual(client.getStatus(), .connected, client.getErrorMessage())
        XCTAssertEqual(peers.count, 1)
        let peer = try XCTUnwrap(peers.first)
        XCTAssertEqual(peer.getStatus(), .handshaking, "the status changes only in poll()")
        // The worker hands the session back a moment after its last flight left.
        Self.settle(peer, server: server)
        XCTAssertEqual(peer.getStatus(), .connected, peer.getErrorMessage())
        XCTAssertEqual(peer.getCipherSuite(), client.getCipherSuite())
        // Connected: data both ways, driven by this thread alone.
        XCTAssertEqual(client.putPacket(Array("ping".utf8)), .ok)
        _ = DTLSLoopbackTests.run({ server.udp.poll(); peer.poll() }, until: { peer.getAvailablePacketCount() > 0 })
        XCTAssertEqual(peer.getPacket(), Array("ping".utf8))
        XCTAssertEqual(peer.putPacket(Array("pong".utf8)), .ok)
        _ = DTLSLoopbackTests.run({ client.poll() }, until: { client.getAvailablePacketCount() > 0 })
        XCTAssertEqual(client.getPacket(), Array("pong".utf8))
    }

    /// With workers, take_connection of a ClientHello with a valid cookie checks the cookie and goes:
    /// the session's mbedTLS context and record buffers are set up on a worker, which also reads the
    /// hello. Without workers the caller's thread sets it up, as Godot does.
    func testTakeConnectionLeavesTheSessionSetUpToAWorker() throws {
        let identity = try TestIdentity.make()
        for threads in [2, 0] {
            let server = Server(options: Self.serverOptions(identity), threads: threads)
            for round in 0..<3 {
                // The first client's cookie round goes through take_connection; later ones the front door answers.
                let client = Self.client(port: server.port)
                let peers = Self.handshake(client, server)
                XCTAssertEqual(client.getStatus(), .connected, client.getErrorMessage())
                let peer = try XCTUnwrap(peers.first)
                Self.settle(peer, server: server)
                XCTAssertEqual(peer.getStatus(), .connected, peer.getErrorMessage())
                let setUpHere = peer.withSession { session in session.map { pthread_equal($0.setUpThread, pthread_self()) != 0 } }
                XCTAssertEqual(setUpHere, threads == 0, "\(threads) threads, round \(round)")
            }
        }
    }

    /// The same over a transport without a front door (an in-memory link): take_connection reads the
    /// first datagram and checks its cookie itself. A cookie-less hello is answered at once
    /// (DISCONNECTED, set up and judged by mbedTLS here); the verified one goes to a worker.
    func testTakeConnectionChecksTheCookieAndLeavesTheSetUpToAWorker() throws {
        let pair = MemoryPair(server: MemoryPair.server(for: try TestIdentity.make()))
        let (server, link, client) = (pair.server, pair.link, pair.client)
        XCTAssertEqual(server.setHandshakeThreads(1), .ok)
        let first = try XCTUnwrap(server.takeConnection(link.server))
        XCTAssertEqual(first.getStatus(), .disconnected)
        XCTAssertTrue(first.getErrorMessage().contains("HelloVerifyRequest"), first.getErrorMessage())
        XCTAssertEqual(link.client.pending, 1, "the HelloVerifyRequest went out")
        client.poll()
        let second = try XCTUnwrap(server.takeConnection(link.server))
        XCTAssertEqual(second.getStatus(), .handshaking, "status known at once")
        XCTAssertEqual(link.server.pending, 0, "the hello was read here, for the worker")
        let connected = DTLSLoopbackTests.run(within: 10, { client.poll(); second.poll() },
                                              until: { client.getStatus() != .handshaking && second.getStatus() != .handshaking })
        XCTAssertTrue(connected)
        XCTAssertEqual(second.getStatus(), .connected, second.getErrorMessage())
        XCTAssertEqual(client.getStatus(), .connected, client.getErrorMessage())
        let setUpHere = second.withSession { session in session.map { pthread_equal($0.setUpThread, pthread_self()) != 0 } }
        XCTAssertEqual(setUpHere, false, "the session was set up on the worker")
    }

    func testSeedsExampleWithWorkers() throws {
        let identity = try TestIdentity.make()
        let server = try EchoServer(key: identity.key, certificate: identity.certificate)
        XCTAssertEqual(server.dtls.setHandshakeThreads(2), .ok)
        server.reply = { _ in Array("Hello DTLS client".utf8) }
        var replies: [String] = []
        for _ in 0..<3 {
            let client = server.startClient()
            var sent = false
            var reply = ""
            let done = DTLSLoopbackTests.run({
                server.step()
                client.poll()
                if client.getStatus() == .connected {
                    if !sent { sent = client.putPacket(Array("The answer is... 42!".utf8)) == .ok }
                    while client.getAvailablePacketCount() > 0 { reply = String(decoding: client.getPacket(), as: UTF8.self) }
                }
            }, until: { !reply.isEmpty })
            XCTAssertTrue(done, client.getErrorMessage())
            replies.append(reply)
        }
        XCTAssertEqual(replies, Array(repeating: "Hello DTLS client", count: 3))
        // The first client's cookie round comes back from take_connection (DISCONNECTED); after it the
        // UDPServer answers cookie-less hellos itself (the front door).
        XCTAssertEqual(server.cookieRounds + server.udp.helloVerifyRequestsSent, 3,
                       "every client went through the cookie exchange")
    }

    /// The server requires client certificates from one authority; a client presents another: the
    /// verification runs on a worker and the server peer ends in ERROR with the reason.
    func testBadClientCertificateFailsOnTheWorker() throws {
        let identity = try TestIdentity.make()
        let authority = try TestIdentity.make(cn: "authority")
        let stranger = try TestIdentity.make(cn: "stranger")
        let options = Self.serverOptions(identity)
        XCTAssertEqual(options.setClientCertificateMode(.require, authorities: authority.certificate), .ok)
        let server = Server(options: options)
        let clientOptions = TLSOptions.clientUnsafe()
        XCTAssertEqual(clientOptions.setClientCertificate(key: stranger.key, certificate: stranger.certificate), .ok)
        let client = Self.client(port: server.port, options: clientOptions)
        let peers = Self.handshake(client, server)
        let peer = try XCTUnwrap(peers.first)
        Self.settle(peer, server: server)
        XCTAssertEqual(peer.getStatus(), .error)
        XCTAssertTrue(peer.getErrorMessage().contains("certificate verification failed"), peer.getErrorMessage())
        XCTAssertNotEqual(peer.getVerifyFlags(), 0)
        XCTAssertEqual(client.getStatus(), .error, "the server's alert ends the client too")
    }

    /// The client refuses the server's certificate (wrong name): the client reports the mismatch and
    /// the server peer, on its worker, receives the alert.
    func testHostnameMismatchReachesTheServerPeer() throws {
        let identity = try TestIdentity.make()
        let server = Server(options: Self.serverOptions(identity))
        let client = Self.client(port: server.port, hostname: "wrong.example",
                                 options: .client(trustedChain: identity.certificate))
        let peers = Self.handshake(client, server)
        XCTAssertEqual(client.getStatus(), .errorHostnameMismatch, client.getErrorMessage())
        let peer = try XCTUnwrap(peers.first)
        Self.settle(peer, server: server)
        XCTAssertEqual(peer.getStatus(), .error)
        XCTAssertTrue(peer.getErrorMessage().contains("fatal alert"), peer.getErrorMessage())
    }

    /// The client stops answering after its ClientHello with cookie: the worker's retransmission timer
    /// runs out and the peer ends in ERROR with the handshake timeout.
    func testVanishedClientTimesOutOnTheWorker() throws {
        let identity = try TestIdentity.make()
        let options = Self.serverOptions(identity)
        XCTAssertEqual(options.setHandshakeTimeout(minMs: 50, maxMs: 400), .ok)
        let server = Server(options: options)
        var client: PacketPeerDTLS? = Self.client(port: server.port)
        var peers: [PacketPeerDTLS] = []
        // The client stops polling the moment its ClientHello with cookie is taken: it never answers.
        _ = DTLSLoopbackTests.run({
            peers += server.take()
            if peers.isEmpty { client?.poll() }
        }, until: { !peers.isEmpty })
        XCTAssertEqual(client?.getStatus(), .handshaking)
        client = nil  // gone without a word
        let peer = try XCTUnwrap(peers.first)
        Self.settle(peer, server: server)
        XCTAssertEqual(peer.getStatus(), .error)
        XCTAssertTrue(peer.getErrorMessage().contains("handshake timeout"), peer.getErrorMessage())
    }

    /// Server peers freed (or disconnected) while their handshake is on a worker: no crash, the
    /// UDPServer forgets them, and the next client still connects.
    func testPeerFreedMidHandshake() throws {
        let identity = try TestIdentity.make()
        let server = Server(options: Self.serverOptions(identity))
        for round in 0..<20 {
            let client = Self.client(port: server.port)
            var peers: [PacketPeerDTLS] = []
            _ = DTLSLoopbackTests.run({ peers += server.take(); client.poll() }, until: { !peers.isEmpty })
            if round % 2 == 0 {
                peers.first?.disconnectFromPeer()
                XCTAssertEqual(peers.first?.getStatus(), .disconnected)
            }
            peers.removeAll()  // freed, maybe while a worker steps it
            client.disconnectFromPeer()
        }
        let client = Self.client(port: server.port)
        let peers = Self.handshake(client, server)
        XCTAssertEqual(client.getStatus(), .connected, client.getErrorMessage())
        let peer = try XCTUnwrap(peers.last)
        Self.settle(peer, server: server)
        XCTAssertEqual(peer.getStatus(), .connected, peer.getErrorMessage())
    }

    /// The DTLSServer freed while a handshake is on its worker: the handshake finishes there and the
    /// peer connects; the threads end after it.
    func testServerFreedMidHandshake() throws {
        let identity = try TestIdentity.make()
        let server = Server(options: Self.serverOptions(identity))
        let client = Self.client(port: server.port)
        var peers: [PacketPeerDTLS] = []
        _ = DTLSLoopbackTests.run({ peers += server.take(); client.poll() }, until: { !peers.isEmpty })
        weak var freed = server.dtls
        server.dtls = nil
        XCTAssertNil(freed, "nothing but the caller held the server")
        let peer = try XCTUnwrap(peers.first)
        _ = DTLSLoopbackTests.run({ server.udp.poll(); peer.poll(); client.poll() },
                                  until: { peer.getStatus() != .handshaking && client.getStatus() != .handshaking })
        XCTAssertEqual(client.getStatus(), .connected, client.getErrorMessage())
        XCTAssertEqual(peer.getStatus(), .connected, peer.getErrorMessage())
    }

    /// The workers are threads of their own: once the server is freed and its last handshake is done,
    /// every one of them ends.
    func testWorkerThreadsEndAfterTheServerIsFreed() throws {
        func threads() -> Int { (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count) ?? 0 }
        let identity = try TestIdentity.make()
        // Workers of servers freed by earlier tests may still be finishing: start from a steady count.
        var last = -1, steadySince = MonotonicClock.milliseconds()
        _ = DTLSLoopbackTests.run({
            let now = threads()
            if now != last { (last, steadySince) = (now, MonotonicClock.milliseconds()) }
        }, until: { MonotonicClock.milliseconds() - steadySince >= 200 })
        let before = threads()
        do {
            let server = Server(options: Self.serverOptions(identity), threads: 4)
            XCTAssertGreaterThanOrEqual(threads(), before + 4)
            let clients = (0..<3).map { _ in Self.client(port: server.port) }
            var peers: [PacketPeerDTLS] = []
            _ = DTLSLoopbackTests.run({
                peers += server.take()
                for client in clients { client.poll() }
            }, until: { peers.count == clients.count })
            server.dtls = nil  // freed with handshakes on its workers
            _ = DTLSLoopbackTests.run({ server.udp.poll(); for end in peers + clients { end.poll() } },
                                      until: { peers.allSatisfy { $0.getStatus() != .handshaking } })
        }
        let ended = DTLSLoopbackTests.run(within: 3, { usleep(1000) }, until: { threads() <= before })
        XCTAssertTrue(ended, "\(threads() - before) worker threads still run")
    }

    /// A burst of handshakes: every one connects, and every server peer's poll stays cheap because
    /// the public-key work is elsewhere.
    func testManyClientsWithWorkers() throws {
        let identity = try TestIdentity.make()
        let server = Server(options: Self.serverOptions(identity))
        XCTAssertEqual(server.udp.setMaxPendingConnections(64), .ok)
        let clients = (0..<16).map { _ in Self.client(port: server.port) }
        var peers: [PacketPeerDTLS] = []
        let done = DTLSLoopbackTests.run(within: 30, {
            peers += server.take()
            for peer in peers { peer.poll() }
            for client in clients { client.poll() }
        }, until: { peers.filter { $0.getStatus() == .connected }.count == clients.count })
        XCTAssertTrue(done, "\(peers.filter { $0.getStatus() == .connected }.count) of \(clients.count) connected")
        XCTAssertTrue(clients.allSatisfy { $0.getStatus() == .connected })
    }

    // MARK: What the caller's poll() judges, judged on the worker too

    /// Runs the server side of a handshake over a UDP peer of its own (bound, connected to the client:
    /// a transport that hears ICMP refusals), the client freed (its port closed) once the server holds
    /// its ClientHello with cookie. Returns the server peer once it left HANDSHAKING.
    private static func refusedHandshake(threads: Int) throws -> PacketPeerDTLS {
        let identity = try TestIdentity.make()
        let options = serverOptions(identity)
        // Retransmit soon, and let mbedTLS's own timeout come long after the refusals.
        XCTAssertEqual(options.setHandshakeTimeout(minMs: 100, maxMs: 20_000), .ok)
        let dtls = DTLSServer()
        XCTAssertEqual(dtls.setup(serverOptions: options), .ok, ErrorReport.message)
        XCTAssertEqual(dtls.setHandshakeThreads(threads), .ok)
        var clientUDP: PacketPeerUDP? = PacketPeerUDP()
        XCTAssertEqual(clientUDP?.bind(port: 0, bindAddress: "127.0.0.1"), .ok)
        let serverUDP = PacketPeerUDP()
        XCTAssertEqual(serverUDP.bind(port: 0, bindAddress: "127.0.0.1"), .ok)
        XCTAssertEqual(serverUDP.connectToHost("127.0.0.1", port: clientUDP?.getLocalPort() ?? 0), .ok)
        XCTAssertEqual(clientUDP?.connectToHost("127.0.0.1", port: serverUDP.getLocalPort()), .ok)
        var client: PacketPeerDTLS? = PacketPeerDTLS()
        XCTAssertEqual(client?.connectToPeer(clientUDP!, hostname: "", clientOptions: .clientUnsafe()), .ok)
        // take_connection on the same UDP peer until a ClientHello with cookie is taken.
        var peer: PacketPeerDTLS?
        let taken = DTLSLoopbackTests.run({
            client?.poll()
            let next = dtls.takeConnection(serverUDP)
            if next?.getStatus() == .handshaking { peer = next }
        }, until: { peer != nil })
        XCTAssertTrue(taken, "no ClientHello with cookie was taken")
        client = nil
        clientUDP = nil  // the port is closed: the server's flights are refused
        let server = try XCTUnwrap(peer)
        let ended = DTLSLoopbackTests.run(within: 15, { server.poll() }, until: { server.getStatus() != .handshaking })
        XCTAssertTrue(ended, "still HANDSHAKING")
        return server
    }

    /// A refused client (ICMP port unreachable on the server's own connected socket) ends a handshake
    /// on a worker as it ends one in the caller's poll(): one retransmission, then ERROR, same sentence.
    func testRefusedClientEndsTheHandshakeOnTheWorker() throws {
        let start = MonotonicClock.milliseconds()
        let onWorker = try Self.refusedHandshake(threads: 2)
        let elapsed = MonotonicClock.milliseconds() - start
        XCTAssertEqual(onWorker.getStatus(), .error)
        XCTAssertTrue(onWorker.getErrorMessage().hasPrefix("connection refused: nothing listens on 127.0.0.1 port"),
                      onWorker.getErrorMessage())
        XCTAssertLessThan(elapsed, 10_000, "ended by the refusals, not by mbedTLS's 20 s timeout")
        let onCaller = try Self.refusedHandshake(threads: 0)
        XCTAssertEqual(onCaller.getStatus(), .error)
        XCTAssertTrue(onCaller.getErrorMessage().hasPrefix("connection refused: nothing listens on 127.0.0.1 port"),
                      onCaller.getErrorMessage())
    }

    /// A client that stops answering after its ClientHello with cookie, under a server whose handshake
    /// deadline (300 ms) comes long before mbedTLS's timeout. `pollEarly`: the peer is polled all along;
    /// otherwise only once the deadline has passed by a margin.
    private static func deadlineHandshake(threads: Int, pollEarly: Bool) throws -> (PacketPeerDTLS, UInt64) {
        let identity = try TestIdentity.make()
        let options = serverOptions(identity)
        XCTAssertEqual(options.setHandshakeTimeout(minMs: 50, maxMs: 20_000), .ok)
        let server = Server(options: options, threads: threads)
        XCTAssertEqual(server.dtls?.setHandshakeLimits(HandshakeLimits(deadlineMs: 300)), .ok)
        let client = Self.client(port: server.port)
        var peers: [PacketPeerDTLS] = []
        _ = DTLSLoopbackTests.run({
            peers += server.take()
            if peers.isEmpty { client.poll() }
        }, until: { !peers.isEmpty })
        let start = MonotonicClock.milliseconds()
        let peer = try XCTUnwrap(peers.first)
        if !pollEarly {
            _ = DTLSLoopbackTests.run({ server.udp.poll() }, until: { MonotonicClock.milliseconds() - start >= 800 })
        }
        let ended = DTLSLoopbackTests.run({ server.udp.poll(); peer.poll() }, until: { peer.getStatus() != .handshaking })
        XCTAssertTrue(ended, "still HANDSHAKING")
        XCTAssertEqual(client.getStatus(), .handshaking, "the client, never polled, is still waiting")
        return (peer, MonotonicClock.milliseconds() - start)
    }

    /// The handshake deadline ends a handshake on a worker at the deadline, with the caller's sentence.
    func testDeadlineEndsTheHandshakeOnTheWorker() throws {
        let expected = "handshake deadline: the client did not complete its handshake within 300 ms"
        let (polled, elapsed) = try Self.deadlineHandshake(threads: 2, pollEarly: true)
        XCTAssertEqual(polled.getStatus(), .error)
        XCTAssertTrue(polled.getErrorMessage().hasPrefix(expected), polled.getErrorMessage())
        XCTAssertGreaterThanOrEqual(elapsed, 290, "not before the deadline")
        XCTAssertLessThan(elapsed, 5_000, "at the deadline, not at mbedTLS's 20 s timeout")
        // Nobody polls the peer: the worker ends the job itself at the deadline and hands the session
        // back with its figures (the flight it sent), so the first poll after it says ERROR.
        let (unpolled, _) = try Self.deadlineHandshake(threads: 2, pollEarly: false)
        XCTAssertEqual(unpolled.getStatus(), .error)
        XCTAssertTrue(unpolled.getErrorMessage().hasPrefix(expected), unpolled.getErrorMessage())
        XCTAssertGreaterThan(unpolled.getStats().datagramsSent, 0, "the worker, not the poll, ended it")
        let (onCaller, _) = try Self.deadlineHandshake(threads: 0, pollEarly: true)
        XCTAssertEqual(onCaller.getErrorMessage(), polled.getErrorMessage(), "the same sentence on both paths")
    }

    /// UDPServer.stop() while handshakes are on workers, some of them being stepped at that moment: each
    /// peer is DISCONNECTED at its next poll with the caller's sentence, the workers let go of every job
    /// (their threads end once the DTLSServer is freed), and the next server works.
    func testUDPServerStopEndsHandshakesOnWorkers() throws {
        func threads() -> Int { (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count) ?? 0 }
        let identity = try TestIdentity.make()
        for round in 0..<6 {
            let server = Server(options: Self.serverOptions(identity), threads: 2)
            XCTAssertEqual(server.udp.setMaxPendingConnections(64), .ok)
            let clients = (0..<4).map { _ in Self.client(port: server.port) }
            var peers: [PacketPeerDTLS] = []
            _ = DTLSLoopbackTests.run({
                peers += server.take()
                for client in clients { client.poll() }
            }, until: { peers.count == clients.count })
            XCTAssertEqual(peers.count, clients.count)
            // Odd rounds: the clients' flights are under way, so workers are stepping as stop() comes.
            if round % 2 == 1 { for _ in 0..<3 { for client in clients { client.poll() }; usleep(300) } }
            server.udp.stop()
            for peer in peers {
                peer.poll()
                XCTAssertEqual(peer.getStatus(), .disconnected, "round \(round): \(peer.getErrorMessage())")
                XCTAssertEqual(peer.getErrorMessage(), "the UDPServer stopped during the handshake")
            }
            // The workers let go: freed, the DTLSServer's threads end although nobody polls again.
            let before = threads()
            server.dtls = nil
            let ended = DTLSLoopbackTests.run(within: 5, { usleep(1000) }, until: { threads() <= before - 2 })
            XCTAssertTrue(ended, "round \(round): the workers still hold a job")
            peers.removeAll()
        }
        // The caller's path says the same.
        let server = Server(options: Self.serverOptions(identity), threads: 0)
        let client = Self.client(port: server.port)
        var peers: [PacketPeerDTLS] = []
        _ = DTLSLoopbackTests.run({ peers += server.take(); client.poll() }, until: { !peers.isEmpty })
        server.udp.stop()
        let peer = try XCTUnwrap(peers.first)
        peer.poll()
        XCTAssertEqual(peer.getStatus(), .disconnected)
        XCTAssertEqual(peer.getErrorMessage(), "the UDPServer stopped during the handshake")
    }

    /// A client that restarts on the same address and port while its old handshake is on a worker: the
    /// front door routes it to a new peer, and the old one ends DISCONNECTED saying so, as on the
    /// caller's thread (before, the worker's next step failed on the detached transport: ERROR).
    func testReconnectWhileTheOldHandshakeIsOnAWorker() throws {
        let identity = try TestIdentity.make()
        let server = try EchoServer(key: identity.key, certificate: identity.certificate)
        XCTAssertEqual(server.dtls.setHandshakeThreads(2), .ok)
        let warm = PortClient(serverPort: server.port)
        XCTAssertTrue(DTLSLoopbackTests.run({ server.step(); warm.poll() }, until: { warm.connected }))
        let first = PortClient(serverPort: server.port)
        XCTAssertTrue(DTLSLoopbackTests.run({ server.step(); first.poll() }, until: { server.peers.count == 2 }))
        let oldPeer = try XCTUnwrap(server.peers.last)
        XCTAssertEqual(oldPeer.getStatus(), .handshaking)
        first.crash()
        let second = PortClient(serverPort: server.port, localPort: first.localPort)
        XCTAssertTrue(DTLSLoopbackTests.run({ server.step(); second.poll() },
                                            until: { second.connected && oldPeer.getStatus() != .handshaking }),
                      "\(second.dtls.getStatus()), old peer \(oldPeer.getStatus())")
        XCTAssertEqual(oldPeer.getStatus(), .disconnected, oldPeer.getErrorMessage())
        XCTAssertEqual(oldPeer.getErrorMessage(), PacketPeerDTLS.reconnectReason)
    }
}
