// PacketPeerDTLS.swift — Godot's PacketPeerDTLS: one DTLS session over a connected UDP peer.

internal import CMbedTLS
import Synchronization

/// A DTLS client (connectToPeer) or the server side of one client (DTLSServer.takeConnection).
///
/// Status runs DISCONNECTED -> HANDSHAKING -> CONNECTED. close_notify from the peer makes it
/// DISCONNECTED; a fatal alert, a failed verification, a timeout or a transport failure makes it
/// ERROR (or ERROR_HOSTNAME_MISMATCH), always with a reason in `getErrorMessage()`. When a
/// session ends its mbedTLS context is freed at once, so ended peers cost next to nothing.
public final class PacketPeerDTLS: @unchecked Sendable {
    // The idle fast path: a connected server-side peer that a full poll left with nothing to do stays
    // "quiet" until its transport delivers a datagram or its idle deadline comes; poll() then returns
    // from these atomics alone, touching no other object (docs/PERFORMANCE.md, idle peers). They come
    // first so that they share a cache line with the object header.
    /// Bumped by the transport for every datagram it queues for this peer.
    private let arrivals = Atomic<UInt64>(0)
    private let quiet = Atomic<Bool>(false)
    private let quietArrivals = Atomic<UInt64>(0)
    private let quietUntilMs = Atomic<UInt64>(0)
    /// Set by the transport when this server-side peer's client reconnected (see clientReconnected()).
    private let reconnectedByClient = Atomic<Bool>(false)
    /// True when the transport reports every arrival (server-taken UDP peers).
    @exclusivity(unchecked) private var arrivalsObserved = false
    /// `arrivals` as the last poll that read records saw it: when it has moved since, a datagram came
    /// and the poll reads without asking the transport first (see pollConnected).
    @exclusivity(unchecked) private var arrivalsWhenRead: UInt64 = 0

    let lock = Lock()
    /// PacketPeer's encode_buffer_max_size (read and set through PacketPeer, no lock needed).
    let encodeBufferMaxSizeSetting = Atomic<Int>(EncodeBufferSize.godotDefault)
    /// put_var / get_var's Variant numbering when given none: 3 or 4 (see PacketPeer.godotVersion).
    let godotVersionSetting = Atomic<Int>(GodotVersion.godot4.rawValue)
    // Every stored `var` below is touched under `lock` only: @exclusivity(unchecked), see Lock.
    @exclusivity(unchecked) private var status: DTLSStatus = .disconnected
    @exclusivity(unchecked) private var session: DTLSSession? {
        didSet { unretainedSession = session.map { Unmanaged.passUnretained($0) } }
    }
    /// `session` without a reference count, for calls that cannot end it (get_packet, the packet
    /// count, a put_packet up to a failed write): a retain and release fewer each (docs/PERFORMANCE.md).
    @exclusivity(unchecked) private var unretainedSession: Unmanaged<DTLSSession>?
    @exclusivity(unchecked) private var isServerSide = false
    @exclusivity(unchecked) private var inbox = DecryptedPackets()
    @exclusivity(unchecked) private var lastPacketError: GodotError = .ok
    @exclusivity(unchecked) private var errorMessage = ""
    @exclusivity(unchecked) private var cipherSuite = ""
    @exclusivity(unchecked) private var idleTimeoutMs: UInt32 = 0
    @exclusivity(unchecked) private var expectedName = ""
    /// A session to offer on the next connect (client side).
    @exclusivity(unchecked) private var sessionToResume: ResumableSession?
    @exclusivity(unchecked) private var resumed = false
    @exclusivity(unchecked) private var alpnProtocol = ""
    @exclusivity(unchecked) private var verifyFlags: UInt32 = 0
    @exclusivity(unchecked) private var lastAlert: UInt8?
    @exclusivity(unchecked) private var handshakeStartMs: UInt64 = 0
    @exclusivity(unchecked) private var counters = Stats()
    /// The handshake while a DTLSServer's worker runs it (then `session` is nil); see HandshakeWorkers.
    @exclusivity(unchecked) private var handshakeJob: HandshakeJob?
    /// Server side: this handshake's place in its server's budget, held until the handshake ends.
    @exclusivity(unchecked) private var handshakeSlot: HandshakeSlot?
    /// Server side: the handshake fails when not complete this many ms after it began; 0 = never.
    @exclusivity(unchecked) private var handshakeDeadlineMs: UInt64 = 0
    /// Keepalives, and whether ICMP refusals mean the other end is gone.
    @exclusivity(unchecked) private var liveness = SessionLiveness()
    /// An idle session's saved state while its mbedTLS context is freed (SessionHibernation.swift).
    @exclusivity(unchecked) private var hibernation = PeerHibernation()

    /// Records decrypted per poll at most, so one poll stays bounded under a flood.
    static let recordsPerPoll = 4096

    public init() {}

    deinit {
        handshakeJob?.cancel()
        // Under our lock: a stopping server that holds it (PacketPeerUDP.endSessionForStoppedServer)
        // finishes first. The goodbye below needs the session's keys: a sleeping session wakes.
        // The transport does not retain its DTLS peer: detach before going.
        lock.withLock {
            if hibernation.isHibernated { wakeFromHibernation() }
            session?.transport.detachDTLSPeer(self)
        }
        // Freeing a connected peer says goodbye, as disconnect_from_peer() would.
        if status == .connected { session?.sendCloseNotify() }
        if isServerSide { session?.transport.sessionEnded() }
    }

