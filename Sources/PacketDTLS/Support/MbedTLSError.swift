// MbedTLSError.swift — mbedTLS's numeric errors as sentences.

internal import CMbedTLS

enum MbedTLSError {
    /// mbedTLS's own description of `code`, with the number, e.g. "SSL - ... (-0x7780)".
    static func describe(_ code: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        mbedtls_strerror(code, &buffer, buffer.count)
        let hex = String(UInt32(bitPattern: code < 0 ? -code : code), radix: 16)
        let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return "\(text) (\(code < 0 ? "-" : "")0x\(hex))"
    }
}
