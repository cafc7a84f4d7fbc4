// UDPStats.swift — what a PacketPeerUDP or a UDPServer took in and what was lost on the way.
//
// Nothing is dropped silently: every datagram the library reads and cannot keep is counted, on the
// peer it was for and on its server; what the kernel dropped before anyone could read it (the
// socket's buffer overflowed) is counted by the kernel and reported by the server.

/// Traffic and loss figures of a UDP peer or server (beyond Godot).
public struct UDPStats: Sendable, Equatable {
    /// Datagrams queued for reading (for a server: routed to a peer's queue).
    public var datagramsReceived: UInt64 = 0
    /// Datagrams read from the socket and then dropped by this library: for a peer whose queue stayed
    /// full (see UDPServer.poll()), from a new client while the pending queue was full, or truncated;
    /// behind a DTLS front door, also the ClientHellos without a valid cookie it left unanswered to
    /// keep up with a flood (docs/BEYOND_GODOT.md).
    public var datagramsDropped: UInt64 = 0
    /// Datagrams the kernel dropped because the socket's receive buffer was full (a server only; read
    /// from the socket when the stats are asked for, or, from a kernel that cannot tell it so, told
    /// with the next datagram read, so the count may lag until one arrives).
    public var datagramsDroppedByKernel: UInt64 = 0
    /// Packets queued now, not yet read (for a server: in its pending peers' and its own held-back ones).
    public var packetsQueued: UInt64 = 0
    /// Bytes those packets take, 24 bytes of bookkeeping each included (for a server: all its peers').
    public var bytesQueued: UInt64 = 0
    /// A server with send batching (UDPServer.setSendBatching): datagrams its flushes sent.
    public var datagramsSentBatched: UInt64 = 0
    /// A server with send batching: datagrams the kernel refused at a flush (dropped and counted, never
    /// retried), and those still queued when the server stopped.
    public var datagramsSendFailed: UInt64 = 0
    /// A server with send batching: datagrams queued now, waiting for the next flush.
    public var datagramsWaitingToSend: UInt64 = 0
    /// A server with send batching: sendmmsg calls made so far.
    public var sendBatchCalls: UInt64 = 0

    public init() {}
}
