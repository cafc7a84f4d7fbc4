// DatagramTransport.swift — what a DTLS connection needs from the network below it.
//
// PacketPeerUDP is the real transport; tests pump two DTLS ends through an in-memory one.
// Both calls are non-blocking and move one datagram each.

/// The outcome of reading one datagram.
public enum DatagramReceive: Equatable, Sendable {
    /// A datagram of this many bytes was copied into the buffer.
    case datagram(Int)
    /// A datagram larger than the buffer was taken and discarded; its size is given.
    case oversized(Int)
    /// Nothing is waiting.
    case empty
    /// The transport failed (closed socket, socket error); the sentence says why.
    case failed(String)
}

/// The outcome of sending one datagram.
public enum DatagramSend: Equatable, Sendable {
    case sent
    /// The socket's send buffer is full: nothing was sent, try again later.
    case wouldBlock
    case failed(String)
}

public protocol DatagramTransport: AnyObject, Sendable {
    /// Takes the next datagram from this transport's peer into `buffer`.
    func receiveDatagram(into buffer: UnsafeMutableRawBufferPointer) -> DatagramReceive
    /// receiveDatagram(into:), also telling whether more datagrams wait behind the one taken: false
    /// lets a reader stop without another call that would find nothing (a system call, for a socket).
    /// True when unknown (the default).
    func receiveDatagramReportingMore(into buffer: UnsafeMutableRawBufferPointer)
        -> (received: DatagramReceive, moreWaiting: Bool)
    /// Sends `bytes` as one datagram to this transport's peer.
    func sendDatagram(_ bytes: UnsafeRawBufferPointer) -> DatagramSend
    /// True when the transport is tied to one remote peer (a connected UDP socket, or a peer taken
    /// from a UDPServer): DTLS needs that.
    var isConnectedToPeer: Bool { get }
    /// The remote peer's address bytes and port, for the server's cookie (the client transport id),
    /// and its printable address for the default hostname. nil when not connected.
    var remoteIdentity: (transportID: [UInt8], host: String)? { get }
    /// Called when a server-side DTLS session over this transport has ended, so a transport that
    /// belongs to a UDPServer can leave it (the client's next datagram then starts afresh).
    func sessionEnded()
    /// False only when a receive would certainly find nothing, without a system call: lets an idle
    /// DTLS poll skip mbedTLS altogether. True when unsure (the default).
    var mayHaveDatagram: Bool { get }
    /// Makes `peer` the one DTLS peer over this transport, until detachDTLSPeer(peer). A transport
    /// carries one DTLS session at a time: a second peer would take the first one's datagrams, so it
    /// is refused (.inUse). The transport does not retain `peer`: a peer detaches before it is freed.
    func attachDTLSPeer(_ peer: DatagramArrivalObserver) -> DTLSAttachment
    /// Ends `peer`'s use of this transport; from any other peer it changes nothing.
    func detachDTLSPeer(_ peer: DatagramArrivalObserver)
}

/// What attachDTLSPeer(_:) made of a DTLS peer.
public enum DTLSAttachment: Equatable, Sendable {
    /// Attached; the transport calls datagramArrived() for every datagram it queues for the peer.
    case reportsArrivals
    /// Attached; the transport reads on demand (a socket of its own) and reports no arrivals.
    case silent
    /// Refused: another DTLS peer uses this transport.
    case inUse
}

/// Told by a transport each time it queues a datagram for its peer, so an idle DTLS peer can learn
/// "nothing new" from its own memory instead of asking the transport (see PacketPeerDTLS.poll()).
public protocol DatagramArrivalObserver: AnyObject, Sendable {
    /// Called with the transport's lock held: it must return quickly and call nothing back.
    func datagramArrived()
}

extension DatagramTransport {
    public func receiveDatagramReportingMore(into buffer: UnsafeMutableRawBufferPointer)
        -> (received: DatagramReceive, moreWaiting: Bool) {
        (receiveDatagram(into: buffer), true)
    }
    public var mayHaveDatagram: Bool { true }
    /// A transport that keeps no record of its DTLS peer accepts any, and reports no arrivals.
    public func attachDTLSPeer(_ peer: DatagramArrivalObserver) -> DTLSAttachment { .silent }
    public func detachDTLSPeer(_ peer: DatagramArrivalObserver) {}
}
