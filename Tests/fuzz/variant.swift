// variant.swift — hostile bytes into Godot Variant decoding (get_var), Godot 3 and 4 formats.
//
// The first input byte picks the format (bit 0: Godot 3 or 4) and allow_objects (bit 1); the rest
// is the packet. What decodes is encoded again, and that encoding must be stable: decoding it and
// encoding once more gives the same bytes (a value that decodes but can't round-trip is a bug).

import PacketDTLS

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzVariant(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let version: GodotVersion = data[0] & 1 == 0 ? .godot4 : .godot3
    let allowObjects = data[0] & 2 != 0
    let packet = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let value: GodotVariant
    do {
        let decoded = try VariantDecoder.decodeWithLength(packet, version: version, allowObjects: allowObjects)
        guard decoded.length <= packet.count else { fatalError("decoded \(decoded.length) bytes of \(packet.count)") }
        value = decoded.value
    } catch {
        _ = error.description
        return 0
    }
    _ = value.hashValue
    let encoded: [UInt8]
    do {
        encoded = try VariantEncoder.encode(value, version: version)
    } catch {
        fatalError("a decoded \(version) value does not encode again: \(error)")
    }
    do {
        let again = try VariantEncoder.encode(try VariantDecoder.decode(encoded, version: version, allowObjects: true),
                                              version: version)
        guard again == encoded else { fatalError("\(version) re-encoding is not stable: \(encoded) then \(again)") }
    } catch {
        fatalError("a \(version) re-encoding does not round-trip: \(error)")
    }
    return 0
}
