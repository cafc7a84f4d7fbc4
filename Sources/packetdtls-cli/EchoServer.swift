// EchoServer.swift — the serve loop: one UDPServer socket, one DTLSServer, many sessions.
//
// The loop follows Godot's DTLSServer example: poll the UDPServer, hand each new UDP peer to
// DTLSServer.takeConnection, keep the peers that are HANDSHAKING, poll every peer, and echo what
// arrives. An idle loop waits on the UDPServer's socket (UDPServer.wait) for at most 1 ms between
// polls (5 ms after a second without traffic), so timers still run: a datagram or a signal ends the
// wait at once, and under a flood the loop never sleeps while datagrams wait.

import PacketDTLS

final class EchoServer {
    /// One client's DTLS session and what the log says about it.
    private final class Session {
        let label: String
        let peer: PacketPeerDTLS
        var status: DTLSStatus
        let startedMs = Clock.nowMs()
        var echoed = 0
        var dropped = 0

        init(label: String, peer: PacketPeerDTLS) {
            self.label = label
            self.peer = peer
            self.status = peer.getStatus()
        }
    }

    private let udp = UDPServer()
    private let dtls = DTLSServer()
    private let options: TLSOptions
    private let log: Log
    /// Keyed by the client's "ip:port", the same text the log uses.
    private var sessions: [String: Session] = [:]
    private var listeningOn = ""

    init(options: TLSOptions, log: Log) {
        self.options = options
        self.log = log
    }

    // MARK: Starting

    /// Sets up the DTLS identity and binds the socket; every failure is a sentence for the user.
    /// With `keyFile` the cookie and ticket keys come from it; with `reusePort` the port may be
    /// shared with other servers (SO_REUSEPORT).
    func listen(port: Int, bindAddress: String, maxPending: Int, keyFile: String? = nil,
                reusePort: Bool = false, handshakeThreads: Int = 0) throws(CLIFailure) {
        if let keyFile, dtls.loadKeys(path: keyFile) != .ok {
            throw .tls("cannot use the key file: \(ErrorReport.message)")
        }
        guard dtls.setup(serverOptions: options) == .ok else {
            throw .tls("cannot set up the DTLS server: \(ErrorReport.message)")
        }
        // This loop keeps no tick: it reads and echoes. Its handshake threads run at its own priority,
        // so that other busy processes (a flood's, say) do not starve them while the loop sleeps.
        dtls.setHandshakeThreadsNice(0)
        try HandshakeThreadsOption.apply(handshakeThreads, to: dtls)
        if reusePort, udp.setReusePort(true) != .ok {
            throw .network("cannot share the port: \(ErrorReport.message)")
        }
        let where_ = bindAddress == "*" ? "*:\(port)" : Endpoint.label(host: bindAddress, port: port)
        switch udp.listen(port: port, bindAddress: bindAddress) {
        case .ok:
            break
        case .invalidParameter:
            throw .usage("cannot listen on \(where_): \(ErrorReport.message)")
        default:
            let reason = ErrorReport.message
            if reason.contains("in use") {
                throw .network("cannot listen on \(where_): UDP port \(port) is already in use (\(reason))")
            }
            throw .network("cannot listen on \(where_): \(reason)")
        }
        guard udp.setMaxPendingConnections(maxPending) == .ok else {
            throw .usage("--max-pending: \(ErrorReport.message)")
        }
        let localPort = udp.getLocalPort()
        listeningOn = bindAddress == "*" ? "*:\(localPort)" : Endpoint.label(host: bindAddress, port: localPort)
        log.always("listening on \(listeningOn) (DTLS 1.2 echo; Ctrl-C stops)")
    }

    // MARK: The loop

    /// Runs until SIGINT or SIGTERM, then closes every session with close_notify. With `keyFile`,
    /// SIGHUP loads it again (a rotated file: sessions of the previous keys still resume).
    func run(keyFile: String? = nil) {
        var idleSinceMs = Clock.nowMs()
        if keyFile != nil { ReloadSignal.install() }
        while !StopSignal.isRequested {
            if let keyFile, ReloadSignal.take() {
                if dtls.loadKeys(path: keyFile) == .ok {
                    log.always("SIGHUP: loaded the keys in \(keyFile)")
                } else {
                    log.always("error: SIGHUP: kept the keys: \(ErrorReport.message)")
                }
            }
            if step() {
                idleSinceMs = Clock.nowMs()
            } else {
                // Sleeps on the socket: a datagram (or a signal) ends the wait at once.
                _ = udp.wait(timeoutMs: Clock.nowMs() - idleSinceMs > 1000 ? 5 : 1)
            }
        }
        shutDown()
    }

