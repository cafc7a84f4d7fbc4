// X509Certificate.swift — Godot's X509Certificate: one certificate or a whole chain.

internal import CMbedTLS

/// Godot's X509Certificate. It holds a whole chain (leaf first) when the file or text holds one,
/// and writes every certificate back in order. A load replaces the chain whole; a failed load
/// leaves the object as it was.
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

    // MARK: Loading

    /// Loads a PEM file (one or more CERTIFICATE blocks) or a DER file (one certificate or several
    /// concatenated). ERR_INVALID_PARAMETER when the file can't be opened, ERR_PARSE_ERROR when it
    /// does not parse.
    @discardableResult
    public func load(path: String) -> GodotError {
        do {
            let contents = try FileIO.readAll(path: path)
            contents.terminatePEM()
            let isPEM = contents.looksLikePEM
            return replace(with: try CertificateChain.parse(contents.bytes, isPEM: isPEM, source: "'\(path)'"))
        } catch {
            return error.report()
        }
    }

    /// Loads a certificate or chain from PEM text, as load(path:).
    @discardableResult
    public func loadFromString(_ pem: String) -> GodotError {
        do {
            let bytes = Array(pem.utf8) + [0]
            let parsed = try bytes.withUnsafeBufferPointer { buffer throws(Failure) in
                try CertificateChain.parse(buffer, isPEM: true, source: "the string")
            }
            return replace(with: parsed)
        } catch {
            return error.report()
        }
    }

    private func replace(with newChain: CertificateChain) -> GodotError {
        lock.withLock { chain = newChain }
        return .ok
    }

    // MARK: Saving

    /// Writes every certificate of the chain, in order, as PEM (Godot writes the first N times), to
    /// a new mode 0644 file renamed into place, as CryptoKey.save does.
    @discardableResult
    public func save(path: String) -> GodotError {
        do {
            let text = try currentPEM()
            try Array(text.utf8).withUnsafeBufferPointer { bytes throws(Failure) in
                try FileIO.writeAll(bytes, to: path, privateFile: false)
            }
            return .ok
        } catch {
            return error.report()
        }
    }

    /// The whole chain as PEM text; "" (with the reason recorded) when empty.
    public func saveToString() -> String {
        do {
            return try currentPEM()
        } catch {
            error.report()
            return ""
        }
    }

    private func currentPEM() throws(Failure) -> String {
        guard let chain = currentChain() else {
            throw Failure(.unconfigured, "the certificate is empty: load or generate one first")
        }
        return try chain.pem()
    }

    // MARK: Reading (beyond Godot)

    /// How many certificates the chain holds; 0 when empty.
    public var certificateCount: Int { currentChain()?.count ?? 0 }

    /// What each certificate says, leaf first; empty when nothing is loaded.
    public var certificates: [CertificateInfo] {
        guard let chain = currentChain() else { return [] }
        return withExtendedLifetime(chain) { chain.nodes.map(CertificateInfo.init) }
    }
}