    // MARK: Connecting (client side)

    /// Godot 3.x connect_to_peer. With `validateCerts` the server's chain is verified against
    /// `validCertificate` (nil = the system CA bundle) and its name against `forHostname` (empty =
    /// the address the UDP peer is connected to). Without it nothing is verified.
    public func connectToPeer(_ packetPeer: DatagramTransport, validateCerts: Bool = true, forHostname: String = "",
                              validCertificate: X509Certificate? = nil) -> GodotError {
        let options = validateCerts ? TLSOptions.client(trustedChain: validCertificate) : TLSOptions.clientUnsafe()
        return connectToPeer(packetPeer, hostname: forHostname, clientOptions: options)
    }

    /// Godot 4.x connect_to_peer. `clientOptions` nil means `TLSOptions.client()`.
    public func connectToPeer(_ packetPeer: DatagramTransport, hostname: String,
                              clientOptions: TLSOptions? = nil) -> GodotError {
        lock.withLock {
            guard status != .handshaking, status != .connected else {
                return ErrorReport.fail(.alreadyInUse, "connect_to_peer: this DTLS peer is already \(status)")
            }
            guard packetPeer.isConnectedToPeer, let remote = packetPeer.remoteIdentity else {
                return ErrorReport.fail(.invalidParameter,
                                        "connect_to_peer: the UDP peer must be connected first (connect_to_host)")
            }
            let options = clientOptions ?? TLSOptions.client()
            let configuration: DTLSConfiguration
            do throws(Failure) {
                configuration = try DTLSConfiguration.client(options: options)
            } catch {
                return error.report()
            }
            let attachment = packetPeer.attachDTLSPeer(self)
            guard attachment != .inUse else { return Self.refuseSharedTransport("connect_to_peer") }
            let override = options.commonNameOverride
            let name = !override.isEmpty ? override : (!hostname.isEmpty ? hostname : remote.host)
            let isAddress = PeerNameCheck.ipAddressBytes(hostname) != nil
            do throws(Failure) {
                session = try DTLSSession(configuration: configuration, transport: packetPeer,
                                          expectedName: configuration.verifiesName ? name : nil,
                                          sniName: hostname.isEmpty || isAddress ? nil : hostname)
            } catch {
                packetPeer.detachDTLSPeer(self)
                return error.report()
            }
            if let saved = sessionToResume, session?.offer(saved) == false {
                ErrorReport.set("connect_to_peer: the saved session could not be offered; a full handshake follows")
            }
            begin(serverSide: false, expectedName: name, tuning: configuration.tuning, transport: packetPeer,
                  attachment: attachment)
            advanceHandshake()
            return .ok
        }
    }

    // MARK: Accepting (server side, from DTLSServer)

    /// Starts the server side over `transport` and takes the first step. A ClientHello without a
    /// valid cookie is answered with HelloVerifyRequest and leaves this peer DISCONNECTED with no
    /// session: the client's next ClientHello arrives as a new connection.
    /// With `workers`, only the cookie check runs here: a first datagram that is a ClientHello with a
    /// valid cookie goes to a worker, which sets the session up and runs the whole handshake; anything
    /// else is judged by mbedTLS here as without workers (see takeVerifiedHello). `helloVerified`: the
    /// UDPServer's front door checked the cookie of the ClientHello first in the transport's queue
    /// already; it stays there for the worker's session to read.
    func accept(over transport: DatagramTransport, configuration: DTLSConfiguration, slot: HandshakeSlot?,
                deadlineMs: Int, workers: HandshakeWorkers? = nil, helloVerified: Bool = false) -> GodotError {
        lock.withLock {
            let attachment = transport.attachDTLSPeer(self)
            guard attachment != .inUse else { return Self.refuseSharedTransport("take_connection") }
            // With workers: the first datagram, read here to judge its cookie; mbedTLS reads it first.
            var first: [UInt8]?
            if let workers, let screen = configuration.helloScreen {
                let (hello, verified) = helloVerified ? (nil, true) : Self.takeVerifiedHello(from: transport, screen: screen)
                first = hello
                if verified, hello != nil || helloVerified {
                    begin(serverSide: true, expectedName: "", tuning: configuration.tuning, transport: transport,
                          attachment: attachment)
                    handshakeSlot = slot
                    handshakeDeadlineMs = UInt64(max(0, deadlineMs))
                    let setUp = HandshakeJob.SetUp(configuration: configuration, hello: hello)
                    if handOff(.setUp(setUp), over: transport, to: workers) { return .ok }
                    // The workers are closing: the session is set up here and goes on without them.
                }
            }
            do throws(Failure) {
                session = try DTLSSession(configuration: configuration, transport: transport, expectedName: nil,
                                          sniName: nil)
            } catch {
                transport.detachDTLSPeer(self)
                return error.report()
            }
            session?.handedDatagram = first
            begin(serverSide: true, expectedName: "", tuning: configuration.tuning, transport: transport,
                  attachment: attachment)
            handshakeSlot = slot
            handshakeDeadlineMs = UInt64(max(0, deadlineMs))
            if let workers, let session {
                if handOff(session, to: workers) { return .ok }
            } else {
                advanceHandshake()
            }
            if status == .handshaking, session?.isAwaitingVerifiedClientHello == true {
                end(.disconnected, "no ClientHello with a valid cookie arrived in the first datagram")
            }
            return .ok
        }
    }

