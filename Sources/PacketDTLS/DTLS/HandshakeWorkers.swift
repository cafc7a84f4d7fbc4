// HandshakeWorkers.swift — a DTLSServer's own threads for the public-key work of its handshakes.
//
// With handshake threads (DTLSServer.setHandshakeThreads), take_connection hands a ClientHello whose
// cookie is valid (checked by the UDPServer's front door, or on the caller's thread with the server's
// screen; no mbedTLS context either way) to these workers: the session's set-up (mbedTLS's context and record buffers), its reading of the hello
// and every later handshake step (ECDHE, signatures, flights, retransmissions) run here, and the
// peer's poll() only looks whether the worker is done. (A first datagram the screen does not verify is
// judged by mbedTLS on the caller's thread, as without workers; should mbedTLS accept it after all,
// the session set up there goes to a worker.) A connected session goes back to its peer and is never touched here again.
// A worker judges what the caller's poll() would after each step, with the same sentences: ICMP
// refusals (SessionLiveness), the handshake deadline (HandshakeLimits), a client that reconnected; and
// a UDPServer that stops ends the job (HandshakeJob.serverStopped).
//
// Lock order: a DTLS peer's lock, then the workers' lock; a transport's lock, then the workers' lock (a
// job stands in for its DTLS peer on the transport, which tells it of arrivals). A worker steps, detaches
// and ends a session with no lock held (docs/ARCHITECTURE.md, "Threads and locks").

internal import CMbedTLS
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

final class HandshakeWorkers: @unchecked Sendable {
    /// Guards every field below and every job's fields.
    fileprivate let lock = MutexLock()
    private let wakeup: UnsafeMutablePointer<pthread_cond_t>
    private var jobs: [HandshakeJob] = []
    private var nextJob = 0
    private var closing = false
    /// Worker threads started (set once, in init).
    private(set) var threads = 0

    /// By default workers run this much nicer than the thread that made them, so that on a machine with
    /// few cores a join storm slows the handshakes down rather than the game loop
    /// (DTLSServer.setHandshakeThreadsNice sets another).
    static let defaultNiceIncrement: Int32 = 10
    /// How much nicer than their maker these workers run.
    let niceIncrement: Int32
    /// The nice value the last worker to start runs at, as it read it back (for tests).
    var workerNice: Int32? { lock.withLock { startedNice } }
    private var startedNice: Int32?
    /// A job whose transport cannot report arrivals is stepped this often.
    static let unobservedPollMs: UInt64 = 1

    /// Starts `threads` workers, `niceIncrement` nicer than the calling thread; nil when not even one
    /// thread could be made.
    init?(threads: Int, niceIncrement: Int32 = HandshakeWorkers.defaultNiceIncrement) {
        self.niceIncrement = niceIncrement
        wakeup = .allocate(capacity: 1)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(wakeup, &attributes)
        pthread_condattr_destroy(&attributes)
        for _ in 0..<threads where Self.startThread(for: self) { self.threads += 1 }
        if self.threads == 0 { return nil }
    }

    deinit {
        pthread_cond_destroy(wakeup)
        wakeup.deallocate()
    }

    /// Hands a handshake to a worker: `start` is a session whose ClientHello mbedTLS verified, or what
    /// a worker needs to set one up itself for a ClientHello the caller's screen verified (see
    /// HandshakeJob.Start). nil when the workers are closing (or the transport has another DTLS peer).
    /// `liveness` is the peer's refusal watch, carried on here; `deadline` the handshake deadline
    /// (HandshakeLimits.deadlineMs counted from `startMs`; 0 = none).
    func submit(_ start: HandshakeJob.Start, over transport: DatagramTransport, liveness: SessionLiveness,
                startMs: UInt64, deadlineMs: UInt64) -> HandshakeJob? {
        let job = HandshakeJob(start, transport: transport, workers: self, liveness: liveness, startMs: startMs,
                               deadlineMs: deadlineMs)
        // Attached before the job is listed, so that no worker can finish it (and detach) first.
        let attachment = transport.attachDTLSPeer(job)
        guard attachment != .inUse else { return nil }
        let observed = attachment == .reportsArrivals
        let accepted = lock.withLock {
            guard !closing else { return false }
            job.observed = observed
            jobs.append(job)
            pthread_cond_signal(wakeup)
            return true
        }
        guard accepted else {
            transport.detachDTLSPeer(job)
            return nil
        }
        return job
    }

