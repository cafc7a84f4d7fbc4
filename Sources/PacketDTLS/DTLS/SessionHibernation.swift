// SessionHibernation.swift — an idle DTLS session saved to a few hundred bytes and brought back.
//
// A connected session costs mbedTLS's two record buffers and its cipher contexts even while nothing
// moves. mbedTLS 2.28 can serialize an established DTLS 1.2 AEAD session without renegotiation
// (mbedtls_ssl_context_save) and rebuild it (mbedtls_ssl_context_load) without the peer noticing:
// keys, record counters and the anti-replay window travel inside the saved bytes. Those bytes are
// secret (they hold the keys): they live in SensitiveBytes, are loaded at most once (mbedTLS's rule:
// never load the same state twice, or record sequence numbers repeat), and are wiped once loaded.

internal import CMbedTLS

/// The counts a session keeps about its traffic; carried across a hibernation so that callers see
/// no change. (mbedTLS keeps the count of records dropped for a bad MAC inside the saved bytes.)
struct SessionCounts: Sendable, Equatable {
    var datagramsSent = 0
    var datagramsReceived = 0
    var badMAC = 0
    var oversized = 0
    var retransmissions = 0
    /// Keepalives received (SessionLiveness compares its own count with it).
    var keepalivesReceived = 0
    /// When the last datagram arrived (coarse monotonic ms), for the idle deadline.
    var lastReceiveMs: UInt64 = 0
    /// When the last datagram went out (coarse monotonic ms), for the keepalive.
    var lastSendMs: UInt64 = 0
    /// When the last datagram other than a keepalive came or went (coarse monotonic ms), for hibernation.
    var lastActivityMs: UInt64 = 0
    /// The record the keepalives send again (KeepaliveRecord.swift); outside mbedTLS, so a sleeping
    /// session sends it without waking.
    var keepaliveRecord = KeepaliveRecord()
}

/// What hibernation keeps of a session while its mbedTLS context is freed.
final class HibernatedSession {
    let configuration: DTLSConfiguration
    let transport: DatagramTransport
    let expectedName: String?
    private(set) var counts: SessionCounts
    /// The saved session's anti-replay window: tells the peer's keepalives (records it accepted
    /// already) from datagrams that need the session awake.
    let replayWindow: ReplayWindow
    /// A datagram taken while asleep that the woken session must read first.
    private var handed: [UInt8]?
    /// The largest packet the session takes, answered without waking it.
    let maxPacketSize: Int
    /// The agreed ALPN protocol, kept out of the saved bytes (see SavedALPN).
    let alpn: String?
    /// mbedTLS's saved context; nil once loaded.
    private var saved: SensitiveBytes?

    fileprivate init(of session: DTLSSession, saved: SensitiveBytes, maxPacketSize: Int, counts: SessionCounts,
                     alpn: String?, replayWindow: ReplayWindow) {
        self.alpn = alpn
        self.replayWindow = replayWindow
        configuration = session.configuration
        transport = session.transport
        expectedName = session.checkedName
        self.counts = counts
        self.maxPacketSize = maxPacketSize
        self.saved = saved
    }

    /// The size of the saved context, in bytes (0 once woken).
    var savedByteCount: Int { saved?.count ?? 0 }

    /// Rebuilds the session: a fresh context on the same configuration, wired as a new session is
    /// (I/O, timer, verification, client id), then loaded from the saved bytes, which are wiped.
    /// Callable once; a second call fails rather than load the same state twice.
    func wake() throws(Failure) -> DTLSSession {
        guard let bytes = saved else {
            throw Failure(.bug, "the hibernated session was already woken once")
        }
        saved = nil
        defer { mbedtls_platform_zeroize(bytes.base, bytes.capacity) }
        let session = try DTLSSession(configuration: configuration, transport: transport, expectedName: expectedName,
                                      carrying: counts)
        let rc = mbedtls_ssl_context_load(session.ssl, bytes.base, bytes.count)
        guard rc == 0 else {
            throw Failure(.connectionError, "the hibernated session could not be loaded: \(MbedTLSError.describe(rc))")
        }
        if let alpn, !session.internals.chooseConfiguredALPN(alpn) {
            throw Failure(.connectionError, "the hibernated session's ALPN protocol is no longer configured")
        }
        session.handedDatagram = handed
        handed = nil
        return session
    }

    /// Sends the keepalive record without waking (see KeepaliveRecord); false when none went.
    func sendKeepalive() -> Bool {
        guard counts.keepaliveRecord.send(over: transport) else { return false }
        counts.datagramsSent += 1
        counts.lastSendMs = MonotonicClock.coarseMilliseconds()
        return true
    }

