// VariantExports.swift — the Variant section of include/packetdtls.h (dtls_var_*), and put_var /
// get_var / encode_buffer_max_size of dtls_udp and dtls_peer.
//
// A dtls_var handle holds a GodotVariant in a box. Values go in and out by copy: reading an
// element gives a new handle holding a copy of it, appending copies the item in, so no handle
// ever aliases part of another.

import PacketDTLS

/// The object behind a dtls_var handle: one GodotVariant, changed under its own lock.
final class VariantBox: @unchecked Sendable {
    private let lock = Lock()
    private var stored: GodotVariant

    init(_ value: GodotVariant) { stored = value }

    var value: GodotVariant { lock.withLock { stored } }

    func mutate(_ body: (inout GodotVariant) throws(VariantError) -> Void) throws(VariantError) {
        let failure: VariantError? = lock.withLock {
            do throws(VariantError) {
                try body(&stored)
                return nil
            } catch {
                return error
            }
        }
        if let failure { throw failure }
    }
}

/// A new handle for `value`.
private func issue(_ value: GodotVariant) -> OpaquePointer? {
    handles.issue(VariantBox(value), as: .variant)
}

/// A Godot version from the C int, recording the reason when it is neither 3 nor 4.
private func version(_ major: Int32, _ function: StaticString) -> GodotVersion? {
    guard let version = GodotVersion(major: Int(major)) else {
        ErrorReport.set("\(function): godot_major must be 3 or 4, not \(major)")
        return nil
    }
    return version
}

/// The value behind a handle, or nil with the reason recorded.
private func value(_ handle: OpaquePointer?, _ function: StaticString) -> GodotVariant? {
    lookUpVariant(handle, function)?.value
}

// MARK: - Life cycle and constructors

@c @implementation
public func dtls_var_new() -> OpaquePointer? { issue(.null) }

@c @implementation
public func dtls_var_new_of_type(_ type: GodotVariantType) -> OpaquePointer? {
    guard let zero = GodotVariant.zero(of: type) else {
        ErrorReport.set("dtls_var_new_of_type: \(type.rawValue) is not a dtls_var_type")
        return nil
    }
    return issue(zero)
}

@c @implementation
public func dtls_var_new_bool(_ value: Bool) -> OpaquePointer? { issue(.bool(value)) }

@c @implementation
public func dtls_var_new_int(_ value: Int64) -> OpaquePointer? { issue(.int(value)) }

@c @implementation
public func dtls_var_new_float(_ value: Double) -> OpaquePointer? { issue(.float(value)) }

@c @implementation
public func dtls_var_new_string(_ text: UnsafePointer<CChar>?) -> OpaquePointer? {
    guard let text = CBuffers.requiredString(text, "dtls_var_new_string", "text") else { return nil }
    return issue(.string(text))
}

@c @implementation
public func dtls_var_new_bytes(_ data: UnsafePointer<UInt8>?, _ length: Int) -> OpaquePointer? {
    guard let bytes = CBuffers.bytes(data, length, "dtls_var_new_bytes", "data") else { return nil }
    return issue(.packedByteArray(bytes))
}

@c @implementation
public func dtls_var_new_array() -> OpaquePointer? { issue(.array([])) }

@c @implementation
public func dtls_var_new_dictionary() -> OpaquePointer? { issue(.dictionary([])) }

@c @implementation
public func dtls_var_new_components(_ type: GodotVariantType, _ values: UnsafePointer<Double>?,
                                    _ count: Int) -> OpaquePointer? {
    guard let count = CBuffers.size(count, "dtls_var_new_components", "count") else { return nil }
    guard values != nil || count == 0 else {
        ErrorReport.set("dtls_var_new_components: values is NULL but count is \(count)")
        return nil
    }
    let numbers = values.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
    do {
        return issue(try GodotVariant.fromComponents(type, numbers))
    } catch {
        ErrorReport.set("dtls_var_new_components: \(error.message)")
        return nil
    }
}

@c @implementation
public func dtls_var_free(_ variant: OpaquePointer?) {
    handles.release(variant, .variant)
}

// MARK: - Reading

