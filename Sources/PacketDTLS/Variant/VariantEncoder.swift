// VariantEncoder.swift — GodotVariant to bytes in Godot's binary serialization format.
//
// The format (Godot's "Binary serialization API" page, and core/io/marshalls.cpp): every value
// starts with a 4-byte little-endian header whose low byte is the type number and whose upper 16
// bits are flags; everything is little-endian and padded to 4 bytes. The choices Godot makes when
// writing, which a Godot peer expects, are kept:
// - an int is 32-bit unless it does not fit, then 64-bit with the header's 64-bit flag;
// - a float is 32-bit when that loses nothing, else 64-bit with the flag;
// - strings are their UTF-8 length and bytes, zero-padded; PackedStringArray entries also count
//   and carry a terminating NUL;
// - arrays and dictionaries are a count then their elements (untyped: no container type).
// Math types go as 32-bit floats, which every Godot reads; for Godot 4, a value that a float would
// change goes as 64-bit with the flag, which Godot 4 reads in any build (Godot 3 ignores that flag,
// so for Godot 3 they are always 32-bit).

/// Encodes GodotVariant values in Godot's binary serialization format.
public enum VariantEncoder {
    /// Deeper nesting than this is refused (Godot bails out at 1024; real messages are shallow).
    public static let maxDepth = 256

    /// The bytes of `value` for `version`, at most `maxSize` of them.
    /// - Throws: ERR_INVALID_PARAMETER for a type this version lacks or a malformed value;
    ///   ERR_OUT_OF_MEMORY when the encoding would exceed `maxSize` or nesting exceeds `maxDepth`.
    public static func encode(_ value: GodotVariant, version: GodotVersion = .godot4,
                              maxSize: Int = Int(Int32.max)) throws(VariantError) -> [UInt8] {
        var writer = Writer(version: version, limit: maxSize)
        try writer.write(value, depth: 0)
        return writer.bytes
    }
}

private let flag64: UInt32 = 1 << 16
private let flagObjectAsID: UInt32 = 1 << 16

private struct Writer {
    let version: GodotVersion
    let limit: Int
    var bytes: [UInt8] = []

    init(version: GodotVersion, limit: Int) {
        self.version = version
        self.limit = limit
    }

    // MARK: Primitives

    private mutating func reserve(_ count: Int) throws(VariantError) {
        guard count <= limit - bytes.count else {
            throw VariantError(.outOfMemory, "the encoded value needs more than the \(limit)-byte limit "
                                           + "(encode_buffer_max_size)")
        }
    }

