// GodotVariant.swift — the values PacketPeer.put_var / get_var carry, as a Swift value type.
//
// Godot's Variant is a tagged union; so is this enum. Its cases follow Godot 4's Variant.Type
// (GodotVariantType, defined once in include/packetdtls.h); Godot 3 lacks some of them, and
// VariantEncoder refuses those when asked for Godot 3. Objects are never carried, only their
// instance IDs (what Godot sends with full_objects = false).

/// A Godot Variant value: what `put_var` sends and `get_var` returns.
///
/// Math types keep their components as `Double` (Godot's `real_t` is 32-bit in ordinary builds and
/// 64-bit in double-precision builds); Color is always 32-bit in Godot, so it is `Float` here.
public enum GodotVariant: Hashable, Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case float(Double)
    case string(String)
    case vector2(SIMD2<Double>)
    case vector2i(SIMD2<Int32>)
    /// Position x, y, then size x, y.
    case rect2(SIMD4<Double>)
    case rect2i(SIMD4<Int32>)
    case vector3(SIMD3<Double>)
    case vector3i(SIMD3<Int32>)
    case vector4(SIMD4<Double>)
    case vector4i(SIMD4<Int32>)
    /// Six numbers: the x axis, the y axis, the origin (each x, y).
    case transform2D([Double])
    /// Normal x, y, z, then the distance d.
    case plane(SIMD4<Double>)
    case quaternion(SIMD4<Double>)
    /// Six numbers: position x, y, z, then size x, y, z.
    case aabb([Double])
    /// Nine numbers, row by row.
    case basis([Double])
    /// Twelve numbers: the basis row by row, then the origin.
    case transform3D([Double])
    /// Sixteen numbers, column by column.
    case projection([Double])
    /// Red, green, blue, alpha.
    case color(SIMD4<Float>)
    case stringName(String)
    /// A node path in Godot's text form ("/root/Main/Player:position:x").
    case nodePath(String)
    case rid(UInt64)
    /// An Object sent as its instance ID (Godot's EncodedObjectAsID); 0 is a null object.
    case objectID(UInt64)
    /// A Callable: Godot sends no data for it, and decodes an empty one.
    case callable
    case signal(name: String, objectID: UInt64)
    /// A Dictionary, in insertion order (Godot keeps it too).
    case dictionary([GodotDictionaryEntry])
    case array([GodotVariant])
    case packedByteArray([UInt8])
    case packedInt32Array([Int32])
    case packedInt64Array([Int64])
    case packedFloat32Array([Float])
    case packedFloat64Array([Double])
    case packedStringArray([String])
    case packedVector2Array([SIMD2<Double>])
    case packedVector3Array([SIMD3<Double>])
    case packedColorArray([SIMD4<Float>])
    case packedVector4Array([SIMD4<Double>])
}

/// One key/value pair of a GodotVariant dictionary.
public struct GodotDictionaryEntry: Hashable, Sendable {
    public var key: GodotVariant
    public var value: GodotVariant

    public init(_ key: GodotVariant, _ value: GodotVariant) {
        self.key = key
        self.value = value
    }
}

/// Which Godot's type numbers to speak: they differ between 3.x and 4.x.
public enum GodotVersion: Int, Sendable, CaseIterable {
    case godot3 = 3
    case godot4 = 4

    /// The version for a major number (3 or 4); nil for any other.
    public init?(major: Int) { self.init(rawValue: major) }
}

/// Why a value could not be encoded or decoded: Godot's Error number and a sentence.
public struct VariantError: Error, Equatable, CustomStringConvertible {
    public let code: GodotError
    public let message: String

