// FIFOQueueTests.swift — the ring under every peer's receive queue, the DTLS inbox and the pending list.

@testable import PacketDTLS
import XCTest

final class FIFOQueueTests: XCTestCase {
    /// Against an array doing the same operations: order, count, first, and what each take returns,
    /// across wraps of the ring, growth with a wrapped head, and emptying.
    func testMatchesAnArrayThroughWrapsGrowthAndEmptying() {
        var queue = FIFOQueue<Int>()
        var model: [Int] = []
        var next = 0
        // A fixed pseudo-random walk (no seed from the clock): the test is the same every run.
        var state: UInt32 = 12345
        for step in 0..<20_000 {
            state = state &* 1_103_515_245 &+ 12345
            let choice = Int(state >> 16) % 10
            switch choice {
            case 0...3:
                queue.append(next)
                model.append(next)
                next += 1
            case 4:
                queue.prepend(next)
                model.insert(next, at: 0)
                next += 1
            case 5...7:
                XCTAssertEqual(queue.removeFirst(), model.isEmpty ? nil : model.removeFirst(), "step \(step)")
            case 8:
                XCTAssertEqual(queue.removeLast(), model.popLast(), "step \(step)")
            default:
                if step % 500 == 9 {
                    queue.removeAll()
                    model.removeAll()
                }
            }
            XCTAssertEqual(queue.count, model.count, "step \(step)")
            XCTAssertEqual(queue.isEmpty, model.isEmpty)
            XCTAssertEqual(queue.first, model.first)
        }
        var seen: [Int] = []
        queue.forEach { seen.append($0) }
        XCTAssertEqual(seen, model)
    }

    /// A taken element is let go of at once, not kept in its slot.
    func testTakenElementIsReleased() {
        final class Box {}
        var queue = FIFOQueue<Box>()
        weak var taken: Box?
        do {
            let box = Box()
            taken = box
            queue.append(box)
            queue.append(Box())
        }
        XCTAssertNotNil(queue.removeFirst())
        XCTAssertNil(taken)
        XCTAssertEqual(queue.count, 1)
    }

    func testEmptyQueueGivesNothing() {
        var queue = FIFOQueue<String>()
        XCTAssertNil(queue.removeFirst())
        XCTAssertNil(queue.removeLast())
        XCTAssertNil(queue.first)
        queue.prepend("a")
        XCTAssertEqual(queue.removeLast(), "a")
        XCTAssertTrue(queue.isEmpty)
    }
}
