// RetransmissionTimer.swift — the two-deadline timer mbedTLS drives DTLS retransmission with.

/// mbedTLS sets an intermediate and a final delay and asks which has passed; poll() then lets
/// mbedTLS resend a flight or give up. Time comes from the monotonic clock.
struct RetransmissionTimer {
    private var start: UInt64 = 0
    private var intermediateMs: UInt32 = 0
    private var finalMs: UInt32 = 0
    private var expiryReported = false

    /// mbedtls_ssl_set_timer_t: finalMs == 0 cancels the timer.
    mutating func set(intermediateMs: UInt32, finalMs: UInt32) {
        self.intermediateMs = intermediateMs
        self.finalMs = finalMs
        expiryReported = false
        // mbedTLS cancels (0) around every record it reads: only a running timer needs the clock.
        start = finalMs == 0 ? 0 : MonotonicClock.milliseconds()
    }

    /// True the first time it is called after the final delay passed, false afterwards.
    mutating func markExpiryReported() -> Bool {
        defer { expiryReported = true }
        return !expiryReported
    }

    /// mbedtls_ssl_get_timer_t: -1 cancelled, 0 none passed, 1 intermediate passed, 2 final passed.
    func state() -> Int32 {
        guard finalMs != 0 else { return -1 }
        let elapsed = MonotonicClock.milliseconds() &- start
        if elapsed >= UInt64(finalMs) { return 2 }
        if elapsed >= UInt64(intermediateMs) { return 1 }
        return 0
    }
}