    /// A server-side peer that never starts: the server's handshake budget had no room.
    func refuse(_ reason: String) {
        lock.withLock {
            isServerSide = true
            status = .error
            errorMessage = reason
            ErrorReport.set(reason)
        }
    }

    /// A UDP peer carries one DTLS session: a second DTLS peer would take the first one's datagrams.
    private static func refuseSharedTransport(_ function: String) -> GodotError {
        ErrorReport.fail(.alreadyInUse, "\(function): another DTLS peer uses this UDP peer already; "
            + "each DTLS peer needs a UDP peer of its own")
    }

    /// Ends the session because the UDPServer below stopped: close_notify to a connected client, and
    /// DISCONNECTED with the reason at once. The caller holds our lock (PacketPeerUDP.endSessionForStoppedServer).
    func endBecauseServerStoppedLocked() {
        // The goodbye needs the session's keys: a sleeping session wakes (or ends in ERROR).
        if hibernation.isHibernated { wakeFromHibernation() }
        switch status {
        case .connected:
            session?.sendCloseNotify()
            end(.disconnected, "the UDPServer stopped; close_notify was sent to the client")
        case .handshaking:
            end(.disconnected, Self.serverStoppedMidHandshakeReason)
        default:
            break
        }
    }

    static let serverStoppedMidHandshakeReason = "the UDPServer stopped during the handshake"

    /// Reads the first datagram waiting on `transport` and judges it with the server's cookie check:
    /// (nil, false) when none waits; verified when it is a ClientHello with a valid cookie for this
    /// client. Costs a queue read and an HMAC, no mbedTLS context.
    private static func takeVerifiedHello(from transport: DatagramTransport, screen: ClientHelloScreen)
        -> (datagram: [UInt8]?, verified: Bool) {
        guard let clientID = transport.remoteIdentity?.transportID else { return (nil, false) }
        return withUnsafeTemporaryAllocation(byteCount: firstDatagramCapacity, alignment: 16) { buffer in
            guard case .datagram(let count) = transport.receiveDatagram(into: buffer) else { return (nil, false) }
            let datagram = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
            let verified: Bool
            switch screen.judge(datagram, clientID: clientID) {
            case .verified: verified = true
            default: verified = false
            }
            return (Array(datagram), verified)
        }
    }

    /// Room for the first datagram read by takeVerifiedHello: more than mbedTLS's input buffer takes
    /// (larger ones mbedTLS skips as oversized either way).
    static let firstDatagramCapacity = 20 * 1024

    private func begin(serverSide: Bool, expectedName: String, tuning: TLSOptions.Tuning, transport: DatagramTransport,
                       attachment: DTLSAttachment) {
        quiet.store(false, ordering: .releasing)
        reconnectedByClient.store(false, ordering: .relaxed)
        handshakeDeadlineMs = 0
        arrivalsObserved = attachment == .reportsArrivals
        isServerSide = serverSide
        self.expectedName = expectedName
        idleTimeoutMs = tuning.idleTimeout
        // Only a transport with its own connected socket hears refusals (a client's, or one a
        // DTLSServer was handed instead of a UDPServer's peer); a UDPServer's peers share one that cannot.
        liveness.begin(optionsKeepaliveMs: tuning.keepalive, transport: transport, watchRefusals: !arrivalsObserved)
        inbox.removeAll()
        errorMessage = ""
        cipherSuite = ""
        alpnProtocol = ""
        resumed = false
        verifyFlags = 0
        lastAlert = nil
        counters = Stats()
        hibernation.reset()
        handshakeStartMs = MonotonicClock.milliseconds()
        lastPacketError = .ok
        status = .handshaking
    }

    // MARK: Polling

    /// Reads every datagram waiting, advances the handshake, queues decrypted packets, and checks
    /// the idle timeout. Returns .connectionError when this call ended the session in an error.
    @discardableResult
    public func poll() -> GodotError {
        if quiet.load(ordering: .acquiring),
           arrivals.load(ordering: .acquiring) == quietArrivals.load(ordering: .relaxed),
           MonotonicClock.coarseMilliseconds() < quietUntilMs.load(ordering: .relaxed) {
            return .ok
        }
        return lock.withLock {
            quiet.store(false, ordering: .releasing)
            // Read before the records: a datagram delivered from here on bumps it past what we saw.
            let seenArrivals = arrivals.load(ordering: .acquiring)
            if status == .handshaking || status == .connected, endIfClientReconnected() { return .ok }
            switch status {
            case .handshaking:
                if let handshakeJob { collectHandshake(handshakeJob) } else { advanceHandshake() }
            case .connected:
                if hibernation.isHibernated, !wakeForPoll(seenArrivals) { break }
                // One reference for the whole poll, handed down (each load of `session` is a retain).
                if let session { pollConnected(session, seenArrivals) }
            default:
                return ErrorReport.fail(.unconfigured, "poll: the DTLS peer is \(status); connect it first")
            }
            if status == .error || status == .errorHostnameMismatch {
                return ErrorReport.fail(.connectionError, errorMessage)
            }
            return .ok
        }
    }