    /// No new jobs; every worker ends once the jobs already taken are done (their peers get their
    /// outcome as usual). The workers hold this object until then.
    func close() {
        lock.withLock {
            closing = true
            pthread_cond_broadcast(wakeup)
        }
    }

    /// Signs once with a server's EC key, so that mbedTLS's table of multiples of the curve's generator,
    /// which it builds on a key's first signature and keeps in the key, exists before threads share
    /// the key: mbedTLS builds and stores it without a lock. Costs one signature at setup.
    static func prepareSharedKey(_ key: KeyMaterial) {
        guard mbedtls_pk_get_type(key.pk) == MBEDTLS_PK_ECKEY || mbedtls_pk_get_type(key.pk) == MBEDTLS_PK_ECDSA
        else { return }
        let hash = [UInt8](repeating: 0x5A, count: 32)
        var signature = [UInt8](repeating: 0, count: Int(MBEDTLS_PK_SIGNATURE_MAX_SIZE))
        var length = 0
        _ = mbedtls_pk_sign(key.pk, MBEDTLS_MD_SHA256, hash, hash.count, &signature, &length,
                            RandomSource.shared.function, RandomSource.shared.context)
    }

    /// Called (under the workers' lock) when a job has something to do.
    fileprivate func wake() { pthread_cond_signal(wakeup) }

    // MARK: The worker thread

    private static func startThread(for workers: HandshakeWorkers) -> Bool {
        let context = Unmanaged.passRetained(workers).toOpaque()
        var thread = pthread_t()
        let status = pthread_create(&thread, nil, { context in
            let workers = Unmanaged<HandshakeWorkers>.fromOpaque(context!).takeRetainedValue()
            workers.work()
            return nil
        }, context)
        guard status == 0 else {
            Unmanaged<HandshakeWorkers>.fromOpaque(context).release()
            return false
        }
        pthread_detach(thread)
        return true
    }

    private func work() {
        // On Linux the nice value belongs to the calling thread alone.
        errno = 0
        let current = getpriority(PRIORITY_PROCESS, 0)
        if errno == 0, niceIncrement > 0 { _ = setpriority(PRIORITY_PROCESS, 0, min(19, current + niceIncrement)) }
        let nice = getpriority(PRIORITY_PROCESS, 0)
        lock.withLock {
            startedNice = nice
            while true {
                if let job = takeRunnableJob() {
                    step(job)
                    continue
                }
                if closing && jobs.isEmpty { return }
                wait()
            }
        }
    }

    /// A job no other worker holds that has something to do, round robin; marks it stepping.
    private func takeRunnableJob() -> HandshakeJob? {
        guard !jobs.isEmpty else { return nil }
        let now = MonotonicClock.milliseconds()
        for offset in 0..<jobs.count {
            let index = (nextJob + offset) % jobs.count
            let job = jobs[index]
            guard !job.stepping, job.session != nil || job.setUp != nil else { continue }
            // No transport is asked here: its lock comes before this one (it calls datagramArrived).
            let due = job.setUp != nil || job.pending || job.cancelled || job.endRequest != nil
                || job.session?.retransmissionDueMs.map { $0 <= now } == true
                || job.liveness.handshakeRetryDueMs.map { $0 <= MonotonicClock.coarseMilliseconds() } == true
                || (job.deadlineAtMs > 0 && now >= job.deadlineAtMs)
                || (!job.observed && now >= job.lastStepMs + Self.unobservedPollMs)
            if due {
                nextJob = index + 1
                job.stepping = true
                job.pending = false
                return job
            }
        }
        return nil
    }

