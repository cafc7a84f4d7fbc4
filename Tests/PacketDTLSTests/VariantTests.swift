// VariantTests.swift — Godot's binary serialization (put_var / get_var) for Godot 3 and 4.
//
// The byte strings below are assembled by hand from the layout tables of Godot's "Binary
// serialization API" page (godot-docs, tutorials/io/binary_serialization_api.rst; the 3.x page
// lives at tutorials/misc/ in the 3.x branches): a 4-byte little-endian header whose low byte is
// the type, flags above it (bit 16 = 64-bit int/float), then the fields at the documented offsets,
// padded to 4 bytes. The page gives layouts, not literal dumps, so each case cites its section.
// Where its 4.0-4.2 revisions still listed 3.x-era numbers, Godot 4's Variant.Type (the table
// in the current page, and core/io/marshalls.cpp) is followed.

import XCTest
@testable import PacketDTLS

final class VariantTests: XCTestCase {
    // MARK: - Helpers

    /// Little-endian bytes of 32-bit words, for writing documented layouts compactly.
    private func words(_ values: UInt32...) -> [UInt8] {
        values.flatMap { v in (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
    }

    private func f32(_ value: Float) -> UInt32 { value.bitPattern }

    /// Encodes, compares with `bytes`, decodes `bytes`, compares with `value`.
    private func assertExact(_ value: GodotVariant, _ bytes: [UInt8], _ version: GodotVersion,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(try VariantEncoder.encode(value, version: version), bytes, "encoding", file: file, line: line)
        XCTAssertEqual(try VariantDecoder.decode(bytes, version: version), value, "decoding", file: file, line: line)
    }

    private func assertFails(_ bytes: [UInt8], _ version: GodotVersion = .godot4, _ code: GodotError = .invalidData,
                             file: StaticString = #filePath, line: UInt = #line) {
        do {
            let value = try VariantDecoder.decode(bytes, version: version)
            XCTFail("decoded \(value) from hostile input", file: file, line: line)
        } catch {
            XCTAssertEqual(error.code, code, error.message, file: file, line: line)
            XCTAssertFalse(error.message.isEmpty, file: file, line: line)
        }
    }

    /// One value of every type, nested in containers too.
    private var everything: [GodotVariant] {
        [
            .null, .bool(true), .bool(false), .int(0), .int(-1), .int(Int64(Int32.max)), .int(Int64(Int32.min) - 1),
            .int(.max), .float(1.5), .float(-0.0), .float(0.1), .float(.infinity), .string(""), .string("héllo ✓"),
            .vector2(SIMD2(1, -2.5)), .vector2(SIMD2(0.1, 2)), .vector2i(SIMD2(3, -4)), .rect2(SIMD4(1, 2, 3, 4)),
            .rect2i(SIMD4(-1, 2, 3, 4)), .vector3(SIMD3(1, 2, 3)), .vector3i(SIMD3(5, 6, 7)),
            .vector4(SIMD4(1, 2, 3, 4)), .vector4i(SIMD4(1, 2, 3, 4)), .transform2D([1, 0, 0, 1, 10, 20]),
            .plane(SIMD4(0, 1, 0, 5)), .quaternion(SIMD4(0, 0, 0, 1)), .aabb([0, 0, 0, 1, 2, 3]),
            .basis([1, 0, 0, 0, 1, 0, 0, 0, 1]), .transform3D([1, 0, 0, 0, 1, 0, 0, 0, 1, 4, 5, 6]),
            .projection((0..<16).map { Double($0) }), .color(SIMD4(1, 0.5, 0.25, 1)), .stringName("jump"),
            .nodePath("/root/Main/Player:position:x"), .nodePath("Sprite"), .rid(42), .objectID(1234567890123),
            .callable, .signal(name: "hit", objectID: 77),
            .dictionary([GodotDictionaryEntry(.string("hp"), .int(100)), GodotDictionaryEntry(.int(2), .array([]))]),
            .array([.int(1), .string("two"), .array([.float(3.5)])]),
            .packedByteArray([1, 2, 3, 4, 5]), .packedInt32Array([1, -2, .max]), .packedInt64Array([.min, 0, .max]),
            .packedFloat32Array([1.5, -2]), .packedFloat64Array([0.1, 1e300]), .packedStringArray(["", "a", "abcd"]),
            .packedVector2Array([SIMD2(1, 2), SIMD2(3, 4)]), .packedVector3Array([SIMD3(1, 2, 3)]),
            .packedVector2Array([SIMD2(0.1, 0.2)]), .packedColorArray([SIMD4(1, 0, 0, 1)]),
            .packedVector4Array([SIMD4(1, 2, 3, 4)]),
        ]
    }

    private func existsInGodot3(_ value: GodotVariant) -> Bool {
        GodotVersion.godot3.wireNumber(value.type) != nil
    }

    // MARK: - The documented layouts, byte for byte

    func testNullBoolIntFloatLayouts() {
        for version in GodotVersion.allCases { // 0 to 4 are the same in Godot 3 and 4.
            assertExact(.null, words(0), version) // "0: null" — the header alone.
            assertExact(.bool(true), words(1, 1), version) // "1: bool" — 0 for False, 1 for True.
            assertExact(.bool(false), words(1, 0), version)
            assertExact(.int(-2), words(2, 0xFFFF_FFFE), version) // "2: int" — 32-bit signed without flags.
            // 64-bit with ENCODE_FLAG_64 = 1 << 16 when the value does not fit in 32 bits.
            assertExact(.int(1 << 40), words(2 | 1 << 16, 0, 1 << 8), version)
            assertExact(.float(1.5), words(3, f32(1.5)), version) // "3: float" — single precision.
            let tenth = (0.1).bitPattern
            assertExact(.float(0.1), words(3 | 1 << 16, UInt32(truncatingIfNeeded: tenth), UInt32(tenth >> 32)), version)
        }
        XCTAssertEqual(try VariantDecoder.decode(words(1, 7)), .bool(true), "any non-zero word is true")
    }

    func testStringLayoutIsLengthThenPaddedUTF8() {
        // "4: String" — length in bytes, UTF-8, padded to 4 bytes.
        let hello: [UInt8] = words(4, 5) + Array("Hello".utf8) + [0, 0, 0]
        assertExact(.string("Hello"), hello, .godot4)
        assertExact(.string("Hello"), hello, .godot3)
        assertExact(.string("abcd"), words(4, 4) + Array("abcd".utf8), .godot4)
        assertExact(.string("é"), words(4, 2, 0x0000_A9C3), .godot4)
        assertExact(.stringName("abcd"), words(21, 4) + Array("abcd".utf8), .godot4) // "21: StringName": as String.
    }

    func testVectorRectColorLayoutsAndTheirNumbersPerVersion() {
        let one = f32(1), two = f32(2), three = f32(3), four = f32(4)
        // "5: Vector2" is 5 in both versions.
        assertExact(.vector2(SIMD2(1, 2)), words(5, one, two), .godot4)
        assertExact(.vector2(SIMD2(1, 2)), words(5, one, two), .godot3)
        // "6: Vector2i" (4.x only): two 32-bit integers.
        assertExact(.vector2i(SIMD2(-1, 2)), words(6, 0xFFFF_FFFF, 2), .godot4)
        // Rect2 is 7 in Godot 4 and 6 in Godot 3; Vector3 is 9 and 7.
        assertExact(.rect2(SIMD4(1, 2, 3, 4)), words(7, one, two, three, four), .godot4)
        assertExact(.rect2(SIMD4(1, 2, 3, 4)), words(6, one, two, three, four), .godot3)
        assertExact(.vector3(SIMD3(1, 2, 3)), words(9, one, two, three), .godot4)
        assertExact(.vector3(SIMD3(1, 2, 3)), words(7, one, two, three), .godot3)
        assertExact(.vector3i(SIMD3(1, 2, 3)), words(10, 1, 2, 3), .godot4)
        assertExact(.vector4(SIMD4(1, 2, 3, 4)), words(11, one, two, three, four), .godot4)
        assertExact(.vector4i(SIMD4(1, 2, 3, 4)), words(12, 1, 2, 3, 4), .godot4)
        assertExact(.transform2D([1, 2, 3, 4, 1, 2]), words(13, one, two, three, four, one, two), .godot4)
        assertExact(.transform2D([1, 2, 3, 4, 1, 2]), words(8, one, two, three, four, one, two), .godot3)
        assertExact(.plane(SIMD4(1, 2, 3, 4)), words(14, one, two, three, four), .godot4)
        assertExact(.quaternion(SIMD4(1, 2, 3, 4)), words(15, one, two, three, four), .godot4)
        assertExact(.quaternion(SIMD4(1, 2, 3, 4)), words(10, one, two, three, four), .godot3)
        // "20: Color" in Godot 4, 14 in Godot 3: r, g, b, a as floats.
        assertExact(.color(SIMD4(1, 2, 3, 4)), words(20, one, two, three, four), .godot4)
        assertExact(.color(SIMD4(1, 2, 3, 4)), words(14, one, two, three, four), .godot3)
    }

    func testDoublePrecisionMathTypesDecodeAndTravelWideOnlyToGodot4() throws {
        // A double-precision Godot 4 build sets the 64-bit flag on math types and writes doubles.
        let x = (0.1).bitPattern, y = (2.0).bitPattern
        let wide = words(5 | 1 << 16, UInt32(truncatingIfNeeded: x), UInt32(x >> 32),
                         UInt32(truncatingIfNeeded: y), UInt32(y >> 32))
        assertExact(.vector2(SIMD2(0.1, 2)), wide, .godot4)
        // Godot 3 reads math types as floats only, so they go narrow.
        XCTAssertEqual(try VariantEncoder.encode(.vector2(SIMD2(0.1, 2)), version: .godot3),
                       words(5, f32(0.1), f32(2)))
    }

    /// A NodePath part that is empty or holds a separator cannot be one of Godot's and would not
    /// survive as text: "//" (two empty names) would read back as "/" and collapse with it as a
    /// Dictionary key (found by the variant fuzzer). Such a path is invalid data.
    func testNodePathWithAnEmptyOrSeparatorPartIsInvalidData() {
        func path(_ parts: [[UInt8]]) -> [UInt8] {
            var bytes: [UInt8] = [22, 0, 0, 0] + [UInt8(parts.count), 0, 0, 0x80] + [0, 0, 0, 0] + [1, 0, 0, 0]
            for part in parts {
                bytes += [UInt8(part.count), 0, 0, 0] + part + [UInt8](repeating: 0, count: (4 - part.count % 4) % 4)
            }
            return bytes
        }
        XCTAssertEqual(try VariantDecoder.decode(path([Array("a".utf8), Array("b".utf8)])), .nodePath("/a/b"))
        for bad in [[UInt8](), Array("a/b".utf8), Array("a:b".utf8)] {
            XCTAssertThrowsError(try VariantDecoder.decode(path([bad]))) { error in
                XCTAssertEqual((error as? VariantError)?.code, .invalidData, "\(error)")
            }
        }
    }

    func testDictionaryAndArrayLayouts() {
        // "27: Dictionary" (18 in Godot 3): count, then key, value, key, value...
        let entries = [GodotDictionaryEntry(.string("a"), .int(1))]
        let body = words(1, 4, 1) + [0x61, 0, 0, 0] + words(2, 1)
        assertExact(.dictionary(entries), words(27) + body, .godot4)
        assertExact(.dictionary(entries), words(18) + body, .godot3)
        // "28: Array" (19 in Godot 3): count, then the elements.
        let array: GodotVariant = .array([.int(7), .null])
        assertExact(array, words(28, 2, 2, 7, 0), .godot4)
        assertExact(array, words(19, 2, 2, 7, 0), .godot3)
        // Bit 31 of the count is the old "shared" flag: ignored.
        XCTAssertEqual(try VariantDecoder.decode(words(28, 0x8000_0001, 0)), .array([.null]))
    }

    func testTypedContainersOfGodot4DecodeAsUntyped() throws {
        // Array[int]: kind 0b01 (built-in) in bits 16-17, then the element type before the count.
        XCTAssertEqual(try VariantDecoder.decode(words(28 | 1 << 16, 2, 1, 2, 9)), .array([.int(9)]))
        // Array[Node]: kind 0b10 (class name), the name as a String.
        let named = words(28 | 2 << 16, 4) + Array("Node".utf8) + words(0)
        XCTAssertEqual(try VariantDecoder.decode(named), .array([]))
        // Dictionary[String, int]: key kind in bits 16-17, value kind in bits 18-19.
        let typed = words(27 | 1 << 16 | 1 << 18, 4, 2, 1, 4, 1) + [0x6B, 0, 0, 0] + words(2, 5)
        XCTAssertEqual(try VariantDecoder.decode(typed), .dictionary([GodotDictionaryEntry(.string("k"), .int(5))]))
    }

    func testPackedArrayLayouts() {
        // "29: PackedByteArray" (Godot 3's 20, raw array): length, bytes, padded.
        assertExact(.packedByteArray([1, 2, 3]), words(29, 3) + [1, 2, 3, 0], .godot4)
        assertExact(.packedByteArray([1, 2, 3]), words(20, 3) + [1, 2, 3, 0], .godot3)
        assertExact(.packedInt32Array([1, -1]), words(30, 2, 1, 0xFFFF_FFFF), .godot4)
        assertExact(.packedInt32Array([1, -1]), words(21, 2, 1, 0xFFFF_FFFF), .godot3)
        assertExact(.packedInt64Array([-1]), words(31, 1, 0xFFFF_FFFF, 0xFFFF_FFFF), .godot4)
        assertExact(.packedFloat32Array([1, 2]), words(32, 2, f32(1), f32(2)), .godot4)
        assertExact(.packedFloat32Array([1, 2]), words(22, 2, f32(1), f32(2)), .godot3)
        assertExact(.packedFloat64Array([2]), words(33, 1, 0, 0x4000_0000), .godot4)
        // "34: PackedStringArray": each string's length counts a terminating NUL, then padding.
        let strings = words(34, 2, 3) + [0x61, 0x62, 0, 0] + words(5) + Array("abcd".utf8) + [0, 0, 0, 0]
        assertExact(.packedStringArray(["ab", "abcd"]), strings, .godot4)
        assertExact(.packedVector2Array([SIMD2(1, 2)]), words(35, 1, f32(1), f32(2)), .godot4)
        assertExact(.packedVector2Array([SIMD2(1, 2)]), words(24, 1, f32(1), f32(2)), .godot3)
        assertExact(.packedVector3Array([SIMD3(1, 2, 3)]), words(36, 1, f32(1), f32(2), f32(3)), .godot4)
        assertExact(.packedColorArray([SIMD4(1, 2, 3, 4)]), words(37, 1, f32(1), f32(2), f32(3), f32(4)), .godot4)
        assertExact(.packedColorArray([SIMD4(1, 2, 3, 4)]), words(26, 1, f32(1), f32(2), f32(3), f32(4)), .godot3)
        assertExact(.packedVector4Array([SIMD4(1, 2, 3, 4)]), words(38, 1, f32(1), f32(2), f32(3), f32(4)), .godot4)
    }

    func testNodePathRIDObjectSignalCallableLayouts() {
        // "22: NodePath": name count | 0x80000000, subname count, flags (bit 0 absolute), the strings.
        let path = words(22, 0x8000_0002, 1, 1, 4) + Array("root".utf8) + words(1) + [0x61, 0, 0, 0]
            + words(1) + [0x62, 0, 0, 0]
        assertExact(.nodePath("/root/a:b"), path, .godot4)
        assertExact(.nodePath("/root/a:b"), [0x0F, 0, 0, 0] + path.dropFirst(4), .godot3)
        // "23: RID": a 64-bit id in Godot 4; Godot 3 sends the header alone.
        assertExact(.rid(5), words(23, 5, 0), .godot4)
        XCTAssertEqual(try VariantEncoder.encode(.rid(5), version: .godot3), words(16))
        // "24: Object" with ENCODE_FLAG_OBJECT_AS_ID: the 64-bit instance ID (17 in Godot 3).
        assertExact(.objectID(0x1_0000_0002), words(24 | 1 << 16, 2, 1), .godot4)
        assertExact(.objectID(9), words(17 | 1 << 16, 9, 0), .godot3)
        assertExact(.callable, words(25), .godot4) // "25: Callable": no data.
        assertExact(.signal(name: "hit", objectID: 3), words(26, 3) + [0x68, 0x69, 0x74, 0] + words(3, 0), .godot4)
    }

    // MARK: - Round trips

    func testEveryTypeRoundTripsInGodot4() throws {
        for value in everything {
            let bytes = try VariantEncoder.encode(value, version: .godot4)
            XCTAssertEqual(bytes.count % 4, 0, "\(value) is padded to 4 bytes")
            XCTAssertEqual(try VariantDecoder.decode(bytes, version: .godot4), value)
        }
        let all: GodotVariant = .array(everything)
        XCTAssertEqual(try VariantDecoder.decode(try VariantEncoder.encode(all)), all)
    }

    func testEveryGodot3TypeRoundTripsAndTheOthersAreRefused() throws {
        for value in everything {
            if existsInGodot3(value) {
                let bytes = try VariantEncoder.encode(value, version: .godot3)
                var expected = value
                if case .rid = value { expected = .rid(0) } // Godot 3 sends no RID id.
                if case .vector2(let v) = value { expected = .vector2(SIMD2(Double(Float(v.x)), Double(Float(v.y)))) }
                if case .packedVector2Array(let vs) = value {
                    expected = .packedVector2Array(vs.map { SIMD2(Double(Float($0.x)), Double(Float($0.y))) })
                }
                XCTAssertEqual(try VariantDecoder.decode(bytes, version: .godot3), expected)
            } else {
                XCTAssertThrowsError(try VariantEncoder.encode(value, version: .godot3)) { error in
                    XCTAssertEqual((error as? VariantError)?.code, .invalidParameter)
                    XCTAssertTrue("\(error)".contains("Godot 3"), "\(error)")
                }
            }
        }
    }

    func testGodot4NumbersMeanOtherTypesInGodot3() throws {
        let bytes = try VariantEncoder.encode(.vector3(SIMD3(1, 2, 3)), version: .godot4) // Type 9...
        XCTAssertEqual(try VariantDecoder.decode(bytes + words(0), version: .godot3).type, .plane) // ...is Plane in 3.
        assertFails(words(27), .godot3) // ...and Godot 3 has no type 27.
    }

    func testRepeatedDictionaryKeysKeepTheirPlaceAndTakeTheLastValue() throws {
        let bytes = words(27, 3, 2, 1, 2, 10, 2, 2, 2, 20, 2, 1, 2, 30)
        XCTAssertEqual(try VariantDecoder.decode(bytes), .dictionary([
            GodotDictionaryEntry(.int(1), .int(30)), GodotDictionaryEntry(.int(2), .int(20)),
        ]))
    }

    func testTrailingBytesAreIgnoredAsGodotDoes() throws {
        let (value, length) = try VariantDecoder.decodeWithLength(words(2, 5, 0xDEAD_BEEF))
        XCTAssertEqual(value, .int(5))
        XCTAssertEqual(length, 8)
    }

    func testContainerHelpers() throws {
        var array = GodotVariant.array([])
        try array.append(.int(1))
        XCTAssertEqual(array, .array([.int(1)]))
        var bytes = GodotVariant.packedByteArray([])
        try bytes.append(.int(255))
        XCTAssertThrowsError(try bytes.append(.int(256)))
        XCTAssertEqual(bytes.element(at: 0), .int(255))
        var dict = GodotVariant.dictionary([])
        try dict.set(.string("a"), .int(1))
        try dict.set(.string("b"), .int(2))
        try dict.set(.string("a"), .int(3))
        XCTAssertEqual(dict, .dictionary([GodotDictionaryEntry(.string("a"), .int(3)),
                                          GodotDictionaryEntry(.string("b"), .int(2))]))
        XCTAssertEqual(dict[key: .string("b")], .int(2))
        XCTAssertThrowsError(try GodotVariant.fromComponents(.vector2i, [1.5, 2]))
        XCTAssertThrowsError(try GodotVariant.fromComponents(.string, []))
        XCTAssertThrowsError(try VariantEncoder.encode(.basis([1, 2])))
    }

    // MARK: - Hostile input

    func testEveryTruncationOfAValidEncodingFails() throws {
        let bytes = try VariantEncoder.encode(.array(everything))
        for cut in 0..<bytes.count where cut % 4 == 0 || cut < 64 {
            do {
                _ = try VariantDecoder.decode(Array(bytes[..<cut]))
                // A cut inside final padding may still decode: padding is not needed to read the value.
                XCTAssertGreaterThanOrEqual(cut, bytes.count - 3, "decoded a \(cut)-byte prefix")
            } catch {
                XCTAssertEqual(error.code, .invalidData)
            }
        }
    }

    func testAbsurdCountsAndLengthsFailWithoutAllocating() {
        assertFails(words(4, 0x7FFF_FFFF)) // A 2 GiB string in 8 bytes.
        assertFails(words(4, 0xFFFF_FFFF)) // A negative length.
        assertFails(words(28, 0x7FFF_FFFF)) // A 2-billion-element array.
        assertFails(words(27, 0x7FFF_FFFF, 0, 0))
        assertFails(words(29, 0x7FFF_FFFF))
        assertFails(words(30, 0x4000_0001, 0)) // count * 4 overflows 32 bits.
        assertFails(words(31, 0x2000_0001, 0))
        assertFails(words(34, 0x7FFF_FFFF, 0))
        assertFails(words(35 | 1 << 16, 0x1000_0000, 0))
        assertFails(words(22, 0xFFFF_FFFF, 0xFFFF_FFFF, 2)) // NodePath with 2^32 parts.
        assertFails(words(22, 3)) // NodePath in the pre-3.0 format.
        assertFails([]) // Not even a header.
        assertFails([4, 0]) // Half a header.
        assertFails(words(255)) // No such type.
        assertFails(words(39))
        assertFails(words(2 | 1 << 16, 1)) // A 64-bit int with 4 bytes.
        assertFails(words(28 | 1 << 16, 99, 0)) // A typed array of an unknown type.
    }

    func testDeepNestingIsRefused() {
        let deep = Array(repeating: words(28, 1), count: 300).flatMap { $0 } + words(0)
        assertFails(deep)
        let fine = Array(repeating: words(28, 1), count: 200).flatMap { $0 } + words(0)
        XCTAssertNoThrow(try VariantDecoder.decode(fine))
        var value = GodotVariant.null
        for _ in 0..<300 { value = .array([value]) }
        XCTAssertThrowsError(try VariantEncoder.encode(value)) { error in
            XCTAssertEqual((error as? VariantError)?.code, .outOfMemory)
        }
    }

    func testBadUTF8IsInvalidData() {
        assertFails(words(4, 2) + [0xC3, 0x28, 0, 0]) // A broken two-byte sequence.
        assertFails(words(4, 3) + [0xED, 0xA0, 0x80, 0]) // A UTF-16 surrogate.
        assertFails(words(34, 1, 2) + [0xFF, 0, 0, 0])
        XCTAssertEqual(try VariantDecoder.decode(words(4, 3) + [0x61, 0, 0x62, 0]), .string("a"),
                       "text stops at a NUL, as Godot's parse_utf8 stops")
    }

    func testFullObjectsAreNeverBuilt() {
        let object = words(24, 4) + Array("Node".utf8) + words(0)
        assertFails(object, .godot4, .unauthorized)
        XCTAssertThrowsError(try VariantDecoder.decode(object, allowObjects: true)) { error in
            XCTAssertEqual((error as? VariantError)?.code, .unavailable)
        }
        assertFails(words(17, 0), .godot3, .unauthorized)
    }

    /// Seeded so that a failure can be replayed: the seed is printed, and PACKETDTLS_TEST_SEED
    /// sets it.
    func testRandomBytesNeverCrash() {
        let seed = ProcessInfo.processInfo.environment["PACKETDTLS_TEST_SEED"].flatMap { UInt64($0) }
            ?? UInt64.random(in: 1...UInt64.max)
        print("VariantTests.testRandomBytesNeverCrash: seed \(seed) (replay with PACKETDTLS_TEST_SEED=\(seed))")
        var generator = SeededGenerator(seed: seed)
        for _ in 0..<3000 {
            let flags = UInt32.random(in: 0...3, using: &generator) << 16
            let type = UInt32.random(in: 0...40, using: &generator) | flags
            let tail = (0..<Int.random(in: 0...48, using: &generator)).map { _ in
                UInt8.random(in: 0...255, using: &generator)
            }
            for version in GodotVersion.allCases {
                _ = try? VariantDecoder.decode(words(type) + tail, version: version)
            }
        }
    }

    // MARK: - PacketPeer: encode_buffer_max_size, put_var, get_var

    func testEncodeBufferMaxSize() {
        let peer = PacketPeerUDP()
        XCTAssertEqual(peer.encodeBufferMaxSize, 8_388_608)
        XCTAssertEqual(peer.setEncodeBufferMaxSize(1023), .invalidParameter)
        XCTAssertEqual(peer.setEncodeBufferMaxSize(256 * 1024 * 1024 + 1), .invalidParameter)
        XCTAssertEqual(peer.encodeBufferMaxSize, 8_388_608, "a refused size changes nothing")
        XCTAssertEqual(peer.setEncodeBufferMaxSize(1025), .ok)
        XCTAssertEqual(peer.encodeBufferMaxSize, 2048, "rounded up to a power of two")
        XCTAssertEqual(peer.setEncodeBufferMaxSize(256 * 1024 * 1024), .ok)
        XCTAssertEqual(peer.getEncodeBufferMaxSize(), 256 * 1024 * 1024)
        XCTAssertEqual(PacketPeerUDP().encodeBufferMaxSize, 8_388_608, "each peer has its own")
        XCTAssertEqual(PacketPeerDTLS().encodeBufferMaxSize, 8_388_608)
    }

    func testPutVarAndGetVarOverLoopbackUDP() throws {
        let a = UDPTestSupport.boundPeer(), b = UDPTestSupport.boundPeer()
        XCTAssertEqual(a.connectToHost("127.0.0.1", port: b.getLocalPort()), .ok)
        let message: GodotVariant = .dictionary([
            GodotDictionaryEntry(.string("type"), .string("move")),
            GodotDictionaryEntry(.string("to"), .vector2(SIMD2(3, 4))),
            GodotDictionaryEntry(.string("path"), .packedVector2Array([SIMD2(1, 1), SIMD2(2, 2)])),
        ])
        for version in GodotVersion.allCases {
            XCTAssertEqual(a.putVar(message, version: version), .ok, ErrorReport.message)
            XCTAssertTrue(UDPTestSupport.eventually { b.getAvailablePacketCount() > 0 })
            let (error, value) = b.getVar(version: version)
            XCTAssertEqual(error, .ok, ErrorReport.message)
            XCTAssertEqual(value, message)
        }
        XCTAssertEqual(b.getVar().error, .unavailable, "nothing queued")
        // A packet that is no Variant is consumed and reported.
        XCTAssertEqual(a.putPacket([1, 2] as [UInt8]), .ok)
        XCTAssertTrue(UDPTestSupport.eventually { b.getAvailablePacketCount() > 0 })
        let (error, value) = b.getVar()
        XCTAssertEqual(error, .invalidData)
        XCTAssertEqual(value, .null)
        XCTAssertEqual(b.getAvailablePacketCount(), 0)
        // Larger than encode_buffer_max_size: refused before sending.
        XCTAssertEqual(a.setEncodeBufferMaxSize(1024), .ok)
        XCTAssertEqual(a.putVar(.packedByteArray(Array(repeating: 7, count: 1100))), .outOfMemory)
        XCTAssertTrue(ErrorReport.message.contains("encode_buffer_max_size"), ErrorReport.message)
        XCTAssertEqual(a.putVar(.vector2i(SIMD2(1, 2)), version: .godot3), .invalidParameter)
    }

    func testPutVarAndGetVarOverDTLSInMemory() throws {
        let identity = try TestIdentity.make()
        let server = DTLSServer()
        XCTAssertEqual(server.setup(key: identity.key, certificate: identity.certificate), .ok)
        let link = MemoryLink.pair()
        let client = PacketPeerDTLS()
        XCTAssertEqual(client.putVar(.int(1)), .unconfigured, "not connected yet")
        XCTAssertEqual(client.connectToPeer(link.client, hostname: "localhost", clientOptions: .clientUnsafe()), .ok)
        let accepted = try XCTUnwrap(Pump.accept(server, link.server, client: client))
        Pump.handshake(client, accepted)
        XCTAssertEqual(client.getStatus(), .connected)

        let message: GodotVariant = .array([.string("The answer is... 42!"), .int(42), .color(SIMD4(1, 0, 0, 1))])
        XCTAssertEqual(client.putVar(message), .ok)
        accepted.poll()
        let (error, value) = accepted.getVar()
        XCTAssertEqual(error, .ok)
        XCTAssertEqual(value, message)
        XCTAssertEqual(accepted.putVar(.packedStringArray(["Hello", "DTLS client"]), version: .godot3), .ok)
        client.poll()
        XCTAssertEqual(client.getVar(version: .godot3).value, .packedStringArray(["Hello", "DTLS client"]))
    }
}