    public init(_ code: GodotError, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}

extension GodotVariant {
    /// Godot 4's type of this value.
    public var type: GodotVariantType {
        switch self {
        case .null: .null
        case .bool: .bool
        case .int: .int
        case .float: .float
        case .string: .string
        case .vector2: .vector2
        case .vector2i: .vector2i
        case .rect2: .rect2
        case .rect2i: .rect2i
        case .vector3: .vector3
        case .vector3i: .vector3i
        case .vector4: .vector4
        case .vector4i: .vector4i
        case .transform2D: .transform2D
        case .plane: .plane
        case .quaternion: .quaternion
        case .aabb: .aabb
        case .basis: .basis
        case .transform3D: .transform3D
        case .projection: .projection
        case .color: .color
        case .stringName: .stringName
        case .nodePath: .nodePath
        case .rid: .rid
        case .objectID: .object
        case .callable: .callable
        case .signal: .signal
        case .dictionary: .dictionary
        case .array: .array
        case .packedByteArray: .packedByteArray
        case .packedInt32Array: .packedInt32Array
        case .packedInt64Array: .packedInt64Array
        case .packedFloat32Array: .packedFloat32Array
        case .packedFloat64Array: .packedFloat64Array
        case .packedStringArray: .packedStringArray
        case .packedVector2Array: .packedVector2Array
        case .packedVector3Array: .packedVector3Array
        case .packedColorArray: .packedColorArray
        case .packedVector4Array: .packedVector4Array
        }
    }

    /// The empty (zero) value of `type`: false, 0, "", a zero vector, an empty container.
    /// Nil for a number outside Godot 4's Variant.Type, and for OBJECT (use `.objectID`).
    public static func zero(of type: GodotVariantType) -> GodotVariant? {
        switch type.rawValue {
        case 0: return .null
        case 1: return .bool(false)
        case 2: return .int(0)
        case 3: return .float(0)
        case 4: return .string("")
        case 21: return .stringName("")
        case 22: return .nodePath("")
        case 23: return .rid(0)
        case 24: return .objectID(0)
        case 25: return .callable
        case 26: return .signal(name: "", objectID: 0)
        case 27: return .dictionary([])
        case 28: return .array([])
        case 29: return .packedByteArray([])
        case 30: return .packedInt32Array([])
        case 31: return .packedInt64Array([])
        case 32: return .packedFloat32Array([])
        case 33: return .packedFloat64Array([])
        case 34: return .packedStringArray([])
        case 35: return .packedVector2Array([])
        case 36: return .packedVector3Array([])
        case 37: return .packedColorArray([])
        case 38: return .packedVector4Array([])
        default:
            guard let shape = MathShape(type) else { return nil }
            return try? fromComponents(type, Array(repeating: 0, count: shape.count))
        }
    }
}

// MARK: - Math types as components

/// How a fixed-size math type travels: how many numbers, and as what.
enum MathShape {
    /// `real_t` numbers: 32-bit, or 64-bit with the header's 64-bit flag (Godot 4 only).
    case reals(Int)
    /// 32-bit signed integers.
    case ints(Int)
    /// Always 32-bit floats (Color).
    case float32(Int)

    var count: Int {
        switch self {
        case .reals(let n), .ints(let n), .float32(let n): n
        }
    }

    init?(_ type: GodotVariantType) {
        switch type.rawValue {
        case 5: self = .reals(2)
        case 6: self = .ints(2)
        case 7: self = .reals(4)
        case 8: self = .ints(4)
        case 9: self = .reals(3)
        case 10: self = .ints(3)
        case 11: self = .reals(4)
        case 12: self = .ints(4)
        case 13: self = .reals(6)
        case 14, 15: self = .reals(4)
        case 16: self = .reals(6)
        case 17: self = .reals(9)
        case 18: self = .reals(12)
        case 19: self = .reals(16)
        case 20: self = .float32(4)
        default: return nil
        }
    }
}

extension GodotVariant {
    /// The numbers of a math value (vectors, rects, transforms, Color...), nil for other types.
    public var components: [Double]? {
        switch self {
        case .vector2(let v): [v.x, v.y]
        case .vector2i(let v): [Double(v.x), Double(v.y)]
        case .rect2(let v), .vector4(let v), .plane(let v), .quaternion(let v): [v.x, v.y, v.z, v.w]
        case .rect2i(let v), .vector4i(let v): [Double(v.x), Double(v.y), Double(v.z), Double(v.w)]
        case .vector3(let v): [v.x, v.y, v.z]
        case .vector3i(let v): [Double(v.x), Double(v.y), Double(v.z)]
        case .color(let c): [Double(c.x), Double(c.y), Double(c.z), Double(c.w)]
        case .transform2D(let n), .aabb(let n), .basis(let n), .transform3D(let n), .projection(let n): n
        default: nil
        }
    }

