// DTLSSession.swift — one mbedTLS DTLS context wired to a datagram transport.
//
// The session owns the mbedtls_ssl_context at a fixed heap address and keeps its configuration
// alive. mbedTLS calls back into it for I/O (send/receive one datagram) and to let us judge the
// peer's name; each callback only recovers the session and forwards. The retransmission timer's
// callbacks go to the timer itself (RetransmissionTimer). Fields mbedTLS keeps private are reached
// through MbedTLSInternals only.

internal import CMbedTLS
#if canImport(Glibc)
import Glibc
#endif

final class DTLSSession {
    // The steps below return how they ended, and throw what mbedTLS reported when they failed.

    /// How a step of the handshake ended.
    enum HandshakeStep: Equatable {
        case complete
        /// Waiting for the peer or the timer; call again on the next poll.
        case inProgress
        /// Server side: the ClientHello carried no valid cookie and was answered statelessly.
        case helloVerifyRequired
    }

    enum ReadResult: Equatable {
        /// A record of this many bytes was decrypted and is held (see decryptNext()).
        case packet(Int)
        case emptyRecord
        case nothing
        case closedByPeer
    }

    enum WriteResult: Equatable {
        case written
        /// The record is built and waits inside mbedTLS for the socket; flushed on a later call.
        case queued
    }

    let ssl: UnsafeMutablePointer<mbedtls_ssl_context>
    /// The context's non-public fields, for what the public API cannot tell or do.
    let internals: MbedTLSInternals
    let configuration: DTLSConfiguration
    let transport: DatagramTransport
    private let nameCheck: PeerNameCheck?
    // The session is used only under its PacketPeerDTLS's lock (mbedTLS calls back on that thread),
    // so its stored `var`s skip Swift's dynamic exclusivity checks, as the peer's do.
    /// mbedTLS's retransmission timer, at a fixed address of its own (see RetransmissionTimer).
    let timer: UnsafeMutablePointer<RetransmissionTimer>
    /// The thread that set this context up: the caller's, or a handshake worker's (for tests).
    let setUpThread = pthread_self()

    /// When the last datagram arrived (coarse monotonic ms), for the idle timeout.
    @exclusivity(unchecked) private(set) var lastReceiveMs: UInt64
    /// When the last datagram left (coarse monotonic ms), for the keepalive.
    @exclusivity(unchecked) private(set) var lastSendMs: UInt64
    /// When the last datagram other than a keepalive came or went (coarse monotonic ms), for hibernation.
    @exclusivity(unchecked) private(set) var lastActivityMs: UInt64
    /// This end's Finished record, which its keepalives send again (KeepaliveRecord.swift).
    @exclusivity(unchecked) private(set) var keepaliveRecord: KeepaliveRecord
    /// A datagram taken from the transport before this session existed (by its hibernated self),
    /// read before the transport's next ones.
    @exclusivity(unchecked) var handedDatagram: [UInt8]?
    /// While set, datagrams mbedTLS sends are gathered here to leave as one (see sendInactivityClose()).
    @exclusivity(unchecked) var gatheredOutput: [UInt8]?
    /// Keepalives received: duplicates of the peer's records (see receive) and empty
    /// application-data records (see countEmptyRecords()).
    @exclusivity(unchecked) var keepalivesReceived = 0
    /// Why the transport failed, when an I/O callback reported a failure.
    @exclusivity(unchecked) private(set) var transportFailure: String?
    /// Datagrams too large for mbedTLS's input buffer, discarded unread.
    @exclusivity(unchecked) private(set) var oversizedDatagrams = 0
    /// Datagrams taken in and sent out through the transport (handshake and records alike).
    @exclusivity(unchecked) private(set) var datagramsReceived = 0
    @exclusivity(unchecked) var datagramsSent = 0
    /// Times the retransmission timer ran out and a flight was sent again.
    var retransmissions: Int { carriedRetransmissions + timer.pointee.retransmissions }
    /// Retransmissions counted before a hibernation (the timer of a woken session starts at 0).
    private let carriedRetransmissions: Int
    /// True for a session rebuilt from a hibernation (it never sent a handshake flight itself).
    let isWokenFromHibernation: Bool
    /// When the retransmission timer's final delay runs out (monotonic ms); nil while it is not running.
    var retransmissionDueMs: UInt64? { timer.pointee.finalDeadlineMs }
    /// Set when the peer's public key matched none of the pinned ones.
    @exclusivity(unchecked) private(set) var pinRejected = false
    /// Whether the handshake resumed a saved session (known once it completes).
    @exclusivity(unchecked) private(set) var resumedSession = false
    /// Server side: the client's transport id, which its cookies are bound to.
    private let clientID: [UInt8]?
    /// Server side: the random of the ClientHello this session began with; a ClientHello with the
    /// same random is a retransmission, one with another is a new handshake (see screen(_:)).
    @exclusivity(unchecked) private var acceptedRandom: [UInt8]?
    /// Server side: a ClientHello with a valid cookie and a new random came from the client's
    /// address: the client started over (RFC 6347 section 4.2.8). This session is done; the hello was
    /// handed back to the transport for the next one.
    @exclusivity(unchecked) private(set) var clientReconnected = false
    /// Server side: epoch-0 ClientHellos without a valid cookie answered with a HelloVerifyRequest.
    @exclusivity(unchecked) private(set) var helloVerifyRequestsSent = 0
    /// The record headers of the last few datagrams this context took in, for a report on why it
    /// would not hibernate (HibernationRefusal).
    @exclusivity(unchecked) private(set) var datagramLog = DatagramLog()
    /// Why HandshakePolicy ended the handshake, when it did.
    @exclusivity(unchecked) private(set) var policyFailure: String?

