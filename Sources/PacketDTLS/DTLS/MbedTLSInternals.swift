// MbedTLSInternals.swift — every read or write of a field mbedTLS 2.28 does not make public.
//
// mbedTLS 2.28 documents the fields of mbedtls_ssl_context and mbedtls_ssl_handshake_params
// (mbedtls/ssl_internal.h) as internal; 3.x hides them. PacketDTLS needs a few of them where the
// public API has no equivalent, and this file is the only place that touches them. The C shim
// refuses to build against anything but 2.28.x, and MbedTLSInternalsTests checks each accessor
// against what the public API says about the same session, so a layout change fails loudly.
// Where the public API serves as well (mbedtls_ssl_get_bytes_avail for the held record), it is used.

internal import CMbedTLS

/// The non-public parts of one mbedTLS SSL context. A view: it owns nothing.
struct MbedTLSInternals {
    let ssl: UnsafeMutablePointer<mbedtls_ssl_context>

    // MARK: Handshake state (ssl->state, ssl->handshake)

    /// True once the handshake is over (2.28 has no mbedtls_ssl_is_handshake_over()).
    var isHandshakeOver: Bool {
        ssl.pointee.state == Int32(MBEDTLS_SSL_HANDSHAKE_OVER.rawValue)
    }

    /// True while a server has not got past the ClientHello (no ClientHello with a valid cookie yet).
    var isAtOrBeforeClientHello: Bool {
        ssl.pointee.state <= Int32(MBEDTLS_SSL_CLIENT_HELLO.rawValue)
    }

    /// True while a server has not got past its ServerHello: the ClientHello read, the cookie checked,
    /// and no public-key work done yet (a HelloVerifyRequest just sent counts too).
    var isAtOrBeforeServerHello: Bool {
        ssl.pointee.state <= Int32(MBEDTLS_SSL_SERVER_HELLO.rawValue)
            || ssl.pointee.state == Int32(MBEDTLS_SSL_SERVER_HELLO_VERIFY_REQUEST_SENT.rawValue)
    }

    /// Whether the running handshake resumes a session; nil once mbedTLS has freed the handshake
    /// state (it does so when the handshake completes, hence read between steps).
    var handshakeResumes: Bool? {
        ssl.pointee.handshake.map { $0.pointee.resume != 0 }
    }

    /// The handshake state machine's current state (ssl->state), an MBEDTLS_SSL_* state number.
    var handshakeState: Int32 { ssl.pointee.state }

    /// Server: the ClientHello just read carried no valid cookie (answered statelessly); nil outside
    /// a handshake.
    var awaitsCookie: Bool? {
        ssl.pointee.handshake.map { $0.pointee.verify_cookie_len != 0 }
    }

    /// Whether both hellos agreed on the extended master secret (RFC 7627); nil outside a handshake.
    var negotiatesExtendedMasterSecret: Bool? {
        ssl.pointee.handshake.map { $0.pointee.extended_ms == UInt8(MBEDTLS_SSL_EXTENDED_MS_ENABLED) }
    }

    /// The session being negotiated (or resumed) holds a client certificate that verified.
    var negotiatedSessionHasVerifiedPeerCertificate: Bool {
        guard let session = ssl.pointee.session_negotiate else { return false }
        return session.pointee.verify_result == 0 && session.pointee.peer_cert != nil
    }

    /// The message of the record last read (in_msg, length from the record header in_len); nil when none.
    var currentInputMessage: UnsafeBufferPointer<UInt8>? {
        guard let header = ssl.pointee.in_len, let message = ssl.pointee.in_msg else { return nil }
        return UnsafeBufferPointer(start: message, count: Int(header[0]) << 8 | Int(header[1]))
    }

    /// What mbedTLS decides on a retransmission timeout (ssl_double_retransmit_timeout): resend while
    /// the current delay is below the configured maximum; false outside a handshake.
    var willResendOnRetransmissionTimeout: Bool {
        guard let handshake = ssl.pointee.handshake else { return false }
        return handshake.pointee.retransmit_timeout < ssl.pointee.conf.pointee.hs_timeout_max
    }

    // MARK: Input (in_offt, in_msglen, keep_current_message, in_left, next_record_offset, in_hslen)

    /// The decrypted application record mbedTLS holds after a read; empty when none.
    /// mbedtls_ssl_get_bytes_avail() gives its size, but not where it lies.
    private var heldRecord: UnsafeMutableRawBufferPointer {
        guard let plaintext = ssl.pointee.in_offt else { return UnsafeMutableRawBufferPointer(start: nil, count: 0) }
        return UnsafeMutableRawBufferPointer(start: plaintext, count: Int(ssl.pointee.in_msglen))
    }

    /// Moves the held record into `buffer` (at least its size), wipes mbedTLS's copy and marks the
    /// record consumed: the tail of mbedtls_ssl_read(), done here because mbedtls_ssl_read() first
    /// tries to flush queued output and refuses (WANT_WRITE) to hand over a record while the socket
    /// is full. Returns the size moved; 0 when none is held or `buffer` is too small.
    func takeHeldRecord(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let record = heldRecord
        guard record.count > 0, record.count <= buffer.count, let base = record.baseAddress else { return 0 }
        buffer.baseAddress!.copyMemory(from: base, byteCount: record.count)
        mbedtls_platform_zeroize(base, record.count)
        ssl.pointee.in_msglen = 0
        ssl.pointee.in_offt = nil
        ssl.pointee.keep_current_message = 0
        return record.count
    }

