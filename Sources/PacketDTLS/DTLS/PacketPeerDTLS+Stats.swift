// PacketPeerDTLS+Stats.swift — the traffic and handshake figures of a DTLS peer (getStats()).

extension PacketPeerDTLS {
    /// Traffic and handshake figures for this peer's current (or last) session.
    public struct Stats: Sendable, Equatable {
        public var packetsSent: UInt64 = 0
        public var packetsReceived: UInt64 = 0
        public var bytesSent: UInt64 = 0
        public var bytesReceived: UInt64 = 0
        public var datagramsSent: UInt64 = 0
        public var datagramsReceived: UInt64 = 0
        /// Records dropped because their MAC did not verify (forged or corrupted).
        public var recordsDroppedBadMAC: UInt64 = 0
        /// Datagrams too large for a record, discarded unread.
        public var datagramsOversized: UInt64 = 0
        /// Times a handshake flight was sent again after its timer ran out.
        public var handshakeRetransmissions: UInt64 = 0
        /// Milliseconds from connect (or accept) to CONNECTED; 0 until then.
        public var handshakeDurationMs: UInt64 = 0
        /// Keepalives sent (answers and refusal probes included), and received (duplicates of records
        /// already accepted, or empty records from an older PacketDTLS: see KeepaliveRecord.swift).
        public var keepalivesSent: UInt64 = 0
        public var keepalivesReceived: UInt64 = 0
        /// Datagrams for this peer dropped below DTLS: the queue of its UDPServer peer stayed full
        /// (see UDPServer.poll()). 0 over a peer with its own socket, which leaves them in the kernel.
        public var datagramsDropped: UInt64 = 0
        /// Times the session hibernated after a quiet spell, and times it woke again.
        public var hibernations: UInt64 = 0
        public var wakes: UInt64 = 0

        /// Session-level counts, which live in the session until it ends.
        var sessionPart = SessionPart()
        struct SessionPart: Sendable, Equatable {
            var datagramsSent = 0, datagramsReceived = 0, badMAC = 0, oversized = 0, retransmissions = 0
        }

        mutating func absorb(_ session: DTLSSession) {
            absorb(session.counts, droppedBy: session.transport)
        }

        /// The session's counts (kept across a hibernation), and what `transport` dropped for it.
        mutating func absorb(_ session: SessionCounts, droppedBy transport: DatagramTransport) {
            sessionPart = SessionPart(datagramsSent: session.datagramsSent, datagramsReceived: session.datagramsReceived,
                                      badMAC: session.badMAC, oversized: session.oversized,
                                      retransmissions: session.retransmissions)
            datagramsSent = UInt64(sessionPart.datagramsSent)
            datagramsReceived = UInt64(sessionPart.datagramsReceived)
            recordsDroppedBadMAC = UInt64(sessionPart.badMAC)
            datagramsOversized = UInt64(sessionPart.oversized)
            handshakeRetransmissions = UInt64(sessionPart.retransmissions)
            datagramsDropped = transport.droppedDatagrams
        }
    }
}