    /// `expectedName` is checked against the server's certificate (client, verifying names);
    /// `sniName` is sent as SNI (a DNS name, never an address).
    convenience init(configuration: DTLSConfiguration, transport: DatagramTransport, expectedName: String?,
                     sniName: String?) throws(Failure) {
        try self.init(configuration: configuration, transport: transport, expectedName: expectedName, carrying: nil)
        // SNI carries ASCII names only (RFC 6066); a name that is not goes unsent, not mangled.
        if let sniName, !sniName.isEmpty, PeerNameCheck.refusal(of: sniName) == nil {
            mbedtls_ssl_set_hostname(ssl, sniName)
        }
    }

    /// A context set up and wired for `configuration`, before any handshake: a new session
    /// (`carrying` nil), or one about to be loaded from a hibernation with the counts it had.
    init(configuration: DTLSConfiguration, transport: DatagramTransport, expectedName: String?,
         carrying carried: SessionCounts?) throws(Failure) {
        if let expectedName, let reason = PeerNameCheck.refusal(of: expectedName) {
            throw Failure(.invalidParameter, reason)
        }
        self.configuration = configuration
        self.transport = transport
        clientID = configuration.role == .server ? transport.remoteIdentity?.transportID : nil
        nameCheck = expectedName.map { PeerNameCheck(expectedName: $0) }
        lastReceiveMs = carried?.lastReceiveMs ?? MonotonicClock.coarseMilliseconds()
        lastSendMs = carried?.lastSendMs ?? lastReceiveMs
        lastActivityMs = carried?.lastActivityMs ?? lastReceiveMs
        keepaliveRecord = carried?.keepaliveRecord ?? KeepaliveRecord()
        datagramsSent = carried?.datagramsSent ?? 0
        datagramsReceived = carried?.datagramsReceived ?? 0
        oversizedDatagrams = carried?.oversized ?? 0
        keepalivesReceived = carried?.keepalivesReceived ?? 0
        carriedRetransmissions = carried?.retransmissions ?? 0
        isWokenFromHibernation = carried != nil
        ssl = .allocate(capacity: 1)
        mbedtls_ssl_init(ssl)
        let rc = mbedtls_ssl_setup(ssl, configuration.config)
        guard rc == 0 else {
            mbedtls_ssl_free(ssl)
            ssl.deallocate()
            throw Failure(.outOfMemory, "DTLS session setup failed: \(MbedTLSError.describe(rc))")
        }
        internals = MbedTLSInternals(ssl: ssl)
        timer = RetransmissionTimer.install(on: ssl)
        let context = Unmanaged.passUnretained(self).toOpaque()
        mbedtls_ssl_set_bio(ssl, context, sessionSend, sessionReceive, nil)
        mbedtls_ssl_set_mtu(ssl, UInt16(configuration.tuning.mtu))
        if configuration.verifiesChain {
            // Names and pins are judged by us alone: see verify(_:depth:flags:).
            mbedtls_ssl_set_verify(ssl, sessionVerify, context)
        }
        if configuration.role == .server {
            guard let identity = transport.remoteIdentity else {
                throw Failure(.invalidParameter, "the UDP peer is not connected to a remote address")
            }
            _ = identity.transportID.withUnsafeBufferPointer {
                mbedtls_ssl_set_client_transport_id(ssl, $0.baseAddress, $0.count)
            }
        }
    }

