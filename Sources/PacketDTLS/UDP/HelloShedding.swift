// HelloShedding.swift — how many cookie-less ClientHellos a UDPServer's front door answers when it
// cannot answer them all.
//
// Answering a ClientHello without a valid cookie (a MAC, a HelloVerifyRequest, its send and the
// kernel's delivery) costs the server more than reading one, and a flood from one core can send
// them faster than the server answers. Then the socket's buffer fills and the kernel drops what
// comes next, real clients' cookie-bearing hellos and handshake flights as often as the flood's.
// So the server always reads at full speed, and when it is falling behind answers only a share of
// the cookie-less hellos: a skipped one costs only its read, and its client (a real one too) sends
// it again on its retransmission timer.
//
// When is the server falling behind? Not whenever a backlog waits: a server that polls once per
// game tick always finds one, and a join storm of a thousand real clients is a backlog of hellos
// (a first version shed by backlog size from 256 KiB on and shed such join storms forever;
// docs/RELIABILITY.md). The signal here is that the kernel is near dropping at this socket, under
// hellos, looked at after each full batch (a drained socket never triggers it):
// - the socket's backlog is past a quarter of its receive buffer (the kernel drops beyond the
//   whole: 2 MiB of 8, about 2,500 small datagrams), or the kernel's drop count rose, and
// - ClientHellos without a valid cookie were at least 3/4 of what this poll read, over at least
//   `minimumRead` datagrams: game traffic, cookie-bearing hellos and flights never count for it.
// A tick server's backlog of 1,000 clients' traffic and a 1,000-client join storm (about 840 KiB)
// stay below it.
//
// The share answered adapts, AIMD around that level (a sixteenth of the buffer once shedding, so real
// clients' flights wait behind a shorter backlog): past it, the share is cut by an eighth (at most
// once per `decreaseSpacing` datagrams read and `decreaseSpacingMs`, and again only while the backlog
// still grows or the kernel drops), down to 1/64; below it, or with the socket drained, it grows by
// 1/32 of the whole at most once per `increaseSpacingMs` (about 300 ms from the least back to every
// hello). So the backlog stays near a quarter of the buffer and the kernel drops nothing while the
// server gets the CPU time to read. The hellos answered are spread evenly (a credit per hello), except
// that hellos from sources that sent few lately go first (HelloSourceSketch): a flood's sources send
// many, a real client one. Only answers are skipped:
// hellos with a valid cookie, and datagrams of known peers, are always read and routed. Nothing is
// kept per address.

struct HelloShedding {
    /// The share answered, out of `scale`.
    static let scale = 1024
    /// The lowest share: one cookie-less hello in 64 is still answered, so real clients get through.
    static let minimumShare = scale / 64
    /// Growth per step, at most once per increaseSpacingMs.
    static let increase = scale / 32
    static let increaseSpacingMs: UInt64 = 10
    /// Datagrams read, and milliseconds, between two cuts of the share: a cut shows in the backlog
    /// only after a while, and cutting again before it does overshoots.
    static let decreaseSpacing = 256
    static let decreaseSpacingMs: UInt64 = 5
    /// A poll must have read this many datagrams before its mix counts as a flood of hellos.
    static let minimumRead = 256
    /// The backlog, as a fraction of the receive buffer (1 / this), past which the share is first cut.
    static let pressureFraction = 4
    /// The same once shedding: the backlog is then held lower, since every real client's flight waits
    /// behind it (hysteresis: a backlog that never reached the first level, a join storm's, sheds nothing).
    static let sheddingPressureFraction = 16

    private(set) var share = scale
    /// Hellos the share let through, in 1/scale units; a hello is answered when a whole one is due.
    private var credit = 0
    private var readThisPoll = 0
    private var helloesThisPoll = 0
    private var readSinceCut = decreaseSpacing
    /// The backlog when the share was last cut; 0 once it fell below the pressure level.
    private var backlogAtCut = 0
    private var lastIncreaseMs: UInt64 = 0
    private var lastCutMs: UInt64 = 0
    /// Cookie-less hellos left unanswered, ever.
    private(set) var skipped = 0

    var isShedding: Bool { share < Self.scale }

    /// A poll starts: its mix of datagrams is counted afresh.
    mutating func pollStarted() {
        readThisPoll = 0
        helloesThisPoll = 0
    }

    /// `count` datagrams were read, `helloes` of them ClientHellos without a valid cookie.
    mutating func read(_ count: Int, helloes: Int) {
        readThisPoll += count
        helloesThisPoll += helloes
        readSinceCut += count
    }

    /// True when hellos without a valid cookie make up this poll's load: only then does the socket's
    /// backlog count (and need to be looked at, after a full batch).
    var isHelloFlood: Bool {
        readThisPoll >= Self.minimumRead && helloesThisPoll * 4 >= readThisPoll * 3
    }

    /// After a full batch of a hello flood: the socket holds `backlog` bytes of at most `limit`, and
    /// `dropped` tells whether the kernel dropped since the last look. Cuts or grows the share.
    mutating func looked(backlog: Int, limit: Int, dropped: Bool, nowMs: UInt64) {
        guard isHelloFlood else { return }
        guard dropped || backlog * (isShedding ? Self.sheddingPressureFraction : Self.pressureFraction) >= limit else {
            backlogAtCut = 0
            grow(nowMs: nowMs)
            return
        }
        guard readSinceCut >= Self.decreaseSpacing, nowMs &- lastCutMs >= Self.decreaseSpacingMs,
              dropped || backlog > backlogAtCut else { return }
        share = max(Self.minimumShare, share * 7 / 8)
        readSinceCut = 0
        lastCutMs = nowMs
        backlogAtCut = backlog
    }

    /// The socket was found empty at `nowMs` (a monotonic clock): the server kept up.
    mutating func drained(nowMs: UInt64) {
        backlogAtCut = 0
        grow(nowMs: nowMs)
    }

    private mutating func grow(nowMs: UInt64) {
        guard share < Self.scale, nowMs &- lastIncreaseMs >= Self.increaseSpacingMs else { return }
        share = min(Self.scale, share + Self.increase)
        lastIncreaseMs = nowMs
    }

    /// How many answers hellos from fresh sources (HelloSourceSketch) may take ahead of the share;
    /// past that they get the share like any other.
    static let freshAdvance = 1024 * scale

    /// For one ClientHello without a valid cookie: true when it is to be answered. A false is counted
    /// in `skipped`. Every hello earns the share in credit and an answer spends a whole hello's worth;
    /// one from a `fresh` source (few hellos lately, HelloSourceSketch) may spend ahead, down to
    /// freshAdvance below zero, so while fresh ones stay within the share they are all answered and
    /// the others get what is left.
    mutating func answers(fresh: Bool = false) -> Bool {
        if share >= Self.scale {
            credit = 0
            return true
        }
        credit += share
        if credit >= (fresh ? Self.scale - Self.freshAdvance : Self.scale) {
            credit -= Self.scale
            return true
        }
        skipped += 1
        return false
    }
}
