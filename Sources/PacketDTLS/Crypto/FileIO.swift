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

    /// Writes `bytes` to `path`, creating or replacing it, mode 0600 with `privateFile` (keys) and
    /// 0644 otherwise. The bytes go to a new file beside `path`, made with O_CREAT | O_EXCL (so
    /// never through a symlink planted there), flushed, and renamed over `path`: a symlink at
    /// `path` is replaced, not followed; no reader ever sees a half-written file; and a process
    /// that still has the old file open keeps reading the old content, never the new secret.
    static func writeAll(_ bytes: UnsafeBufferPointer<UInt8>, to path: String,
                         privateFile: Bool) throws(Failure) {
        guard !path.isEmpty else { throw Failure(.invalidParameter, "the path is empty") }
        var info = stat()
        if lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
            throw Failure(.invalidParameter, "can't write '\(path)': it is a directory")
        }
        // mkstemp: O_CREAT | O_EXCL and mode 0600 from the first instant, whatever the umask.
        var template = Array((path + ".tmp-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw Failure(.invalidParameter, "can't create a file beside '\(path)' to write it: \(lastErrno())")
        }
        let temporary = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        var closed = false
        var renamed = false
        defer {
            if !closed { close(fd) }
            if !renamed { unlink(temporary) }
        }
        if !privateFile && fchmod(fd, 0o644) != 0 {
            throw Failure(.fileCantWrite, "can't set mode 0644 on '\(temporary)': \(lastErrno())")
        }
        var written = 0
        while written < bytes.count {
            let put = write(fd, bytes.baseAddress! + written, bytes.count - written)
            if put < 0 && errno == EINTR { continue }
            guard put > 0 else { throw Failure(.fileCantWrite, "can't write '\(path)': \(lastErrno())") }
            written += put
        }
        guard fsync(fd) == 0 else { throw Failure(.fileCantWrite, "can't flush '\(path)': \(lastErrno())") }
        closed = true
        guard close(fd) == 0 else {
            throw Failure(.fileCantWrite, "can't finish writing '\(path)': \(lastErrno())")
        }
        guard rename(temporary, path) == 0 else {
            throw Failure(.fileCantWrite, "can't put the new file in place of '\(path)': \(lastErrno())")
        }
        renamed = true
    }

    private static func lastErrno() -> String {
        String(cString: strerror(errno))
    }
}
