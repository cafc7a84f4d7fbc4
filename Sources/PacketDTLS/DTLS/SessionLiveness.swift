// SessionLiveness.swift — whether the other end is still there: keepalives out, and ICMP refusals in.
//
// A connected UDP socket hears the kernel's "connection refused" (ICMP port unreachable) when a
// datagram found no one listening. One such notice proves little: it may answer an older datagram,
// a server restarting, or be forged by anyone on the path. So:
// - handshaking: the first refusal brings one retransmission of the flight a moment later; a refusal
//   after that ends the handshake (a lost or stale notice is not fatal, a closed port fails fast);
// - keepalives: sent after `keepaliveMs` with nothing sent; a peer without its own keepalive answers
//   the other end's (at most once a second) so that both ends' idle timers hear a live peer. A
//   keepalive is this end's Finished record sent again (KeepaliveRecord.swift), so a hibernated
//   session sends and answers them without waking;
// - connected: the first refusal starts a watch during which keepalive records probe the peer; when
//   refusals keep coming for `refusedSessionGraceMs` and no authentic record arrives, the session ends.
// Numbers are in coarse monotonic milliseconds.

struct SessionLiveness {
    /// How long after the first refusal in a handshake the flight is sent again.
    static let handshakeRetryDelayMs: UInt64 = 500
    /// How long refusals must go on, with nothing authentic from the peer, to end a connected session.
    static let refusedSessionGraceMs: UInt64 = 2000
    /// How often a refused connected session probes its peer (a keepalive record).
    static let refusalProbeIntervalMs: UInt64 = 500
    /// A peer without a keepalive of its own answers the other end's keepalives, at most once per this
    /// long, so that the other end's idle timer hears from it too.
    static let keepaliveAnswerQuietMs: UInt64 = 1000

    private enum HandshakeRetry {
        case none
        /// A refusal came; the flight goes again at this time.
        case due(atMs: UInt64)
        /// The flight went again; any refusal counted beyond this total ends the handshake.
        case sent(refusalsBefore: UInt64)
    }

    /// The keepalive interval of the running session (0 = off).
    private(set) var keepaliveMs: UInt32 = 0
    /// A keepalive set on the peer itself, which outranks the options' one (nil = take the options').
    private var keepaliveOverride: UInt32?
    private(set) var keepalivesSent: UInt64 = 0
    private(set) var keepalivesReceived: UInt64 = 0

    /// Whether the transport can report refusals (a client's own connected socket).
    private var watchesRefusals = false
    private var refusalsSeen: UInt64 = 0
    private var handshakeRetry = HandshakeRetry.none
    /// When the first refusal since the last authentic record came (connected); nil = none.
    private var refusedSinceMs: UInt64?
    private var lastProbeMs: UInt64 = 0
    /// A keepalive arrived that this peer (with no keepalive of its own) may answer.
    private var answerDue = false

    /// Starts watching a new session. `watchRefusals`: the transport is the peer's own socket.
    mutating func begin(optionsKeepaliveMs: UInt32, transport: DatagramTransport, watchRefusals: Bool) {
        keepaliveMs = keepaliveOverride ?? optionsKeepaliveMs
        keepalivesSent = 0
        keepalivesReceived = 0
        watchesRefusals = watchRefusals
        refusalsSeen = watchRefusals ? transport.refusalsReported : 0
        handshakeRetry = .none
        refusedSinceMs = nil
        lastProbeMs = 0
        answerDue = false
    }

    /// A keepalive set on the peer: for the running session and the ones after it.
    mutating func setKeepalive(ms: UInt32) {
        keepaliveOverride = ms
        keepaliveMs = ms
    }

    // MARK: Handshake

    /// Before a handshake step: when a refusal asked for it, makes the step resend the flight.
    mutating func beforeHandshakeStep(_ session: DTLSSession) {
        guard case .due(let atMs) = handshakeRetry, MonotonicClock.coarseMilliseconds() >= atMs else { return }
        refusalsSeen = session.transport.refusalsReported
        handshakeRetry = .sent(refusalsBefore: refusalsSeen)
        session.retransmitNow()
    }

    /// After a handshake step that is still waiting: why the handshake must end, or nil.
    mutating func handshakeRefusal(_ session: DTLSSession) -> String? {
        guard watchesRefusals else { return nil }
        let total = session.transport.refusalsReported
        guard total > refusalsSeen else { return nil }
        refusalsSeen = total
        switch handshakeRetry {
        case .none:
            handshakeRetry = .due(atMs: MonotonicClock.coarseMilliseconds() &+ Self.handshakeRetryDelayMs)
            return nil
        case .due:
            return nil
        case .sent:
            return "connection refused: nothing listens on \(Self.peerName(session)) (ICMP port unreachable, "
                + "again after a retransmission)"
        }
    }

