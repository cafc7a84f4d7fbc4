// KeyLogFile.swift — the NSS key log a session's secrets are appended to (TLSOptions.setKeyLogPath).
//
// The file holds what decrypts every logged session, so it is treated like a private key: opened
// once, when the path is set, with O_NOFOLLOW (a symlink planted at the path is refused, not
// followed) and O_APPEND, created mode 0600, and refused unless it is a regular file of ours that
// nobody else may read. A path that can't be used is an error then, not silence at handshake time.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

final class KeyLogFile: @unchecked Sendable {
    let path: String
    private let fd: Int32
    /// One line per write, whole: sessions on several threads share the file.
    private let lock = Lock()

    init(path: String) throws(Failure) {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            let reason = errno == ELOOP ? "it is a symbolic link" : String(cString: strerror(errno))
            throw Failure(.fileCantOpen, "key log: can't open '\(path)' for appending: \(reason)")
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw Failure(.fileCantOpen, "key log: can't inspect '\(path)': \(reason)")
        }
        let problem: String? =
            if (info.st_mode & S_IFMT) != S_IFREG { "it is not a regular file" }
            else if info.st_uid != geteuid() { "it belongs to another user (uid \(info.st_uid))" }
            else if info.st_mode & 0o077 != 0 {
                "its mode is \(String(info.st_mode & 0o777, radix: 8)); a key log must be 0600 (chmod 600 it)"
            } else { nil }
        if let problem {
            close(fd)
            throw Failure(.fileNoPermission, "key log: refusing '\(path)': \(problem)")
        }
        self.path = path
        self.fd = fd
    }

    deinit { close(fd) }

    /// Appends `line` (ending in a newline) in one write; a failure is dropped, as nothing waits on it.
    func append(_ line: String) {
        lock.withLock {
            _ = line.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
        }
    }
}