    private func pollConnected(_ session: DTLSSession, _ seenArrivals: UInt64) {
        guard session.flushQueuedOutput() else { return }
        // A transport that reports arrivals and has reported one since the last read: read at once (at
        // worst the read finds nothing: the last poll took it already). Otherwise ask the transport.
        // Either way, whether input is left afterwards is known without asking it again (settleIfQuiet).
        var inputLeft = false
        if (arrivalsObserved && seenArrivals != arrivalsWhenRead) || session.mayHaveInput {
            arrivalsWhenRead = seenArrivals
            readRecords(session)
            inputLeft = session.mayHaveInputAfterReads
        }
        liveness.observeKeepalives(total: session.keepalivesReceived)
        // One clock read for the checks below (each read its own: about 60 instructions a poll).
        let now = MonotonicClock.coarseMilliseconds()
        checkIdleTimeout(session, now: now)
        guard status == .connected else { return }
        if let reason = liveness.checkConnected(session, now: now) {
            end(.error, reason)
            return
        }
        if hibernateIfDue(session, now: now) {
            settleAsleep(seenArrivals)
            return
        }
        settleIfQuiet(session, seenArrivals, inputLeft: inputLeft)
    }

    /// Lets the next polls return at once while nothing arrives, if nothing else needs doing.
    /// `inputLeft`: what this poll knows of input not yet read. It asked the transport after loading
    /// `seenArrivals`, or read until a receive said nothing waited behind it; a datagram queued after
    /// that moves `arrivals` past `seenArrivals`, which ends the quiet at the next poll.
    private func settleIfQuiet(_ session: DTLSSession, _ seenArrivals: UInt64, inputLeft: Bool) {
        guard arrivalsObserved, status == .connected, !session.hasQueuedOutput, !inputLeft,
              !liveness.isProbing else { return }
        let idleDeadline = idleTimeoutMs > 0 ? session.lastReceiveMs &+ UInt64(idleTimeoutMs) : UInt64.max
        // The poll that finds the session due for a keepalive or for hibernation must not be skipped.
        let deadline = min(idleDeadline, liveness.keepaliveDueMs(session), hibernation.dueMs(for: session) ?? UInt64.max)
        quietArrivals.store(seenArrivals, ordering: .relaxed)
        quietUntilMs.store(deadline, ordering: .relaxed)
        quiet.store(true, ordering: .releasing)
    }

    /// Runs one mbedTLS step of the session; when mbedTLS reports a failure, the session ends
    /// (fail) and the result is nil.
    private func attempt<Result>(_ step: () throws(MbedTLSError) -> Result) -> Result? {
        do {
            return try step()
        } catch {
            fail(error)
            return nil
        }
    }

    private func advanceHandshake() {
        guard let session else { return }
        liveness.beforeHandshakeStep(session)
        guard let step = attempt({ () throws(MbedTLSError) in try session.handshake() }) else { return }
        settleHandshake(step, session)
    }

    /// Checks the cookie here and gives the session to a worker; false when this peer goes on without
    /// one (no valid ClientHello, a failure, or workers closing: then the status says what happened).
    private func handOff(_ session: DTLSSession, to workers: HandshakeWorkers) -> Bool {
        guard let step = attempt({ () throws(MbedTLSError) in try session.verifyClientHello() }) else { return false }
        guard step == .inProgress, !session.isAwaitingVerifiedClientHello else {
            settleHandshake(step, session)
            return false
        }
        guard handOff(.session(session), over: session.transport, to: workers) else {
            advanceHandshake()
            return false
        }
        self.session = nil
        return true
    }

    /// Gives the handshake to a worker; false when the workers are closing (this peer is attached to
    /// `transport` again then).
    private func handOff(_ start: HandshakeJob.Start, over transport: DatagramTransport,
                         to workers: HandshakeWorkers) -> Bool {
        // The job takes this peer's place on the transport while it runs, and carries its refusal
        // watch and deadline: the worker judges them after each step as settleHandshake would.
        transport.detachDTLSPeer(self)
        arrivalsObserved = false
        guard let job = workers.submit(start, over: transport, liveness: liveness, startMs: handshakeStartMs,
                                       deadlineMs: handshakeDeadlineMs) else {
            arrivalsObserved = transport.attachDTLSPeer(self) == .reportsArrivals
            return false
        }
        handshakeJob = job
        return true
    }

    /// Takes the session back once its worker is done, and settles as a handshake step here would.
    /// A job asked to end (its UDPServer stopped, its client reconnected) or past its deadline ends
    /// here and now even while a worker still holds it: the worker lets go of it after its step.
    private func collectHandshake(_ job: HandshakeJob) {
        let (collected, watch) = job.collect()
        switch collected {
        case .running:
            if handshakeDeadlineMs > 0, MonotonicClock.milliseconds() &- handshakeStartMs >= handshakeDeadlineMs {
                end(.error, Self.handshakeDeadlineReason(handshakeDeadlineMs))
            }
        case .ending(let final, let reason):
            end(final, reason)
        case .done(nil, let outcome):
            // Ended before a worker set a session up (the UDPServer stopped, the client reconnected, the
            // set-up failed): nothing to take back; the transport is let go of here, as end() would.
            handshakeJob = nil
            job.transport.detachDTLSPeer(job)
            switch outcome {
            case .ended(let final, let reason): end(final, reason)
            case .step, .failure: end(.error, "the handshake ended before its session was set up")
            }
            if isServerSide { job.transport.sessionEnded() }
        case .done(let session?, let outcome):
            handshakeJob = nil
            self.session = session
            if let watch { liveness.adoptHandshakeWatch(watch) }
            // The job observed the transport until now; this peer takes its place.
            session.transport.detachDTLSPeer(job)
            arrivalsObserved = session.transport.attachDTLSPeer(self) == .reportsArrivals
            switch outcome {
            case .step(let step): settleHandshake(step, session)
            case .failure(let error): fail(error)
            case .ended(let final, let reason): end(final, reason)
            }
        }
    }

