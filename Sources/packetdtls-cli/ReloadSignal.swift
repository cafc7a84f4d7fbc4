// ReloadSignal.swift — SIGHUP becomes a flag the serve loop checks: reload the key file.
//
// The handler only stores to an atomic (async-signal-safe); the loop that takes the flag reads the
// file. `serve --processes` passes SIGHUP on to its processes.

import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

enum ReloadSignal {
    private static let flag = Atomic<Bool>(false)

    /// Installs the SIGHUP handler.
    static func install() {
        let handler: @convention(c) (Int32) -> Void = { _ in
            ReloadSignal.flag.store(true, ordering: .relaxed)
        }
        _ = Glibc.signal(SIGHUP, handler)
    }

    /// True once per SIGHUP (or several that arrived together).
    static func take() -> Bool {
        flag.exchange(false, ordering: .relaxed)
    }
}
