// FileIO+Replace.swift — replacing a secret file whole, so no reader ever sees half of it.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension FileIO {
    /// Writes `bytes` to a new mode-0600 file beside `path` and renames it over `path`: a reader
    /// (another server loading the key file) sees the old file or the new one, never a mix. The
    /// temporary file is made with O_EXCL | O_NOFOLLOW, so a planted file or symbolic link is
    /// neither followed nor reused; a symbolic link at `path` itself is replaced, not followed.
    static func replacePrivately(_ bytes: UnsafeBufferPointer<UInt8>, at path: String) throws(Failure) {
        guard !path.isEmpty else { throw Failure(.invalidParameter, "the path is empty") }
        var suffix: UInt32 = 0
        _ = withUnsafeMutableBytes(of: &suffix) { RandomSource.shared.fill($0) }
        let temporary = "\(path).tmp-\(getpid())-\(String(suffix, radix: 16))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw Failure(.fileCantWrite, "can't create a file beside '\(path)': \(String(cString: strerror(errno)))")
        }
        var closed = false
        var renamed = false
        defer {
            if !closed { close(fd) }
            if !renamed { unlink(temporary) }
        }
        // The umask can only have narrowed 0600; make sure it is exactly that.
        guard fchmod(fd, 0o600) == 0 else {
            throw Failure(.fileNoPermission, "can't make '\(path)' private (mode 0600): \(String(cString: strerror(errno)))")
        }
        var written = 0
        while written < bytes.count {
            let put = write(fd, bytes.baseAddress! + written, bytes.count - written)
            if put < 0 && errno == EINTR { continue }
            guard put > 0 else {
                throw Failure(.fileCantWrite, "can't write '\(path)': \(String(cString: strerror(errno)))")
            }
            written += put
        }
        guard fsync(fd) == 0 else {
            throw Failure(.fileCantWrite, "can't write '\(path)' to disk: \(String(cString: strerror(errno)))")
        }
        closed = true
        guard close(fd) == 0 else {
            throw Failure(.fileCantWrite, "can't finish writing '\(path)': \(String(cString: strerror(errno)))")
        }
        guard rename(temporary, path) == 0 else {
            throw Failure(.fileCantWrite, "can't replace '\(path)': \(String(cString: strerror(errno)))")
        }
        renamed = true
    }
}