    /// The largest datagram taken while asleep; a larger one would not fit mbedTLS's input buffer
    /// either (16 KiB of content and a record's overhead), and counts as oversized as it would awake.
    static let largestDatagram = 16_384 + 2048

    /// Takes the datagrams waiting while asleep. A keepalive of the peer (one record the saved session
    /// accepted already: mbedTLS would drop it unread) is counted as received and dropped; the first
    /// other datagram is kept for the woken session to read first. True when the session must wake.
    func takeKeepalives() -> Bool {
        guard handed == nil else { return true }
        return withUnsafeTemporaryAllocation(byteCount: Self.largestDatagram, alignment: 1) { buffer in
            // Bounded: at most the datagrams the transport holds now, and never more than this.
            for _ in 0..<64 {
                switch transport.receiveDatagram(into: buffer) {
                case .datagram(let count):
                    let datagram = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
                    if let header = DTLSRecordHeader.single(datagram), replayWindow.hasSeen(header) {
                        counts.datagramsReceived += 1
                        counts.keepalivesReceived += 1
                        counts.lastReceiveMs = MonotonicClock.coarseMilliseconds()
                        continue
                    }
                    handed = Array(datagram)
                    return true
                case .oversized:
                    counts.datagramsReceived += 1
                    counts.oversized += 1
                case .empty:
                    return false
                case .failed:
                    // The woken session meets the failure itself and ends with its reason.
                    return true
                }
            }
            return SleepingTransport.hasDatagram(transport)
        }
    }
}

extension DTLSSession {
    enum HibernateOutcome {
        case hibernated(HibernatedSession)
        /// Not due yet (nil), or refused (pending data, a handshake going on; mbedTLS or we): the
        /// session is untouched and awake.
        case refused(HibernationRefusal?)
        /// Saving failed after mbedTLS had reset the context: the session is gone.
        case lost(Int32)
    }

    /// Saves the session and leaves its context reset; after `.hibernated` this object must be
    /// dropped. A held record must have been taken out first (it counts as pending input).
    /// `quietMs`: how long nothing has moved either way.
    func hibernate(quietMs: UInt64) -> HibernateOutcome {
        if heldRecordLength > 0 { return .refused(refusal(.heldRecord)) }
        if hasQueuedOutput { return .refused(refusal(.queuedOutput)) }
        if hasBufferedInput || handedDatagram != nil { return .refused(refusal(.bufferedInput)) }
        if SleepingTransport.hasDatagram(transport) { return .refused(refusal(.datagramWaiting)) }
        if let kept = releaseRetainedLastFlight(quietMs: quietMs) { return .refused(refusal(kept)) }
        let maxPacket = maxPacketSize
        let carried = counts
        let alpn = alpnProtocol
        // Read before saving: mbedtls_ssl_context_save resets the context.
        let window = internals.replayWindow
        // A first call with no buffer runs mbedTLS's checks and gives the size without touching the context.
        var needed = 0
        let check = mbedtls_ssl_context_save(ssl, nil, 0, &needed)
        guard check == MBEDTLS_ERR_SSL_BUFFER_TOO_SMALL, needed > 0 else {
            return .refused(refusal(.mbedTLS, code: check))
        }
        let saved = SensitiveBytes(capacity: needed)
        var written = 0
        let rc = mbedtls_ssl_context_save(ssl, saved.base, needed, &written)
        guard rc == 0, written > 0, written <= needed else { return .lost(rc) }
        saved.count = written
        if let alpn {
            guard SavedALPN.strip(alpn, from: saved) else { return .lost(MBEDTLS_ERR_SSL_BAD_INPUT_DATA) }
        }
        return .hibernated(HibernatedSession(of: self, saved: saved, maxPacketSize: maxPacket, counts: carried,
                                             alpn: alpn, replayWindow: window))
    }
}