    mutating func u32(_ value: UInt32) throws(VariantError) {
        try reserve(4)
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func u64(_ value: UInt64) throws(VariantError) {
        try reserve(8)
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func f32(_ value: Float) throws(VariantError) { try u32(value.bitPattern) }
    mutating func f64(_ value: Double) throws(VariantError) { try u64(value.bitPattern) }

    mutating func padded(_ data: some Collection<UInt8>) throws(VariantError) {
        let padding = (4 - data.count % 4) % 4
        try reserve(data.count + padding)
        bytes.append(contentsOf: data)
        bytes.append(contentsOf: repeatElement(0, count: padding))
    }

    mutating func string(_ text: String) throws(VariantError) {
        let utf8 = Array(text.utf8)
        try count(utf8.count)
        try padded(utf8)
    }

    /// A count or length field: Godot reads it as a signed 32-bit number.
    mutating func count(_ n: Int) throws(VariantError) {
        guard n <= Int(Int32.max) else { throw VariantError(.outOfMemory, "\(n) elements exceed Godot's limit") }
        try u32(UInt32(n))
    }

    static func fitsInFloat(_ value: Double) -> Bool { Double(Float(value)) == value }

    // MARK: Values

    mutating func write(_ value: GodotVariant, depth: Int) throws(VariantError) {
        guard depth <= VariantEncoder.maxDepth else {
            throw VariantError(.outOfMemory, "the value nests deeper than \(VariantEncoder.maxDepth) levels")
        }
        let type = value.type
        guard let number = version.wireNumber(type) else {
            throw VariantError(.invalidParameter, "\(type.godotName) does not exist in Godot \(version.rawValue)")
        }
        switch value {
        case .null, .callable:
            try u32(number)
        case .bool(let b):
            try u32(number)
            try u32(b ? 1 : 0)
        case .int(let i):
            if let small = Int32(exactly: i) {
                try u32(number)
                try u32(UInt32(bitPattern: small))
            } else {
                try u32(number | flag64)
                try u64(UInt64(bitPattern: i))
            }
        case .float(let d):
            if Self.fitsInFloat(d) {
                try u32(number)
                try f32(Float(d))
            } else {
                try u32(number | flag64)
                try f64(d)
            }
        case .string(let s), .stringName(let s):
            try u32(number)
            try string(s)
        case .nodePath(let path):
            try u32(number)
            try nodePath(path)
        case .rid(let id):
            try u32(number)
            if version == .godot4 { try u64(id) } // Godot 3 sends an RID as its header alone.
        case .objectID(let id):
            try u32(number | flagObjectAsID)
            try u64(id)
        case .signal(let name, let id):
            try u32(number)
            try string(name)
            try u64(id)
        case .dictionary(let entries):
            try u32(number)
            try count(entries.count)
            for entry in entries {
                try write(entry.key, depth: depth + 1)
                try write(entry.value, depth: depth + 1)
            }
        case .array(let items):
            try u32(number)
            try count(items.count)
            for item in items { try write(item, depth: depth + 1) }
        case .packedByteArray(let data):
            try u32(number)
            try count(data.count)
            try padded(data)
        case .packedInt32Array(let values):
            try u32(number)
            try count(values.count)
            try reserve(values.count * 4)
            for v in values { try u32(UInt32(bitPattern: v)) }
        case .packedInt64Array(let values):
            try u32(number)
            try count(values.count)
            try reserve(values.count * 8)
            for v in values { try u64(UInt64(bitPattern: v)) }
        case .packedFloat32Array(let values):
            try u32(number)
            try count(values.count)
            try reserve(values.count * 4)
            for v in values { try f32(v) }
        case .packedFloat64Array(let values):
            try u32(number)
            try count(values.count)
            try reserve(values.count * 8)
            for v in values { try f64(v) }
        case .packedStringArray(let strings):
            try u32(number)
            try count(strings.count)
            for s in strings {
                let terminated = Array(s.utf8) + [0]
                try count(terminated.count)
                try padded(terminated)
            }
        case .packedVector2Array(let vs):
            try reals(number, count: vs.count, vs.flatMap { [$0.x, $0.y] })
        case .packedVector3Array(let vs):
            try reals(number, count: vs.count, vs.flatMap { [$0.x, $0.y, $0.z] })
        case .packedVector4Array(let vs):
            try reals(number, count: vs.count, vs.flatMap { [$0.x, $0.y, $0.z, $0.w] })
        case .packedColorArray(let cs):
            try u32(number)
            try count(cs.count)
            try reserve(cs.count * 16)
            for c in cs { for k in 0..<4 { try f32(c[k]) } }
        default:
            try math(value, number: number)
        }
    }

    /// A packed array of real_t vectors: a count, then every component.
    private mutating func reals(_ number: UInt32, count n: Int, _ flat: [Double]) throws(VariantError) {
        let wide = version == .godot4 && !flat.allSatisfy(Self.fitsInFloat)
        try u32(wide ? number | flag64 : number)
        try count(n)
        try reserve(flat.count * (wide ? 8 : 4))
        for v in flat { if wide { try f64(v) } else { try f32(Float(v)) } }
    }

    /// Vectors, rects, transforms, Color: the header, then the components.
    private mutating func math(_ value: GodotVariant, number: UInt32) throws(VariantError) {
        let type = value.type
        guard let shape = MathShape(type), let components = value.components else {
            throw VariantError(.bug, "\(type.godotName) has no encoding") // Unreachable: every case is handled.
        }
        guard components.count == shape.count else {
            throw VariantError(.invalidParameter, "\(type.godotName) needs \(shape.count) numbers, not \(components.count)")
        }
        switch shape {
        case .ints:
            try u32(number)
            for c in components { try u32(UInt32(bitPattern: Int32(c))) }
        case .float32:
            try u32(number)
            for c in components { try f32(Float(c)) }
        case .reals:
            let wide = version == .godot4 && !components.allSatisfy(Self.fitsInFloat)
            try u32(wide ? number | flag64 : number)
            for c in components { if wide { try f64(c) } else { try f32(Float(c)) } }
        }
    }

    /// Godot's NodePath layout: name count with the "new format" bit, subname count, flags, strings.
    private mutating func nodePath(_ path: String) throws(VariantError) {
        let parsed = NodePathText(path)
        try u32(UInt32(parsed.names.count) | 0x8000_0000)
        try count(parsed.subnames.count)
        try u32(parsed.absolute ? 1 : 0)
        for part in parsed.names + parsed.subnames { try string(part) }
    }
}

/// A node path split as Godot splits it: "/" makes it absolute, names are separated by "/",
/// and the subnames (properties) follow, each after a ":".
struct NodePathText {
    var absolute: Bool
    var names: [String]
    var subnames: [String]

    init(absolute: Bool, names: [String], subnames: [String]) {
        self.absolute = absolute
        self.names = names
        self.subnames = subnames
    }

    init(_ text: String) {
        absolute = text.hasPrefix("/")
        let body = absolute ? text.dropFirst() : Substring(text)
        let parts = body.split(separator: ":", omittingEmptySubsequences: false)
        names = parts.first.map { $0.split(separator: "/").map(String.init) } ?? []
        subnames = parts.dropFirst().filter { !$0.isEmpty }.map(String.init)
    }

    var text: String {
        (absolute ? "/" : "") + names.joined(separator: "/") + subnames.map { ":" + $0 }.joined()
    }
}
