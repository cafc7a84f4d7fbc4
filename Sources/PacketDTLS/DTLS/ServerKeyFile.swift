// ServerKeyFile.swift — the key file a fleet of servers shares (packetdtls-cli gen-keys writes one).
//
// Version 1, 180 bytes, integers big-endian:
//     0   8  magic "PDTLSKEY"
//     8   1  version (1)
//     9   1  generations in the file: 1 (current) or 2 (current, then previous)
//    10   2  zero
//    12  68  current generation: key id (4), cookie HMAC key (32), ticket AES-256 key (32)
//    80  68  previous generation, the same way (all zero when the file holds one)
//   148  32  SHA-256 of bytes 0..<148
// A file of another length, magic or version, or whose checksum does not match, is refused whole.

internal import CMbedTLS

enum ServerKeyFile {
    static let magic = Array("PDTLSKEY".utf8)
    static let version: UInt8 = 1
    static let generationLength = 4 + 2 * ServerKeyGeneration.keyLength
    static let bodyLength = 12 + 2 * generationLength
    static let checksumLength = 32
    static let length = bodyLength + checksumLength

    /// The file's bytes for these generations.
    static func encode(current: ServerKeyGeneration, previous: ServerKeyGeneration?) -> SensitiveBytes {
        let file = SensitiveBytes(capacity: length)
        file.count = length
        let bytes = file.base
        bytes.update(from: magic, count: magic.count)
        bytes[8] = version
        bytes[9] = previous == nil ? 1 : 2
        for (slot, generation) in [current, previous].enumerated() {
            guard let generation else { continue }
            let at = bytes + 12 + slot * generationLength
            for index in 0..<4 { at[index] = UInt8(truncatingIfNeeded: generation.id >> (8 * (3 - index))) }
            (at + 4).update(from: generation.cookieKey.base, count: ServerKeyGeneration.keyLength)
            (at + 4 + ServerKeyGeneration.keyLength).update(from: generation.ticketKey.base,
                                                            count: ServerKeyGeneration.keyLength)
        }
        _ = mbedtls_sha256_ret(bytes, bodyLength, bytes + bodyLength, 0)
        return file
    }

    /// The generations in `file`, or a failure that says what is wrong with it (never the key bytes).
    static func decode(_ file: SensitiveBytes, path: String) throws(Failure)
        -> (current: ServerKeyGeneration, previous: ServerKeyGeneration?) {
        let bytes = file.base
        guard file.count >= magic.count, (0..<magic.count).allSatisfy({ bytes[$0] == magic[$0] }) else {
            throw Failure(.fileUnrecognized, "'\(path)' is not a PacketDTLS key file (make one with packetdtls-cli gen-keys)")
        }
        guard file.count > 8, bytes[8] == version else {
            let found = file.count > 8 ? "version \(bytes[8])" : "no version"
            throw Failure(.fileUnrecognized, "'\(path)' is a PacketDTLS key file of \(found); this library reads version \(version)")
        }
        guard file.count == length else {
            throw Failure(.fileCorrupt, "'\(path)' is \(file.count) bytes; a version 1 key file is \(length) bytes (truncated or corrupt)")
        }
        var checksum = [UInt8](repeating: 0, count: checksumLength)
        _ = mbedtls_sha256_ret(bytes, bodyLength, &checksum, 0)
        guard (0..<checksumLength).allSatisfy({ checksum[$0] == bytes[bodyLength + $0] }) else {
            throw Failure(.fileCorrupt, "'\(path)' is corrupt: its checksum does not match its contents")
        }
        let generations = Int(bytes[9])
        guard generations == 1 || generations == 2, bytes[10] == 0, bytes[11] == 0 else {
            throw Failure(.fileCorrupt, "'\(path)' is corrupt: it says it holds \(generations) key generations (1 or 2 expected)")
        }
        func generation(_ slot: Int) throws(Failure) -> ServerKeyGeneration {
            let at = bytes + 12 + slot * generationLength
            var id: UInt32 = 0
            for index in 0..<4 { id = id << 8 | UInt32(at[index]) }
            let keyLength = ServerKeyGeneration.keyLength
            return try ServerKeyGeneration(id: id, cookieKey: UnsafeBufferPointer(start: at + 4, count: keyLength),
                                           ticketKey: UnsafeBufferPointer(start: at + 4 + keyLength, count: keyLength))
        }
        let current = try generation(0)
        let previous = generations == 2 ? try generation(1) : nil
        if let previous, previous.id == current.id {
            throw Failure(.fileCorrupt, "'\(path)' is corrupt: both key generations have the same id")
        }
        return (current, previous)
    }
}
