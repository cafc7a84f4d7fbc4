// RetransmissionTimer.swift — the two-deadline timer mbedTLS drives DTLS retransmission with.

internal import CMbedTLS

/// mbedTLS sets an intermediate and a final delay and asks which has passed; poll() then lets
/// mbedTLS resend a flight or give up. Time comes from the monotonic clock.
///
/// The timer lives at a fixed address (`install(on:)`) and is itself the context of mbedTLS's timer
/// callbacks, which mbedTLS makes around every record it reads: they run on this struct alone,
/// without a trip through the session object.
struct RetransmissionTimer {
    private var start: UInt64 = 0
    private var intermediateMs: UInt32 = 0
    private var finalMs: UInt32 = 0
    private var expiryReported = false
    /// Times the final delay passed and mbedTLS sent the flight again.
    private(set) var retransmissions = 0
    /// The context this timer runs for: on expiry it tells a resend from a give-up.
    private let internals: MbedTLSInternals

    private init(ssl: UnsafeMutablePointer<mbedtls_ssl_context>) {
        internals = MbedTLSInternals(ssl: ssl)
    }

    /// A timer for `ssl` at a fixed address, registered with mbedTLS. Free it with `remove()` after
    /// the context is freed.
    static func install(on ssl: UnsafeMutablePointer<mbedtls_ssl_context>) -> UnsafeMutablePointer<RetransmissionTimer> {
        let timer = UnsafeMutablePointer<RetransmissionTimer>.allocate(capacity: 1)
        timer.initialize(to: RetransmissionTimer(ssl: ssl))
        mbedtls_ssl_set_timer_cb(ssl, timer, retransmissionTimerSet, retransmissionTimerGet)
        return timer
    }

    static func remove(_ timer: UnsafeMutablePointer<RetransmissionTimer>) {
        timer.deinitialize(count: 1)
        timer.deallocate()
    }

    /// mbedtls_ssl_set_timer_t: finalMs == 0 cancels the timer.
    mutating func set(intermediateMs: UInt32, finalMs: UInt32) {
        self.intermediateMs = intermediateMs
        self.finalMs = finalMs
        expiryReported = false
        // mbedTLS cancels (0) around every record it reads: only a running timer needs the clock.
        start = finalMs == 0 ? 0 : MonotonicClock.milliseconds()
    }

    /// mbedtls_ssl_get_timer_t: -1 cancelled, 0 none passed, 1 intermediate passed, 2 final passed.
    /// mbedTLS resends the flight when it first sees the final delay pass, unless the delay has reached
    /// the handshake's longest: then it gives up (handshake timeout) and sends nothing.
    mutating func state() -> Int32 {
        guard finalMs != 0 else { return -1 }
        let elapsed = MonotonicClock.milliseconds() &- start
        if elapsed >= UInt64(finalMs) {
            if !expiryReported, internals.willResendOnRetransmissionTimeout { retransmissions += 1 }
            expiryReported = true
            return 2
        }
        if elapsed >= UInt64(intermediateMs) { return 1 }
        return 0
    }
}

// MARK: - C trampolines: the context is the timer itself.

private let retransmissionTimerSet: @convention(c) (UnsafeMutableRawPointer?, UInt32, UInt32) -> Void = {
    context, intermediate, final in
    context!.assumingMemoryBound(to: RetransmissionTimer.self).pointee.set(intermediateMs: intermediate, finalMs: final)
}

private let retransmissionTimerGet: @convention(c) (UnsafeMutableRawPointer?) -> Int32 = { context in
    context!.assumingMemoryBound(to: RetransmissionTimer.self).pointee.state()
}
