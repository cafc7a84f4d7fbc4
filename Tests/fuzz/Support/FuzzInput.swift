// FuzzInput.swift — how the DTLS fuzz targets cut one fuzz input into a mode and datagrams.
//
// Layout: one mode byte, then datagrams, each a 2-byte big-endian length and that many bytes (the
// last one takes what remains when the length runs past the end). Length-prefixed datagrams keep
// a captured datagram intact in the seeds, so the fuzzer mutates real records.

struct FuzzInput {
    /// More datagrams than this in one input add nothing but time.
    static let maxDatagrams = 16

    let mode: UInt8
    let datagrams: [[UInt8]]

    init(_ data: UnsafePointer<UInt8>, _ size: Int) {
        let bytes = UnsafeBufferPointer(start: data, count: size)
        mode = bytes.first ?? 0
        var datagrams: [[UInt8]] = []
        var offset = 1
        while offset + 2 <= bytes.count, datagrams.count < Self.maxDatagrams {
            let length = Int(bytes[offset]) << 8 | Int(bytes[offset + 1])
            let start = offset + 2
            let end = min(start + length, bytes.count)
            datagrams.append(Array(bytes[start..<end]))
            offset = end
        }
        self.datagrams = datagrams
    }

    /// The bytes of an input with `mode` and `datagrams`, for the seed maker.
    static func encode(mode: UInt8, datagrams: [[UInt8]]) -> [UInt8] {
        var bytes = [mode]
        for datagram in datagrams {
            bytes += [UInt8(datagram.count >> 8 & 0xff), UInt8(datagram.count & 0xff)] + datagram
        }
        return bytes
    }
}