    /// What mbedtls_ssl_check_pending() tells, less a held application record (and without its
    /// debug calls): a record kept back, more records in the datagram already read, or more
    /// handshake messages in the record.
    var hasBufferedInputBesidesHeldRecord: Bool {
        ssl.pointee.keep_current_message != 0 || ssl.pointee.in_left > ssl.pointee.next_record_offset
            || (ssl.pointee.in_hslen > 0 && ssl.pointee.in_hslen < ssl.pointee.in_msglen)
    }

    /// The description byte of the alert that ended the session (after FATAL_ALERT_MESSAGE).
    var lastAlertReceived: UInt8? {
        guard let message = ssl.pointee.in_msg, ssl.pointee.in_msgtype == MBEDTLS_SSL_MSG_ALERT else { return nil }
        return message[1]
    }

    /// Records that failed their MAC check and were dropped.
    var badMACRecords: Int { Int(ssl.pointee.badmac_seen) }

    /// Empty records read since the last non-empty one (ssl->nb_zero: mbedTLS counts them after
    /// authenticating them, skips them silently, and takes a fourth in a row for a forgery).
    /// Reading takes the count and starts it again.
    func takeEmptyRecordCount() -> Int {
        let count = Int(ssl.pointee.nb_zero)
        if count > 0 { ssl.pointee.nb_zero = 0 }
        return count
    }

    /// The content type of the record that follows the current one in the same datagram, nil when
    /// none does. mbedTLS leaves the datagram in its buffer (in_left bytes from in_hdr) and the next
    /// record's header `next_record_offset` bytes after the current one's.
    var nextRecordTypeInDatagram: UInt8? {
        let offset = ssl.pointee.next_record_offset
        guard ssl.pointee.in_left > offset, let header = ssl.pointee.in_hdr else { return nil }
        return header[offset]
    }

    // MARK: Anti-replay (in_epoch, in_window_top, in_window)

    /// The anti-replay state of the current input epoch: what mbedtls_ssl_dtls_replay_check reads.
    var replayWindow: ReplayWindow {
        ReplayWindow(epoch: ssl.pointee.in_epoch, top: ssl.pointee.in_window_top, bits: ssl.pointee.in_window)
    }

    // MARK: Output (out_left)

    /// True when a record built earlier still waits for the socket.
    var hasQueuedOutput: Bool { ssl.pointee.out_left > 0 }

    // MARK: Hibernation (ssl->handshake after the handshake, ssl->alpn_chosen)

    /// The handshake is over but mbedTLS still keeps its state: this end sent the last flight and
    /// keeps it to answer a retransmission until the other end's first record arrives.
    var keepsLastFlight: Bool { isHandshakeOver && ssl.pointee.handshake != nil }

    /// Frees the kept last flight and handshake state, as mbedTLS does itself when the other end's
    /// first record arrives (mbedtls_ssl_handshake_wrapup_free_hs_transform). True when none is left.
    func releaseLastFlight() -> Bool {
        guard keepsLastFlight else { return ssl.pointee.handshake == nil }
        mbedtls_ssl_handshake_wrapup_free_hs_transform(ssl)
        return ssl.pointee.handshake == nil
    }

    /// What mbedtls_ssl_context_save looks at before it agrees to save, field by field: for a
    /// refusal's report (HibernationRefusal), read only.
    var saveState: SaveState {
        let context = ssl.pointee
        let handshake = context.handshake?.pointee
        return SaveState(state: context.state, hasHandshake: handshake != nil, keepsFlight: handshake?.flight != nil,
                         retransmitState: handshake.map { Int($0.retransmit_state) },
                         inLeft: context.in_left, nextRecordOffset: context.next_record_offset,
                         inMessageLength: context.in_msglen, inHandshakeLength: context.in_hslen,
                         keepsCurrentMessage: context.keep_current_message != 0, holdsRecord: context.in_offt != nil,
                         outLeft: context.out_left)
    }

    struct SaveState: Equatable, Sendable, CustomStringConvertible {
        var state: Int32
        var hasHandshake: Bool
        var keepsFlight: Bool
        var retransmitState: Int?
        var inLeft: Int
        var nextRecordOffset: Int
        var inMessageLength: Int
        var inHandshakeLength: Int
        var keepsCurrentMessage: Bool
        var holdsRecord: Bool
        var outLeft: Int

        var description: String {
            var parts = ["state \(state)"]
            parts.append(hasHandshake ? "handshake (flight \(keepsFlight ? "kept" : "none"), retransmit_state "
                         + "\(retransmitState ?? -1))" : "no handshake")
            parts.append("in_left \(inLeft) next_record_offset \(nextRecordOffset) in_msglen \(inMessageLength) "
                         + "in_hslen \(inHandshakeLength) keep_current_message \(keepsCurrentMessage ? 1 : 0) "
                         + "in_offt \(holdsRecord ? "set" : "nil") out_left \(outLeft)")
            return parts.joined(separator: ", ")
        }
    }

    /// Sets the agreed ALPN protocol to the configuration's entry named `name`, as the handshake had
    /// it; false when the configuration lists no such name.
    func chooseConfiguredALPN(_ name: String) -> Bool {
        guard var entry = ssl.pointee.conf.pointee.alpn_list else { return false }
        while let candidate = entry.pointee {
            if String(cString: candidate) == name {
                ssl.pointee.alpn_chosen = candidate
                return true
            }
            entry += 1
        }
        return false
    }
}

/// The one field of a saved session (mbedtls_ssl_session) that the ticket code reads; 2.28 has no
/// accessor for it and 3.x makes it private.
enum MbedTLSSessionInternals {
    /// When the session's full handshake happened (mbedtls_ssl_session_load restores it from a ticket).
    static func start(of session: UnsafePointer<mbedtls_ssl_session>) -> Int64 {
        Int64(session.pointee.start)
    }
}