    deinit {
        mbedtls_ssl_free(ssl)
        ssl.deallocate()
        RetransmissionTimer.remove(timer)
    }

    // MARK: Steps

    func handshake() throws(MbedTLSError) -> HandshakeStep {
        try handshakeSteps(while: { !$0.isHandshakeOver })
    }

    /// The server's first steps, up to its ServerHello and no further: the ClientHello's cookie is
    /// checked (a bad one is answered with HelloVerifyRequest, `.helloVerifyRequired`), and nothing
    /// that needs public-key work has run. `.inProgress` after the ServerHello, or when no ClientHello
    /// has come (see HandshakeWorkers).
    func verifyClientHello() throws(MbedTLSError) -> HandshakeStep {
        try handshakeSteps(while: { $0.isAtOrBeforeServerHello })
    }

    private func handshakeSteps(while more: (MbedTLSInternals) -> Bool) throws(MbedTLSError) -> HandshakeStep {
        // Step by step rather than mbedtls_ssl_handshake(), to see whether the session resumed
        // before mbedTLS frees its handshake state.
        var rc: Int32 = 0
        while more(internals) {
            rc = mbedtls_ssl_handshake_step(ssl)
            if let resumes = internals.handshakeResumes { resumedSession = resumes }
            if rc != 0 { break }
            if let reason = HandshakePolicy.violation(in: internals, role: configuration.role, tuning: configuration.tuning) {
                policyFailure = reason
                sendFatalAlert(MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE)
                throw MbedTLSError(HandshakePolicy.errorCode(role: configuration.role))
            }
        }
        switch rc {
        case 0:
            guard internals.isHandshakeOver else { return .inProgress }
            // Handshake datagrams honour the MTU; application packets may use the full record.
            mbedtls_ssl_set_mtu(ssl, 0)
            return .complete
        case MBEDTLS_ERR_SSL_WANT_READ, MBEDTLS_ERR_SSL_WANT_WRITE: return .inProgress
        case MBEDTLS_ERR_SSL_HELLO_VERIFY_REQUIRED: return .helloVerifyRequired
        default:
            if let omitted = HandshakePolicy.omittedAlert(after: rc, in: ssl, role: configuration.role) {
                policyFailure = omitted.reason
                sendFatalAlert(omitted.alert)
            }
            throw MbedTLSError(rc)
        }
    }

    /// True while a server-side session has not yet accepted a ClientHello with a valid cookie.
    var isAwaitingVerifiedClientHello: Bool {
        internals.isAtOrBeforeClientHello
    }

    /// Decrypts the next record and leaves its plaintext inside mbedTLS, as Godot does: it is taken
    /// with takeHeldRecord, straight into the caller's buffer, so a packet is copied once on its way
    /// out. Call only while no record is held. `.emptyRecord`: a record without data was consumed.
    func decryptNext() throws(MbedTLSError) -> ReadResult {
        var none: UInt8 = 0
        let rc = mbedtls_ssl_read(ssl, &none, 0)
        countEmptyRecords()
        if rc >= 0 {
            let held = heldRecordLength
            return held > 0 ? .packet(held) : .emptyRecord
        }
        switch rc {
        case MBEDTLS_ERR_SSL_WANT_READ, MBEDTLS_ERR_SSL_WANT_WRITE, MBEDTLS_ERR_SSL_TIMEOUT: return .nothing
        case MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY: return .closedByPeer
        default: throw MbedTLSError(rc)
        }
    }

    /// The size of the decrypted record mbedTLS holds for us; 0 when none.
    var heldRecordLength: Int { mbedtls_ssl_get_bytes_avail(ssl) }

