// CryptoKey.swift — Godot's CryptoKey: an RSA or EC key, private or public only.

internal import CMbedTLS

/// Godot's CryptoKey. Every successful load replaces the key material whole, so a DTLS
/// configuration made from the old material keeps working; a failed load leaves the key as it was.
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

    // MARK: Loading

    /// Loads a PEM or DER key file: a private key, or with `publicOnly` a public key (a private key
    /// file gives its public half). ERR_INVALID_PARAMETER when the file can't be opened,
    /// ERR_PARSE_ERROR when it holds no such key; either way the key keeps what it had.
    @discardableResult
    public func load(path: String, publicOnly: Bool = false) -> GodotError {
        do {
            let contents = try FileIO.readAll(path: path)
            contents.terminatePEM()
            return replace(with: try KeyMaterial.parse(contents, publicOnly: publicOnly, source: "'\(path)'"))
        } catch {
            return error.report()
        }
    }

    /// Loads a key from PEM text, as load(path:publicOnly:).
    @discardableResult
    public func loadFromString(_ pem: String, publicOnly: Bool = false) -> GodotError {
        do {
            let contents = SensitiveBytes(nulTerminating: pem)
            return replace(with: try KeyMaterial.parse(contents, publicOnly: publicOnly, source: "the string"))
        } catch {
            return error.report()
        }
    }

    private func replace(with newMaterial: KeyMaterial) -> GodotError {
        lock.withLock { material = newMaterial }
        return .ok
    }

    // MARK: Saving

    /// Writes the key as PEM (the private key, or with `publicOnly` the public key) to a new mode
    /// 0600 file beside `path`, renamed into place: a symlink at `path` is replaced, not followed,
    /// and a reader of the old file never sees the new key (FileIO.writeAll).
    @discardableResult
    public func save(path: String, publicOnly: Bool = false) -> GodotError {
        do {
            let pem = try currentPEM(publicOnly: publicOnly)
            try FileIO.writeAll(pem.bytes, to: path, privateFile: true)
            return .ok
        } catch {
            return error.report()
        }
    }

    /// The key as PEM text; "" (with the reason recorded) when it is empty or can't be written.
    public func saveToString(publicOnly: Bool = false) -> String {
        do {
            return try currentPEM(publicOnly: publicOnly).nulTerminatedString
        } catch {
            error.report()
            return ""
        }
    }

    private func currentPEM(publicOnly: Bool) throws(Failure) -> SensitiveBytes {
        guard let material = currentMaterial() else {
            throw Failure(.unconfigured, "the key is empty: load or generate one first")
        }
        return try material.pem(publicOnly: publicOnly)
    }
}
