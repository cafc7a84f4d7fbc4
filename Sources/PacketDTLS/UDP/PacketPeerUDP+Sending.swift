// PacketPeerUDP+Sending.swift — put_packet, its route and SO_BROADCAST.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension PacketPeerUDP {
    // MARK: - Sending

    /// Sends `bytes` as one datagram to the connected host or the destination. Without a socket,
    /// one of the destination's family is opened first (as Godot does).
    public func putPacket(_ bytes: UnsafeRawBufferPointer) -> GodotError {
        let function = "PacketPeerUDP.put_packet"
        guard bytes.count <= Self.maxDatagramSize else {
            return ErrorReport.fail(.invalidParameter,
                "\(function): \(bytes.count) bytes exceed the largest UDP datagram (\(Self.maxDatagramSize) bytes)")
        }
        return lock.withLock {
            let route = sendRouteLocked()
            guard route.exists else {
                return ErrorReport.fail(.unconfigured,
                    "\(function): no destination; call set_dest_address() or connect_to_host() first")
            }
            var socket = route.socket
            if socket == nil {
                do throws(Failure) {
                    socket = try UDPSocket.open(reaching: route.target!.isIPv4 ? .ipv4Only : .ipv6Only, for: function)
                } catch {
                    return error.report()
                }
                if broadcastEnabled { _ = socket!.setBroadcast(true) }
                ownSocket = socket
            }
            let outcome = sendLocked(bytes, on: socket!, to: route.target)
            if case .sent = outcome { return .ok }
            // Only a failure spells the address out (the text cost more than the send itself).
            let whereTo = (route.target ?? remoteLocked)?.description ?? "the connected host"
            switch outcome {
            case .sent:
                return .ok
            case .wouldBlock:
                return ErrorReport.fail(.busy, "\(function): the send buffer is full; nothing was sent to \(whereTo)")
            case .failed(let code) where code == EAFNOSUPPORT:
                let kind = socket!.family == AF_INET ? "IPv4" : "IPv6-only"
                return ErrorReport.fail(.invalidParameter, "\(function): this \(kind) socket cannot send to \(whereTo)")
            case .failed(let code):
                return ErrorReport.fail(.failed, "\(function): sending to \(whereTo) failed: \(errnoText(code))")
            }
        }
    }

    /// Sends the bytes of any collection as one datagram; see putPacket(_: UnsafeRawBufferPointer).
    public func putPacket<Bytes: Collection>(_ bytes: Bytes) -> GodotError where Bytes.Element == UInt8 {
        if let result = bytes.withContiguousStorageIfAvailable({ putPacket(UnsafeRawBufferPointer($0)) }) {
            return result
        }
        return Array(bytes).withUnsafeBytes { putPacket($0) }
    }

    /// Where a datagram goes: the socket (nil = none opened yet) and the address for sendto (nil = the
    /// connected host of a connected socket); `exists` false when there is nowhere to send. Not an
    /// optional: an optional tuple or struct holding these was destroyed through the runtime's generic
    /// value witnesses (Optional's, looked up by metadata), about 200 instructions on every send.
    struct SendRoute {
        var exists: Bool
        var socket: UDPSocket?
        var target: SocketAddress?
    }

    /// Where a datagram goes now.
    func sendRouteLocked() -> SendRoute {
        if let serverLink { return SendRoute(exists: true, socket: serverLink.socket, target: serverLink.remote) }
        if let ownSocket, connectedHost != nil { return SendRoute(exists: true, socket: ownSocket, target: nil) }
        return SendRoute(exists: destination != nil, socket: ownSocket, target: destination)
    }

    /// SO_BROADCAST, now and on any socket opened later. .locked for a peer of a UDPServer.
    @discardableResult
    public func setBroadcastEnabled(_ enabled: Bool) -> GodotError {
        lock.withLock {
            if serverLink != nil {
                return ErrorReport.fail(.locked, "PacketPeerUDP.set_broadcast_enabled: this peer uses its "
                    + "UDPServer's socket, which it cannot change")
            }
            broadcastEnabled = enabled
            guard let ownSocket else { return .ok }
            let status = ownSocket.setBroadcast(enabled)
            return status == 0 ? .ok
                : ErrorReport.fail(.failed, "PacketPeerUDP.set_broadcast_enabled: \(errnoText(status))")
        }
    }
}