@c @implementation
public func dtls_var_get_type(_ variant: OpaquePointer?) -> GodotVariantType {
    value(variant, "dtls_var_get_type")?.type ?? .null
}

@c @implementation
public func dtls_var_get_bool(_ variant: OpaquePointer?) -> Bool {
    switch value(variant, "dtls_var_get_bool") {
    case .bool(let b): return b
    case let other?:
        ErrorReport.set("dtls_var_get_bool: the value is a \(other.type.godotName), not a bool")
        return false
    case nil: return false
    }
}

@c @implementation
public func dtls_var_get_int(_ variant: OpaquePointer?) -> Int64 {
    switch value(variant, "dtls_var_get_int") {
    case .int(let i): return i
    case .objectID(let id), .rid(let id): return Int64(bitPattern: id)
    case let other?:
        ErrorReport.set("dtls_var_get_int: the value is a \(other.type.godotName), not an int")
        return 0
    case nil: return 0
    }
}

@c @implementation
public func dtls_var_get_float(_ variant: OpaquePointer?) -> Double {
    switch value(variant, "dtls_var_get_float") {
    case .float(let d): return d
    case .int(let i): return Double(i)
    case let other?:
        ErrorReport.set("dtls_var_get_float: the value is a \(other.type.godotName), not a float")
        return 0
    case nil: return 0
    }
}

@c @implementation
public func dtls_var_get_string(_ variant: OpaquePointer?, _ buffer: UnsafeMutablePointer<CChar>?,
                                _ capacity: Int) -> Int {
    switch value(variant, "dtls_var_get_string") {
    case .string(let s), .stringName(let s), .nodePath(let s), .signal(let s, _):
        return CBuffers.writeString(s, buffer, capacity, "dtls_var_get_string")
    case let other?:
        ErrorReport.set("dtls_var_get_string: the value is a \(other.type.godotName), not a String")
        return CBuffers.writeString("", buffer, capacity, "dtls_var_get_string")
    case nil:
        return CBuffers.writeString("", buffer, capacity, "dtls_var_get_string")
    }
}

@c @implementation
public func dtls_var_get_bytes(_ variant: OpaquePointer?, _ buffer: UnsafeMutablePointer<UInt8>?, _ capacity: Int,
                               _ outLength: UnsafeMutablePointer<Int>?) -> GodotError {
    switch value(variant, "dtls_var_get_bytes") {
    case .packedByteArray(let bytes):
        return CBuffers.writeBytes(bytes, buffer, capacity, outLength, function: "dtls_var_get_bytes")
    case let other?:
        outLength?.pointee = 0
        return ErrorReport.fail(.invalidParameter,
                                "dtls_var_get_bytes: the value is a \(other.type.godotName), not a PackedByteArray")
    case nil:
        outLength?.pointee = 0
        return .invalidParameter
    }
}

@c @implementation
public func dtls_var_get_components(_ variant: OpaquePointer?, _ buffer: UnsafeMutablePointer<Double>?,
                                    _ capacity: Int) -> Int {
    guard let value = value(variant, "dtls_var_get_components"),
          let capacity = CBuffers.size(capacity, "dtls_var_get_components", "cap") else { return 0 }
    guard let components = value.components else {
        ErrorReport.set("dtls_var_get_components: a \(value.type.godotName) has no components")
        return 0
    }
    if let buffer {
        for (index, number) in components.prefix(capacity).enumerated() { buffer[index] = number }
    }
    return components.count
}

// MARK: - Arrays and dictionaries

@c @implementation
public func dtls_var_array_size(_ variant: OpaquePointer?) -> Int {
    guard let value = value(variant, "dtls_var_array_size") else { return 0 }
    if case .dictionary = value {
        ErrorReport.set("dtls_var_array_size: the value is a Dictionary (use dtls_var_dict_size)")
        return 0
    }
    guard let count = value.count else {
        ErrorReport.set("dtls_var_array_size: a \(value.type.godotName) is not an array")
        return 0
    }
    return count
}