extension DTLSSession {
    /// The end that sent the handshake's last flight keeps it (and mbedTLS keeps the whole handshake
    /// state) until a record from the other end shows it arrived; mbedTLS refuses to save meanwhile.
    /// Once the other end has been silent for the longest handshake timeout it has stopped
    /// retransmitting (or is gone), so the flight can go. True when no handshake state is left.
    ///
    /// A session woken from a hibernation sent no flight and has no handshake state
    /// (mbedtls_ssl_context_load frees it); should it ever hold some, what that is is not known, so it
    /// is left alone and the session stays awake. (The sessions of `bench sessions` that stayed awake
    /// after their first wake at 20,000 and 50,000 held none: they were never asked, see
    /// PacketPeerDTLS.wakeFromHibernation.) Nil when no handshake state is left, else why it stays.
    fileprivate func releaseRetainedLastFlight(quietMs: UInt64) -> HibernationRefusal.Cause? {
        guard internals.keepsLastFlight else { return nil }
        guard !isWokenFromHibernation else { return .handshakeStateAfterWake }
        guard quietMs >= UInt64(configuration.tuning.handshakeTimeoutMax) else { return .lastFlightKept }
        return internals.releaseLastFlight() ? nil : .lastFlightNotReleased
    }

    fileprivate func refusal(_ cause: HibernationRefusal.Cause, code: Int32 = 0) -> HibernationRefusal {
        HibernationRefusal(cause: cause, code: code, woken: isWokenFromHibernation, state: internals.saveState,
                           datagrams: datagramLog)
    }
}

/// Why a session due to hibernate stayed awake (the last refusal), for diagnostics: what we or
/// mbedTLS saw, the fields mbedtls_ssl_context_save looks at, and the datagrams since the context
/// was made (or woken).
struct HibernationRefusal: Equatable, Sendable, CustomStringConvertible {
    enum Cause: String, Sendable {
        case heldRecord = "a decrypted record is held"
        case queuedOutput = "output is queued"
        case bufferedInput = "input is buffered"
        case datagramWaiting = "a datagram waits"
        case handshakeStateAfterWake = "handshake state after a wake"
        case lastFlightKept = "the last flight is kept (the other end not quiet long enough)"
        case lastFlightNotReleased = "the last flight could not be released"
        case mbedTLS = "mbedtls_ssl_context_save refused"
    }
    let cause: Cause
    /// mbedTLS's return code (cause .mbedTLS), else 0.
    let code: Int32
    let woken: Bool
    let state: MbedTLSInternals.SaveState
    let datagrams: DatagramLog

    var description: String {
        "\(cause.rawValue)\(code != 0 ? " (\(MbedTLSError.describe(code)))" : ""); \(woken ? "woken" : "never slept"); "
            + "\(state); datagrams \(datagrams)"
    }
}

/// The record headers of the last two datagrams a context took in, and how many it took: for each,
/// the first two records' content types and epochs, the handshake type of a first epoch-0 handshake
/// record, and whether more records followed. A few shifts per datagram; read only for a report.
struct DatagramLog: Equatable, Sendable, CustomStringConvertible {
    private var entries: UInt64 = 0
    private(set) var count = 0

    mutating func note(_ datagram: UnsafeRawBufferPointer) {
        var entry: UInt64 = 0
        var offset = 0, index = 0
        while index < 2, let header = DTLSRecordHeader(datagram, at: offset) {
            let type = UInt64(header.type) & 0x1F, epoch = UInt64(header.epoch) & 0x7
            entry |= (type | epoch << 5) << (8 * UInt64(index))
            if index == 0, type == 22, epoch == 0, datagram.count > offset + DTLSRecordHeader.size {
                entry |= UInt64(datagram[offset + DTLSRecordHeader.size]) << 16
            }
            offset += header.recordLength
            index += 1
        }
        if datagram.count > offset { entry |= 1 << 24 }
        entries = entries << 32 | entry
        count += 1
    }

    var description: String {
        let shown = min(count, 2)
        guard shown > 0 else { return "none" }
        let names: [UInt64: String] = [20: "ccs", 21: "alert", 22: "hs", 23: "app", 25: "ack"]
        var parts: [String] = []
        for slot in stride(from: shown - 1, through: 0, by: -1) {
            let entry = entries >> (32 * UInt64(slot)) & 0xFFFF_FFFF
            var records: [String] = []
            for index in 0..<2 {
                let byte = entry >> (8 * UInt64(index)) & 0xFF
                guard byte != 0 else { continue }
                var name = "\(names[byte & 0x1F] ?? "type\(byte & 0x1F)")/e\(byte >> 5)"
                if index == 0, byte & 0x1F == 22, byte >> 5 == 0 { name += "(\(entry >> 16 & 0xFF))" }
                records.append(name)
            }
            if entry >> 24 & 1 != 0 { records.append("...") }
            parts.append(records.joined(separator: "+"))
        }
        return "\(count) total, last: " + parts.joined(separator: " | ")
    }
}

