// DTLSSession+Liveness.swift — the records that tell the other end this one is alive, or why it goes.
//
// A keepalive is an empty application-data record: authenticated like any record, skipped by every
// receiver (mbedTLS, OpenSSL, GnuTLS), never a packet. An idle timeout says goodbye with a warning
// user_canceled alert and then close_notify (RFC 5246 7.2.2: a cancel for a reason unrelated to a
// protocol failure, followed by close_notify); Godot and other mbedTLS peers ignore the warning, ours
// reads it as "closed for inactivity". Why this choice: docs/BEYOND_GODOT.md.

internal import CMbedTLS

extension DTLSSession {
    /// Sends one empty application-data record. False when the socket refused it (it then waits
    /// inside mbedTLS and leaves with the next flush) or the session failed.
    func sendKeepalive() -> Bool {
        guard !hasQueuedOutput else { return false }
        var none: UInt8 = 0
        return mbedtls_ssl_write(ssl, &none, 0) == 0
    }

    /// One attempt at user_canceled (warning) and close_notify, each in its own datagram so the
    /// receiver sees the warning before the close; a socket that would block is not waited for.
    func sendInactivityClose() {
        let warning = UInt8(MBEDTLS_SSL_ALERT_LEVEL_WARNING)
        guard mbedtls_ssl_send_alert_message(ssl, warning, UInt8(MBEDTLS_SSL_ALERT_MSG_USER_CANCELED)) == 0 else { return }
        sendCloseNotify()
    }

    /// mbedTLS ignores warning alerts other than close_notify without telling its caller, and reads
    /// the next datagram over the last record: its type and first bytes are still in place when it
    /// asks for the next datagram, the one moment a user_canceled can be seen.
    func noteWarningAlertBeforeNextDatagram() {
        guard ssl.pointee.state == Int32(MBEDTLS_SSL_HANDSHAKE_OVER.rawValue),
              ssl.pointee.in_msgtype == MBEDTLS_SSL_MSG_ALERT, let message = ssl.pointee.in_msg,
              message[0] == UInt8(MBEDTLS_SSL_ALERT_LEVEL_WARNING) else { return }
        peerClosingForInactivity = message[1] == UInt8(MBEDTLS_SSL_ALERT_MSG_USER_CANCELED)
    }

    /// A packet arrived after any user_canceled: the peer is not closing after all.
    func authenticRecordArrived() {
        peerClosingForInactivity = false
    }

    /// mbedTLS reads past an empty record without a word to its caller, but counts it (nb_zero, after
    /// it decrypted and authenticated it) and takes a fourth in a row as a forgery. Called before every
    /// datagram and after every read: moves the count to keepalivesReceived and starts it again, so
    /// keepalives may follow each other without limit (only the peer, holding the keys, can send them).
    func countEmptyRecords() {
        let empty = Int(ssl.pointee.nb_zero)
        guard empty > 0 else { return }
        keepalivesReceived += empty
        ssl.pointee.nb_zero = 0
        peerClosingForInactivity = false
    }

    /// Makes the running retransmission timer expire now, so the next handshake step resends the flight.
    func retransmitNow() {
        timer.pointee.expireNow()
    }
}
