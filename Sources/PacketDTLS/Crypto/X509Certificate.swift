// X509Certificate.swift — Godot's X509Certificate: one certificate or a whole chain.

internal import CMbedTLS

public final class X509Certificate: @unchecked Sendable {
    let lock = Lock()
    /// The parsed chain, replaced whole by every successful load; nil while empty.
    var chain: CertificateChain?

    public init() {}

    init(chain: CertificateChain) {
        self.chain = chain
    }

    /// The chain as it is now, for a configuration to hold on to.
    func currentChain() -> CertificateChain? {
        lock.withLock { chain }
    }

    /// True when nothing was loaded or generated yet.
    public var isEmpty: Bool { currentChain() == nil }
}
