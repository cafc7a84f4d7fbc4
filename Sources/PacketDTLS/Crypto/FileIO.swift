// FileIO.swift — reading key and certificate files, and writing them without exposing secrets.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

enum FileIO {
    /// Files bigger than this are refused: no key or certificate bundle comes near it.
    static let maximumFileSize = 64 << 20

    /// The whole file, with one spare byte of capacity for a PEM terminator. A file that can't be
    /// opened is Godot's ERR_INVALID_PARAMETER; the sentence names the path and the reason.
    static func readAll(path: String) throws(Failure) -> SensitiveBytes {
        guard !path.isEmpty else { throw Failure(.invalidParameter, "the path is empty") }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw Failure(.invalidParameter, "can't open '\(path)': \(lastErrno())")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw Failure(.invalidParameter, "can't read '\(path)': \(lastErrno())")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw Failure(.invalidParameter, "can't open '\(path)': not a regular file")
        }
        guard Int(info.st_size) <= maximumFileSize else {
            throw Failure(.invalidParameter,
                                "'\(path)' is \(info.st_size) bytes, larger than any key or certificate file")
        }
        let buffer = SensitiveBytes(capacity: Int(info.st_size) + 1)
        while buffer.count < buffer.capacity - 1 {
            let got = read(fd, buffer.base + buffer.count, buffer.capacity - 1 - buffer.count)
            if got < 0 && errno == EINTR { continue }
            guard got >= 0 else { throw Failure(.fileCantRead, "can't read '\(path)': \(lastErrno())") }
            if got == 0 { break }
            buffer.count += got
        }
        return buffer
    }

    /// Writes `bytes` to `path`, creating or replacing it. With `privateFile` the file is mode 0600
    /// before the first byte is written, even when it existed with wider permissions: the mode is
    /// set on the open descriptor, and only then is the old content truncated and the new written.
    static func writeAll(_ bytes: UnsafeBufferPointer<UInt8>, to path: String,
                         privateFile: Bool) throws(Failure) {
        guard !path.isEmpty else { throw Failure(.invalidParameter, "the path is empty") }
        let mode: mode_t = privateFile ? 0o600 : 0o644
        let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, mode)
        guard fd >= 0 else {
            throw Failure(.invalidParameter, "can't open '\(path)' for writing: \(lastErrno())")
        }
        var closed = false
        defer { if !closed { close(fd) } }
        if privateFile && fchmod(fd, 0o600) != 0 {
            throw Failure(.fileNoPermission, "can't make '\(path)' private (mode 0600): \(lastErrno())")
        }
        guard ftruncate(fd, 0) == 0 else {
            throw Failure(.fileCantWrite, "can't truncate '\(path)': \(lastErrno())")
        }
        var written = 0
        while written < bytes.count {
            let put = write(fd, bytes.baseAddress! + written, bytes.count - written)
            if put < 0 && errno == EINTR { continue }
            guard put > 0 else { throw Failure(.fileCantWrite, "can't write '\(path)': \(lastErrno())") }
            written += put
        }
        closed = true
        guard close(fd) == 0 else {
            throw Failure(.fileCantWrite, "can't finish writing '\(path)': \(lastErrno())")
        }
    }

    private static func lastErrno() -> String {
        String(cString: strerror(errno))
    }
}
