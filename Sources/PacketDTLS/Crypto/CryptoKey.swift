// CryptoKey.swift — Godot's CryptoKey: an RSA or EC key, private or public only.

internal import CMbedTLS

public final class CryptoKey: @unchecked Sendable {
    let lock = Lock()
    /// The parsed key, replaced whole by every successful load; nil while empty.
    var material: KeyMaterial?

    public init() {}

    init(material: KeyMaterial) {
        self.material = material
    }

    /// The key as it is now, for a configuration to hold on to.
    func currentMaterial() -> KeyMaterial? {
        lock.withLock { material }
    }

    /// True when the key holds only a public key (Godot's is_public_only()).
    public func isPublicOnly() -> Bool {
        currentMaterial()?.isPublicOnly ?? false
    }

    /// True when nothing was loaded or generated yet.
    public var isEmpty: Bool { currentMaterial() == nil }
}