    static func handshakeDeadlineReason(_ deadlineMs: UInt64) -> String {
        "handshake deadline: the client did not complete its handshake within \(deadlineMs) ms "
            + "(DTLSServer.set_handshake_limits)"
    }

    private func settleHandshake(_ step: DTLSSession.HandshakeStep, _ session: DTLSSession) {
        switch step {
        case .inProgress:
            if endIfClientReconnected() { return }
            if let reason = liveness.handshakeRefusal(session) {
                end(.error, reason)
            } else if handshakeDeadlineMs > 0, MonotonicClock.milliseconds() &- handshakeStartMs >= handshakeDeadlineMs {
                end(.error, Self.handshakeDeadlineReason(handshakeDeadlineMs))
            }
        case .complete:
            handshakeSlot = nil
            status = .connected
            cipherSuite = session.cipherSuite
            alpnProtocol = session.alpnProtocol ?? ""
            resumed = session.resumedSession
            verifyFlags = session.configuration.verifiesChain ? session.verifyFlags : 0
            counters.handshakeDurationMs = MonotonicClock.milliseconds() &- handshakeStartMs
            readRecords(session)
        case .helloVerifyRequired:
            end(.disconnected, "cookie exchange: answered the first ClientHello with a HelloVerifyRequest")
        }
    }

    /// Decrypts what waits. The newest record stays inside mbedTLS (held) until get_packet takes it
    /// straight into the caller's buffer; only when another record is to be decrypted behind it is
    /// it moved into the inbox. One packet per poll, the common case, so costs one copy (mbedTLS's
    /// buffer to the caller's, as with mbedTLS alone) and no allocation.
    private func readRecords(_ session: DTLSSession) {
        session.expectInput()
        for _ in 0..<Self.recordsPerPoll {
            // A record may end the session (close_notify, failure): then the status says so.
            guard status == .connected, !inbox.isFull else { return }
            if session.heldRecordLength > 0 {
                guard session.hasInputBeyondHeldRecord else { return }
                inbox.append(session.takeHeldRecord())
            }
            guard let read = attempt({ () throws(MbedTLSError) in try session.decryptNext() }) else { return }
            switch read {
            case .packet(let length):
                counters.packetsReceived += 1
                counters.bytesReceived += UInt64(length)
                liveness.authenticRecordArrived()
            case .emptyRecord:
                // A keepalive (counted by the session): proof of life, never a packet.
                continue
            case .nothing:
                endIfClientReconnected()
                return
            case .closedByPeer:
                end(.disconnected, session.closeNotifyCarriesInactivityMark
                    ? "the peer closed the session for inactivity: its idle timeout ran out (close_notify)"
                    : "the peer closed the session (close_notify)")
                return
            }
        }
    }

    private func checkIdleTimeout(_ session: DTLSSession, now: UInt64) {
        guard status == .connected, idleTimeoutMs > 0 else { return }
        let silent = now &- session.lastReceiveMs
        if silent >= UInt64(idleTimeoutMs) {
            // Tell the peer, so it ends too instead of talking into the void until its own timeout.
            session.sendInactivityClose()
            end(.error, "idle timeout: nothing received from the peer for \(silent) ms (limit \(idleTimeoutMs) ms); "
                + "the peer was told (close_notify)")
        }
    }

    // MARK: Ending

    static let reconnectReason = "the client reconnected from the same address and port (a new ClientHello "
        + "with a valid cookie); its new session is a new connection"

    /// Ends a server-side session whose client started over (RFC 6347 section 4.2.8), as told by the
    /// UDPServer's front door or found by the session's own screen. DISCONNECTED, not ERROR: nothing
    /// failed, and the reason says what happened so a game can drop the old player.
    @discardableResult
    private func endIfClientReconnected() -> Bool {
        guard isServerSide, reconnectedByClient.load(ordering: .acquiring) || session?.clientReconnected == true
        else { return false }
        // A sleeping session wakes so that it ends as an awake one does (transport let go, counts kept).
        if hibernation.isHibernated { wakeFromHibernation() }
        end(.disconnected, Self.reconnectReason)
        return true
    }

    /// Ends the session in ERROR or ERROR_HOSTNAME_MISMATCH with the reason mbedTLS gives
    /// (in words: SessionFailure).
    private func fail(_ error: MbedTLSError) {
        guard let session else { return }
        // Flags mean something only where this end verified the other; a server that asks for no
        // client certificate always reads "verification skipped".
        let flags = session.configuration.verifiesChain ? session.verifyFlags : 0
        verifyFlags = flags == UInt32.max ? 0 : flags
        if error.code == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE { lastAlert = session.lastAlertReceived }
        if let reason = session.policyFailure {
            end(.error, reason)
            return
        }
        if error.code == MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE {
            // mbedTLS 2.28 drops a client without the required certificate silently; tell it, or it
            // would retransmit its last flight until its handshake timeout runs out.
            session.sendFatalAlert(MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE)
        }
        let failure = SessionFailure(error, of: session, verifyFlags: flags, expectedName: expectedName)
        end(failure.status, failure.reason)
    }

