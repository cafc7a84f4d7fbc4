// VariantDecoder.swift — bytes in Godot's binary serialization format to GodotVariant.
//
// The input comes off the network, so nothing in it is trusted: every length and count is checked
// against the bytes that remain before anything is read or allocated, nesting is bounded, and
// strings must be valid UTF-8. Every problem is a VariantError (Godot's ERR_INVALID_DATA for a
// malformed value, as Godot's decode_variant returns), never a crash. Objects are never built:
// one sent as an instance ID becomes `.objectID`, a full object is refused (ERR_UNAUTHORIZED, as
// Godot does when allow_objects is false). Typed arrays and dictionaries (Godot 4) decode as
// untyped ones.

/// Decodes Godot's binary serialization format into GodotVariant values.
public enum VariantDecoder {
    /// Deeper nesting than this is refused with ERR_INVALID_DATA.
    public static let maxDepth = 256

    /// The value at the start of `bytes`, read with `version`'s type numbers. Bytes after the value
    /// are ignored, as Godot's get_var ignores them.
    /// - Parameters:
    ///   - bytes: the encoded value (a packet from get_packet, or var_to_bytes' result).
    ///   - version: whose type numbers to read, Godot 3's or Godot 4's.
    ///   - allowObjects: Godot's allow_objects; full objects cannot be built here either way
    ///     (ERR_UNAUTHORIZED without it, ERR_UNAVAILABLE with it).
    public static func decode(_ bytes: [UInt8], version: GodotVersion = .godot4,
                              allowObjects: Bool = false) throws(VariantError) -> GodotVariant {
        try decodeWithLength(bytes, version: version, allowObjects: allowObjects).value
    }

    /// The one value `bytes` hold: as decode(), but bytes left after the value are ERR_INVALID_DATA
    /// (get_var's packets hold exactly one value). When the bytes read whole with the other Godot's
    /// numbering, the reason says so.
    public static func decodeWhole(_ bytes: [UInt8], version: GodotVersion = .godot4,
                                   allowObjects: Bool = false) throws(VariantError) -> GodotVariant {
        let other: GodotVersion = version == .godot4 ? .godot3 : .godot4
        let decoded: (value: GodotVariant, length: Int)
        do {
            decoded = try decodeWithLength(bytes, version: version, allowObjects: allowObjects)
        } catch {
            guard error.code == .invalidData, readsWhole(bytes, as: other) else { throw error }
            throw VariantError(.invalidData, "\(error.message); the packet reads whole with Godot \(other.rawValue)'s "
                + "type numbers: the sender uses Godot \(other.rawValue) (set_godot_version(\(other.rawValue)))")
        }
        guard decoded.length == bytes.count else {
            let left = bytes.count - decoded.length
            let hint = readsWhole(bytes, as: other)
                ? ": it reads whole with Godot \(other.rawValue)'s type numbers, so the sender uses Godot "
                    + "\(other.rawValue) (set_godot_version(\(other.rawValue)))"
                : ""
            throw VariantError(.invalidData, "\(left) bytes follow the \(decoded.length)-byte value read with "
                + "Godot \(version.rawValue)'s type numbers; a packet holds one value, so this is not one\(hint)")
        }
        return decoded.value
    }

    /// True when `bytes` are exactly one valid value in `version`'s numbering.
    private static func readsWhole(_ bytes: [UInt8], as version: GodotVersion) -> Bool {
        guard let decoded = try? decodeWithLength(bytes, version: version, allowObjects: true) else { return false }
        return decoded.length == bytes.count
    }

    /// As decode(), also giving the number of bytes the value took.
    public static func decodeWithLength(_ bytes: [UInt8], version: GodotVersion = .godot4,
                                        allowObjects: Bool = false) throws(VariantError)
        -> (value: GodotVariant, length: Int) {
        var reader = Reader(bytes: bytes, version: version, allowObjects: allowObjects)
        let value = try reader.value(depth: 0)
        return (value, reader.offset)
    }
}

private let flag64: UInt32 = 1 << 16

