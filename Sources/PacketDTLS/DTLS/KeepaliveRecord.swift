// KeepaliveRecord.swift — the keepalive as a duplicate: this end's Finished record, sent again.
//
// Every DTLS receiver drops a record it already accepted, silently and before anything else sees it
// (RFC 6347 4.1.2.6): mbedTLS (so Godot) in its record-header replay check, before decryption;
// OpenSSL in dtls1_record_replay_check, before decryption; GnuTLS after decryption ("Discarded
// duplicate message", GNUTLS_E_AGAIN). A record older than the 64-record window is dropped the same
// way by all three. So a byte-identical resend of a record this end sent earlier reaches the other
// end as a datagram (its idle timer hears it) and goes no further: no packet, no empty record for
// OpenSSL's SSL_read() to return 0 on, no GnuTLS limit on empty records.
//
// Which record: the last epoch >= 1 handshake record this end sent, its Finished (or the last
// retransmission of it). The other end accepted it before it accepted anything else from this end, so
// once the session carries traffic it is a duplicate or too old, never new (but for a lossy handshake
// that lost the last copy of it: docs/BEYOND_GODOT.md, "Keepalive"). An application record
// could have been lost on the way and would then arrive as a late packet; never an epoch-0 record
// (a ClientHello again would look like a reconnecting client to a server).

/// The 13-byte header of a DTLS 1.2 record (RFC 6347 4.1): type, version, epoch, 48-bit sequence
/// number, length. The one reader of record headers for liveness and the hibernation report.
struct DTLSRecordHeader: Equatable {
    static let size = 13
    /// Content type 22: handshake.
    static let handshakeType: UInt8 = 22
    /// Content type 23: application data.
    static let applicationDataType: UInt8 = 23

    let type: UInt8
    let epoch: UInt16
    let sequence: UInt64
    /// The length of the record's body (after the header).
    let bodyLength: Int

    /// The header at `offset` of `datagram`; nil when fewer than 13 bytes remain there.
    init?(_ datagram: UnsafeRawBufferPointer, at offset: Int = 0) {
        guard offset >= 0, datagram.count - offset >= Self.size else { return nil }
        type = datagram[offset]
        // Epoch and sequence number: 8 bytes from offset 3, big-endian (one load on every record read).
        let counter = UInt64(bigEndian: datagram.loadUnaligned(fromByteOffset: offset + 3, as: UInt64.self))
        epoch = UInt16(truncatingIfNeeded: counter >> 48)
        sequence = counter & 0xffff_ffff_ffff
        bodyLength = Int(datagram[offset + 11]) << 8 | Int(datagram[offset + 12])
    }

    /// Header and body.
    var recordLength: Int { Self.size + bodyLength }

    /// The header of `datagram` when it holds exactly one record, nil otherwise.
    static func single(_ datagram: UnsafeRawBufferPointer) -> DTLSRecordHeader? {
        guard let header = DTLSRecordHeader(datagram), header.recordLength == datagram.count else { return nil }
        return header
    }
}

/// A receiver's anti-replay state for its current epoch (mbedTLS's in_epoch, in_window_top and
/// in_window: MbedTLSInternals.replayWindow). 18 bytes, kept beside a hibernated session's saved state.
struct ReplayWindow: Equatable, Sendable {
    var epoch: UInt16 = 0
    /// The highest sequence number accepted in `epoch`.
    var top: UInt64 = 0
    /// Bit n set: sequence number top - n was accepted.
    var bits: UInt64 = 0

    /// Whether mbedTLS would drop a record with this header as a replay before decrypting it: of the
    /// current epoch (>= 1), and already accepted or older than the 64-record window
    /// (mbedtls_ssl_dtls_replay_check). Such a record is this end's keepalive from the peer, or a copy
    /// of one of the peer's records sent by anyone who saw it; either way it changes nothing.
    func hasSeen(_ header: DTLSRecordHeader) -> Bool {
        guard epoch >= 1, header.epoch == epoch, header.sequence <= top else { return false }
        let age = top - header.sequence
        return age >= 64 || bits & (1 << age) != 0
    }
}

/// The copy of this end's own record that its keepalives send again.
struct KeepaliveRecord: Equatable, Sendable {
    /// Larger records are not kept (a Finished record is about 60 bytes; no keepalive needs more).
    static let maxSize = 256

    private(set) var bytes: [UInt8] = []
    private var epoch: UInt16 = 0

    var isEmpty: Bool { bytes.isEmpty }

    /// Called with every datagram this end sends through mbedTLS: keeps the last handshake record of
    /// the highest epoch >= 1 (the Finished, or its last retransmission). The sender leaves out a
    /// datagram of one application record (DTLSSession.send), the common case.
    mutating func observeSent(_ datagram: UnsafeRawBufferPointer) {
        var offset = 0
        while let header = DTLSRecordHeader(datagram, at: offset) {
            let end = offset + header.recordLength
            guard end <= datagram.count else { return }
            if header.type == DTLSRecordHeader.handshakeType, header.epoch >= 1, header.epoch >= epoch,
               header.recordLength <= Self.maxSize {
                bytes = Array(datagram[offset..<end])
                epoch = header.epoch
            }
            offset = end
        }
    }

    /// Sends the kept record as one datagram; false when none is kept or the transport did not take it.
    func send(over transport: DatagramTransport) -> Bool {
        guard !bytes.isEmpty else { return false }
        return bytes.withUnsafeBytes { transport.sendDatagram($0) } == .sent
    }
}
