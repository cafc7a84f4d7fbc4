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
    public var encodeBufferMaxSize: Int {
        PeerVariantSettings.shared.limit(for: self) ?? Self.defaultEncodeBufferMaxSize
    }

    /// The Variant numbering put_var and get_var use when given no version (beyond Godot): Godot 4's
    /// unless set. Per peer, so one program can talk to a Godot 3 game and a Godot 4 game at once.
    public var godotVersion: GodotVersion { PeerVariantSettings.shared.version(for: self) ?? .godot4 }

    /// Sets godotVersion for this peer.
    public func setGodotVersion(_ version: GodotVersion) {
        PeerVariantSettings.shared.setVersion(version, for: self)
    }

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
        PeerVariantSettings.shared.setLimit(rounded, for: self)
        return .ok
    }

    public func getEncodeBufferMaxSize() -> Int { encodeBufferMaxSize }

    /// Godot's put_var: encodes `value` for `version` (nil: this peer's godotVersion) and sends it as one packet.
    /// `fullObjects` is accepted for Godot's signature; a GodotVariant holds object IDs only, which
    /// are sent as IDs either way.
    /// - Returns: the encoder's error (ERR_OUT_OF_MEMORY above encodeBufferMaxSize,
    ///   ERR_INVALID_PARAMETER for a type `version` lacks), else put_packet's.
    public func putVar(_ value: GodotVariant, fullObjects: Bool = false, version: GodotVersion? = nil) -> GodotError {
        do {
            let bytes = try VariantEncoder.encode(value, version: version ?? godotVersion, maxSize: encodeBufferMaxSize)
            return bytes.withUnsafeBytes { putPacket($0) }
        } catch {
            return ErrorReport.fail(error.code, "put_var: \(error.message)")
        }
    }

    /// Godot's get_var: takes the next packet and decodes it with `version`'s type numbers (nil:
    /// this peer's godotVersion). Unlike Godot, the packet must hold exactly one value: bytes left
    /// after it mean the sender encoded something else (most often the other Godot's numbering,
    /// whose types can read as a different type of garbage), and are ERR_INVALID_DATA.
    /// - Returns: get_packet's error (ERR_UNAVAILABLE when nothing is queued), or the decoder's
    ///   (ERR_INVALID_DATA for malformed bytes, ERR_UNAUTHORIZED for a full object); `.null` then.
    public func getVar(allowObjects: Bool = false, version: GodotVersion? = nil)
        -> (error: GodotError, value: GodotVariant) {
        let packet = getPacket()
        let error = getPacketError()
        guard error == .ok else { return (error, .null) }
        let version = version ?? godotVersion
        do {
            return (.ok, try VariantDecoder.decodeWhole(packet, version: version, allowObjects: allowObjects))
        } catch {
            return (ErrorReport.fail(error.code, "get_var: \(error.message)"), .null)
        }
    }
}

/// encode_buffer_max_size and the Variant numbering per peer, kept beside the peers so their classes
/// need no new field. An entry holds its peer weakly and counts only while that very peer lives, so
/// a new peer at a reused address never inherits an old setting.
final class PeerVariantSettings: @unchecked Sendable {
    private struct Entry {
        weak var peer: AnyObject?
        var limit: Int?
        var version: GodotVersion?
    }

    static let shared = PeerVariantSettings()
    private let lock = NSLock()
    private var entries: [ObjectIdentifier: Entry] = [:]

    private func entry(for peer: AnyObject) -> Entry? {
        lock.lock()
        defer { lock.unlock() }
        guard let entry = entries[ObjectIdentifier(peer)], entry.peer === peer else { return nil }
        return entry
    }

    func limit(for peer: AnyObject) -> Int? { entry(for: peer)?.limit }
    func version(for peer: AnyObject) -> GodotVersion? { entry(for: peer)?.version }

    func setLimit(_ limit: Int, for peer: AnyObject) {
        update(peer) { $0.limit = limit }
    }

    func setVersion(_ version: GodotVersion, for peer: AnyObject) {
        update(peer) { $0.version = version }
    }

    private func update(_ peer: AnyObject, _ change: (inout Entry) -> Void) {
        lock.lock()
        defer { lock.unlock() }
        if entries.count >= 64 { entries = entries.filter { $0.value.peer != nil } }
        let key = ObjectIdentifier(peer)
        var entry = entries[key].flatMap { $0.peer === peer ? $0 : nil } ?? Entry(peer: peer)
        change(&entry)
        entries[key] = entry
    }
}