    /// Moves the held record into `buffer` (at least heldRecordLength bytes) and returns its size
    /// (see MbedTLSInternals.takeHeldRecord for why not mbedtls_ssl_read()).
    func takeHeldRecord(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        internals.takeHeldRecord(into: buffer)
    }

    /// The held record as a new array (empty when none).
    func takeHeldRecord() -> [UInt8] {
        let length = heldRecordLength
        return [UInt8](unsafeUninitializedCapacity: length) { bytes, count in
            count = takeHeldRecord(into: UnsafeMutableRawBufferPointer(bytes))
        }
    }

    /// Input inside mbedTLS still to be processed, a held record not counted.
    var hasBufferedInput: Bool { internals.hasBufferedInputBesidesHeldRecord }

    /// Whether the transport's last receive left more datagrams waiting (true when unknown).
    @exclusivity(unchecked) private var transportMayHaveMore = true

    /// Called before a run of decryptNext(): input may be waiting, whatever an earlier run saw.
    func expectInput() {
        transportMayHaveMore = true
    }

    /// True when there is more to decrypt than the held record, as far as this run of reads knows: a
    /// datagram the last receive left behind it (or one it could not rule out), or buffered input.
    var hasInputBeyondHeldRecord: Bool {
        transportMayHaveMore || hasBufferedInput
    }

    /// Encrypts `bytes` as one record and sends it.
    func write(_ bytes: UnsafeRawBufferPointer) throws(MbedTLSError) -> WriteResult {
        let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
        var empty: UInt8 = 0
        let rc = withUnsafeMutablePointer(to: &empty) { mbedtls_ssl_write(ssl, base ?? UnsafePointer($0), bytes.count) }
        if rc >= 0 { return .written }
        if rc == MBEDTLS_ERR_SSL_WANT_WRITE { return .queued }
        throw MbedTLSError(rc)
    }

    /// True when a record built earlier still waits for the socket.
    var hasQueuedOutput: Bool { internals.hasQueuedOutput }

    /// False when a read could only say "nothing": mbedTLS has no unprocessed input (a held record
    /// does not count: it is decrypted already) and the transport has no datagram waiting. An idle
    /// poll then skips mbedtls_ssl_read (docs/PERFORMANCE.md).
    var mayHaveInput: Bool { hasBufferedInput || handedDatagram != nil || transport.mayHaveDatagram }

    /// mayHaveInput right after a run of decryptNext(), without asking the transport: its last receive
    /// said whether more waited (true when no receive ran, or it could not tell).
    var mayHaveInputAfterReads: Bool { hasBufferedInput || handedDatagram != nil || transportMayHaveMore }

    /// Sends a record left waiting by a blocked socket: false while the socket still refuses it.
    func flushQueuedOutput() -> Bool {
        guard hasQueuedOutput else { return true }
        // With output pending, mbedtls_ssl_write sends it and takes no new data.
        var none: UInt8 = 0
        let rc = mbedtls_ssl_write(ssl, &none, 0)
        return rc != MBEDTLS_ERR_SSL_WANT_WRITE && !hasQueuedOutput
    }

    /// One attempt at close_notify; a socket that would block is not waited for.
    func sendCloseNotify() {
        _ = mbedtls_ssl_close_notify(ssl)
    }

    /// One attempt at a fatal alert, for failures after which mbedTLS itself sends none.
    func sendFatalAlert(_ description: Int32) {
        _ = mbedtls_ssl_send_alert_message(ssl, UInt8(MBEDTLS_SSL_ALERT_LEVEL_FATAL), UInt8(description))
    }

    // MARK: What the session knows

    /// The counts to carry across a hibernation.
    var counts: SessionCounts {
        SessionCounts(datagramsSent: datagramsSent, datagramsReceived: datagramsReceived, badMAC: badMACRecords,
                      oversized: oversizedDatagrams, retransmissions: retransmissions,
                      keepalivesReceived: keepalivesReceived, lastReceiveMs: lastReceiveMs, lastSendMs: lastSendMs,
                      lastActivityMs: lastActivityMs, keepaliveRecord: keepaliveRecord)
    }

    /// The name checked against the server's certificate (client side), nil when none.
    var checkedName: String? { nameCheck?.expectedName }

