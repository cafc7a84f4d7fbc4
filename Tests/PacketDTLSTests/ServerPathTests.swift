// ServerPathTests.swift — the UDPServer's per-datagram path (docs/PERFORMANCE.md, session 5): a
// server peer's spare datagram array, reused for the next datagram of the same length, and the route
// table's keyed hash.

import XCTest
@testable import PacketDTLS

final class ServerPathTests: XCTestCase {
    private typealias Support = UDPTestSupport

    /// Datagrams of repeated and changing lengths, each with its own content, reach the DTLS read path
    /// (receiveDatagramReportingMore) intact: a reused spare array never hands out stale bytes.
    func testSpareDatagramNeverHandsOutStaleBytes() throws {
        let server = UDPServer()
        XCTAssertEqual(server.listen(port: 0, bindAddress: "127.0.0.1"), .ok, ErrorReport.message)
        let client = PacketPeerUDP()
        XCTAssertEqual(client.connectToHost("127.0.0.1", port: server.getLocalPort()), .ok, ErrorReport.message)
        XCTAssertEqual(client.putPacket([0]), .ok)
        var taken: PacketPeerUDP?
        XCTAssertTrue(Support.eventually {
            _ = server.poll()
            taken = server.takeConnection()
            return taken != nil
        })
        let peer = try XCTUnwrap(taken)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 2048, alignment: 16)
        defer { buffer.deallocate() }
        // The first datagram ([0]) is still queued.
        XCTAssertEqual(peer.receiveDatagramReportingMore(into: buffer).received, .datagram(1))

        let lengths = [100, 100, 100, 50, 50, 100, 600, 600, 512, 512, 1, 1]
        for (index, length) in lengths.enumerated() {
            let datagram = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ index &* 31 &+ 1) }
            XCTAssertEqual(client.putPacket(datagram), .ok)
            XCTAssertTrue(Support.eventually {
                _ = server.poll()
                return peer.getAvailablePacketCount() == 1
            }, "datagram \(index) did not arrive")
            let (received, more) = peer.receiveDatagramReportingMore(into: buffer)
            XCTAssertEqual(received, .datagram(length), "datagram \(index)")
            XCTAssertFalse(more)
            XCTAssertEqual(Array(buffer[..<length]), datagram, "datagram \(index) of \(length) bytes")
            // Kept for the next one up to the limit; a larger one is not kept.
            let spare = peer.lock.withLock { peer.spareDatagram.count }
            if length <= PacketPeerUDP.spareDatagramLimit {
                XCTAssertEqual(spare, length, "datagram \(index)")
            } else {
                XCTAssertNotEqual(spare, length, "datagram \(index)")
            }
        }
        // Closing lets the spare go.
        peer.close()
        XCTAssertEqual(peer.lock.withLock { peer.spareDatagram.count }, 0)
        server.stop()
    }

    /// The route table's hash spreads addresses that differ only in their port (what a client
    /// chooses) over the buckets, depends on the table's seed, and the table finds every address.
    func testRouteHashSpreadsPortsAndDependsOnTheSeed() throws {
        let host = try XCTUnwrap(SocketAddress.parse(literal: "192.0.2.7", port: 0))
        let addresses = (1...4096).map { port -> SocketAddress in
            var address = host
            address.port = UInt16(port)
            return address
        }
        let buckets = Set(addresses.map { $0._rawHashValue(seed: 0) & 4095 })
        // 4096 random picks of 4096 buckets fill about 2,590 of them; a weak mix fills far fewer.
        XCTAssertGreaterThan(buckets.count, 2300)
        let differing = addresses.filter { $0._rawHashValue(seed: 1) != $0._rawHashValue(seed: 2) }.count
        XCTAssertGreaterThan(differing, 4000)
        var table: [SocketAddress: Int] = [:]
        for (index, address) in addresses.enumerated() { table[address] = index }
        XCTAssertEqual(table.count, addresses.count)
        for (index, address) in addresses.enumerated() { XCTAssertEqual(table[address], index) }
        var other = host
        other.port = 5000
        XCTAssertNil(table[other])
    }
}