    /// Frees the session and settles on `final`; packets already decrypted stay readable. A handshake
    /// still on a worker is cancelled: the worker frees its session and the UDPServer forgets the client.
    private func end(_ final: DTLSStatus, _ reason: String) {
        quiet.store(false, ordering: .releasing)
        if let job = handshakeJob {
            handshakeJob = nil
            job.cancel()
        }
        let ended = session
        // A record still held inside mbedTLS goes to the inbox before the context is freed.
        if let ended, ended.heldRecordLength > 0 { inbox.append(ended.takeHeldRecord()) }
        ended?.transport.detachDTLSPeer(self)
        arrivalsObserved = false
        if let ended { counters.absorb(ended) }
        handshakeSlot = nil
        session = nil
        status = final
        errorMessage = reason
        if final != .disconnected || !reason.isEmpty { ErrorReport.set(reason) }
        if isServerSide { ended?.transport.sessionEnded() }
    }

    /// Sends close_notify (once, not waiting on a full socket) and becomes DISCONNECTED.
    @discardableResult
    public func disconnectFromPeer() -> GodotError {
        lock.withLock {
            handshakeJob?.cancel()
            handshakeJob = nil
            if hibernation.isHibernated { wakeFromHibernation() }
            if status == .connected { session?.sendCloseNotify() }
            if session != nil { end(.disconnected, "") }
            status = .disconnected
            inbox.removeAll()
            return .ok
        }
    }

    // MARK: Packets

    /// Encrypts and sends one packet. A record the socket refused waits inside mbedTLS and goes
    /// out on the next poll or put; only when that one still cannot leave is .busy returned, and
    /// then the new packet was not taken.
    public func putPacket(_ bytes: UnsafeRawBufferPointer) -> GodotError {
        lock.withLock {
            if hibernation.isHibernated { wakeFromHibernation() }
            guard status == .connected, let unretained = unretainedSession else {
                return ErrorReport.fail(.unconfigured, "put_packet: the DTLS peer is \(status), not connected")
            }
            // Unretained: only a failed write ends the session here, and nothing uses it after that.
            return unretained._withUnsafeGuaranteedRef { session in putPacketLocked(bytes, session) }
        }
    }

    private func putPacketLocked(_ bytes: UnsafeRawBufferPointer, _ session: DTLSSession) -> GodotError {
        let limit = session.maxPacketSize
        // mbedTLS sends nothing for an empty write; refuse it rather than report a send that never was.
        guard !bytes.isEmpty else {
            return ErrorReport.fail(.invalidParameter, "put_packet: DTLS cannot carry an empty packet")
        }
        guard bytes.count <= limit else {
            return ErrorReport.fail(.invalidParameter,
                                    "put_packet: \(bytes.count) bytes exceed the largest record payload (\(limit))")
        }
        guard session.flushQueuedOutput() else {
            return ErrorReport.fail(.busy, "put_packet: the socket's send buffer is full; the packet was not sent")
        }
        // .queued: a record left waiting for the socket, flushed by the next poll.
        guard attempt({ () throws(MbedTLSError) in try session.write(bytes) }) != nil else {
            return ErrorReport.fail(.connectionError, errorMessage)
        }
        if session.hasQueuedOutput { quiet.store(false, ordering: .releasing) }
        counters.packetsSent += 1
        counters.bytesSent += UInt64(bytes.count)
        return .ok
    }

    public func putPacket(_ bytes: [UInt8]) -> GodotError {
        bytes.withUnsafeBytes { putPacket($0) }
    }

    /// The next decrypted packet; [] with getPacketError() = .unavailable when none is queued.
    public func getPacket() -> [UInt8] {
        lock.withLock {
            if !inbox.isEmpty {
                lastPacketError = .ok
                return inbox.removeFirst()
            }
            guard let session, session.heldRecordLength > 0 else {
                lastPacketError = noPacketError()
                return []
            }
            lastPacketError = .ok
            return session.takeHeldRecord()
        }
    }

    /// Copies the next packet into `buffer`. Too small: .parameterRangeError with the size
    /// needed, and the packet stays queued.
    public func getPacket(into buffer: UnsafeMutableRawBufferPointer) -> (error: GodotError, length: Int) {
        lock.withLock {
            // Older packets wait in the inbox; the newest may still be held inside mbedTLS. Nothing
            // here ends the session: it is used unretained.
            let current = inbox.isEmpty ? unretainedSession : nil
            let held = current?._withUnsafeGuaranteedRef { $0.heldRecordLength } ?? 0
            let next = inbox.first?.count ?? held
            guard !inbox.isEmpty || held > 0 else {
                lastPacketError = noPacketError()
                return (lastPacketError, 0)
            }
            guard next <= buffer.count else {
                lastPacketError = ErrorReport.fail(.parameterRangeError,
                                                   "get_packet: the packet has \(next) bytes, the buffer \(buffer.count)")
                return (lastPacketError, next)
            }
            lastPacketError = .ok
            if held > 0, let current { return (.ok, current._withUnsafeGuaranteedRef { $0.takeHeldRecord(into: buffer) }) }
            let packet = inbox.removeFirst()
            if !packet.isEmpty { packet.withUnsafeBytes { buffer.copyMemory(from: $0) } }
            return (.ok, packet.count)
        }
    }

    private func noPacketError() -> GodotError {
        status == .connected
            ? ErrorReport.fail(.unavailable, "get_packet: no packet is queued")
            : ErrorReport.fail(.unconfigured, "get_packet: the DTLS peer is \(status) and no packet is queued")
    }

    public func getAvailablePacketCount() -> Int {
        lock.withLock { inbox.count + (unretainedSession?._withUnsafeGuaranteedRef { $0.heldRecordLength } ?? 0 > 0 ? 1 : 0) }
    }
    public func getPacketError() -> GodotError { lock.withLock { lastPacketError } }