    /// A math value of `type` from its numbers. Throws for a type that is not a math type, a wrong
    /// count, or (for the integer vectors) a number that is not a whole number in Int32's range.
    public static func fromComponents(_ type: GodotVariantType, _ n: [Double]) throws(VariantError) -> GodotVariant {
        guard let shape = MathShape(type) else {
            throw VariantError(.invalidParameter, "type \(type.rawValue) is not a vector, rect, transform or color type")
        }
        guard n.count == shape.count else {
            throw VariantError(.invalidParameter, "type \(type.rawValue) has \(shape.count) components, not \(n.count)")
        }
        var i: [Int32] = []
        if case .ints = shape {
            for value in n {
                guard let whole = Int32(exactly: value) else {
                    throw VariantError(.invalidParameter, "\(value) is not a whole number in the 32-bit range")
                }
                i.append(whole)
            }
        }
        switch type.rawValue {
        case 5: return .vector2(SIMD2(n[0], n[1]))
        case 6: return .vector2i(SIMD2(i[0], i[1]))
        case 7: return .rect2(SIMD4(n[0], n[1], n[2], n[3]))
        case 8: return .rect2i(SIMD4(i[0], i[1], i[2], i[3]))
        case 9: return .vector3(SIMD3(n[0], n[1], n[2]))
        case 10: return .vector3i(SIMD3(i[0], i[1], i[2]))
        case 11: return .vector4(SIMD4(n[0], n[1], n[2], n[3]))
        case 12: return .vector4i(SIMD4(i[0], i[1], i[2], i[3]))
        case 13: return .transform2D(n)
        case 14: return .plane(SIMD4(n[0], n[1], n[2], n[3]))
        case 15: return .quaternion(SIMD4(n[0], n[1], n[2], n[3]))
        case 16: return .aabb(n)
        case 17: return .basis(n)
        case 18: return .transform3D(n)
        case 19: return .projection(n)
        default: return .color(SIMD4(Float(n[0]), Float(n[1]), Float(n[2]), Float(n[3])))
        }
    }
}

// MARK: - Type numbers on the wire

extension GodotVersion {
    /// Godot 3.x's Variant.Type numbers, indexed by Godot 3's number, giving Godot 4's.
    private static let godot3Types: [UInt32] = [
        0, 1, 2, 3, 4, // nil, bool, int, real, String
        5, 7, 9, 13, 14, 15, 16, 17, 18, // Vector2, Rect2, Vector3, Transform2D, Plane, Quat, AABB, Basis, Transform
        20, 22, 23, 24, 27, 28, // Color, NodePath, RID, Object, Dictionary, Array
        29, 30, 32, 34, 35, 36, 37, // PoolByte/Int/Real/String/Vector2/Vector3/ColorArray
    ]

    /// The number this version writes for `type`; nil when this version has no such type.
    func wireNumber(_ type: GodotVariantType) -> UInt32? {
        switch self {
        case .godot4: return type.rawValue
        case .godot3: return Self.godot3Types.firstIndex(of: type.rawValue).map { UInt32($0) }
        }
    }

    /// The type a number read from the wire means in this version; nil for an unknown number.
    func type(wireNumber: UInt32) -> GodotVariantType? {
        switch self {
        case .godot4: return wireNumber <= 38 ? GodotVariantType(rawValue: wireNumber) : nil
        case .godot3:
            return wireNumber < Self.godot3Types.count ? GodotVariantType(rawValue: Self.godot3Types[Int(wireNumber)]) : nil
        }
    }
}

extension GodotVariantType {
    /// Godot's name of the type ("Vector2i", "PackedByteArray"), for messages.
    public var godotName: String {
        let names = ["null", "bool", "int", "float", "String", "Vector2", "Vector2i", "Rect2", "Rect2i", "Vector3",
                     "Vector3i", "Vector4", "Vector4i", "Transform2D", "Plane", "Quaternion", "AABB", "Basis",
                     "Transform3D", "Projection", "Color", "StringName", "NodePath", "RID", "Object", "Callable",
                     "Signal", "Dictionary", "Array", "PackedByteArray", "PackedInt32Array", "PackedInt64Array",
                     "PackedFloat32Array", "PackedFloat64Array", "PackedStringArray", "PackedVector2Array",
                     "PackedVector3Array", "PackedColorArray", "PackedVector4Array"]
        return Int(rawValue) < names.count ? names[Int(rawValue)] : "type \(rawValue)"
    }
}
