// DTLSServer+Keys.swift — beyond Godot: the cookie and session-ticket keys, shared and rotated.

extension DTLSServer {
    /// Makes the keys in the key file at `path` (see ServerKeyFile, `packetdtls-cli gen-keys`)
    /// this server's: every server that loads the same file accepts the others' cookies and
    /// resumes their sessions, and a restarted server resumes the sessions it made before.
    /// Takes effect at once, also for a server already set up. A missing, short, corrupt or
    /// unknown file is an error and leaves the keys as they were.
    public func loadKeys(path: String) -> GodotError {
        Failure.reported { () throws(Failure) in
            let file = try FileIO.readAll(path: path)
            let generations = try ServerKeyFile.decode(file, path: path)
            try currentKeyRing().replace(current: generations.current, previous: generations.previous)
            return .ok
        }
    }

    /// Writes this server's keys (current and previous) to `path`, mode 0600, replacing the file
    /// whole. From then on the keys change only by rotateKeys() or loadKeys(): a server whose
    /// keys others may share never rotates them by itself.
    public func saveKeys(path: String) -> GodotError {
        Failure.reported { () throws(Failure) in
            let generations = try currentKeyRing().exportForSharing()
            let file = ServerKeyFile.encode(current: generations.current, previous: generations.previous)
            try FileIO.writeAll(file.bytes, to: path, privateFile: true)
            return .ok
        }
    }

    /// New random keys become current; the current ones are kept as the previous, so cookies and
    /// tickets issued before still work for one more rotation (one ticket lifetime when rotated
    /// once a lifetime). A second rotation forgets them: their tickets get a full handshake.
    public func rotateKeys() -> GodotError {
        Failure.reported { () throws(Failure) in
            try currentKeyRing().rotate()
            return .ok
        }
    }
}
