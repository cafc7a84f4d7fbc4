// PacketPeer.swift — what Godot's PacketPeer base class gives PacketPeerUDP and PacketPeerDTLS:
// put_var, get_var and encode_buffer_max_size, written once over put_packet/get_packet.

import Foundation

/// Godot's PacketPeer: a peer that sends and receives whole packets. PacketPeerUDP and
/// PacketPeerDTLS adopt it, and get put_var / get_var / encode_buffer_max_size from it.
public protocol PacketPeer: AnyObject {
    func putPacket(_ bytes: UnsafeRawBufferPointer) -> GodotError
    func getPacket() -> [UInt8]
    func getPacketError() -> GodotError
    func getAvailablePacketCount() -> Int
}

extension PacketPeerUDP: PacketPeer {}
extension PacketPeerDTLS: PacketPeer {}

extension PacketPeer {
    /// Godot's default encode_buffer_max_size (8 MiB).
    public static var defaultEncodeBufferMaxSize: Int { 8 * 1024 * 1024 }

    /// The largest encoding put_var accepts (Godot's encode_buffer_max_size).
    public var encodeBufferMaxSize: Int { EncodeLimits.shared.limit(for: self) ?? Self.defaultEncodeBufferMaxSize }

    /// Godot's set_encode_buffer_max_size: at least 1024 bytes, at most 256 MiB, rounded up to a
    /// power of two. ERR_INVALID_PARAMETER (and no change) outside that range.
    @discardableResult
    public func setEncodeBufferMaxSize(_ size: Int) -> GodotError {
        guard size >= 1024 else {
            return ErrorReport.fail(.invalidParameter, "encode_buffer_max_size must be at least 1024 bytes, not \(size)")
        }
        guard size <= 256 * 1024 * 1024 else {
            return ErrorReport.fail(.invalidParameter, "encode_buffer_max_size cannot exceed 256 MiB (\(size) asked)")
        }
        var rounded = 1024
        while rounded < size { rounded <<= 1 }
        EncodeLimits.shared.setLimit(rounded, for: self)
        return .ok
    }

    public func getEncodeBufferMaxSize() -> Int { encodeBufferMaxSize }

    /// Godot's put_var: encodes `value` for `version` and sends it as one packet.
    /// `fullObjects` is accepted for Godot's signature; a GodotVariant holds object IDs only, which
    /// are sent as IDs either way.
    /// - Returns: the encoder's error (ERR_OUT_OF_MEMORY above encodeBufferMaxSize,
    ///   ERR_INVALID_PARAMETER for a type `version` lacks), else put_packet's.
    public func putVar(_ value: GodotVariant, fullObjects: Bool = false, version: GodotVersion = .godot4) -> GodotError {
        do {
            let bytes = try VariantEncoder.encode(value, version: version, maxSize: encodeBufferMaxSize)
            return bytes.withUnsafeBytes { putPacket($0) }
        } catch {
            return ErrorReport.fail(error.code, "put_var: \(error.message)")
        }
    }

    /// Godot's get_var: takes the next packet and decodes it with `version`'s type numbers.
    /// - Returns: get_packet's error (ERR_UNAVAILABLE when nothing is queued), or the decoder's
    ///   (ERR_INVALID_DATA for malformed bytes, ERR_UNAUTHORIZED for a full object); `.null` then.
    public func getVar(allowObjects: Bool = false, version: GodotVersion = .godot4)
        -> (error: GodotError, value: GodotVariant) {
        let packet = getPacket()
        let error = getPacketError()
        guard error == .ok else { return (error, .null) }
        do {
            return (.ok, try VariantDecoder.decode(packet, version: version, allowObjects: allowObjects))
        } catch {
            return (ErrorReport.fail(error.code, "get_var: \(error.message)"), .null)
        }
    }
}

/// encode_buffer_max_size per peer, kept beside the peers so their classes need no new field.
/// An entry holds its peer weakly and counts only while that very peer lives, so a new peer at a
/// reused address never inherits an old setting.
final class EncodeLimits: @unchecked Sendable {
    private struct Entry {
        weak var peer: AnyObject?
        var limit: Int
    }

    static let shared = EncodeLimits()
    private let lock = NSLock()
    private var entries: [ObjectIdentifier: Entry] = [:]

    func limit(for peer: AnyObject) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard let entry = entries[ObjectIdentifier(peer)], entry.peer === peer else { return nil }
        return entry.limit
    }

    func setLimit(_ limit: Int, for peer: AnyObject) {
        lock.lock()
        defer { lock.unlock() }
        if entries.count >= 64 { entries = entries.filter { $0.value.peer != nil } }
        entries[ObjectIdentifier(peer)] = Entry(peer: peer, limit: limit)
    }
}
