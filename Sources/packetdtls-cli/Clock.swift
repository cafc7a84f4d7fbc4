// Clock.swift — monotonic time and short sleeps for the polling loops.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

enum Clock {
    /// Milliseconds on the monotonic clock (unaffected by wall-clock changes).
    static func nowMs() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1000 + UInt64(now.tv_nsec) / 1_000_000
    }

    /// Sleeps about `ms` milliseconds; a signal may cut it short, which is what the loops want.
    static func sleep(ms: Int) {
        var request = timespec(tv_sec: ms / 1000, tv_nsec: (ms % 1000) * 1_000_000)
        nanosleep(&request, nil)
    }

    /// Converts a user's time-out in seconds to milliseconds, at least 1.
    static func milliseconds(_ seconds: Double) -> UInt64 {
        UInt64(max(1, (seconds * 1000).rounded()))
    }
}