@c @implementation
public func dtls_var_array_get(_ variant: OpaquePointer?, _ index: Int) -> OpaquePointer? {
    guard let value = value(variant, "dtls_var_array_get"),
          let index = CBuffers.size(index, "dtls_var_array_get", "index") else { return nil }
    if case .dictionary = value {
        ErrorReport.set("dtls_var_array_get: the value is a Dictionary (use dtls_var_dict_value_at)")
        return nil
    }
    guard let element = value.element(at: index) else {
        ErrorReport.set("dtls_var_array_get: no element \(index) in a \(value.type.godotName) of \(value.count ?? 0)")
        return nil
    }
    return issue(element)
}

@c @implementation
public func dtls_var_array_append(_ variant: OpaquePointer?, _ item: OpaquePointer?) -> GodotError {
    guard let target = lookUpVariant(variant, "dtls_var_array_append") else { return .invalidParameter }
    guard let element = value(item, "dtls_var_array_append") else { return .invalidParameter }
    do {
        try target.mutate { (value: inout GodotVariant) throws(VariantError) in try value.append(element) }
        return .ok
    } catch {
        return ErrorReport.fail(error.code, "dtls_var_array_append: \(error.message)")
    }
}

/// The entries of a Dictionary handle, or nil with the reason recorded.
private func entries(_ handle: OpaquePointer?, _ function: StaticString) -> [GodotDictionaryEntry]? {
    guard let value = value(handle, function) else { return nil }
    guard case .dictionary(let entries) = value else {
        ErrorReport.set("\(function): a \(value.type.godotName) is not a Dictionary")
        return nil
    }
    return entries
}

@c @implementation
public func dtls_var_dict_size(_ variant: OpaquePointer?) -> Int {
    entries(variant, "dtls_var_dict_size")?.count ?? 0
}

@c @implementation
public func dtls_var_dict_key_at(_ variant: OpaquePointer?, _ index: Int) -> OpaquePointer? {
    guard let entries = entries(variant, "dtls_var_dict_key_at"),
          let index = CBuffers.size(index, "dtls_var_dict_key_at", "index") else { return nil }
    guard index < entries.count else {
        ErrorReport.set("dtls_var_dict_key_at: no entry \(index) in a Dictionary of \(entries.count)")
        return nil
    }
    return issue(entries[index].key)
}

@c @implementation
public func dtls_var_dict_value_at(_ variant: OpaquePointer?, _ index: Int) -> OpaquePointer? {
    guard let entries = entries(variant, "dtls_var_dict_value_at"),
          let index = CBuffers.size(index, "dtls_var_dict_value_at", "index") else { return nil }
    guard index < entries.count else {
        ErrorReport.set("dtls_var_dict_value_at: no entry \(index) in a Dictionary of \(entries.count)")
        return nil
    }
    return issue(entries[index].value)
}

@c @implementation
public func dtls_var_dict_get(_ variant: OpaquePointer?, _ key: OpaquePointer?) -> OpaquePointer? {
    guard let entries = entries(variant, "dtls_var_dict_get") else { return nil }
    guard let key = value(key, "dtls_var_dict_get") else { return nil }
    guard let found = entries.first(where: { $0.key == key }) else {
        ErrorReport.set("dtls_var_dict_get: the Dictionary has no such key")
        return nil
    }
    return issue(found.value)
}

@c @implementation
public func dtls_var_dict_set(_ variant: OpaquePointer?, _ key: OpaquePointer?, _ item: OpaquePointer?) -> GodotError {
    guard let target = lookUpVariant(variant, "dtls_var_dict_set") else { return .invalidParameter }
    guard let key = value(key, "dtls_var_dict_set"), let item = value(item, "dtls_var_dict_set") else {
        return .invalidParameter
    }
    do {
        try target.mutate { (value: inout GodotVariant) throws(VariantError) in try value.set(key, item) }
        return .ok
    } catch {
        return ErrorReport.fail(error.code, "dtls_var_dict_set: \(error.message)")
    }
}

// MARK: - Encoding