    /// Runs one handshake step of `job` without the lock (entered and left with it held). A job's first
    /// step sets its session up first when the caller left that to the worker (HandshakeJob.Start.setUp).
    private func step(_ job: HandshakeJob) {
        var session = job.session
        var outcome: HandshakeJob.Outcome?
        if !job.cancelled && job.endRequest == nil {
            let setUp = job.setUp
            pthread_mutex_unlock(lock.mutex)
            // Stepping: this thread alone touches the session and the job's liveness until it relocks.
            if session == nil, let setUp {
                switch HandshakeJob.makeSession(setUp, over: job.transport) {
                case .success(let made): session = made
                case .failure(let failure): outcome = .ended(.error, failure.message)
                }
            }
            if let session {
                job.liveness.beforeHandshakeStep(session)
                do {
                    let step = try session.handshake()
                    outcome = step != .inProgress ? .step(step) : job.judgeWaiting(session)
                } catch {
                    outcome = .failure(error)
                }
            }
            pthread_mutex_lock(lock.mutex)
            job.setUp = nil
            job.session = session
        } else if job.setUp != nil {
            // Ended before a worker set it up: there is no session to free, only the transport to let go.
            job.setUp = nil
        }
        job.lastStepMs = MonotonicClock.milliseconds()
        // Asked to end (its UDPServer stopped, its client reconnected), before or during the step: that
        // wins over anything but a failure of the handshake itself; a failure of the transport is the
        // stop's doing (the stopping server asks first, then takes the peer's socket away under the
        // step). (No close_notify for a step that completed meanwhile: the transport has left its
        // server, or goes to the client's new session.)
        if let request = job.endRequest, !job.cancelled {
            if case .failure = outcome, session?.transportFailure == nil {} else {
                outcome = .ended(request.status, request.reason)
            }
        }
        guard job.cancelled || outcome != nil else {
            job.stepping = false
            return
        }
        // Done: off the list, so no worker looks at it again. Still "stepping" meanwhile, so that a
        // cancel leaves the session to this thread.
        jobs.removeAll { $0 === job }
        // A closing pool's other workers may sleep without a deadline: the last job gone, they may end.
        if closing && jobs.isEmpty { pthread_cond_broadcast(wakeup) }
        job.observed = false
        guard job.cancelled else {
            // The job stays the transport's observer until the peer takes the session back (collect,
            // which detaches it): a UDPServer that stops or a client that reconnects meanwhile still
            // reaches it, and the peer hears of it at its next poll.
            job.stepping = false
            job.outcome = outcome
            return
        }
        pthread_mutex_unlock(lock.mutex)
        job.transport.detachDTLSPeer(job)
        pthread_mutex_lock(lock.mutex)
        job.stepping = false
        job.session = nil
        job.collected = true
        pthread_mutex_unlock(lock.mutex)
        HandshakeJob.discard(session, of: job.transport, connected: outcome == .step(.complete))
        pthread_mutex_lock(lock.mutex)
    }

    /// Sleeps until a job is submitted or a datagram arrives, or until the next retransmission timer.
    private func wait() {
        if jobs.isEmpty || closing && jobs.allSatisfy({ $0.stepping }) {
            pthread_cond_wait(wakeup, lock.mutex)
            return
        }
        let now = MonotonicClock.milliseconds()
        var until = now + 100
        for job in jobs where !job.stepping {
            if let due = job.session?.retransmissionDueMs { until = min(until, due) }
            // The watch counts in coarse ms, a tick behind: sleep a millisecond at a time rather than spin.
            if let due = job.liveness.handshakeRetryDueMs { until = min(until, max(due, now + 1)) }
            if job.deadlineAtMs > 0 { until = min(until, job.deadlineAtMs) }
            if !job.observed { until = min(until, job.lastStepMs + Self.unobservedPollMs) }
        }
        guard until > now else { return }
        var deadline = timespec()
        clock_gettime(CLOCK_MONOTONIC, &deadline)
        let nanoseconds = Int(deadline.tv_nsec) + Int(until - now) * 1_000_000
        deadline.tv_sec += nanoseconds / 1_000_000_000
        deadline.tv_nsec = nanoseconds % 1_000_000_000
        pthread_cond_timedwait(wakeup, lock.mutex, &deadline)
    }
}

