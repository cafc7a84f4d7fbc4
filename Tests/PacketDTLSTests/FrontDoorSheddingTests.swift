// FrontDoorSheddingTests.swift — the share of cookie-less ClientHellos a UDPServer's front door
// answers when it cannot answer them all (HelloShedding, issue 14), and what must never be shed:
// a tick server's backlog, a join storm, game traffic. The front door's shedding on a real socket is
// tested in FrontDoorTests.

import XCTest
@testable import PacketDTLS

final class FrontDoorSheddingTests: XCTestCase {
    // MARK: The governor alone

    private let limit = 8 << 20

    /// A tick server's polls: each reads a backlog of a thousand hellos (a join storm, about 840 KiB)
    /// or of game traffic, well below a quarter of the buffer: every hello is answered, poll after poll.
    func testNoPressureNeverSheds() {
        var shedding = HelloShedding()
        for tick in 0..<200 {
            shedding.pollStarted()
            for batch in 0..<(1000 / 32) {
                shedding.read(32, helloes: tick % 2 == 0 ? 32 : 1)
                shedding.looked(backlog: (1000 - 32 * batch) * 840, limit: limit, dropped: false, nowMs: UInt64(tick) * 50)
            }
            shedding.drained(nowMs: UInt64(tick) * 50)
            for _ in 0..<1000 { XCTAssertTrue(shedding.answers()) }
        }
        XCTAssertEqual(shedding.share, HelloShedding.scale)
        XCTAssertEqual(shedding.skipped, 0)
    }

    /// Pressure (a full buffer, kernel drops) while game traffic, not hellos, makes up the load cuts
    /// nothing: new clients are not turned away because old ones are busy.
    func testPressureUnderGameTrafficCutsNothing() {
        var shedding = HelloShedding()
        shedding.pollStarted()
        for _ in 0..<100 {
            shedding.read(32, helloes: 16)
            shedding.looked(backlog: limit, limit: limit, dropped: true, nowMs: 0)
        }
        XCTAssertEqual(shedding.share, HelloShedding.scale)
        XCTAssertFalse(shedding.isShedding)
    }

    /// A backlog of hellos past a quarter of the buffer cuts the share by an eighth, again only after
    /// decreaseSpacing reads and decreaseSpacingMs and while the backlog still grows (or the kernel
    /// drops), down to 1/64; the answers are spread evenly; below the level, or drained, the share
    /// grows by 1/32 per 10 ms.
    func testPressureUnderHellosCutsAndRelief() {
        var shedding = HelloShedding()
        let level = limit / HelloShedding.pressureFraction
        var now: UInt64 = 1000
        shedding.pollStarted()
        shedding.read(HelloShedding.minimumRead - 32, helloes: HelloShedding.minimumRead - 32)
        shedding.looked(backlog: level, limit: limit, dropped: true, nowMs: now)
        XCTAssertEqual(shedding.share, HelloShedding.scale, "fewer than minimumRead read this poll")
        shedding.read(32, helloes: 32)
        shedding.looked(backlog: level, limit: limit, dropped: false, nowMs: now)
        XCTAssertEqual(shedding.share, HelloShedding.scale * 7 / 8)
        shedding.read(32, helloes: 32)
        shedding.looked(backlog: level + 1000, limit: limit, dropped: true, nowMs: now + 1)
        XCTAssertEqual(shedding.share, HelloShedding.scale * 7 / 8, "at most one cut per decreaseSpacingMs")
        now += HelloShedding.decreaseSpacingMs
        shedding.read(32, helloes: 32)
        shedding.looked(backlog: level + 1000, limit: limit, dropped: true, nowMs: now)
        XCTAssertEqual(shedding.share, HelloShedding.scale * 7 / 8, "at most one cut per decreaseSpacing read")
        shedding.read(HelloShedding.decreaseSpacing, helloes: HelloShedding.decreaseSpacing)
        shedding.looked(backlog: level, limit: limit, dropped: false, nowMs: now)
        XCTAssertEqual(shedding.share, HelloShedding.scale * 7 / 8, "the backlog no longer grows: no cut")
        shedding.read(HelloShedding.decreaseSpacing, helloes: HelloShedding.decreaseSpacing)
        shedding.looked(backlog: level, limit: limit, dropped: true, nowMs: now - 1)
        XCTAssertEqual(shedding.share, HelloShedding.scale * 7 / 8, "not within decreaseSpacingMs of the last cut")
        shedding.looked(backlog: level + 1000, limit: limit, dropped: false, nowMs: now)
        XCTAssertEqual(shedding.share, HelloShedding.scale * 7 / 8 * 7 / 8, "it grows again: cut")
        for _ in 0..<100 {
            now += HelloShedding.decreaseSpacingMs
            shedding.read(HelloShedding.decreaseSpacing, helloes: HelloShedding.decreaseSpacing)
            shedding.looked(backlog: level, limit: limit, dropped: true, nowMs: now)
        }
        XCTAssertEqual(shedding.share, HelloShedding.minimumShare)
        let answered = (0..<6400).filter { _ in shedding.answers() }.count
        XCTAssertEqual(answered, 100, "one in 64, evenly")
        XCTAssertEqual(shedding.skipped, 6300)
        // Below the level (lower once shedding): 1/32 more at most every 10 ms; drained alike.
        now += 1000
        shedding.read(32, helloes: 32)
        shedding.looked(backlog: limit / HelloShedding.sheddingPressureFraction - 1, limit: limit, dropped: false, nowMs: now)
        let once = shedding.share
        XCTAssertEqual(once, HelloShedding.minimumShare + HelloShedding.increase)
        shedding.drained(nowMs: now + 5)
        XCTAssertEqual(shedding.share, once, "not again within 10 ms")
        for step in 1...32 { shedding.drained(nowMs: now + UInt64(step) * HelloShedding.increaseSpacingMs) }
        XCTAssertEqual(shedding.share, HelloShedding.scale)
        XCTAssertFalse(shedding.isShedding)
    }