@c @implementation
public func dtls_var_encode(_ variant: OpaquePointer?, _ godotMajor: Int32, _ buffer: UnsafeMutablePointer<UInt8>?,
                            _ capacity: Int, _ outLength: UnsafeMutablePointer<Int>?) -> GodotError {
    guard let value = value(variant, "dtls_var_encode") else { return .invalidParameter }
    guard let version = version(godotMajor, "dtls_var_encode") else { return .invalidParameter }
    do {
        let bytes = try VariantEncoder.encode(value, version: version)
        return CBuffers.writeBytes(bytes, buffer, capacity, outLength, function: "dtls_var_encode")
    } catch {
        return ErrorReport.fail(error.code, "dtls_var_encode: \(error.message)")
    }
}

@c @implementation
public func dtls_var_decode(_ data: UnsafePointer<UInt8>?, _ length: Int, _ godotMajor: Int32) -> OpaquePointer? {
    guard let version = version(godotMajor, "dtls_var_decode") else { return nil }
    guard let bytes = CBuffers.bytes(data, length, "dtls_var_decode", "data") else { return nil }
    do {
        return issue(try VariantDecoder.decode(bytes, version: version))
    } catch {
        ErrorReport.set("dtls_var_decode: \(error.message) (\(error.code.godotName))")
        return nil
    }
}

// MARK: - put_var / get_var on peers

/// The two handle kinds whose objects are Godot PacketPeers: put_var, get_var and
/// encode_buffer_max_size take either, and do the same with both.
private enum PacketPeerHandle {
    case udp, dtls

    /// The PacketPeer behind `handle`, or nil with the reason recorded for `function`.
    func peer(_ handle: OpaquePointer?, _ function: StaticString) -> PacketPeer? {
        switch self {
        case .udp: lookUpUDP(handle, function)
        case .dtls: lookUpPeer(handle, function)
        }
    }
}

/// put_var on either kind of handle, with the C arguments checked.
private func putVar(_ kind: PacketPeerHandle, _ handle: OpaquePointer?, _ variant: OpaquePointer?,
                    _ fullObjects: Bool, _ godotMajor: Int32, _ function: StaticString) -> GodotError {
    guard let peer = kind.peer(handle, function) else { return .invalidParameter }
    guard let value = value(variant, function) else { return .invalidParameter }
    guard let version = peerVersion(godotMajor, function) else { return .invalidParameter }
    return peer.putVar(value, fullObjects: fullObjects, version: version)
}

/// get_var on either kind of handle: *out_var gets a new handle, or NULL on failure.
private func getVar(_ kind: PacketPeerHandle, _ handle: OpaquePointer?, _ allowObjects: Bool, _ godotMajor: Int32,
                    _ outVariant: UnsafeMutablePointer<OpaquePointer?>?, _ function: StaticString) -> GodotError {
    outVariant?.pointee = nil
    // The handle is checked first: a bad handle is reported as such even when out_var is NULL too.
    guard let peer = kind.peer(handle, function) else { return .invalidParameter }
    guard let outVariant else { return ErrorReport.fail(.invalidParameter, "\(function): out_var is NULL") }
    guard let version = peerVersion(godotMajor, function) else { return .invalidParameter }
    let (error, value) = peer.getVar(allowObjects: allowObjects, version: version)
    guard error == .ok else { return error }
    guard let handle = issue(value) else {
        return ErrorReport.fail(.outOfMemory, "\(function): the handle table is full")
    }
    outVariant.pointee = handle
    return .ok
}

/// The version put_var / get_var were given: .some(nil) for 0 (the peer's own setting), nil (with the
/// reason recorded) for a number that is neither 0, 3 nor 4.
private func peerVersion(_ major: Int32, _ function: StaticString) -> GodotVersion?? {
    if major == 0 { return .some(nil) }
    guard let version = GodotVersion(major: Int(major)) else {
        ErrorReport.set("\(function): godot_major must be 3 or 4, or 0 for the peer's own setting, not \(major)")
        return nil
    }
    return .some(version)
}

/// set_godot_version on either kind of handle.
private func setGodotVersion(_ kind: PacketPeerHandle, _ handle: OpaquePointer?, _ major: Int32,
                             _ function: StaticString) -> GodotError {
    guard let peer = kind.peer(handle, function) else { return .invalidParameter }
    guard let version = GodotVersion(major: Int(major)) else {
        return ErrorReport.fail(.invalidParameter, "\(function): godot_major must be 3 or 4, not \(major)")
    }
    peer.setGodotVersion(version)
    return .ok
}