private struct Reader {
    let bytes: [UInt8]
    let version: GodotVersion
    let allowObjects: Bool
    var offset = 0

    init(bytes: [UInt8], version: GodotVersion, allowObjects: Bool) {
        self.bytes = bytes
        self.version = version
        self.allowObjects = allowObjects
    }

    var remaining: Int { bytes.count - offset }

    // MARK: Primitives

    func truncated(_ what: String) -> VariantError {
        VariantError(.invalidData, "truncated value: \(what) needs more than the \(remaining) bytes left at offset \(offset)")
    }

    mutating func need(_ count: Int, _ what: String) throws(VariantError) {
        guard count >= 0, count <= remaining else { throw truncated(what) }
    }

    mutating func u32(_ what: String = "a 32-bit field") throws(VariantError) -> UInt32 {
        try need(4, what)
        var value: UInt32 = 0
        for k in 0..<4 { value |= UInt32(bytes[offset + k]) << (8 * k) }
        offset += 4
        return value
    }

    mutating func u64(_ what: String = "a 64-bit field") throws(VariantError) -> UInt64 {
        try need(8, what)
        var value: UInt64 = 0
        for k in 0..<8 { value |= UInt64(bytes[offset + k]) << (8 * k) }
        offset += 8
        return value
    }

    mutating func f32() throws(VariantError) -> Float { Float(bitPattern: try u32("a float")) }
    mutating func f64() throws(VariantError) -> Double { Double(bitPattern: try u64("a double")) }

    /// A count field: a signed 32-bit number that must not be negative, and whose elements
    /// (each at least `elementSize` bytes) must fit in what is left.
    mutating func count(_ what: String, elementSize: Int, mask: UInt32 = 0xFFFF_FFFF) throws(VariantError) -> Int {
        let raw = try u32("the \(what) count") & mask
        guard raw <= UInt32(Int32.max) else {
            throw VariantError(.invalidData, "the \(what) count \(Int32(bitPattern: raw)) is negative")
        }
        let n = Int(raw)
        guard n <= remaining / max(elementSize, 1) else {
            throw VariantError(.invalidData, "the \(what) count \(n) needs more than the \(remaining) bytes left")
        }
        return n
    }

    /// `length` bytes plus padding to 4; the padding may be cut short only at the very end.
    mutating func padded(_ length: Int, _ what: String) throws(VariantError) -> ArraySlice<UInt8> {
        try need(length, what)
        let data = bytes[offset..<offset + length]
        offset += length
        offset += min((4 - length % 4) % 4, remaining)
        return data
    }

    /// UTF-8 text, cut at the first NUL as Godot cuts it; invalid UTF-8 is ERR_INVALID_DATA.
    func text(_ data: ArraySlice<UInt8>) throws(VariantError) -> String {
        let cut = data.firstIndex(of: 0).map { data[data.startIndex..<$0] } ?? data
        guard let text = String(validating: cut, as: UTF8.self) else {
            throw VariantError(.invalidData, "a string is not valid UTF-8")
        }
        return text
    }

    mutating func string() throws(VariantError) -> String {
        let length = try count("string length", elementSize: 1)
        let data = try padded(length, "a string")
        return try text(data)
    }

    // MARK: Values

