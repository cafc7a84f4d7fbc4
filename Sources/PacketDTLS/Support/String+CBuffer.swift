// String+CBuffer.swift — text a C function wrote into a buffer of ours.

extension String {
    /// The bytes of `buffer` up to its first NUL (all of them when it has none), as UTF-8; invalid
    /// sequences become U+FFFD rather than a failure, since C text is not always UTF-8.
    init(cBuffer buffer: [CChar]) {
        let length = buffer.firstIndex(of: 0) ?? buffer.count
        self = buffer.withUnsafeBufferPointer { chars in
            chars.withMemoryRebound(to: UInt8.self) { String(decoding: $0.prefix(length), as: UTF8.self) }
        }
    }
}
