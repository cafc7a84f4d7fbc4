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
//
// Repeating sources. A source that sends hellos again and again within a window (HelloSourceSketch)
// is a flood's: a real client sends one, and again only after its retransmission timer. Answering such
// a source serves nobody, and the share above would spend all the CPU the server has left on them
// (the AIMD fills it), taking it from the handshakes of real clients and from the other processes on
// the machine. So once a window holds `floodRepeats` hellos from repeating sources, the server is under
// a flood: until a window passes with fewer, the sources keep being counted even when the share is back
// to the whole, and hellos from repeating sources are answered at `repeatingShare` at most, while fresh
// ones get the share as before.

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

    /// Whether a hello's source is known to the sketch, and how (UDPServer asks while countsSources).
    enum Source {
        /// Not counted: the server neither sheds nor saw a flood lately.
        case uncounted
        /// Fewer than HelloSourceSketch.freshLimit hellos in the window: a real client's first hellos.
        case fresh
        /// More than that: a flood's source.
        case repeating
    }

    /// The most a repeating source's hellos get while the server is under a flood: one in 64.
    static let repeatingShare = scale / 64
    /// Hellos from repeating sources in one window that make it a flood (a real client repeats only
    /// when its answers are lost, after its retransmission timer).
    static let floodRepeats = 256
    static let floodWindowMs = HelloSourceSketch.windowMs

    /// Credit of the repeating sources' hellos, as `credit` is of the others.
    private var repeatingCredit = 0
    private var floodWindow: UInt64 = 0
    private var repeatingInWindow = 0
    /// A flood of repeating sources in this window or the one before.
    private(set) var isUnderFlood = false

    /// True while each cookie-less hello's source is to be counted (HelloSourceSketch): while
    /// shedding, and under a flood even once the share is back to the whole.
    var countsSources: Bool { isShedding || isUnderFlood }

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
        // A flood that stopped leaves no hello to end it: a drained socket ends it once its window passed.
        advanceFloodWindow(to: nowMs)
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
    /// the others get what is left. Under a flood, hellos from `repeating` sources still earn the
    /// share for the others but are answered at repeatingShare at most (a credit of their own), and
    /// what they leave may be banked up to freshAdvance for fresh ones. `nowMs` (a monotonic clock)
    /// matters only for counted sources.
    mutating func answers(_ source: Source = .uncounted, nowMs: UInt64 = 0) -> Bool {
        if source != .uncounted { tally(repeating: source == .repeating, nowMs: nowMs) }
        if source == .repeating, isUnderFlood {
            credit = min(credit + share, Self.freshAdvance)
            repeatingCredit += Self.repeatingShare
            if repeatingCredit >= Self.scale, credit >= Self.scale {
                repeatingCredit -= Self.scale
                credit -= Self.scale
                return true
            }
            repeatingCredit = min(repeatingCredit, Self.scale)
            skipped += 1
            return false
        }
        if share >= Self.scale {
            credit = 0
            return true
        }
        credit += share
        if credit >= (source == .fresh ? Self.scale - Self.freshAdvance : Self.scale) {
            credit -= Self.scale
            return true
        }
        skipped += 1
        return false
    }

    /// A new flood window: the flood goes on only if the window just ended held floodRepeats.
    private mutating func advanceFloodWindow(to nowMs: UInt64) {
        let window = nowMs / Self.floodWindowMs
        guard window != floodWindow else { return }
        isUnderFlood = window == floodWindow &+ 1 && repeatingInWindow >= Self.floodRepeats
        floodWindow = window
        repeatingInWindow = 0
    }

    /// Counts a counted source's hello in its window, and tells a flood by the repeating ones: on at
    /// floodRepeats in a window, off after a window (or a silence) with fewer.
    private mutating func tally(repeating: Bool, nowMs: UInt64) {
        advanceFloodWindow(to: nowMs)
        guard repeating else { return }
        repeatingInWindow += 1
        if repeatingInWindow >= Self.floodRepeats { isUnderFlood = true }
    }
}
