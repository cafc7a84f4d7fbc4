// PreSharedKey.swift — a PSK as the options keep it: wiped when the last options holding it go.

/// The bytes of a pre-shared key in SensitiveBytes. Nothing writes to them after init, so the key may
/// be shared between threads with the options that hold it.
final class PreSharedKey: @unchecked Sendable {
    private let storage: SensitiveBytes

    init(copying key: [UInt8]) {
        storage = SensitiveBytes(copying: key)
    }

    var bytes: UnsafeBufferPointer<UInt8> { storage.bytes }
}
