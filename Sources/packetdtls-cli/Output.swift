// Output.swift — unbuffered writes to stdout and stderr, and the server's timestamped log lines.
//
// Writes go straight to the file descriptors (no stdio buffering), so a line is visible to a
// script reading a pipe the moment it is printed, and nothing is lost when a signal ends the loop.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

enum Output {
    /// Writes `line` and a newline to stdout.
    static func line(_ line: String) {
        write(fd: 1, Array(line.utf8) + [0x0A])
    }

    /// Writes `bytes` to stdout, adding a newline unless they end with one.
    static func packet(_ bytes: [UInt8]) {
        write(fd: 1, bytes.last == 0x0A ? bytes : bytes + [0x0A])
    }

    /// Writes `line` and a newline to stderr.
    static func error(_ line: String) {
        write(fd: 2, Array(line.utf8) + [0x0A])
    }

    private static func write(fd: Int32, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if written > 0 {
                    offset += written
                } else if written < 0 && errno == EINTR {
                    continue
                } else {
                    return  // stdout closed (EPIPE) or full disk: nothing sensible left to do
                }
            }
        }
    }
}

/// The server's log: one line per event on stderr, "HH:MM:SS.mmm ADDRESS what happened".
struct Log {
    /// With quiet set, only errors and the lines that say where the server listens are written.
    let quiet: Bool
    /// Written after the time on every line ("[2/4]" for one of several server processes).
    var label = ""

    func info(_ message: String) {
        if !quiet { always(message) }
    }

    func always(_ message: String) {
        Output.error("\(Self.timestamp())\(label.isEmpty ? "" : " " + label) \(message)")
    }

    /// Local wall-clock time with milliseconds.
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        localtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let millis = Int(now.tv_nsec / 1_000_000)
        let ms = millis < 10 ? "00\(millis)" : (millis < 100 ? "0\(millis)" : "\(millis)")
        return "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)).\(ms)"
    }
}
