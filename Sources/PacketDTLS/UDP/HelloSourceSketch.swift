// HelloSourceSketch.swift — while the front door sheds cookie-less ClientHellos (HelloShedding),
// which of them come from a source that has sent few lately.
//
// Shedding answers a share of cookie-less hellos. Chosen evenly, a real client's first hello is
// skipped as often as the flood's, and at a share near one half its median connect time gains a
// retransmission timeout. But a flood from a fixed set of sources (the 1,000 spoofed ports of
// issue 14) sends each source's hellos hundreds of times a second, while a real client sends one, and
// again only after its retransmission timer. So while shedding, a hello from a source with fewer
// than `freshLimit` hellos in the current window is answered first (HelloShedding.answers, which
// bounds how far fresh ones may run ahead of the share: a flood of ever-new sources gets the share,
// as before), and one from a source with more is a flood's: under a flood such sources get little
// (HelloShedding.repeatingShare), and are counted for as long as the flood lasts.
//
// How many hellos a source sent is counted in fixed buckets, not per address: 65,536 one-byte
// counters (64 KiB), made the first time the server sheds and kept, indexed by the keyed source hash
// of the route table (SocketAddress._rawHashValue) with the window's number as seed, and cleared
// every `windowMs`. Nothing grows with the number of sources, and a source's bucket changes with
// every window, so a real client that shares a bucket with a flooding source in one window is very
// likely alone in the next: 1,000 flooding sources fill about 1.5% of the buckets.

struct HelloSourceSketch {
    static let bucketCount = 1 << 16
    /// Hellos a source may send in one window and still count as fresh.
    static let freshLimit: UInt8 = 2
    /// Window length: a real client's first hello and one retransmission (100 ms or more apart) fit.
    static let windowMs: UInt64 = 250

    private var counts: [UInt8] = []
    private var window: UInt64 = 0

    /// Counts a cookie-less hello from `source` at `nowMs` (coarse monotonic ms); true when the source
    /// had sent fewer than freshLimit before it in this window.
    mutating func isFresh(_ source: SocketAddress, nowMs: UInt64) -> Bool {
        let current = nowMs / Self.windowMs
        if counts.isEmpty {
            counts = [UInt8](repeating: 0, count: Self.bucketCount)
            window = current
        } else if current != window {
            counts.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
            window = current
        }
        let bucket = source._rawHashValue(seed: Int(truncatingIfNeeded: window)) & (Self.bucketCount - 1)
        let count = counts[bucket]
        if count < UInt8.max { counts[bucket] = count + 1 }
        return count < Self.freshLimit
    }
}
