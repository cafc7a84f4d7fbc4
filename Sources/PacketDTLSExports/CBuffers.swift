// CBuffers.swift — the few places that read and write caller memory for the C ABI.
//
// Every pointer the caller passes is used only during the call: strings are copied into
// Swift Strings, and results are copied out under the snprintf and (buf, cap, *out_len) rules
// that include/packetdtls.h states.

import PacketDTLS
#if canImport(Glibc)
import Glibc
#endif

enum CBuffers {
    /// A C string argument as a Swift String; nil for NULL. Invalid UTF-8 is repaired (U+FFFD),
    /// so a hostile byte string becomes a name that simply does not resolve.
    static func string(_ pointer: UnsafePointer<CChar>?) -> String? {
        guard let pointer else { return nil }
        return String(cString: pointer)
    }

    /// A C string argument that must be present: nil (with the reason recorded) for NULL.
    static func requiredString(_ pointer: UnsafePointer<CChar>?, _ function: StaticString, _ name: String) -> String? {
        guard let text = string(pointer) else {
            ErrorReport.set("\(function): \(name) is NULL")
            return nil
        }
        return text
    }

    /// A size_t, count or length from C as a Swift Int: the one checked conversion every size that
    /// crosses the C ABI goes through. Swift sees size_t as Int, so a value above SSIZE_MAX (no buffer
    /// is that large) arrives negative: nil, with the reason recorded, instead of a trap later.
    static func size(_ value: Int, _ function: StaticString, _ name: String) -> Int? {
        guard value >= 0 else {
            let given = UInt(bitPattern: value)
            ErrorReport.set("\(function): \(name) \(given) is above SSIZE_MAX, larger than any buffer")
            return nil
        }
        return value
    }

    /// Copies a stats struct into the caller's `out` of `size` bytes, as much as fits: an older caller's
    /// struct is a prefix of ours (fields are only appended). `.invalidParameter` (with the reason
    /// recorded) for a NULL `out`, a size of 0 or a size above SSIZE_MAX.
    static func copyStruct<Value>(_ value: Value, into out: UnsafeMutableRawPointer?, size: Int,
                                  _ function: StaticString) -> GodotError {
        guard let size = self.size(size, function, "size") else { return .invalidParameter }
        guard let out, size > 0 else {
            return ErrorReport.fail(.invalidParameter, "\(function): out is NULL or size is 0")
        }
        var value = value
        withUnsafeBytes(of: &value) { out.copyMemory(from: $0.baseAddress!, byteCount: min(size, $0.count)) }
        return .ok
    }

    /// A C array of `count` C strings (at most `limit`), copied; nil (with the reason recorded) for a NULL
    /// array with a count, a NULL entry, or too many.
    static func strings(_ array: UnsafePointer<UnsafePointer<CChar>?>?, _ count: Int, _ function: StaticString,
                        limit: Int) -> [String]? {
        guard let count = size(count, function, "count") else { return nil }
        guard count <= limit, array != nil || count == 0 else {
            ErrorReport.set("\(function): the array is NULL or its count \(count) is outside 0...\(limit)")
            return nil
        }
        var result: [String] = []
        for index in 0..<count {
            guard let text = string(array?[index]) else {
                ErrorReport.set("\(function): entry \(index) is NULL")
                return nil
            }
            result.append(text)
        }
        return result
    }

    /// A read-only view of the caller's `length` bytes at `data`; nil (with the reason recorded) for a
    /// length above SSIZE_MAX or NULL data with a length. `name` is the parameter's name in the header.
    static func input(_ data: UnsafePointer<UInt8>?, _ length: Int, _ function: StaticString,
                      _ name: String) -> UnsafeRawBufferPointer? {
        guard let length = size(length, function, "the length of \(name)") else { return nil }
        if length == 0 { return UnsafeRawBufferPointer(start: nil, count: 0) }
        guard let data else {
            ErrorReport.set("\(function): \(name) is NULL but its length is \(length)")
            return nil
        }
        return UnsafeRawBufferPointer(start: data, count: length)
    }

    /// Copies the caller's bytes; nil (with the reason recorded) as input(_:_:_:_:).
    static func bytes(_ data: UnsafePointer<UInt8>?, _ length: Int, _ function: StaticString,
                      _ name: String) -> [UInt8]? {
        input(data, length, function, name).map { Array($0.bindMemory(to: UInt8.self)) }
    }

    /// The caller's (buf, cap) as a buffer to write into; nil (with the reason recorded) for a cap
    /// above SSIZE_MAX or NULL buf with a cap.
    static func output(_ buffer: UnsafeMutableRawPointer?, _ capacity: Int,
                       _ function: StaticString) -> UnsafeMutableRawBufferPointer? {
        guard let capacity = size(capacity, function, "cap") else { return nil }
        guard buffer != nil || capacity == 0 else {
            ErrorReport.set("\(function): buf is NULL but cap is \(capacity)")
            return nil
        }
        return UnsafeMutableRawBufferPointer(start: buffer, count: buffer == nil ? 0 : capacity)
    }

    /// snprintf-style: writes as much of `text` as fits (always NUL-terminated when cap > 0) and
    /// returns the full length needed, excluding the NUL. A cap above SSIZE_MAX is refused like a bad
    /// handle: "" when buf is not NULL, 0, and the reason recorded.
    static func writeString(_ text: String, _ buffer: UnsafeMutablePointer<CChar>?, _ capacity: Int,
                            _ function: StaticString) -> Int {
        guard let capacity = size(capacity, function, "cap") else {
            buffer?[0] = 0
            return 0
        }
        var utf8 = Array(text.utf8)
        let needed = utf8.count
        if let buffer, capacity > 0 {
            let copied = min(needed, capacity - 1)
            utf8.withUnsafeMutableBytes { source in
                if copied > 0 { memcpy(buffer, source.baseAddress!, copied) }
            }
            buffer[copied] = 0
        }
        return needed
    }

    /// A string getter's whole export: the object `lookUp` finds behind `handle`, `read` on it, written
    /// snprintf-style as writeString(_:_:_:_:) does; "" (with the lookup's reason) for a bad handle.
    static func writeString<T>(of handle: OpaquePointer?, _ lookUp: (OpaquePointer?, StaticString) -> T?,
                               _ buffer: UnsafeMutablePointer<CChar>?, _ capacity: Int, _ function: StaticString,
                               _ read: (T) -> String) -> Int {
        writeString(lookUp(handle, function).map(read) ?? "", buffer, capacity, function)
    }

    /// (buf, cap, *out_len): copies `bytes` when they fit; otherwise reports the size needed.
    static func writeBytes(_ bytes: [UInt8], _ buffer: UnsafeMutablePointer<UInt8>?, _ capacity: Int,
                           _ outLength: UnsafeMutablePointer<Int>?, function: StaticString) -> GodotError {
        guard let outLength else {
            return ErrorReport.fail(.invalidParameter, "\(function): out_len is NULL")
        }
        guard let capacity = size(capacity, function, "cap") else {
            outLength.pointee = 0
            return .invalidParameter
        }
        outLength.pointee = bytes.count
        guard bytes.count <= capacity else {
            return ErrorReport.fail(.parameterRangeError,
                                    "\(function): the buffer holds \(capacity) bytes, \(bytes.count) are needed")
        }
        guard buffer != nil || bytes.isEmpty else {
            return ErrorReport.fail(.invalidParameter, "\(function): buf is NULL")
        }
        if let buffer, !bytes.isEmpty {
            _ = bytes.withUnsafeBytes { memcpy(buffer, $0.baseAddress!, bytes.count) }
        }
        return .ok
    }
}