    var cipherSuite: String {
        guard let name = mbedtls_ssl_get_ciphersuite(ssl) else { return "" }
        return CipherSuiteName.iana(name)
    }

    /// The largest payload of one record. Fixed once the handshake is over (its MTU limit is lifted
    /// then, and nothing renegotiates), so asked of mbedTLS once: put_packet checks it every time.
    var maxPacketSize: Int {
        if let cachedMaxPacketSize { return cachedMaxPacketSize }
        let size = max(0, Int(mbedtls_ssl_get_max_out_record_payload(ssl)))
        if internals.isHandshakeOver { cachedMaxPacketSize = size }
        return size
    }
    @exclusivity(unchecked) private var cachedMaxPacketSize: Int?

    var verifyFlags: UInt32 { mbedtls_ssl_get_verify_result(ssl) }

    /// Records that failed their MAC check and were dropped.
    var badMACRecords: Int { internals.badMACRecords }

    /// The ALPN protocol both ends agreed on, if any.
    var alpnProtocol: String? { mbedtls_ssl_get_alpn_protocol(ssl).map { String(cString: $0) } }

    /// A copy of the peer's certificate chain, once it was received.
    var peerCertificate: CertificateChain? {
        guard let peer = mbedtls_ssl_get_peer_cert(ssl) else { return nil }
        return CertificateChain.copying(peer)
    }

    /// A copy of the negotiated session, to resume it later (client side).
    func savedSession() -> ResumableSession? {
        let saved = ResumableSession()
        saved.authentication = authentication
        return mbedtls_ssl_get_session(ssl, saved.session) == 0 ? saved : nil
    }

    /// Offers `saved` for resumption in the coming handshake (client side, before the first step);
    /// false when it was authenticated otherwise than this connection would (SessionAuthentication).
    func offer(_ saved: ResumableSession) -> Bool {
        guard let made = saved.authentication, made == authentication else { return false }
        return mbedtls_ssl_set_session(ssl, saved.session) == 0
    }

    /// Under what this connection authenticates the server, the name included.
    private var authentication: SessionAuthentication {
        var current = configuration.authentication
        current.checkedName = nameCheck.flatMap { PeerNameCheck.normalized($0.expectedName) ?? $0.expectedName }
        return current
    }

    /// The description byte of the alert that ended the session (after FATAL_ALERT_MESSAGE).
    var lastAlertReceived: UInt8? { internals.lastAlertReceived }

    // MARK: Callbacks (forwarded from the C trampolines below)

    fileprivate func send(_ buffer: UnsafePointer<UInt8>, _ length: Int) -> Int32 {
        if gatheredOutput != nil {
            gatheredOutput!.append(contentsOf: UnsafeBufferPointer(start: buffer, count: length))
            return Int32(length)
        }
        switch transport.sendDatagram(UnsafeRawBufferPointer(start: buffer, count: length)) {
        case .sent:
            datagramsSent += 1
            lastSendMs = MonotonicClock.coarseMilliseconds()
            lastActivityMs = lastSendMs
            // An application-data record leaves alone in its datagram: only other datagrams can hold
            // the record that keepalives send again (KeepaliveRecord), and only they are looked at.
            let datagram = UnsafeRawBufferPointer(start: buffer, count: length)
            if DTLSRecordHeader.single(datagram)?.type != DTLSRecordHeader.applicationDataType {
                keepaliveRecord.observeSent(datagram)
            }
            return Int32(length)
        case .wouldBlock: return MBEDTLS_ERR_SSL_WANT_WRITE
        case .failed(let reason):
            transportFailure = reason
            return MBEDTLS_ERR_NET_SEND_FAILED
        }
    }