/// One handshake on the workers, from a verified ClientHello to its outcome.
final class HandshakeJob: DatagramArrivalObserver, @unchecked Sendable {
    /// How a job's handshake ended.
    enum Outcome: Equatable {
        /// mbedTLS finished its part: complete (or, in principle, another final step).
        case step(DTLSSession.HandshakeStep)
        /// mbedTLS reported a failure; the peer words it as for a step on the caller's thread.
        case failure(MbedTLSError)
        /// Ended by what the caller's poll() would have judged: a refusal, the deadline, a reconnect,
        /// the UDPServer stopping. The status and sentence are those of the caller's path.
        case ended(DTLSStatus, String)
    }

    /// What a job begins with.
    enum Start {
        /// A session set up on the caller's thread, its ClientHello verified by mbedTLS there.
        case session(DTLSSession)
        /// A ClientHello whose cookie was verified (ClientHelloScreen, on the caller's thread or by the
        /// UDPServer's front door): the worker sets the session up (mbedTLS's context and record
        /// buffers) and hands it the hello, if read, as its first datagram.
        case setUp(SetUp)
    }

    /// What a worker needs to set a job's session up.
    struct SetUp {
        let configuration: DTLSConfiguration
        /// The verified ClientHello, read from the transport to be judged; nil when it is still there
        /// (the UDPServer's front door judged it).
        let hello: [UInt8]?
    }

    /// What the peer's poll finds when it looks at its job.
    enum Collected {
        /// Still on a worker.
        case running
        /// Asked to end (see serverStopped, clientReconnected) while a worker still holds it.
        case ending(DTLSStatus, String)
        /// Done: the session is the peer's again. nil when the job ended before a worker set one up
        /// (then the outcome is `.ended`, and the transport is the peer's to let go).
        case done(DTLSSession?, Outcome)
    }

    private let workers: HandshakeWorkers
    /// The UDP peer under the handshake (the session's, once there is one).
    let transport: DatagramTransport
    /// When the handshake deadline passes (monotonic ms, 0 = none), and the deadline itself, for the text.
    let deadlineAtMs: UInt64
    let deadlineMs: UInt64
    /// The peer's refusal watch, carried on here. Touched only by the worker stepping the job (without
    /// the lock), read under the lock while no one steps, and handed back with the outcome.
    fileprivate var liveness: SessionLiveness
    // Under workers.lock:
    /// nil before a worker set it up (see `setUp`), once the peer took it back, or once the job was
    /// cancelled and its session freed.
    fileprivate var session: DTLSSession?
    /// Until a worker takes the job's first step: the session to set up there (Start.setUp).
    fileprivate var setUp: SetUp?
    /// The outcome was taken (by the peer's poll or a cancel), or the cancelled job ended on a worker.
    fileprivate var collected = false
    /// How the handshake ended; set once, when the job leaves the workers.
    fileprivate var outcome: Outcome?
    /// Why the job must end without another step (its UDPServer stopped, its client reconnected).
    fileprivate var endRequest: (status: DTLSStatus, reason: String)?
    /// A worker is stepping the session now (without the lock): nobody else may touch it.
    fileprivate var stepping = false
    /// Something happened (submitted, a datagram arrived) that the next step must see.
    fileprivate var pending = true
    fileprivate var cancelled = false
    /// True when the transport calls datagramArrived for every datagram it queues.
    fileprivate var observed = false
    fileprivate var lastStepMs: UInt64 = 0

    fileprivate init(_ start: Start, transport: DatagramTransport, workers: HandshakeWorkers, liveness: SessionLiveness,
                     startMs: UInt64, deadlineMs: UInt64) {
        switch start {
        case .session(let session): self.session = session
        case .setUp(let setUp): self.setUp = setUp
        }
        self.transport = transport
        self.workers = workers
        self.liveness = liveness
        self.deadlineMs = deadlineMs
        deadlineAtMs = deadlineMs > 0 ? startMs &+ deadlineMs : 0
    }

    func datagramArrived() {
        workers.lock.withLock {
            pending = true
            workers.wake()
        }
    }

    /// The front door routed this client's new session elsewhere (transport's lock held): the job ends
    /// DISCONNECTED, as a peer on the caller's thread does.
    func clientReconnected() {
        requestEnd(.disconnected, PacketPeerDTLS.reconnectReason)
    }