    // MARK: Fresh sources first

    /// A governor cut down to its least share (one hello in 64), as a flood leaves it.
    private func sheddingAtTheLeast() -> HelloShedding {
        var shedding = HelloShedding()
        var now: UInt64 = 1000
        shedding.pollStarted()
        for _ in 0..<200 {
            now += HelloShedding.decreaseSpacingMs
            shedding.read(HelloShedding.decreaseSpacing, helloes: HelloShedding.decreaseSpacing)
            shedding.looked(backlog: limit, limit: limit, dropped: true, nowMs: now)
        }
        XCTAssertEqual(shedding.share, HelloShedding.minimumShare)
        return shedding
    }

    /// Hellos from fresh sources are all answered while they stay within the share, and the others get
    /// what the share leaves: one fresh hello among 64 from a flood's sources.
    func testFreshSourcesAreAnsweredFirstWithinTheShare() {
        var shedding = sheddingAtTheLeast()
        var fresh = 0, others = 0
        for index in 0..<65_000 {
            if index % 65 == 0 {
                if shedding.answers(.fresh) { fresh += 1 }
            } else if shedding.answers() {
                others += 1
            }
        }
        XCTAssertEqual(fresh, 1000, "every fresh hello answered")
        let budget = 65_000 / 64
        XCTAssertLessThanOrEqual(fresh + others, budget + HelloShedding.freshAdvance / HelloShedding.scale)
        XCTAssertGreaterThanOrEqual(fresh + others, budget - 1)
    }

    /// A flood whose every hello comes from a new source gets the share, no more (apart from the
    /// bounded advance): being fresh is a priority, not a way around the shedding.
    func testAFloodOfFreshSourcesGetsTheShare() {
        var shedding = sheddingAtTheLeast()
        let answered = (0..<64_000).filter { _ in shedding.answers(.fresh) }.count
        XCTAssertGreaterThanOrEqual(answered, 1000)
        XCTAssertLessThanOrEqual(answered, 1000 + HelloShedding.freshAdvance / HelloShedding.scale)
    }

    /// Under a flood of repeating sources, their hellos get repeatingShare even once the share is back
    /// to the whole (the server keeps up because it answers them so little), fresh ones are all
    /// answered, and a window without the flood ends it.
    func testRepeatingSourcesGetLittleUnderAFlood() {
        var shedding = HelloShedding()
        let window = HelloShedding.floodWindowMs
        let start = window * 1000
        XCTAssertFalse(shedding.countsSources, "nothing counted before a flood")
        for _ in 0..<(HelloShedding.floodRepeats - 1) { _ = shedding.answers(.repeating, nowMs: start) }
        XCTAssertFalse(shedding.isUnderFlood, "fewer than floodRepeats in the window")
        _ = shedding.answers(.repeating, nowMs: start)
        XCTAssertTrue(shedding.isUnderFlood)
        XCTAssertTrue(shedding.countsSources, "under a flood the sources are counted although the share is whole")
        XCTAssertEqual(shedding.share, HelloShedding.scale)
        // The next window: the flood goes on, 64,000 repeating hellos and 1,000 fresh ones among them.
        var repeatingAnswered = 0, freshAnswered = 0
        for index in 0..<65_000 {
            if index % 65 == 0 {
                if shedding.answers(.fresh, nowMs: start + window) { freshAnswered += 1 }
            } else if shedding.answers(.repeating, nowMs: start + window) {
                repeatingAnswered += 1
            }
        }
        XCTAssertEqual(freshAnswered, 1000, "every fresh hello answered")
        XCTAssertEqual(repeatingAnswered, 64_000 * HelloShedding.repeatingShare / HelloShedding.scale)
        XCTAssertTrue(shedding.isUnderFlood)
        // A window of real clients only (fresh): still under the flood of the window before; after it,
        // the flood is over, and a repeating source gets the whole share again.
        XCTAssertTrue(shedding.answers(.fresh, nowMs: start + 2 * window))
        XCTAssertTrue(shedding.isUnderFlood, "the window before held the flood")
        XCTAssertTrue(shedding.answers(.fresh, nowMs: start + 3 * window))
        XCTAssertFalse(shedding.isUnderFlood, "a window without the flood ends it")
        XCTAssertTrue(shedding.answers(.repeating, nowMs: start + 3 * window), "not under a flood: the whole share")
    }