    fileprivate func receive(_ buffer: UnsafeMutablePointer<UInt8>, _ length: Int) -> Int32 {
        // A client that started over gets a new session; this one reads nothing more.
        if clientReconnected { return MBEDTLS_ERR_SSL_WANT_READ }
        let space = UnsafeMutableRawBufferPointer(start: buffer, count: length)
        countEmptyRecords()
        // Oversized datagrams are skipped: mbedTLS must never see a truncated one.
        while true {
            let (received, moreWaiting) = handedDatagram.map { handed in
                handedDatagram = nil
                guard handed.count <= length else { return (DatagramReceive.oversized(handed.count), true) }
                handed.withUnsafeBytes { space.copyMemory(from: $0) }
                return (DatagramReceive.datagram(handed.count), true)
            } ?? transport.receiveDatagramReportingMore(into: space)
            transportMayHaveMore = moreWaiting
            switch received {
            case .datagram(let count):
                datagramsReceived += 1
                datagramLog.note(UnsafeRawBufferPointer(start: buffer, count: count))
                // An empty datagram carries no record (mbedTLS would take 0 for end-of-stream), and
                // screen(_:) keeps out what mbedTLS would end the session over.
                let usable = screen(UnsafeRawBufferPointer(start: buffer, count: count))
                if usable < 0 { return MBEDTLS_ERR_SSL_WANT_READ }
                guard usable > 0 else { continue }
                lastReceiveMs = MonotonicClock.coarseMilliseconds()
                // A record mbedTLS would drop unread as a replay: the peer's keepalive (KeepaliveRecord).
                if isKeepalive(UnsafeRawBufferPointer(start: buffer, count: usable)) {
                    keepalivesReceived += 1
                    continue
                }
                lastActivityMs = lastReceiveMs
                return Int32(usable)
            case .oversized:
                oversizedDatagrams += 1
            case .empty:
                return MBEDTLS_ERR_SSL_WANT_READ
            case .failed(let reason):
                transportFailure = reason
                return MBEDTLS_ERR_NET_RECV_FAILED
            }
        }
    }

    static let recordHeaderLength = DTLSRecordHeader.size

    /// Whether `datagram` is one record that the connected session has accepted already (or one too
    /// old for its window): mbedTLS would drop it unread, so it is a keepalive and goes no further.
    @inline(__always)
    private func isKeepalive(_ datagram: UnsafeRawBufferPointer) -> Bool {
        guard let header = DTLSRecordHeader.single(datagram) else { return false }
        let window = internals.replayWindow
        // A new record (the common case) leaves at the first comparison.
        guard header.sequence <= window.top, header.epoch == window.epoch else { return false }
        return internals.isHandshakeOver && window.hasSeen(header)
    }

    /// Sends this end's keepalive record again, as it is (see KeepaliveRecord). False when there is
    /// none yet, or the socket did not take it.
    func sendKeepaliveRecord() -> Bool {
        guard keepaliveRecord.send(over: transport) else { return false }
        datagramsSent += 1
        lastSendMs = MonotonicClock.coarseMilliseconds()
        return true
    }

    /// How much of a datagram mbedTLS may see; 0 = discard it; -1 = the client reconnected, stop
    /// reading. Two inputs make mbedTLS 2.28 end a session on its own, so anyone able to send to the
    /// socket could end it with one datagram:
    /// - bytes after the last whole record too few for a record header (1 to 12): mbedTLS fails with
    ///   SSL_INTERNAL_ERROR ("a record can't be split across datagrams"). They can't be a record:
    ///   they are cut off, and a datagram shorter than one header is discarded;
    /// - on a server, an epoch-0 ClientHello from the client's address once the session has its
    ///   ClientHello: mbedTLS would treat it as a reconnect, and a malformed one (or a replayed one)
    ///   would end the live session. Such hellos are judged here instead (screenClientHello).
    private func screen(_ datagram: UnsafeRawBufferPointer) -> Int {
        let header = Self.recordHeaderLength
        guard datagram.count >= header else { return 0 }
        let isServer = configuration.role == .server
        if isServer, ClientHelloFields.looksLikeInitialClientHello(datagram) {
            if let verdict = screenClientHello(datagram) { return verdict }
        }
        let guardReconnect = isServer && internals.isHandshakeOver
        var offset = 0
        while datagram.count - offset >= header {
            // A ClientHello behind another record is no client's: only the first is judged above.
            if guardReconnect, offset > 0, datagram[offset] == 22, datagram[offset + 3] == 0,
               datagram[offset + 4] == 0, offset + header < datagram.count, datagram[offset + header] == 1 {
                return 0
            }
            offset += header + (Int(datagram[offset + 11]) << 8 | Int(datagram[offset + 12]))
        }
        // A record running past the end is mbedTLS's to reject; a short tail is ours to cut.
        return min(offset, datagram.count)
    }

