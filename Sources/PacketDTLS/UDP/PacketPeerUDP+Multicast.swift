// PacketPeerUDP+Multicast.swift — joining and leaving multicast groups.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension PacketPeerUDP {
    // MARK: - Multicast

    /// Joins multicast group `address` on the interface named `interfaceName` ("" = the system's
    /// choice). The socket must be bound.
    public func joinMulticastGroup(_ address: String, interfaceName: String) -> GodotError {
        changeMulticastGroup(join: true, address, interfaceName: interfaceName)
    }

    /// Leaves a multicast group joined before.
    public func leaveMulticastGroup(_ address: String, interfaceName: String) -> GodotError {
        changeMulticastGroup(join: false, address, interfaceName: interfaceName)
    }

    func changeMulticastGroup(join: Bool, _ address: String, interfaceName: String) -> GodotError {
        let function = join ? "PacketPeerUDP.join_multicast_group" : "PacketPeerUDP.leave_multicast_group"
        guard let group = SocketAddress.parse(literal: address, port: 0), group.isMulticast else {
            return ErrorReport.fail(.invalidParameter, "\(function): \"\(address)\" is not a multicast group address")
        }
        var interfaceIndex: UInt32 = 0
        if !interfaceName.isEmpty {
            interfaceIndex = if_nametoindex(interfaceName)
            guard interfaceIndex != 0 else {
                return ErrorReport.fail(.invalidParameter,
                                        "\(function): no network interface is named \"\(interfaceName)\"")
            }
        }
        return lock.withLock {
            if serverLink != nil {
                return ErrorReport.fail(.locked, "\(function): this peer uses its UDPServer's socket")
            }
            guard let ownSocket else {
                return ErrorReport.fail(.unconfigured, "\(function): the peer has no socket; bind() first")
            }
            let status = ownSocket.changeMembership(join: join, group: group, interfaceIndex: interfaceIndex)
            switch status {
            case 0:
                return .ok
            case EAFNOSUPPORT:
                return ErrorReport.fail(.invalidParameter,
                                        "\(function): an IPv4 socket cannot join IPv6 group \(address)")
            default:
                return ErrorReport.fail(.failed, "\(function): group \(address) on interface "
                    + "\"\(interfaceName.isEmpty ? "any" : interfaceName)\": \(errnoText(status))")
            }
        }
    }
}
