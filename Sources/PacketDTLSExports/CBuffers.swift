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

    /// A C array of `count` C strings (at most `limit`), copied; nil (with the reason recorded) for a NULL
    /// array with a count, a NULL entry, or too many.
    static func strings(_ array: UnsafePointer<UnsafePointer<CChar>?>?, _ count: Int, _ function: StaticString,
                        limit: Int) -> [String]? {
        guard count >= 0, count <= limit, array != nil || count == 0 else {
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

    /// Copies caller bytes; nil when data is NULL with a length (an invalid argument).
    static func bytes(_ data: UnsafePointer<UInt8>?, _ length: Int) -> [UInt8]? {
        if length == 0 { return [] }
        guard let data, length > 0 else { return nil }
        return Array(UnsafeBufferPointer(start: data, count: length))
    }

    /// A read-only view of caller bytes for the duration of `body`; nil when data is NULL with a length.
    static func withBytes<T>(_ data: UnsafePointer<UInt8>?, _ length: Int,
                             _ body: (UnsafeRawBufferPointer) -> T) -> T? {
        if length == 0 { return body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        guard let data, length > 0 else { return nil }
        return body(UnsafeRawBufferPointer(start: data, count: length))
    }

    /// snprintf-style: writes as much of `text` as fits (always NUL-terminated when cap > 0) and
    /// returns the full length needed, excluding the NUL.
    static func writeString(_ text: String, _ buffer: UnsafeMutablePointer<CChar>?, _ capacity: Int) -> Int {
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

    /// (buf, cap, *out_len): copies `bytes` when they fit; otherwise reports the size needed.
    static func writeBytes(_ bytes: [UInt8], _ buffer: UnsafeMutablePointer<UInt8>?, _ capacity: Int,
                           _ outLength: UnsafeMutablePointer<Int>?, function: StaticString) -> GodotError {
        guard let outLength else {
            return ErrorReport.fail(.invalidParameter, "\(function): out_len is NULL")
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
