// SensitiveBytes.swift — a buffer for bytes that may be secret, wiped when released.

internal import CMbedTLS

/// Bytes that may hold private key material (a key file, a PEM text). They live at one heap
/// address, so Swift's copy-on-write never leaves stray copies behind, and the whole capacity is
/// wiped with mbedtls_platform_zeroize when the last reference goes.
final class SensitiveBytes {
    let base: UnsafeMutablePointer<UInt8>
    let capacity: Int
    /// How many bytes at `base` are in use.
    var count: Int

    init(capacity: Int) {
        self.capacity = max(capacity, 1)
        base = .allocate(capacity: self.capacity)
        base.initialize(repeating: 0, count: self.capacity)
        count = 0
    }

    /// A copy of `text`'s UTF-8 followed by a NUL, as mbedTLS's PEM parsers want it.
    convenience init(nulTerminating text: String) {
        var text = text
        let utf8Count = text.utf8.count
        self.init(capacity: utf8Count + 1)
        text.withUTF8 { source in
            if let from = source.baseAddress { base.update(from: from, count: utf8Count) }
        }
        base[utf8Count] = 0
        count = utf8Count + 1
    }

    /// A copy of `secret` (a pre-shared key, say), wiped when released.
    convenience init(copying secret: [UInt8]) {
        self.init(capacity: secret.count)
        secret.withUnsafeBufferPointer { source in
            if let from = source.baseAddress { base.update(from: from, count: secret.count) }
        }
        count = secret.count
    }

    deinit {
        mbedtls_platform_zeroize(base, capacity)
        base.deallocate()
    }

    /// The bytes in use.
    var bytes: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: base, count: count) }

    /// True when the text "-----BEGIN" occurs in the bytes, i.e. they are PEM rather than DER.
    var looksLikePEM: Bool {
        let marker = Array("-----BEGIN".utf8)
        guard count >= marker.count else { return false }
        for start in 0...(count - marker.count) where base[start] == marker[0] {
            if (1..<marker.count).allSatisfy({ base[start + $0] == marker[$0] }) { return true }
        }
        return false
    }

    /// Appends a NUL when the bytes are PEM and do not end in one (mbedTLS tells PEM from DER by it).
    func terminatePEM() {
        guard looksLikePEM, count == 0 || base[count - 1] != 0 else { return }
        precondition(count < capacity, "SensitiveBytes: no room for the NUL")
        base[count] = 0
        count += 1
    }

    /// The bytes up to the first NUL, as a String (for PEM text that mbedTLS wrote).
    var nulTerminatedString: String {
        let length = bytes.firstIndex(of: 0) ?? count
        return String(decoding: UnsafeBufferPointer(start: base, count: length), as: UTF8.self)
    }
}