    mutating func value(depth: Int) throws(VariantError) -> GodotVariant {
        guard depth <= VariantDecoder.maxDepth else {
            throw VariantError(.invalidData, "the value nests deeper than \(VariantDecoder.maxDepth) levels")
        }
        let header = try u32("a type header")
        let number = header & 0xFF
        // Godot uses the low byte for the type and bits 16...19 for flags (64-bit, object as ID, typed
        // containers); any other bit means these bytes are not a value of this numbering.
        guard header & ~UInt32(0x000F_00FF) == 0 else {
            throw VariantError(.invalidData, "the type header 0x\(String(header, radix: 16)) at offset \(offset - 4) "
                + "has bits Godot \(version.rawValue) never sets")
        }
        guard let type = version.type(wireNumber: number) else {
            throw VariantError(.invalidData, "type number \(number) does not exist in Godot \(version.rawValue)")
        }
        let wide = version == .godot4 && header & flag64 != 0
        switch type.rawValue {
        case 0: return .null
        case 1: return .bool(try u32("a bool") != 0)
        case 2:
            if header & flag64 != 0 { return .int(Int64(bitPattern: try u64("an int"))) }
            return .int(Int64(Int32(bitPattern: try u32("an int"))))
        case 3:
            if header & flag64 != 0 { return .float(try f64()) }
            return .float(Double(try f32()))
        case 4: return .string(try string())
        case 21: return .stringName(try string())
        case 22: return .nodePath(try nodePath())
        case 23: return .rid(version == .godot4 ? try u64("an RID") : 0)
        case 24: return try object(header)
        case 25: return .callable
        case 26:
            let name = try string()
            return .signal(name: name, objectID: try u64("a signal's object ID"))
        case 27: return try dictionary(header, depth: depth)
        case 28: return try array(header, depth: depth)
        case 29:
            let n = try count("PackedByteArray", elementSize: 1)
            return .packedByteArray(Array(try padded(n, "PackedByteArray")))
        case 30:
            let n = try count("PackedInt32Array", elementSize: 4)
            return .packedInt32Array(try (0..<n).map { _ throws(VariantError) in Int32(bitPattern: try u32()) })
        case 31:
            let n = try count("PackedInt64Array", elementSize: 8)
            return .packedInt64Array(try (0..<n).map { _ throws(VariantError) in Int64(bitPattern: try u64()) })
        case 32:
            let n = try count("PackedFloat32Array", elementSize: 4)
            return .packedFloat32Array(try (0..<n).map { _ throws(VariantError) in try f32() })
        case 33:
            let n = try count("PackedFloat64Array", elementSize: 8)
            return .packedFloat64Array(try (0..<n).map { _ throws(VariantError) in try f64() })
        case 34:
            let n = try count("PackedStringArray", elementSize: 4)
            var strings: [String] = []
            for _ in 0..<n { strings.append(try string()) }
            return .packedStringArray(strings)
        case 35:
            let flat = try packedReals("PackedVector2Array", width: 2, wide: wide)
            return .packedVector2Array(stride(from: 0, to: flat.count, by: 2).map { SIMD2(flat[$0], flat[$0 + 1]) })
        case 36:
            let flat = try packedReals("PackedVector3Array", width: 3, wide: wide)
            return .packedVector3Array(stride(from: 0, to: flat.count, by: 3).map {
                SIMD3(flat[$0], flat[$0 + 1], flat[$0 + 2])
            })
        case 37:
            let n = try count("PackedColorArray", elementSize: 16)
            var colors: [SIMD4<Float>] = []
            for _ in 0..<n { colors.append(SIMD4(try f32(), try f32(), try f32(), try f32())) }
            return .packedColorArray(colors)
        case 38:
            let flat = try packedReals("PackedVector4Array", width: 4, wide: wide)
            return .packedVector4Array(stride(from: 0, to: flat.count, by: 4).map {
                SIMD4(flat[$0], flat[$0 + 1], flat[$0 + 2], flat[$0 + 3])
            })
        default:
            return try math(type, wide: wide)
        }
    }

    private mutating func packedReals(_ what: String, width: Int, wide: Bool) throws(VariantError) -> [Double] {
        let n = try count(what, elementSize: width * (wide ? 8 : 4))
        var flat: [Double] = []
        flat.reserveCapacity(n * width)
        for _ in 0..<(n * width) { flat.append(wide ? try f64() : Double(try f32())) }
        return flat
    }

