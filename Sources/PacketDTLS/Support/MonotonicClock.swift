// MonotonicClock.swift — milliseconds that never go backwards, for timers and timeouts.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

enum MonotonicClock {
    /// Milliseconds since an arbitrary fixed point (CLOCK_MONOTONIC).
    @inline(__always)
    static func milliseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1000 + UInt64(now.tv_nsec) / 1_000_000
    }

    /// The same clock read at the kernel tick (CLOCK_MONOTONIC_COARSE: a few ms late, several times
    /// cheaper): for idle timeouts, checked on every poll of every peer. Compare only with itself.
    @inline(__always)
    static func coarseMilliseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC_COARSE, &now)
        return UInt64(now.tv_sec) * 1000 + UInt64(now.tv_nsec) / 1_000_000
    }
}