/// set_encode_buffer_max_size on either kind of handle.
private func setEncodeLimit(_ kind: PacketPeerHandle, _ handle: OpaquePointer?, _ size: Int32,
                            _ function: StaticString) -> GodotError {
    guard let peer = kind.peer(handle, function) else { return .invalidParameter }
    return peer.setEncodeBufferMaxSize(Int(size))
}

/// encode_buffer_max_size of either kind of handle; 0 for a bad handle.
private func encodeLimit(_ kind: PacketPeerHandle, _ handle: OpaquePointer?, _ function: StaticString) -> Int32 {
    guard let peer = kind.peer(handle, function) else { return 0 }
    return Int32(clamping: peer.encodeBufferMaxSize)
}

@c @implementation
public func dtls_udp_put_var(_ udp: OpaquePointer?, _ variant: OpaquePointer?, _ fullObjects: Bool,
                             _ godotMajor: Int32) -> GodotError {
    putVar(.udp, udp, variant, fullObjects, godotMajor, "dtls_udp_put_var")
}

@c @implementation
public func dtls_udp_get_var(_ udp: OpaquePointer?, _ allowObjects: Bool, _ godotMajor: Int32,
                             _ outVariant: UnsafeMutablePointer<OpaquePointer?>?) -> GodotError {
    getVar(.udp, udp, allowObjects, godotMajor, outVariant, "dtls_udp_get_var")
}

@c @implementation
public func dtls_udp_set_encode_buffer_max_size(_ udp: OpaquePointer?, _ maxSize: Int32) -> GodotError {
    setEncodeLimit(.udp, udp, maxSize, "dtls_udp_set_encode_buffer_max_size")
}

@c @implementation
public func dtls_udp_get_encode_buffer_max_size(_ udp: OpaquePointer?) -> Int32 {
    encodeLimit(.udp, udp, "dtls_udp_get_encode_buffer_max_size")
}

@c @implementation
public func dtls_peer_put_var(_ dtls: OpaquePointer?, _ variant: OpaquePointer?, _ fullObjects: Bool,
                              _ godotMajor: Int32) -> GodotError {
    putVar(.dtls, dtls, variant, fullObjects, godotMajor, "dtls_peer_put_var")
}

@c @implementation
public func dtls_peer_get_var(_ dtls: OpaquePointer?, _ allowObjects: Bool, _ godotMajor: Int32,
                              _ outVariant: UnsafeMutablePointer<OpaquePointer?>?) -> GodotError {
    getVar(.dtls, dtls, allowObjects, godotMajor, outVariant, "dtls_peer_get_var")
}

@c @implementation
public func dtls_peer_set_encode_buffer_max_size(_ dtls: OpaquePointer?, _ maxSize: Int32) -> GodotError {
    setEncodeLimit(.dtls, dtls, maxSize, "dtls_peer_set_encode_buffer_max_size")
}

@c @implementation
public func dtls_peer_get_encode_buffer_max_size(_ dtls: OpaquePointer?) -> Int32 {
    encodeLimit(.dtls, dtls, "dtls_peer_get_encode_buffer_max_size")
}

@c @implementation
public func dtls_udp_set_godot_version(_ udp: OpaquePointer?, _ godotMajor: Int32) -> GodotError {
    setGodotVersion(.udp, udp, godotMajor, "dtls_udp_set_godot_version")
}

@c @implementation
public func dtls_udp_get_godot_version(_ udp: OpaquePointer?) -> Int32 {
    Int32(PacketPeerHandle.udp.peer(udp, "dtls_udp_get_godot_version")?.godotVersion.rawValue ?? 0)
}

@c @implementation
public func dtls_peer_set_godot_version(_ dtls: OpaquePointer?, _ godotMajor: Int32) -> GodotError {
    setGodotVersion(.dtls, dtls, godotMajor, "dtls_peer_set_godot_version")
}

@c @implementation
public func dtls_peer_get_godot_version(_ dtls: OpaquePointer?) -> Int32 {
    Int32(PacketPeerHandle.dtls.peer(dtls, "dtls_peer_get_godot_version")?.godotVersion.rawValue ?? 0)
}