    /// A flood that stops ends at the first drained poll a window later, with no hello to tell it.
    func testADrainedSocketEndsAStoppedFlood() {
        var shedding = HelloShedding()
        let start = HelloShedding.floodWindowMs * 1000
        for _ in 0..<HelloShedding.floodRepeats { _ = shedding.answers(.repeating, nowMs: start) }
        shedding.drained(nowMs: start + 1)
        XCTAssertTrue(shedding.isUnderFlood, "the same window")
        shedding.drained(nowMs: start + HelloShedding.floodWindowMs)
        XCTAssertTrue(shedding.isUnderFlood, "the window after the flood's")
        shedding.drained(nowMs: start + 2 * HelloShedding.floodWindowMs)
        XCTAssertFalse(shedding.isUnderFlood, "a window without it")
        XCTAssertFalse(shedding.countsSources)
    }

    /// A silence of more than a window ends the flood too, at the next counted hello.
    func testASilenceEndsTheFlood() {
        var shedding = HelloShedding()
        let start = HelloShedding.floodWindowMs * 1000
        for _ in 0..<HelloShedding.floodRepeats { _ = shedding.answers(.repeating, nowMs: start) }
        XCTAssertTrue(shedding.isUnderFlood)
        XCTAssertTrue(shedding.answers(.fresh, nowMs: start + 3 * HelloShedding.floodWindowMs))
        XCTAssertFalse(shedding.isUnderFlood)
        XCTAssertFalse(shedding.countsSources)
    }

    /// The sketch: a source's first freshLimit hellos in a window are fresh, later ones not, and a new
    /// window starts afresh; a thousand sources flooding leave nearly every new source fresh.
    func testSketchCountsEachSourcesHellosPerWindow() throws {
        let host = try XCTUnwrap(SocketAddress.parse(literal: "127.0.0.1", port: 0))
        func source(_ port: Int) -> SocketAddress {
            var address = host
            address.port = UInt16(port)
            return address
        }
        var sketch = HelloSourceSketch()
        let start = HelloSourceSketch.windowMs * 1000
        for _ in 0..<Int(HelloSourceSketch.freshLimit) { XCTAssertTrue(sketch.isFresh(source(5000), nowMs: start)) }
        XCTAssertFalse(sketch.isFresh(source(5000), nowMs: start + 1))
        XCTAssertTrue(sketch.isFresh(source(5000), nowMs: start + HelloSourceSketch.windowMs), "a new window")
        for _ in 0..<50 {
            for port in 10_000..<11_000 { _ = sketch.isFresh(source(port), nowMs: start + HelloSourceSketch.windowMs) }
        }
        XCTAssertFalse(sketch.isFresh(source(10_500), nowMs: start + HelloSourceSketch.windowMs))
        // 1,000 busy sources fill about 1.5% of the buckets: of 100 new ones, nearly all are fresh.
        let freshNewcomers = (20_000..<20_100).filter { sketch.isFresh(source($0), nowMs: start + HelloSourceSketch.windowMs) }
        XCTAssertGreaterThanOrEqual(freshNewcomers.count, 90)
    }

    /// Hysteresis: a backlog of hellos between a sixteenth and a quarter of the buffer cuts nothing
    /// while the server answers every hello (a join storm's), but keeps cutting once it sheds.
    func testTheLevelIsLowerOnceShedding() {
        var shedding = HelloShedding()
        var now: UInt64 = 1000
        let between = limit / 8
        shedding.pollStarted()
        shedding.read(HelloShedding.minimumRead, helloes: HelloShedding.minimumRead)
        shedding.looked(backlog: between, limit: limit, dropped: false, nowMs: now)
        XCTAssertFalse(shedding.isShedding, "below a quarter: no cut")
        shedding.looked(backlog: limit / HelloShedding.pressureFraction, limit: limit, dropped: false, nowMs: now)
        XCTAssertTrue(shedding.isShedding)
        let first = shedding.share
        now += HelloShedding.decreaseSpacingMs
        shedding.read(HelloShedding.decreaseSpacing, helloes: HelloShedding.decreaseSpacing)
        shedding.looked(backlog: between, limit: limit, dropped: true, nowMs: now)
        XCTAssertLessThan(shedding.share, first, "past a sixteenth while shedding: cut")
    }
}