    private mutating func math(_ type: GodotVariantType, wide: Bool) throws(VariantError) -> GodotVariant {
        guard let shape = MathShape(type) else {
            throw VariantError(.invalidData, "\(type.godotName) cannot be decoded")
        }
        var n: [Double] = []
        switch shape {
        case .ints(let k):
            try need(k * 4, "a \(type.godotName)")
            for _ in 0..<k { n.append(Double(Int32(bitPattern: try u32()))) }
        case .float32(let k):
            try need(k * 4, "a \(type.godotName)")
            for _ in 0..<k { n.append(Double(try f32())) }
        case .reals(let k):
            try need(k * (wide ? 8 : 4), "a \(type.godotName)")
            for _ in 0..<k { n.append(wide ? try f64() : Double(try f32())) }
        }
        return try GodotVariant.fromComponents(type, n)
    }

    private mutating func nodePath() throws(VariantError) -> String {
        let first = try u32("a NodePath's name count")
        guard first & 0x8000_0000 != 0 else {
            throw VariantError(.invalidData, "a NodePath in the old (pre-3.0) format")
        }
        var subnameCount = Int(try u32("a NodePath's subname count"))
        let flags = try u32("a NodePath's flags")
        if flags & 2 != 0 { subnameCount += 1 } // Obsolete: the property counted apart from the subnames.
        let nameCount = Int(first & 0x7FFF_FFFF)
        guard nameCount + subnameCount <= remaining / 4 else {
            throw VariantError(.invalidData, "a NodePath's \(nameCount + subnameCount) parts need more than the "
                                           + "\(remaining) bytes left")
        }
        var names: [String] = []
        var subnames: [String] = []
        for _ in 0..<nameCount { names.append(try string()) }
        for _ in 0..<subnameCount { subnames.append(try string()) }
        // Godot's NodePath parts are never empty and never hold a separator; a part that does would
        // not survive as text (two such paths could read the same and collapse in a Dictionary).
        if let part = (names + subnames).first(where: { $0.isEmpty || $0.contains("/") || $0.contains(":") }) {
            throw VariantError(.invalidData, "a NodePath part '\(part)' is empty or holds '/' or ':'")
        }
        return NodePathText(absolute: flags & 1 != 0, names: names, subnames: subnames).text
    }

    private mutating func object(_ header: UInt32) throws(VariantError) -> GodotVariant {
        if header & (1 << 16) != 0 { return .objectID(try u64("an object ID")) }
        guard allowObjects else {
            throw VariantError(.unauthorized, "the value holds a full Object, and objects are not allowed")
        }
        throw VariantError(.unavailable, "the value holds a full Object; this library cannot instantiate Godot classes")
    }

    /// Godot 4's container type (typed Array and Dictionary): read and dropped.
    private mutating func skipContainerType(_ kind: UInt32) throws(VariantError) {
        switch kind {
        case 0: return
        case 1:
            let builtin = try u32("a container's element type")
            guard builtin <= 38 else { throw VariantError(.invalidData, "container element type \(builtin) is unknown") }
        default:
            _ = try string() // A class name or a script path.
        }
    }

    private mutating func array(_ header: UInt32, depth: Int) throws(VariantError) -> GodotVariant {
        if version == .godot4 { try skipContainerType((header >> 16) & 3) }
        let n = try count("Array", elementSize: 4, mask: 0x7FFF_FFFF) // Bit 31 is the old "shared" flag.
        var items: [GodotVariant] = []
        items.reserveCapacity(n)
        for _ in 0..<n { items.append(try value(depth: depth + 1)) }
        return .array(items)
    }

    private mutating func dictionary(_ header: UInt32, depth: Int) throws(VariantError) -> GodotVariant {
        if version == .godot4 {
            try skipContainerType((header >> 16) & 3)
            try skipContainerType((header >> 18) & 3)
        }
        let n = try count("Dictionary", elementSize: 8, mask: 0x7FFF_FFFF)
        var entries: [GodotDictionaryEntry] = []
        var positions: [GodotVariant: Int] = [:]
        for _ in 0..<n {
            let key = try value(depth: depth + 1)
            let item = try value(depth: depth + 1)
            if let at = positions[key] {
                entries[at].value = item // A repeated key replaces the value, as `dict[key] = value` does.
            } else {
                positions[key] = entries.count
                entries.append(GodotDictionaryEntry(key, item))
            }
        }
        return .dictionary(entries)
    }
}