/// mbedTLS 2.28's mbedtls_ssl_context_load compares the saved ALPN protocol with the address of
/// the configured name instead of the name itself, so a context saved with an ALPN protocol never
/// loads (MBEDTLS_ERR_SSL_BAD_INPUT_DATA). The protocol is the last field of the saved bytes (a
/// length byte, then the name): it is cut off before saving and chosen again after loading
/// (MbedTLSInternals.chooseConfiguredALPN).
enum SavedALPN {
    /// Replaces the trailing length-and-name by a zero length; false when the bytes do not end so.
    static func strip(_ alpn: String, from saved: SensitiveBytes) -> Bool {
        let name = Array(alpn.utf8)
        let start = saved.count - name.count - 1
        guard !name.isEmpty, name.count < 256, start >= 0, Int(saved.base[start]) == name.count,
              Array(UnsafeBufferPointer(start: saved.base + start + 1, count: name.count)) == name else { return false }
        saved.base[start] = 0
        mbedtls_platform_zeroize(saved.base + start + 1, name.count)
        saved.count = start + 1
        return true
    }
}

/// One peer's hibernation: when to hibernate, the sleeping session, and the counts of both ways.
/// Used under the peer's lock only.
struct PeerHibernation {
    /// Quiet time after which a connected session hibernates; 0 = never.
    var afterMs: UInt32 = PeerHibernation.defaultAfterMs
    /// The session while it sleeps.
    var sleeping: HibernatedSession?
    /// After a refusal, no new attempt before this time.
    var retryAtMs: UInt64 = 0
    /// Why the last attempt was refused; nil once the session slept (or never refused).
    private(set) var lastRefusal: HibernationRefusal?
    private(set) var hibernations: UInt64 = 0
    private(set) var wakes: UInt64 = 0

    /// Ten seconds of quiet, as issue 13 asks: long beside any game tick or report interval.
    static let defaultAfterMs: UInt32 = 10_000

    var isHibernated: Bool { sleeping != nil }

    /// Forgets counts and any sleeping session (a new connection starts).
    mutating func reset() {
        sleeping = nil
        retryAtMs = 0
        lastRefusal = nil
        hibernations = 0
        wakes = 0
    }

    /// When `session` is due to hibernate (coarse ms); nil when hibernation is off. Keepalives, sent
    /// or received, are no activity: a sleeping session sends its own and drops the peer's without
    /// waking (PacketPeerDTLS.pollAsleep), so a session kept alive by keepalives sleeps too.
    func dueMs(for session: DTLSSession) -> UInt64? {
        guard afterMs > 0 else { return nil }
        return max(session.lastActivityMs &+ UInt64(afterMs), retryAtMs)
    }

    /// Hibernates `session` if it has been quiet long enough and mbedTLS agrees. `.refused` also
    /// when it is not due yet.
    mutating func hibernateIfDue(_ session: DTLSSession, now: UInt64) -> DTLSSession.HibernateOutcome {
        guard let due = dueMs(for: session), now >= due else { return .refused(nil) }
        let outcome = session.hibernate(quietMs: now &- session.lastActivityMs)
        switch outcome {
        case .hibernated(let saved):
            sleeping = saved
            hibernations += 1
            lastRefusal = nil
        case .refused(let refusal):
            lastRefusal = refusal
            retryAtMs = now &+ UInt64(max(afterMs / 4, 250))
        case .lost:
            break
        }
        return outcome
    }

    /// Takes the sleeping session and brings it back (counted as a wake when it comes back).
    mutating func wake() -> Result<DTLSSession, Failure> {
        guard let saved = sleeping else { return .failure(Failure(.bug, "no hibernated session to wake")) }
        sleeping = nil
        do throws(Failure) {
            let session = try saved.wake()
            wakes += 1
            return .success(session)
        } catch {
            return .failure(error)
        }
    }

    /// Whether a datagram waits for the sleeping session.
    func sleepingTransportHasDatagram() -> Bool {
        guard let transport = sleeping?.transport else { return false }
        return SleepingTransport.hasDatagram(transport)
    }
}

enum SleepingTransport {
    /// Whether a datagram waits on `transport`, asked without mbedTLS. A UDP peer with its own
    /// socket cannot tell without the kernel (mayHaveDatagram says "maybe"): it is asked to count
    /// what waits, which moves the socket's datagrams into its queue, nothing lost.
    static func hasDatagram(_ transport: DatagramTransport) -> Bool {
        if let udp = transport as? PacketPeerUDP { return udp.getAvailablePacketCount() > 0 }
        return transport.mayHaveDatagram
    }
}
