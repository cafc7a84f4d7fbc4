// StopSignal.swift — SIGINT and SIGTERM become a flag the loops check between polls.
//
// The handler only stores to an atomic (async-signal-safe); the loop that sees the flag does the
// real work, such as sending close_notify to every peer. A second signal while stopping exits at once.

import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

enum StopSignal {
    private static let flag = Atomic<Int32>(0)

    /// Installs the handlers for SIGINT and SIGTERM, and ignores SIGPIPE (a closed stdout must not
    /// kill a server in the middle of saying goodbye to its peers).
    static func install() {
        let handler: @convention(c) (Int32) -> Void = { signal in
            if StopSignal.flag.exchange(signal, ordering: .relaxed) != 0 {
                _exit(128 + signal)
            }
        }
        _ = Glibc.signal(SIGINT, handler)
        _ = Glibc.signal(SIGTERM, handler)
        _ = Glibc.signal(SIGPIPE, SIG_IGN)
    }

    /// True once SIGINT or SIGTERM arrived.
    static var isRequested: Bool { flag.load(ordering: .relaxed) != 0 }

    /// The signal's name for the log ("SIGINT"), "" when none arrived.
    static var name: String {
        switch flag.load(ordering: .relaxed) {
        case 0: return ""
        case SIGINT: return "SIGINT"
        case SIGTERM: return "SIGTERM"
        case let other: return "signal \(other)"
        }
    }
}