    /// The UDPServer under this handshake stops (the transport's lock held, then ours): the job ends
    /// DISCONNECTED at once, and the peer's next poll says so, as a peer on the caller's thread does.
    func serverStopped() {
        requestEnd(.disconnected, PacketPeerDTLS.serverStoppedMidHandshakeReason)
    }

    /// Also for a job done and waiting for its peer's poll: its outcome gives way unless it failed.
    private func requestEnd(_ status: DTLSStatus, _ reason: String) {
        workers.lock.withLock {
            guard endRequest == nil else { return }
            endRequest = (status, reason)
            pending = true
            workers.wake()
        }
    }

    /// After a step that is still waiting (the stepping worker, no lock held): why the handshake must
    /// end, judged as PacketPeerDTLS.settleHandshake judges it on the caller's thread; nil to go on.
    fileprivate func judgeWaiting(_ session: DTLSSession) -> Outcome? {
        if session.clientReconnected { return .ended(.disconnected, PacketPeerDTLS.reconnectReason) }
        if let reason = liveness.handshakeRefusal(session) { return .ended(.error, reason) }
        if deadlineAtMs > 0, MonotonicClock.milliseconds() >= deadlineAtMs {
            return .ended(.error, PacketPeerDTLS.handshakeDeadlineReason(deadlineMs))
        }
        return nil
    }

    /// Where the job is; once done, the session is handed back with how it ended and the refusal
    /// watch as the worker left it. The job is still the transport's observer then: the caller detaches it.
    func collect() -> (Collected, SessionLiveness?) {
        workers.lock.withLock {
            if let outcome, !collected {
                collected = true
                let session = self.session
                self.session = nil
                // Asked to end after the worker was done: that wins over a completed handshake.
                if let endRequest, case .step = outcome {
                    return (.done(session, .ended(endRequest.status, endRequest.reason)), liveness)
                }
                return (.done(session, outcome), liveness)
            }
            if let endRequest { return (.ending(endRequest.status, endRequest.reason), nil) }
            return (.running, nil)
        }
    }

    /// The peer is freed or disconnected: the session ends wherever it is. A worker stepping it now
    /// frees it after the step.
    func cancel() {
        let (mine, discarded, connected) = workers.lock.withLock { () -> (Bool, DTLSSession?, Bool) in
            guard !cancelled else { return (false, nil, false) }
            cancelled = true
            guard !stepping, !collected else { return (false, nil, false) }
            if outcome != nil {
                // Done and waiting for the peer's next poll: nobody else holds it.
                collected = true
                defer { session = nil }
                return (true, session, outcome == .step(.complete))
            }
            // Still listed: a worker takes it (cancelled jobs are due at once) and frees it off this thread.
            pending = true
            workers.wake()
            return (false, nil, false)
        }
        guard mine else { return }
        // Done, it was still the transport's observer (see step()).
        transport.detachDTLSPeer(self)
        Self.discard(discarded, of: transport, connected: connected)
    }

    /// Sets a job's session up on a worker, its verified ClientHello handed to it as the first datagram.
    fileprivate static func makeSession(_ setUp: SetUp, over transport: DatagramTransport) -> Result<DTLSSession, Failure> {
        do throws(Failure) {
            let session = try DTLSSession(configuration: setUp.configuration, transport: transport, expectedName: nil,
                                          sniName: nil)
            session.handedDatagram = setUp.hello
            return .success(session)
        } catch {
            return .failure(error)
        }
    }

    /// Ends a server-side handshake nobody will poll: goodbye if it connected, and the UDPServer forgets
    /// the client (also when no session was ever set up).
    fileprivate static func discard(_ session: DTLSSession?, of transport: DatagramTransport, connected: Bool) {
        if connected { session?.sendCloseNotify() }
        transport.sessionEnded()
    }
}

// Internal, not private: the tests read a worker's nice with it.
#if canImport(Glibc)
let PRIORITY_PROCESS = __priority_which_t(PRIO_PROCESS.rawValue)
#else
let PRIORITY_PROCESS = PRIO_PROCESS
#endif