    /// One round: route datagrams, accept new clients, poll every session. True when something
    /// happened (a new client, a packet, a status change), so the loop does not sleep yet.
    private func step() -> Bool {
        var busy = false
        if udp.poll() != .ok {
            log.always("error: UDP poll on \(listeningOn) failed: \(ErrorReport.message)")
        }
        while let client = udp.takeConnection() {
            busy = true
            accept(client)
        }
        for session in Array(sessions.values) {
            let wasHandshaking = session.status == .handshaking
            if pollSession(session) { busy = true }
            // A handshake step may take milliseconds of public-key work (without handshake threads):
            // the socket is read again after each, so that under a flood it does not overflow meanwhile
            // and drop real clients' datagrams with the flood's.
            if wasHandshaking { _ = udp.poll() }
        }
        return busy
    }

    private func accept(_ client: PacketPeerUDP) {
        let label = Self.label(of: client)
        guard let peer = dtls.takeConnection(client) else {
            log.always("\(label) error: cannot start a session: \(ErrorReport.message)")
            return
        }
        // Without a valid cookie the client was sent a HelloVerifyRequest; it comes back as a new
        // connection with the cookie, and only that one is kept (Godot's "50% of new connections").
        guard peer.getStatus() == .handshaking else { return }
        if let previous = sessions[label] {
            log.info("\(label) new handshake replaces the previous session")
            previous.peer.disconnectFromPeer()
        }
        sessions[label] = Session(label: label, peer: peer)
        log.info("\(label) connect: handshake started")
    }

    /// Polls one session, echoes its packets and logs status changes. True when anything happened.
    private func pollSession(_ session: Session) -> Bool {
        let peer = session.peer
        peer.poll()
        let status = peer.getStatus()
        var busy = false
        if status != session.status {
            busy = true
            report(session, from: session.status, to: status)
            session.status = status
        }
        while peer.getAvailablePacketCount() > 0 {
            busy = true
            let packet = peer.getPacket()
            guard peer.getPacketError() == .ok else { break }
            if peer.putPacket(packet) == .ok {
                session.echoed += 1
            } else {
                session.dropped += 1
                log.info("\(session.label) echo of \(packet.count) bytes dropped: \(ErrorReport.message)")
            }
        }
        if status != .handshaking && status != .connected {
            sessions[session.label] = sessions[session.label] === session ? nil : sessions[session.label]
        }
        return busy
    }

    private func report(_ session: Session, from old: DTLSStatus, to new: DTLSStatus) {
        let label = session.label
        let elapsed = Clock.nowMs() - session.startedMs
        switch new {
        case .connected:
            let resumed = session.peer.isSessionResumed() ? " (resumed)" : ""
            log.info("\(label) handshake ok in \(elapsed) ms: \(session.peer.getCipherSuite())\(resumed)")
        case .disconnected:
            let why = session.peer.getErrorMessage()
            log.info("\(label) disconnect: \(why.isEmpty ? "session closed" : why); \(counts(session))")
        case .error, .errorHostnameMismatch:
            let what = old == .handshaking ? "handshake failed" : "error"
            log.always("\(label) \(what): \(session.peer.getErrorMessage()); \(counts(session))")
        default:
            break
        }
    }

    private func counts(_ session: Session) -> String {
        let dropped = session.dropped > 0 ? ", \(session.dropped) dropped" : ""
        return "\(session.echoed) packet\(session.echoed == 1 ? "" : "s") echoed\(dropped)"
    }

    // MARK: Stopping

    private func shutDown() {
        let open = sessions.values.filter { $0.status == .connected || $0.status == .handshaking }
        log.always("\(StopSignal.name): closing \(open.count) session\(open.count == 1 ? "" : "s") with close_notify")
        for session in open {
            let wasConnected = session.status == .connected
            session.peer.disconnectFromPeer()
            if wasConnected { log.info("\(session.label) disconnect: closed by the server; \(counts(session))") }
        }
        sessions = [:]
        dtls.stop()
        udp.stop()
        let dropped = udp.droppedDatagrams
        log.always("stopped" + (dropped > 0 ? " (\(dropped) datagrams dropped while pending queues were full)" : ""))
    }

    /// The client's "ip:port" from its transport identity (the last two bytes are the port).
    private static func label(of client: PacketPeerUDP) -> String {
        guard let remote = client.remoteIdentity, remote.transportID.count >= 2 else { return "?" }
        let bytes = remote.transportID.suffix(2)
        let port = Int(bytes[bytes.startIndex]) << 8 | Int(bytes[bytes.startIndex + 1])
        return Endpoint.label(host: remote.host, port: port)
    }
}
