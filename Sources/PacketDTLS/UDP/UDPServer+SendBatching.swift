// UDPServer+SendBatching.swift — beyond Godot: the datagrams of a server's peers leave together.
//
// Off by default, so Godot's loop behaves as Godot's: each put_packet is one sendto, out at once. On,
// the peers' datagrams (DTLS records, handshake flights and plain put_packet alike) are queued in the
// server's SendBatch and leave in one sendmmsg per up to 512 at the next flushSends(), the next poll(),
// or when the batch is full. See SendBatch.swift for what happens to errors.

extension UDPServer {
    /// Turns send batching on or off (beyond Godot; off by default). Allowed at any time, listening or
    /// not. Turning it off sends what is queued first; when the socket's send buffer is full the rest
    /// cannot leave yet, and batching stays on (.busy: call again, or flushSends(), later) so that no
    /// direct send overtakes them. .failed when the kernel refused some queued datagrams (counted in
    /// getStats().datagramsSendFailed; the message names the first).
    public func setSendBatching(_ enabled: Bool) -> GodotError {
        report(sendBatch.setEnabled(enabled), function: "UDPServer.set_send_batching")
    }

    /// True while send batching is on.
    public func isSendBatching() -> Bool {
        sendBatch.isEnabled
    }

    /// Sends every queued datagram now, in the order they were put (one sendmmsg per up to 512). Call
    /// it once a tick after the last put_packet. .ok also when batching is off or nothing is queued;
    /// .busy when the socket's send buffer filled (the rest stays queued, in order, for the next flush);
    /// .failed when the kernel refused some datagrams (dropped and counted in
    /// getStats().datagramsSendFailed, the message names the first); .unconfigured when not listening
    /// (nothing can be queued then).
    public func flushSends() -> GodotError {
        guard isListening() else {
            return ErrorReport.fail(.unconfigured, "UDPServer.flush_sends: the server is not listening; listen() first")
        }
        return report(sendBatch.flush(), function: "UDPServer.flush_sends")
    }

    private func report(_ outcome: SendBatch.FlushOutcome, function: String) -> GodotError {
        switch outcome {
        case .sent:
            return .ok
        case .busy:
            return ErrorReport.fail(.busy, "\(function): the socket's send buffer is full; "
                + "\(sendBatch.waiting) datagrams stay queued for the next flush")
        case .failed(let count, let first):
            return ErrorReport.fail(.failed, "\(function): \(count) datagrams were refused and dropped; the first: \(first)")
        }
    }
}

extension PacketPeerUDP {
    /// The one hook in the send path: a peer of a server with send batching on queues the datagram in
    /// the server's batch; everything else is sent on `socket` at once, as ever.
    @inline(__always)
    func sendLocked(_ bytes: UnsafeRawBufferPointer, on socket: UDPSocket, to target: SocketAddress?) -> SocketSend {
        if let batch = serverLink?.sendBatch, let queued = batch.enqueue(bytes, to: target, from: replySource) {
            return queued
        }
        return socket.send(bytes, to: target, from: replySource)
    }
}
