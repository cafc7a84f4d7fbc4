// FrontDoorSheddingTests.swift — the share of cookie-less ClientHellos a UDPServer's front door
// answers when it cannot answer them all (HelloShedding, issue 14), and what must never be shed:
// a tick server's backlog, a join storm, game traffic. The front door's shedding on a real socket is
// tested in FrontDoorTests.

import XCTest
@testable import PacketDTLS

final class FrontDoorSheddingTests: XCTestCase {
    // MARK: The governor alone

    /// A tick server's polls: each reads a backlog of a thousand hellos (a join storm) or of game
    /// traffic, with no pressure on the socket: every hello is answered, poll after poll.
    func testNoPressureNeverSheds() {
        var shedding = HelloShedding()
        for tick in 0..<200 {
            shedding.pollStarted()
            for _ in 0..<(1000 / 32) {
                shedding.read(32, helloes: tick % 2 == 0 ? 32 : 1)
                // Full batches, the socket far from its limit: underPressure is never called.
            }
            shedding.drained(nowMs: UInt64(tick) * 50)
            for _ in 0..<1000 { XCTAssertTrue(shedding.answers()) }
        }
        XCTAssertEqual(shedding.share, HelloShedding.scale)
        XCTAssertEqual(shedding.skipped, 0)
    }

    /// Pressure while game traffic (not hellos) makes up the load cuts nothing: new clients are not
    /// turned away because old ones are busy.
    func testPressureUnderGameTrafficCutsNothing() {
        var shedding = HelloShedding()
        shedding.pollStarted()
        for _ in 0..<100 {
            shedding.read(32, helloes: 16)
            shedding.underPressure()
        }
        XCTAssertEqual(shedding.share, HelloShedding.scale)
        XCTAssertFalse(shedding.isShedding)
    }

    /// Pressure under hellos cuts the share by a quarter per 256 datagrams read, down to 1/64; the
    /// answers are spread evenly; drains bring the share back by 1/16 per 10 ms.
    func testPressureUnderHellosCutsAndDrainsRestore() {
        var shedding = HelloShedding()
        shedding.pollStarted()
        shedding.read(HelloShedding.minimumRead - 32, helloes: HelloShedding.minimumRead - 32)
        shedding.underPressure()
        XCTAssertEqual(shedding.share, HelloShedding.scale, "fewer than minimumRead read this poll")
        shedding.read(32, helloes: 32)
        shedding.underPressure()
        XCTAssertEqual(shedding.share, HelloShedding.scale * 3 / 4)
        shedding.underPressure()
        XCTAssertEqual(shedding.share, HelloShedding.scale * 3 / 4, "at most one cut per decreaseSpacing read")
        shedding.read(HelloShedding.decreaseSpacing, helloes: HelloShedding.decreaseSpacing)
        shedding.underPressure()
        XCTAssertEqual(shedding.share, HelloShedding.scale * 9 / 16)
        for _ in 0..<100 {
            shedding.read(HelloShedding.decreaseSpacing, helloes: HelloShedding.decreaseSpacing)
            shedding.underPressure()
        }
        XCTAssertEqual(shedding.share, HelloShedding.minimumShare)
        let answered = (0..<6400).filter { _ in shedding.answers() }.count
        XCTAssertEqual(answered, 100, "one in 64, evenly")
        XCTAssertEqual(shedding.skipped, 6300)
        // Drains: 1/16 more at most every 10 ms.
        shedding.drained(nowMs: 1000)
        let once = shedding.share
        XCTAssertEqual(once, HelloShedding.minimumShare + HelloShedding.increase)
        shedding.drained(nowMs: 1005)
        XCTAssertEqual(shedding.share, once, "not again within 10 ms")
        for step in 1...16 { shedding.drained(nowMs: 1000 + UInt64(step) * 10) }
        XCTAssertEqual(shedding.share, HelloShedding.scale)
        XCTAssertFalse(shedding.isShedding)
    }
}