    /// Takes over the handshake's refusal watch from the copy a handshake worker carried
    /// (HandshakeWorkers); the keepalive settings and counters stay this peer's own.
    mutating func adoptHandshakeWatch(_ carried: SessionLiveness) {
        refusalsSeen = carried.refusalsSeen
        handshakeRetry = carried.handshakeRetry
    }

    /// The handshake's next wake-up that this watch needs (a due retransmission), or nil.
    var handshakeRetryDueMs: UInt64? {
        if case .due(let atMs) = handshakeRetry { return atMs }
        return nil
    }

    // MARK: Connected

    /// An authentic record arrived (a packet): the peer is there.
    mutating func authenticRecordArrived() {
        refusedSinceMs = nil
    }

    /// Takes the session's count of keepalives received (awake or asleep). A new one ends a refusal
    /// watch as an authentic record does: a duplicate proves only that someone who saw the peer's
    /// records sent it, but the watch is there to tell a closed port, and refusals keep coming from one.
    mutating func observeKeepalives(total count: Int) {
        let total = UInt64(count)
        guard total > keepalivesReceived else { return }
        keepalivesReceived = total
        refusedSinceMs = nil
        // A peer that keeps the session alive itself never answers, so two peers never ping-pong.
        answerDue = keepaliveMs == 0
    }

    /// On a connected poll: judges refusals, then sends a keepalive or a probe when one is due.
    /// Returns why the session must end, or nil. `now`: the coarse monotonic clock of this poll.
    mutating func checkConnected(_ session: DTLSSession, now: UInt64) -> String? {
        guard watchesRefusals || keepaliveMs > 0 || answerDue || refusedSinceMs != nil else { return nil }
        if watchesRefusals {
            let total = session.transport.refusalsReported
            if total > refusalsSeen {
                refusalsSeen = total
                if let since = refusedSinceMs {
                    let refusedFor = now &- since
                    if refusedFor >= Self.refusedSessionGraceMs {
                        return "connection refused: \(Self.peerName(session)) has answered with ICMP port "
                            + "unreachable for \(refusedFor) ms and sent nothing authentic (the peer is gone)"
                    }
                } else {
                    // Soft: it may be stale, a restart, or forged. Probe at once to see whether it lasts.
                    refusedSinceMs = now
                    lastProbeMs = 0
                }
            }
        }
        if refusedSinceMs != nil, now &- lastProbeMs >= Self.refusalProbeIntervalMs {
            lastProbeMs = now
            if session.sendKeepalive() { keepalivesSent += 1 }
            answerDue = false
        } else {
            sendKeepaliveIfDue(now: now, lastSendMs: session.lastSendMs, session.sendKeepalive)
        }
        return nil
    }

    /// On a poll of a hibernated session: sends its keepalive, or an answer, when one is due, without
    /// waking it. True when it must wake instead: the transport reported a refusal, judged awake.
    mutating func checkAsleep(_ sleeping: HibernatedSession) -> Bool {
        if watchesRefusals, sleeping.transport.refusalsReported > refusalsSeen { return true }
        guard keepaliveMs > 0 || answerDue else { return false }
        sendKeepaliveIfDue(now: MonotonicClock.coarseMilliseconds(), lastSendMs: sleeping.counts.lastSendMs,
                           sleeping.sendKeepalive)
        return false
    }

    /// Sends a keepalive when the interval ran out, or an answer when one is due and this end has been
    /// quiet long enough; the answer is due only on this poll.
    private mutating func sendKeepaliveIfDue(now: UInt64, lastSendMs: UInt64, _ send: () -> Bool) {
        if keepaliveMs > 0, now &- lastSendMs >= UInt64(keepaliveMs) {
            if send() { keepalivesSent += 1 }
        } else if answerDue, now &- lastSendMs >= Self.keepaliveAnswerQuietMs {
            if send() { keepalivesSent += 1 }
        }
        answerDue = false
    }

    /// Whether a poll must run soon for this watch (a refusal is being probed).
    var isProbing: Bool { refusedSinceMs != nil }

    /// "HOST port N" of the remote end, for the reasons above.
    private static func peerName(_ session: DTLSSession) -> String {
        guard let remote = session.transport.remoteIdentity, remote.transportID.count >= 2 else { return "the peer" }
        let id = remote.transportID
        return "\(remote.host) port \(Int(id[id.count - 2]) << 8 | Int(id[id.count - 1]))"
    }

    /// When the next keepalive falls due for `session` (UInt64.max when off).
    func keepaliveDueMs(_ session: DTLSSession) -> UInt64 {
        keepaliveDueMs(lastSendMs: session.lastSendMs)
    }

    /// The same for a session last sending at `lastSendMs` (a hibernated one, SessionHibernation.swift).
    func keepaliveDueMs(lastSendMs: UInt64) -> UInt64 {
        keepaliveMs > 0 ? lastSendMs &+ UInt64(keepaliveMs) : UInt64.max
    }
}
