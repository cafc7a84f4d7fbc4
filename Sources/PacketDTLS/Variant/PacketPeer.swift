// PacketPeer.swift — what Godot's PacketPeer base class gives PacketPeerUDP and PacketPeerDTLS:
// put_var, get_var and encode_buffer_max_size, written once over put_packet/get_packet.

import Synchronization

/// Godot's PacketPeer: a peer that sends and receives whole packets. PacketPeerUDP and
/// PacketPeerDTLS adopt it, and get put_var / get_var / encode_buffer_max_size from it.
public protocol PacketPeer: AnyObject {
    func putPacket(_ bytes: UnsafeRawBufferPointer) -> GodotError
    func getPacket() -> [UInt8]
    func getPacketError() -> GodotError
    func getAvailablePacketCount() -> Int
    /// The largest encoding put_var accepts (Godot's encode_buffer_max_size).
    var encodeBufferMaxSize: Int { get }
    /// Godot's set_encode_buffer_max_size: at least 1024 bytes, at most 256 MiB, rounded up to a
    /// power of two. ERR_INVALID_PARAMETER (and no change) outside that range.
    @discardableResult
    func setEncodeBufferMaxSize(_ size: Int) -> GodotError
    /// The Variant numbering put_var and get_var use when given no version (beyond Godot): Godot 4's
    /// unless set. Per peer, so one program can talk to a Godot 3 game and a Godot 4 game at once.
    var godotVersion: GodotVersion { get }
    /// Sets godotVersion for this peer.
    func setGodotVersion(_ version: GodotVersion)
}

// Each peer keeps its settings in its own fields (`encodeBufferMaxSizeSetting`, `godotVersionSetting`),
// atomic because put_var and get_var read them without taking the peer's lock.
extension PacketPeerUDP: PacketPeer {
    public var encodeBufferMaxSize: Int { encodeBufferMaxSizeSetting.load(ordering: .relaxed) }

    @discardableResult
    public func setEncodeBufferMaxSize(_ size: Int) -> GodotError {
        EncodeBufferSize.store(size) { encodeBufferMaxSizeSetting.store($0, ordering: .relaxed) }
    }

    public var godotVersion: GodotVersion { GodotVersion(major: godotVersionSetting.load(ordering: .relaxed)) ?? .godot4 }

    public func setGodotVersion(_ version: GodotVersion) {
        godotVersionSetting.store(version.rawValue, ordering: .relaxed)
    }
}

extension PacketPeerDTLS: PacketPeer {
    public var encodeBufferMaxSize: Int { encodeBufferMaxSizeSetting.load(ordering: .relaxed) }

    @discardableResult
    public func setEncodeBufferMaxSize(_ size: Int) -> GodotError {
        EncodeBufferSize.store(size) { encodeBufferMaxSizeSetting.store($0, ordering: .relaxed) }
    }

    public var godotVersion: GodotVersion { GodotVersion(major: godotVersionSetting.load(ordering: .relaxed)) ?? .godot4 }

    public func setGodotVersion(_ version: GodotVersion) {
        godotVersionSetting.store(version.rawValue, ordering: .relaxed)
    }
}

/// The rules of Godot's encode_buffer_max_size, shared by every PacketPeer.
enum EncodeBufferSize {
    /// Godot's default (8 MiB).
    static let godotDefault = 8 * 1024 * 1024

    /// Checks `size`, rounds it up to a power of two and hands it to `store`; ERR_INVALID_PARAMETER
    /// (and no call) outside 1024 bytes ... 256 MiB.
    static func store(_ size: Int, _ store: (Int) -> Void) -> GodotError {
        guard size >= 1024 else {
            return ErrorReport.fail(.invalidParameter, "encode_buffer_max_size must be at least 1024 bytes, not \(size)")
        }
        guard size <= 256 * 1024 * 1024 else {
            return ErrorReport.fail(.invalidParameter, "encode_buffer_max_size cannot exceed 256 MiB (\(size) asked)")
        }
        var rounded = 1024
        while rounded < size { rounded <<= 1 }
        store(rounded)
        return .ok
    }
}

extension PacketPeer {
    /// Godot's default encode_buffer_max_size (8 MiB).
    public static var defaultEncodeBufferMaxSize: Int { EncodeBufferSize.godotDefault }

    public func getEncodeBufferMaxSize() -> Int { encodeBufferMaxSize }

    /// Godot's put_var: encodes `value` for `version` (nil: this peer's godotVersion) and sends it as
    /// one packet. `fullObjects` is accepted for Godot's signature; a GodotVariant holds object IDs
    /// only, which are sent as IDs either way.
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