    // MARK: State

    public func getStatus() -> DTLSStatus { lock.withLock { status } }
    /// Why the peer ended in an error status; "" otherwise.
    public func getErrorMessage() -> String { lock.withLock { errorMessage } }
    /// The negotiated suite ("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"), "" before connecting.
    public func getCipherSuite() -> String { lock.withLock { cipherSuite } }
    /// The largest packet putPacket accepts now; 0 when not connected.
    public func getMaxPacketSize() -> Int {
        lock.withLock { status == .connected ? session?.maxPacketSize ?? hibernation.sleeping?.maxPacketSize ?? 0 : 0 }
    }

    // MARK: Beyond Godot

    /// Offers `saved` (from an earlier peer's getSession()) on the next connectToPeer, for an
    /// abbreviated handshake; nil forgets it. A server that no longer knows it runs a full one.
    public func setSession(_ saved: ResumableSession?) {
        lock.withLock { sessionToResume = saved }
    }

    /// The session of a connected client, to resume later; nil when not connected.
    public func getSession() -> ResumableSession? {
        lock.withLock {
            if hibernation.isHibernated { wakeFromHibernation() }
            return status == .connected ? session?.savedSession() : nil
        }
    }

    /// True when the last handshake resumed a saved session.
    public func isSessionResumed() -> Bool { lock.withLock { resumed } }

    /// The ALPN protocol both ends agreed on; "" when none.
    public func getALPNProtocol() -> String { lock.withLock { alpnProtocol } }

    /// The peer's certificate chain (leaf first) while connected; nil before, after, or when the
    /// peer sent none (PSK, or a client the server did not ask).
    public func getPeerCertificate() -> X509Certificate? {
        lock.withLock {
            if hibernation.isHibernated { wakeFromHibernation() }
            guard status == .connected, let chain = session?.peerCertificate else { return nil }
            return X509Certificate(chain: chain)
        }
    }

    /// mbedTLS's verification flags for the peer's certificate (0 = verified or not checked).
    public func getVerifyFlags() -> UInt32 { lock.withLock { verifyFlags } }

    /// The verification flags as sentences; "" when none.
    public func getVerifyText() -> String {
        let flags = getVerifyFlags()
        return flags == 0 ? "" : SessionFailure.verificationText(flags)
    }

    /// Sends a keepalive whenever nothing was sent for `ms` (0 = off), for this session and the next,
    /// whatever the options say (TLSOptions.setKeepalive sets it for every peer made with them).
    @discardableResult
    public func setKeepalive(ms: UInt32) -> GodotError {
        lock.withLock {
            liveness.setKeepalive(ms: ms)
            // A quiet server-side peer must wake for the new deadline.
            quiet.store(false, ordering: .releasing)
        }
        return .ok
    }

    /// The description of the last fatal alert the peer sent (RFC 5246 numbers), nil when none.
    public func getLastAlertReceived() -> UInt8? { lock.withLock { lastAlert } }

    /// Runs `body` on the live session (nil when none) under the peer's lock: for tests that look
    /// inside mbedTLS (MbedTLSInternalsTests).
    func withSession<T>(_ body: (DTLSSession?) -> T) -> T {
        lock.withLock { body(session) }
    }

    /// Traffic and handshake figures for this peer's current (or last) session (see Stats).
    public func getStats() -> Stats {
        lock.withLock {
            var snapshot = counters
            if let session { snapshot.absorb(session) }
            if let sleeping = hibernation.sleeping { snapshot.absorb(sleeping.counts, droppedBy: sleeping.transport) }
            snapshot.keepalivesSent = liveness.keepalivesSent
            snapshot.keepalivesReceived = liveness.keepalivesReceived
            snapshot.hibernations = hibernation.hibernations
            snapshot.wakes = hibernation.wakes
            return snapshot
        }
    }
}

// MARK: - Hibernation hooks (the mechanism is in SessionHibernation.swift)

extension PacketPeerDTLS {
    /// Quiet time after which a connected session hibernates (frees its mbedTLS context and
    /// buffers, keeping a few hundred saved bytes); 0 turns hibernation off (and wakes a sleeping
    /// session). Default 10,000 ms. Callers see no difference but memory: the next datagram,
    /// putPacket, putVar, disconnectFromPeer or the idle deadline wakes the session.
    public func setHibernateAfterMs(_ milliseconds: UInt32) {
        lock.withLock {
            hibernation.afterMs = milliseconds
            hibernation.retryAtMs = 0
            if milliseconds == 0, hibernation.isHibernated { wakeFromHibernation() }
            // The next poll recomputes when to look at this peer again.
            quiet.store(false, ordering: .releasing)
        }
    }

    public func getHibernateAfterMs() -> UInt32 { lock.withLock { hibernation.afterMs } }

    /// True while the session sleeps (see setHibernateAfterMs).
    public func isHibernated() -> Bool { lock.withLock { hibernation.isHibernated } }

