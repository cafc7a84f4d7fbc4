// GodotVariant+Containers.swift — Arrays, packed arrays and Dictionaries read and grown element
// by element, the one way the C API (and anyone else) walks them.

extension GodotVariant {
    /// The number of elements of an Array or packed array, or of entries of a Dictionary; nil otherwise.
    public var count: Int? {
        switch self {
        case .array(let a): a.count
        case .dictionary(let d): d.count
        case .packedByteArray(let a): a.count
        case .packedInt32Array(let a): a.count
        case .packedInt64Array(let a): a.count
        case .packedFloat32Array(let a): a.count
        case .packedFloat64Array(let a): a.count
        case .packedStringArray(let a): a.count
        case .packedVector2Array(let a): a.count
        case .packedVector3Array(let a): a.count
        case .packedColorArray(let a): a.count
        case .packedVector4Array(let a): a.count
        default: nil
        }
    }

    /// Element `index` of an Array or packed array, as a value of its own (a packed array's bytes
    /// and ints are `.int`, its floats `.float`, its vectors `.vector2`...); nil out of range.
    public func element(at index: Int) -> GodotVariant? {
        guard let n = count, index >= 0, index < n else { return nil }
        switch self {
        case .array(let a): return a[index]
        case .packedByteArray(let a): return .int(Int64(a[index]))
        case .packedInt32Array(let a): return .int(Int64(a[index]))
        case .packedInt64Array(let a): return .int(a[index])
        case .packedFloat32Array(let a): return .float(Double(a[index]))
        case .packedFloat64Array(let a): return .float(a[index])
        case .packedStringArray(let a): return .string(a[index])
        case .packedVector2Array(let a): return .vector2(a[index])
        case .packedVector3Array(let a): return .vector3(a[index])
        case .packedColorArray(let a): return .color(a[index])
        case .packedVector4Array(let a): return .vector4(a[index])
        default: return nil
        }
    }

    /// Appends `item` to an Array, or to a packed array when it is an element of that array's kind.
    public mutating func append(_ item: GodotVariant) throws(VariantError) {
        func refuse() -> VariantError {
            VariantError(.invalidParameter, "a \(item.type.godotName) cannot be appended to a \(type.godotName)")
        }
        if case .array = self { // The common case, grown in place rather than copied.
            let current = self
            self = .null
            guard case .array(var a) = consume current else { return }
            a.append(item)
            self = .array(a)
            return
        }
        switch (self, item) {
        case (.packedByteArray(var a), .int(let i)):
            guard let byte = UInt8(exactly: i) else { throw refuse() }
            a.append(byte); self = .packedByteArray(a)
        case (.packedInt32Array(var a), .int(let i)):
            guard let small = Int32(exactly: i) else { throw refuse() }
            a.append(small); self = .packedInt32Array(a)
        case (.packedInt64Array(var a), .int(let i)): a.append(i); self = .packedInt64Array(a)
        case (.packedFloat32Array(var a), .float(let d)): a.append(Float(d)); self = .packedFloat32Array(a)
        case (.packedFloat32Array(var a), .int(let i)): a.append(Float(i)); self = .packedFloat32Array(a)
        case (.packedFloat64Array(var a), .float(let d)): a.append(d); self = .packedFloat64Array(a)
        case (.packedFloat64Array(var a), .int(let i)): a.append(Double(i)); self = .packedFloat64Array(a)
        case (.packedStringArray(var a), .string(let s)): a.append(s); self = .packedStringArray(a)
        case (.packedVector2Array(var a), .vector2(let v)): a.append(v); self = .packedVector2Array(a)
        case (.packedVector3Array(var a), .vector3(let v)): a.append(v); self = .packedVector3Array(a)
        case (.packedColorArray(var a), .color(let c)): a.append(c); self = .packedColorArray(a)
        case (.packedVector4Array(var a), .vector4(let v)): a.append(v); self = .packedVector4Array(a)
        default: throw refuse()
        }
    }

    /// The value stored under `key` in a Dictionary; nil when absent or not a Dictionary.
    public subscript(key key: GodotVariant) -> GodotVariant? {
        guard case .dictionary(let entries) = self else { return nil }
        return entries.first { $0.key == key }?.value
    }

    /// Sets `key` to `value` in a Dictionary: an existing key keeps its place, a new one goes last.
    public mutating func set(_ key: GodotVariant, _ value: GodotVariant) throws(VariantError) {
        guard case .dictionary = self else {
            throw VariantError(.invalidParameter, "a \(type.godotName) is not a Dictionary")
        }
        let current = self
        self = .null // So the entries below are the only reference, and change in place.
        guard case .dictionary(var entries) = consume current else { return }
        if let at = entries.firstIndex(where: { $0.key == key }) {
            entries[at].value = value
        } else {
            entries.append(GodotDictionaryEntry(key, value))
        }
        self = .dictionary(entries)
    }
}