    /// A server's verdict on an epoch-0 ClientHello (nil = pass it on as it is):
    /// - before the session has accepted one, mbedTLS judges it (and answers the cookie exchange);
    ///   its random is noted;
    /// - no valid cookie: answered with a stateless HelloVerifyRequest and dropped, so a client that
    ///   restarted on the same port can prove itself, and a spoofed hello changes nothing;
    /// - a valid cookie and the random this session began with: a retransmission, for mbedTLS while
    ///   the handshake runs, dropped after;
    /// - a valid cookie and a new random: the client started over. The hello goes back to the
    ///   transport for the next session, and this one ends (clientReconnected).
    private func screenClientHello(_ datagram: UnsafeRawBufferPointer) -> Int? {
        if isAwaitingVerifiedClientHello {
            if let hello = ClientHelloFields.parse(datagram) { acceptedRandom = Array(datagram[hello.random]) }
            return nil
        }
        guard let screen = configuration.helloScreen, let clientID else { return 0 }
        switch screen.judge(datagram, clientID: clientID) {
        case .notClientHello:
            return nil
        case .malformed:
            return 0
        case .unverified(let reply):
            if let reply, reply.withUnsafeBytes({ transport.sendDatagram($0) }) == .sent { helloVerifyRequestsSent += 1 }
            return 0
        case .verified(let random):
            if random == acceptedRandom {
                return internals.isHandshakeOver ? 0 : nil
            }
            clientReconnected = true
            transport.putBackDatagram(datagram)
            return -1
        }
    }

    /// mbedTLS judged the chain; for the leaf (depth 0) the name verdict is ours, not its own:
    /// mismatch only when a name is to be checked (`client` options) and ours does not match.
    fileprivate func verify(_ certificate: UnsafeMutablePointer<mbedtls_x509_crt>, depth: Int32,
                            flags: UnsafeMutablePointer<UInt32>) -> Int32 {
        // Trusting by pin alone: the chain leads to no CA we know, and needs not.
        if configuration.trustsPinsOnly { flags.pointee = 0 }
        guard depth == 0 else { return 0 }
        let mismatch = UInt32(MBEDTLS_X509_BADCERT_CN_MISMATCH)
        flags.pointee &= ~mismatch
        if let nameCheck, !nameCheck.matches(certificate) { flags.pointee |= mismatch }
        let pins = configuration.tuning.pinnedPublicKeys
        if !pins.isEmpty {
            var digest = [UInt8](repeating: 0, count: 32)
            _ = mbedtls_sha256_ret(certificate.pointee.pk_raw.p, certificate.pointee.pk_raw.len, &digest, 0)
            if !pins.contains(digest) {
                pinRejected = true
                // Not a verification flag: an error here ends the handshake even in OPTIONAL mode.
                return MBEDTLS_ERR_X509_FATAL_ERROR
            }
        }
        return 0
    }
}

// MARK: - C trampolines: recover the session, forward, nothing else.

private func session(_ context: UnsafeMutableRawPointer?) -> DTLSSession {
    Unmanaged<DTLSSession>.fromOpaque(context!).takeUnretainedValue()
}

private let sessionSend: @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<UInt8>?, Int) -> Int32 = {
    context, buffer, length in
    guard let buffer else { return MBEDTLS_ERR_SSL_BAD_INPUT_DATA }
    // Guaranteed: the session is alive while mbedTLS calls back into it (no retain and release a call).
    return Unmanaged<DTLSSession>.fromOpaque(context!)._withUnsafeGuaranteedRef { $0.send(buffer, length) }
}

private let sessionReceive: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<UInt8>?, Int) -> Int32 = {
    context, buffer, length in
    guard let buffer else { return MBEDTLS_ERR_SSL_BAD_INPUT_DATA }
    return Unmanaged<DTLSSession>.fromOpaque(context!)._withUnsafeGuaranteedRef { $0.receive(buffer, length) }
}

private let sessionVerify: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<mbedtls_x509_crt>?, Int32,
                                           UnsafeMutablePointer<UInt32>?) -> Int32 = {
    context, certificate, depth, flags in
    guard let certificate, let flags else { return MBEDTLS_ERR_X509_BAD_INPUT_DATA }
    return session(context).verify(certificate, depth: depth, flags: flags)
}
