// DTLSSession+Liveness.swift — the records that tell the other end this one is alive, or why it goes.
//
// A keepalive is this end's Finished record sent again byte for byte: every receiver drops it
// silently as a replay, and its idle timer hears a datagram (KeepaliveRecord.swift says why not an
// empty application-data record). Empty records from older PacketDTLS peers still count as
// keepalives received. An idle timeout says goodbye with close_notify and, in the same datagram
// behind it, an empty application-data record: every receiver stops reading at the close_notify
// (RFC 5246 7.2.1: data after it is ignored), so it ends cleanly everywhere, and ours reads the
// record behind it as "closed for inactivity". Why this and not a warning alert: docs/BEYOND_GODOT.md.

internal import CMbedTLS

extension DTLSSession {
    /// Sends this end's Finished record again (see KeepaliveRecord). False while a record mbedTLS
    /// built waits for the socket, when the socket did not take it, or before any Finished was sent.
    func sendKeepalive() -> Bool {
        guard !hasQueuedOutput else { return false }
        return sendKeepaliveRecord()
    }

    /// One attempt at close_notify followed, in the same datagram, by an empty application-data
    /// record (the inactivity mark); a socket that would block is not waited for.
    func sendInactivityClose() {
        gatheredOutput = []
        // A record the socket refused earlier goes first (mbedTLS would send only it, not the alert).
        _ = flushQueuedOutput()
        _ = mbedtls_ssl_close_notify(ssl)
        var none: UInt8 = 0
        _ = mbedtls_ssl_write(ssl, &none, 0)
        let datagram = gatheredOutput ?? []
        gatheredOutput = nil
        guard !datagram.isEmpty else { return }
        if datagram.withUnsafeBytes({ transport.sendDatagram($0) }) == .sent { datagramsSent += 1 }
    }

    /// Right after the peer's close_notify: whether an application-data record follows it in the same
    /// datagram, the inactivity mark of sendInactivityClose().
    var closeNotifyCarriesInactivityMark: Bool {
        internals.nextRecordTypeInDatagram == UInt8(MBEDTLS_SSL_MSG_APPLICATION_DATA)
    }

    /// mbedTLS reads past an empty record without a word to its caller, but counts it (after it
    /// authenticated it) and takes a fourth in a row for a forgery. Called before every datagram and
    /// after every read: moves the count to keepalivesReceived and starts it again, so the keepalives
    /// of a PacketDTLS peer from before duplicates (empty records) may follow each other without limit.
    func countEmptyRecords() {
        keepalivesReceived += internals.takeEmptyRecordCount()
    }

    /// Makes the running retransmission timer expire now, so the next handshake step resends the flight.
    func retransmitNow() {
        timer.pointee.expireNow()
    }
}