    /// Why the last attempt to hibernate this awake session was refused, nil when none was (or it
    /// sleeps): a diagnostic for `bench sessions`, not API.
    @_spi(Diagnostics) public func hibernationRefusal() -> String? {
        lock.withLock {
            if hibernation.isHibernated { return nil }
            if let refusal = hibernation.lastRefusal { return refusal.description }
            guard let session else { return "not attempted: no session, status \(status)" }
            let now = MonotonicClock.coarseMilliseconds()
            let due = hibernation.dueMs(for: session).map { Int64(bitPattern: $0 &- now) }
            return "not attempted: status \(status), probing \(liveness.isProbing), due \(due.map { $0 <= 0 ? "now" : "later" } ?? "never") {\(due ?? 0) ms}, "
                + "quiet \(quiet.load(ordering: .relaxed)) until {+\(Int64(bitPattern: quietUntilMs.load(ordering: .relaxed) &- now)) ms}, "
                + "arrivals {\(arrivals.load(ordering: .relaxed)) seen \(quietArrivals.load(ordering: .relaxed))}, "
                + "observed \(arrivalsObserved), mayHaveInput \(session.mayHaveInput), queued \(session.hasQueuedOutput), "
                + "held \(session.heldRecordLength), inbox \(inbox.count); \(session.internals.saveState); "
                + "datagrams \(session.datagramLog)"
        }
    }

    /// Hibernates `session` when it has been quiet long enough; true when it now sleeps.
    fileprivate func hibernateIfDue(_ session: DTLSSession, now: UInt64) -> Bool {
        // A refusal being probed needs the session awake (SessionLiveness).
        guard status == .connected, !liveness.isProbing, let due = hibernation.dueMs(for: session) else { return false }
        guard now >= due else { return false }
        // A decrypted record still inside mbedTLS moves to the inbox: the context is about to go.
        if session.heldRecordLength > 0 {
            guard !inbox.isFull else { return false }
            inbox.append(session.takeHeldRecord())
        }
        switch hibernation.hibernateIfDue(session, now: now) {
        case .hibernated:
            self.session = nil
            // A sleeping session's UDPServer peer lets its spare datagram array go too (a few hundred
            // bytes that would otherwise stay with every sleeping session). Our lock, then the UDP peer's.
            (hibernation.sleeping?.transport as? PacketPeerUDP)?.releaseSpareDatagram()
            return true
        case .refused:
            return false
        case .lost(let code):
            end(.error, "the session could not be saved for hibernation: \(MbedTLSError.describe(code))")
            return false
        }
    }

    /// A poll of a sleeping session. The peer's keepalives are counted and dropped, and its own
    /// keepalive (or answer) sent, without waking (KeepaliveRecord.swift). It wakes for any other
    /// datagram, its idle deadline (to end as an awake session does), or an ICMP refusal (judged
    /// awake); otherwise it sleeps on. True when awake.
    fileprivate func wakeForPoll(_ seenArrivals: UInt64) -> Bool {
        guard let sleeping = hibernation.sleeping else { return true }
        if hibernation.sleepingTransportHasDatagram(), sleeping.takeKeepalives() { return wakeFromHibernation() }
        liveness.observeKeepalives(total: sleeping.counts.keepalivesReceived)
        if MonotonicClock.coarseMilliseconds() >= idleDeadlineMs(sleeping) || liveness.checkAsleep(sleeping) {
            return wakeFromHibernation()
        }
        settleAsleep(seenArrivals)
        return false
    }

    /// When a sleeping session's idle timeout runs out (UInt64.max when off).
    private func idleDeadlineMs(_ sleeping: HibernatedSession) -> UInt64 {
        idleTimeoutMs > 0 ? sleeping.counts.lastReceiveMs &+ UInt64(idleTimeoutMs) : UInt64.max
    }

    /// Lets the next polls of a sleeping session return at once until a datagram, its idle deadline
    /// or its keepalive.
    fileprivate func settleAsleep(_ seenArrivals: UInt64) {
        guard arrivalsObserved, let sleeping = hibernation.sleeping else { return }
        quietArrivals.store(seenArrivals, ordering: .relaxed)
        quietUntilMs.store(min(idleDeadlineMs(sleeping), liveness.keepaliveDueMs(lastSendMs: sleeping.counts.lastSendMs)),
                           ordering: .relaxed)
        quiet.store(true, ordering: .releasing)
    }

    /// Brings a sleeping session back before anything uses `session`. When it cannot come back the
    /// peer ends in ERROR, its transport let go as end() would. True when awake.
    @discardableResult
    fileprivate func wakeFromHibernation() -> Bool {
        guard let sleeping = hibernation.sleeping else { return session != nil }
        switch hibernation.wake() {
        case .success(let woken):
            session = woken
            // A sleeping peer's polls return at once until its idle deadline or keepalive
            // (settleAsleep): awake, the next poll must run, to settle on the deadlines of an awake
            // session, the next hibernation among them. Woken outside poll (put_packet after a
            // packet taken from the inbox, get_session...), it stayed awake until its idle deadline.
            quiet.store(false, ordering: .releasing)
            return true
        case .failure(let failure):
            sleeping.transport.detachDTLSPeer(self)
            arrivalsObserved = false
            counters.absorb(sleeping.counts, droppedBy: sleeping.transport)
            end(.error, failure.message)
            if isServerSide { sleeping.transport.sessionEnded() }
            return false
        }
    }
}

extension PacketPeerDTLS: DatagramArrivalObserver {
    /// Called by the transport (under its lock) for every datagram it queues for this peer.
    public func datagramArrived() {
        arrivals.add(1, ordering: .releasing)
    }

    /// Called by a UDPServer's front door when this peer's client reconnected; the next poll ends it.
    public func clientReconnected() {
        reconnectedByClient.store(true, ordering: .releasing)
    }
}
