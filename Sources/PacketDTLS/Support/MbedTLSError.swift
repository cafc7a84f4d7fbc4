// MbedTLSError.swift — an mbedTLS error code as a typed value, with its text.

internal import CMbedTLS

/// A negative return code of mbedTLS. Its sentence is mbedTLS's own description with the number,
/// e.g. "SSL - The peer notified us that the connection is going to be closed (-0x7880)".
struct MbedTLSError: Error, Equatable, CustomStringConvertible {
    let code: Int32

    init(_ code: Int32) {
        self.code = code
    }

    var description: String { Self.describe(code) }

    /// mbedTLS's own description of `code`, with the number: the one place codes become text.
    static func describe(_ code: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        mbedtls_strerror(code, &buffer, buffer.count)
        let hex = String(UInt32(bitPattern: code < 0 ? -code : code), radix: 16)
        let text = String(cBuffer: buffer)
        return "\(text) (\(code < 0 ? "-" : "")0x\(hex))"
    }
}
