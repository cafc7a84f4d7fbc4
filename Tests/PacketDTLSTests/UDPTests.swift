// UDPTests.swift — PacketPeerUDP over real loopback sockets (127.0.0.1 and ::1).
//
// Ports come from binding port 0. Nothing sleeps to synchronize: loops poll a condition until a
// deadline (UDPTestSupport.eventually), so a slow machine only makes them take longer.

import XCTest
@testable import PacketDTLS
#if canImport(Glibc)
import Glibc
#endif

/// Helpers shared by the UDP and UDPServer tests.
enum UDPTestSupport {
    /// Re-evaluates `condition` until it holds or `milliseconds` pass; true when it held.
    static func eventually(within milliseconds: UInt64 = 3000, _ condition: () -> Bool) -> Bool {
        let deadline = MonotonicClock.milliseconds() + milliseconds
        while MonotonicClock.milliseconds() < deadline {
            if condition() { return true }
            sched_yield()
        }
        return condition()
    }

    /// A peer bound to an ephemeral port on `address`.
    static func boundPeer(_ address: String = "127.0.0.1", recvBufferSize: Int = 65536,
                          file: StaticString = #filePath, line: UInt = #line) -> PacketPeerUDP {
        let peer = PacketPeerUDP()
        XCTAssertEqual(peer.bind(port: 0, bindAddress: address, recvBufferSize: recvBufferSize), .ok,
                       ErrorReport.message, file: file, line: line)
        return peer
    }

    /// Waits until `peer` has a datagram queued, then takes it.
    static func receive(_ peer: PacketPeerUDP, file: StaticString = #filePath, line: UInt = #line) -> [UInt8]? {
        guard eventually({ peer.getAvailablePacketCount() > 0 }) else {
            XCTFail("no datagram arrived", file: file, line: line)
            return nil
        }
        return peer.getPacket()
    }
}

final class UDPTests: XCTestCase {
    private typealias Support = UDPTestSupport

    // MARK: - bind / close

    func testBindToPortZeroGetsAnEphemeralPort() {
        let peer = PacketPeerUDP()
        XCTAssertFalse(peer.isBound())
        XCTAssertEqual(peer.getLocalPort(), 0)
        XCTAssertEqual(peer.bind(port: 0, bindAddress: "127.0.0.1"), .ok)
        XCTAssertTrue(peer.isBound())
        XCTAssertTrue(peer.isListening())
        XCTAssertGreaterThan(peer.getLocalPort(), 0)
        XCTAssertFalse(peer.isSocketConnected())
    }

    func testListenIsBind() {
        let peer = PacketPeerUDP()
        XCTAssertEqual(peer.listen(port: 0, bindAddress: "::1"), .ok)
        XCTAssertTrue(peer.isListening())
    }

    func testBindTwiceIsAlreadyInUse() {
        let peer = Support.boundPeer()
        XCTAssertEqual(peer.bind(port: 0), .alreadyInUse)
        XCTAssertTrue(ErrorReport.message.contains("already bound"), ErrorReport.message)
    }

    func testBindRejectsBadAddressesPortsAndSizes() {
        let peer = PacketPeerUDP()
        XCTAssertEqual(peer.bind(port: 0, bindAddress: "not an address"), .invalidParameter)
        XCTAssertTrue(ErrorReport.message.contains("not an address"), ErrorReport.message)
        XCTAssertEqual(peer.bind(port: 0, bindAddress: "localhost"), .invalidParameter)
        XCTAssertEqual(peer.bind(port: 0, bindAddress: ""), .invalidParameter)
        XCTAssertEqual(peer.bind(port: -1), .invalidParameter)
        XCTAssertEqual(peer.bind(port: 65536), .invalidParameter)
        XCTAssertTrue(ErrorReport.message.contains("65536"), ErrorReport.message)
        XCTAssertEqual(peer.bind(port: 0, recvBufferSize: 0), .invalidParameter)
        XCTAssertFalse(peer.isBound())
    }

    func testBindToAPortInUseIsUnavailable() {
        let first = Support.boundPeer()
        let second = PacketPeerUDP()
        XCTAssertEqual(second.bind(port: first.getLocalPort(), bindAddress: "127.0.0.1"), .unavailable)
        XCTAssertTrue(ErrorReport.message.contains("in use"), ErrorReport.message)
        XCTAssertTrue(ErrorReport.message.contains(String(first.getLocalPort())), ErrorReport.message)
        XCTAssertFalse(second.isBound())
    }

    func testCloseForgetsSocketDestinationAndQueue() {
        let receiver = Support.boundPeer()
        let sender = Support.boundPeer()
        XCTAssertEqual(sender.setDestAddress("127.0.0.1", port: receiver.getLocalPort()), .ok)
        XCTAssertEqual(sender.putPacket([1]), .ok)
        XCTAssertTrue(Support.eventually { receiver.getAvailablePacketCount() == 1 })
        receiver.close()
        XCTAssertFalse(receiver.isBound())
        XCTAssertEqual(receiver.getLocalPort(), 0)
        XCTAssertEqual(receiver.getAvailablePacketCount(), 0)
        sender.close()
        XCTAssertEqual(sender.putPacket([1]), .unconfigured, "close() forgets the destination")
        XCTAssertEqual(receiver.bind(port: 0, bindAddress: "127.0.0.1"), .ok, "a closed peer binds again")
    }

    // MARK: - Sending and receiving

    func testExchangeOverIPv4BothWays() {
        let server = Support.boundPeer()
        let client = PacketPeerUDP()
        XCTAssertEqual(client.setDestAddress("127.0.0.1", port: server.getLocalPort()), .ok)
        XCTAssertEqual(client.putPacket(Array("ping".utf8)), .ok, ErrorReport.message)
        XCTAssertTrue(client.isBound(), "put_packet opened a socket for the destination")
        XCTAssertEqual(Support.receive(server), Array("ping".utf8))
        XCTAssertEqual(server.getPacketError(), .ok)
        XCTAssertEqual(server.getPacketIP(), "127.0.0.1")
        XCTAssertEqual(server.getPacketPort(), client.getLocalPort())

        XCTAssertEqual(server.setDestAddress(server.getPacketIP(), port: server.getPacketPort()), .ok)
        XCTAssertEqual(server.putPacket(Array("pong".utf8)), .ok)
        XCTAssertEqual(Support.receive(client), Array("pong".utf8))
        XCTAssertEqual(client.getPacketPort(), server.getLocalPort())
    }

    func testExchangeOverIPv6() {
        let server = Support.boundPeer("::1")
        let client = Support.boundPeer("::1")
        XCTAssertEqual(client.setDestAddress("::1", port: server.getLocalPort()), .ok)
        XCTAssertEqual(client.putPacket([7, 8, 9]), .ok)
        XCTAssertEqual(Support.receive(server), [7, 8, 9])
        XCTAssertEqual(server.getPacketIP(), "::1")
    }

    func testWildcardIsDualStackAndPrintsIPv4AsDottedQuad() {
        let server = Support.boundPeer("*")
        let v4 = Support.boundPeer("127.0.0.1")
        let v6 = Support.boundPeer("::1")
        XCTAssertEqual(v4.setDestAddress("127.0.0.1", port: server.getLocalPort()), .ok)
        XCTAssertEqual(v6.setDestAddress("::1", port: server.getLocalPort()), .ok)
        XCTAssertEqual(v4.putPacket([4]), .ok)
        XCTAssertEqual(Support.receive(server), [4])
        XCTAssertEqual(server.getPacketIP(), "127.0.0.1")
        XCTAssertEqual(v6.putPacket([6]), .ok)
        XCTAssertEqual(Support.receive(server), [6])
        XCTAssertEqual(server.getPacketIP(), "::1")
    }

    func testEmptyAndLargestDatagrams() {
        let server = Support.boundPeer()
        let client = Support.boundPeer()
        XCTAssertEqual(client.setDestAddress("127.0.0.1", port: server.getLocalPort()), .ok)
        XCTAssertEqual(client.putPacket([UInt8]()), .ok)
        XCTAssertEqual(Support.receive(server), [])
        XCTAssertEqual(server.getPacketError(), .ok)
        let largest = [UInt8](repeating: 0xab, count: PacketPeerUDP.maxDatagramSize)
        XCTAssertEqual(client.putPacket(largest), .ok, ErrorReport.message)
        XCTAssertEqual(Support.receive(server), largest)
        XCTAssertEqual(client.putPacket([UInt8](repeating: 0, count: PacketPeerUDP.maxDatagramSize + 1)),
                       .invalidParameter)
        XCTAssertTrue(ErrorReport.message.contains("65508"), ErrorReport.message)
    }

    func testPutPacketWithoutDestinationIsUnconfigured() {
        XCTAssertEqual(PacketPeerUDP().putPacket([1]), .unconfigured)
        XCTAssertEqual(Support.boundPeer().putPacket([1]), .unconfigured)
        XCTAssertTrue(ErrorReport.message.contains("destination"), ErrorReport.message)
    }

    func testPutPacketAcceptsRawBuffersAndSlices() {
        let server = Support.boundPeer()
        let client = Support.boundPeer()
        XCTAssertEqual(client.setDestAddress("127.0.0.1", port: server.getLocalPort()), .ok)
        let bytes: [UInt8] = [1, 2, 3, 4]
        XCTAssertEqual(bytes.withUnsafeBytes { client.putPacket($0) }, .ok)
        XCTAssertEqual(client.putPacket(bytes[1...2]), .ok)
        XCTAssertEqual(Support.receive(server), [1, 2, 3, 4])
        XCTAssertEqual(Support.receive(server), [2, 3])
    }

    func testGetPacketWithNothingQueuedIsUnavailable() {
        let unbound = PacketPeerUDP()
        XCTAssertEqual(unbound.getPacket(), [])
        XCTAssertEqual(unbound.getPacketError(), .unavailable)
        let bound = Support.boundPeer()
        XCTAssertEqual(bound.getPacket(), [])
        XCTAssertEqual(bound.getPacketError(), .unavailable)
        XCTAssertEqual(bound.getAvailablePacketCount(), 0)
        XCTAssertEqual(bound.getPacketIP(), "")
        XCTAssertEqual(bound.getPacketPort(), 0)
    }

    func testGetPacketIntoSmallBufferKeepsThePacket() {
        let server = Support.boundPeer()
        let client = Support.boundPeer()
        XCTAssertEqual(client.setDestAddress("127.0.0.1", port: server.getLocalPort()), .ok)
        XCTAssertEqual(client.putPacket([1, 2, 3, 4, 5]), .ok)
        XCTAssertTrue(Support.eventually { server.getAvailablePacketCount() == 1 })
        var small = [UInt8](repeating: 0, count: 3)
        var length = 0
        XCTAssertEqual(small.withUnsafeMutableBytes { server.getPacket(into: $0, length: &length) },
                       .parameterRangeError)
        XCTAssertEqual(length, 5)
        XCTAssertEqual(server.getPacketError(), .parameterRangeError)
        XCTAssertEqual(server.getAvailablePacketCount(), 1, "the datagram stays queued")
        var large = [UInt8](repeating: 0, count: 16)
        XCTAssertEqual(large.withUnsafeMutableBytes { server.getPacket(into: $0, length: &length) }, .ok)
        XCTAssertEqual(Array(large[..<length]), [1, 2, 3, 4, 5])
        XCTAssertEqual(large.withUnsafeMutableBytes { server.getPacket(into: $0, length: &length) }, .unavailable)
        XCTAssertEqual(length, 0)
    }

    /// get_packet with nothing queued reads the socket itself (one read, no peek): a datagram larger than
    /// the buffer must still stay whole and queued, and the source must be known, on a connected and on
    /// an unconnected socket alike.
    func testGetPacketStraightFromTheSocketKeepsLargeDatagramsWhole() {
        for connected in [true, false] {
            let server = Support.boundPeer()
            let client = Support.boundPeer()
            XCTAssertEqual(client.connectToHost("127.0.0.1", port: server.getLocalPort()), .ok)
            if connected {
                XCTAssertEqual(server.connectToHost("127.0.0.1", port: client.getLocalPort()), .ok)
            }
            let large = (0..<2000).map { UInt8(truncatingIfNeeded: $0 * 7) }
            XCTAssertEqual(client.putPacket(large), .ok)
            var small = [UInt8](repeating: 0, count: 16)
            var length = 0
            var result = GodotError.unavailable
            XCTAssertTrue(Support.eventually {
                result = small.withUnsafeMutableBytes { server.getPacket(into: $0, length: &length) }
                return result != .unavailable
            })
            XCTAssertEqual(result, .parameterRangeError, "connected \(connected)")
            XCTAssertEqual(length, 2000)
            XCTAssertEqual(server.getAvailablePacketCount(), 1, "the datagram stays queued, whole")
            var big = [UInt8](repeating: 0, count: 4096)
            XCTAssertEqual(big.withUnsafeMutableBytes { server.getPacket(into: $0, length: &length) }, .ok)
            XCTAssertEqual(Array(big[..<length]), large)
            XCTAssertEqual(server.getPacketPort(), client.getLocalPort())

            // One that fits goes straight into the buffer; then the array form.
            XCTAssertEqual(client.putPacket([9, 8, 7]), .ok)
            XCTAssertTrue(Support.eventually {
                result = small.withUnsafeMutableBytes { server.getPacket(into: $0, length: &length) }
                return result != .unavailable
            })
            XCTAssertEqual(result, .ok)
            XCTAssertEqual(Array(small[..<length]), [9, 8, 7])
            XCTAssertEqual(server.getPacketIP(), "127.0.0.1")
            XCTAssertEqual(server.getPacketPort(), client.getLocalPort())
            let largest = [UInt8](repeating: 0x5a, count: PacketPeerUDP.maxDatagramSize)
            XCTAssertEqual(client.putPacket(largest), .ok)
            var got: [UInt8] = []
            XCTAssertTrue(Support.eventually {
                got = server.getPacket()
                return server.getPacketError() != .unavailable
            })
            XCTAssertEqual(server.getPacketError(), .ok)
            XCTAssertEqual(got, largest)
            XCTAssertEqual(server.getPacketPort(), client.getLocalPort())
            // A buffer of 4 KiB or more is read into directly, the rest of a larger datagram spilled.
            let fiveK = (0..<5000).map { UInt8(truncatingIfNeeded: $0 * 13) }
            XCTAssertEqual(client.putPacket(fiveK), .ok)
            var medium = [UInt8](repeating: 0, count: 4096)
            XCTAssertTrue(Support.eventually {
                result = medium.withUnsafeMutableBytes { server.getPacket(into: $0, length: &length) }
                return result != .unavailable
            })
            XCTAssertEqual(result, .parameterRangeError)
            XCTAssertEqual(length, 5000)
            var eightK = [UInt8](repeating: 0, count: 8192)
            XCTAssertEqual(eightK.withUnsafeMutableBytes { server.getPacket(into: $0, length: &length) }, .ok)
            XCTAssertEqual(Array(eightK[..<length]), fiveK)
            XCTAssertEqual(client.putPacket([UInt8](fiveK[..<4000])), .ok)
            XCTAssertTrue(Support.eventually {
                result = medium.withUnsafeMutableBytes { server.getPacket(into: $0, length: &length) }
                return result != .unavailable
            })
            XCTAssertEqual(result, .ok)
            XCTAssertEqual(Array(medium[..<length]), Array(fiveK[..<4000]))
            XCTAssertEqual(server.getStats().datagramsReceived, 5, "every datagram read is counted")
            XCTAssertEqual(small.withUnsafeMutableBytes { server.getPacket(into: $0, length: &length) }, .unavailable)
        }
    }

    func testQueueIsBoundedByReceiveBufferSizeAndLosesNothing() {
        // 1000 bytes hold two 400-byte datagrams (each costs 424 with its bookkeeping), not three.
        let server = Support.boundPeer(recvBufferSize: 1000)
        let client = Support.boundPeer()
        XCTAssertEqual(client.setDestAddress("127.0.0.1", port: server.getLocalPort()), .ok)
        for index in 0..<5 {
            XCTAssertEqual(client.putPacket([UInt8](repeating: UInt8(index), count: 400)), .ok)
        }
        XCTAssertTrue(Support.eventually { server.getAvailablePacketCount() == 2 })
        XCTAssertEqual(server.getAvailablePacketCount(), 2, "the rest waits in the kernel")
        var received: [UInt8] = []
        XCTAssertTrue(Support.eventually {
            if server.getAvailablePacketCount() > 0 { received.append(server.getPacket()[0]) }
            return received.count == 5
        })
        XCTAssertEqual(received, [0, 1, 2, 3, 4])
    }

    func testSmallReceiveBufferStillTakesOneLargeDatagram() {
        let server = Support.boundPeer(recvBufferSize: 16)
        let client = Support.boundPeer()
        XCTAssertEqual(client.setDestAddress("127.0.0.1", port: server.getLocalPort()), .ok)
        XCTAssertEqual(client.putPacket([UInt8](repeating: 1, count: 100)), .ok)
        XCTAssertEqual(Support.receive(server)?.count, 100)
    }

    // MARK: - connect_to_host / set_dest_address

    func testConnectToHostBindsAndReceivesOnlyFromThatHost() {
        let host = Support.boundPeer()
        let stranger = Support.boundPeer()
        let client = PacketPeerUDP()
        XCTAssertEqual(client.connectToHost("127.0.0.1", port: host.getLocalPort()), .ok, ErrorReport.message)
        XCTAssertTrue(client.isSocketConnected())
        XCTAssertTrue(client.isConnectedToHost())
        XCTAssertTrue(client.isBound())
        XCTAssertGreaterThan(client.getLocalPort(), 0)

        XCTAssertEqual(stranger.setDestAddress("127.0.0.1", port: client.getLocalPort()), .ok)
        XCTAssertEqual(stranger.putPacket([0xee]), .ok)
        XCTAssertEqual(client.putPacket([1]), .ok)
        XCTAssertEqual(Support.receive(host), [1])
        XCTAssertEqual(host.setDestAddress("127.0.0.1", port: host.getPacketPort()), .ok)
        XCTAssertEqual(host.putPacket([2]), .ok)
        XCTAssertEqual(Support.receive(client), [2], "the stranger's datagram never arrives")
        XCTAssertEqual(client.getAvailablePacketCount(), 0)
    }

    func testConnectToHostByNameAndOverIPv6() {
        let host = Support.boundPeer()
        let byName = PacketPeerUDP()
        XCTAssertEqual(byName.connectToHost("localhost", port: host.getLocalPort()), .ok, ErrorReport.message)
        XCTAssertEqual(byName.putPacket([3]), .ok)
        XCTAssertEqual(Support.receive(host), [3])

        let host6 = Support.boundPeer("::1")
        let client6 = PacketPeerUDP()
        XCTAssertEqual(client6.connectToHost("::1", port: host6.getLocalPort()), .ok)
        XCTAssertEqual(client6.putPacket([6]), .ok)
        XCTAssertEqual(Support.receive(host6), [6])
        XCTAssertEqual(host6.getPacketPort(), client6.getLocalPort())
    }

    func testConnectToHostOnABoundPeerKeepsItsPort() {
        let host = Support.boundPeer()
        let client = Support.boundPeer()
        let port = client.getLocalPort()
        XCTAssertEqual(client.connectToHost("127.0.0.1", port: host.getLocalPort()), .ok)
        XCTAssertEqual(client.getLocalPort(), port)
        XCTAssertEqual(client.bind(port: 0), .alreadyInUse)
    }

    func testConnectToHostErrors() {
        let peer = PacketPeerUDP()
        XCTAssertEqual(peer.connectToHost("", port: 9), .invalidParameter)
        XCTAssertEqual(peer.connectToHost("127.0.0.1", port: 0), .invalidParameter)
        XCTAssertEqual(peer.connectToHost("127.0.0.1", port: 65536), .invalidParameter)
        XCTAssertEqual(peer.connectToHost("no-such-host.invalid", port: 9), .cantResolve)
        XCTAssertTrue(ErrorReport.message.contains("no-such-host.invalid"), ErrorReport.message)
        XCTAssertFalse(peer.isBound())
        let v4 = Support.boundPeer("127.0.0.1")
        XCTAssertEqual(v4.connectToHost("::1", port: 9), .cantResolve, "an IPv4 socket cannot reach ::1")
        XCTAssertTrue(ErrorReport.message.contains("IPv4"), ErrorReport.message)
    }

    func testSetDestAddressRules() {
        let peer = PacketPeerUDP()
        XCTAssertEqual(peer.setDestAddress("no-such-host.invalid", port: 9), .cantResolve)
        XCTAssertEqual(peer.setDestAddress("127.0.0.1", port: 0), .invalidParameter)
        XCTAssertEqual(peer.setDestAddress("", port: 9), .invalidParameter)
        XCTAssertEqual(peer.setDestAddress("localhost", port: 9), .ok)
        let host = Support.boundPeer()
        XCTAssertEqual(peer.connectToHost("127.0.0.1", port: host.getLocalPort()), .ok)
        XCTAssertEqual(peer.setDestAddress("127.0.0.1", port: 9), .unconfigured)
        XCTAssertTrue(ErrorReport.message.contains("connected"), ErrorReport.message)
    }

    // MARK: - wait

    func testWaitTimesOutThenSeesADatagram() {
        let server = Support.boundPeer()
        XCTAssertEqual(server.wait(timeoutMs: 20), .timeout)
        XCTAssertEqual(server.wait(timeoutMs: -1), .invalidParameter)
        XCTAssertEqual(PacketPeerUDP().wait(timeoutMs: 0), .unconfigured)
        XCTAssertEqual(PacketPeerUDP().wait(), .unconfigured)
        let client = Support.boundPeer()
        XCTAssertEqual(client.setDestAddress("127.0.0.1", port: server.getLocalPort()), .ok)
        XCTAssertEqual(client.putPacket([5]), .ok)
        XCTAssertEqual(server.wait(), .ok)
        XCTAssertEqual(server.getAvailablePacketCount(), 1, "wait() drained the socket")
        XCTAssertEqual(server.wait(), .ok, "a queued datagram satisfies wait() at once")
        XCTAssertEqual(server.getPacket(), [5])
    }

    func testCloseWakesAWaitingThread() {
        let peer = Support.boundPeer()
        let result = UDPTestBox<GodotError?>(nil)
        let waiter = Thread { result.set(peer.wait()) }
        waiter.start()
        peer.close()
        XCTAssertTrue(Support.eventually { result.get() != nil })
        XCTAssertEqual(result.get(), .unconfigured)
    }

    // MARK: - Options

    func testBroadcastIsStoredBeforeASocketExists() {
        let peer = PacketPeerUDP()
        XCTAssertEqual(peer.setBroadcastEnabled(true), .ok)
        XCTAssertEqual(peer.bind(port: 0, bindAddress: "0.0.0.0"), .ok)
        XCTAssertEqual(peer.setBroadcastEnabled(false), .ok)
        XCTAssertEqual(peer.setBroadcastEnabled(true), .ok)
    }

    func testMulticastMembership() {
        let unbound = PacketPeerUDP()
        XCTAssertEqual(unbound.joinMulticastGroup("224.0.0.251", interfaceName: ""), .unconfigured)
        let peer = Support.boundPeer("0.0.0.0")
        XCTAssertEqual(peer.joinMulticastGroup("127.0.0.1", interfaceName: ""), .invalidParameter)
        XCTAssertEqual(peer.joinMulticastGroup("not-an-address", interfaceName: ""), .invalidParameter)
        XCTAssertEqual(peer.joinMulticastGroup("224.0.0.251", interfaceName: "no-such-if0"), .invalidParameter)
        XCTAssertTrue(ErrorReport.message.contains("no-such-if0"), ErrorReport.message)
        XCTAssertEqual(peer.joinMulticastGroup("ff02::fb", interfaceName: ""), .invalidParameter)
        XCTAssertEqual(peer.joinMulticastGroup("224.0.0.251", interfaceName: "lo"), .ok, ErrorReport.message)
        XCTAssertEqual(peer.leaveMulticastGroup("224.0.0.251", interfaceName: "lo"), .ok, ErrorReport.message)
        XCTAssertEqual(peer.leaveMulticastGroup("224.0.0.251", interfaceName: "lo"), .failed,
                       "leaving a group not joined")
        let dual = Support.boundPeer("*")
        XCTAssertEqual(dual.joinMulticastGroup("ff02::fb", interfaceName: "lo"), .ok, ErrorReport.message)
        XCTAssertEqual(dual.leaveMulticastGroup("ff02::fb", interfaceName: "lo"), .ok, ErrorReport.message)
    }

    // MARK: - DatagramTransport

    func testTransportReceivesFromQueueThenSocket() {
        let server = Support.boundPeer()
        let client = PacketPeerUDP()
        XCTAssertEqual(client.connectToHost("127.0.0.1", port: server.getLocalPort()), .ok)
        var buffer = [UInt8](repeating: 0, count: 8)
        XCTAssertEqual(buffer.withUnsafeMutableBytes { client.receiveDatagram(into: $0) }, .empty)
        XCTAssertEqual([UInt8]([1, 2, 3]).withUnsafeBytes { client.sendDatagram($0) }, .sent)
        XCTAssertEqual(Support.receive(server), [1, 2, 3])

        XCTAssertEqual(server.setDestAddress("127.0.0.1", port: client.getLocalPort()), .ok)
        XCTAssertEqual(server.putPacket([9, 9]), .ok)
        XCTAssertEqual(server.putPacket([UInt8](repeating: 4, count: 20)), .ok)
        XCTAssertEqual(server.putPacket([5]), .ok)
        var outcome = DatagramReceive.empty
        XCTAssertTrue(Support.eventually {
            outcome = buffer.withUnsafeMutableBytes { client.receiveDatagram(into: $0) }
            return outcome != .empty
        })
        XCTAssertEqual(outcome, .datagram(2))
        XCTAssertEqual(Array(buffer[..<2]), [9, 9])
        XCTAssertTrue(Support.eventually { client.getAvailablePacketCount() == 2 }, "two more, queued")
        XCTAssertEqual(buffer.withUnsafeMutableBytes { client.receiveDatagram(into: $0) }, .oversized(20))
        XCTAssertEqual(buffer.withUnsafeMutableBytes { client.receiveDatagram(into: $0) }, .datagram(1))
        XCTAssertEqual(buffer.withUnsafeMutableBytes { client.receiveDatagram(into: $0) }, .empty)

        XCTAssertEqual(server.putPacket([UInt8](repeating: 4, count: 20)), .ok)
        XCTAssertTrue(Support.eventually {
            outcome = buffer.withUnsafeMutableBytes { client.receiveDatagram(into: $0) }
            return outcome != .empty
        })
        XCTAssertEqual(outcome, .oversized(20), "an oversized datagram straight from the socket is consumed")
        XCTAssertEqual(buffer.withUnsafeMutableBytes { client.receiveDatagram(into: $0) }, .empty)
    }

    func testTransportIdentityAndConnection() {
        let unbound = PacketPeerUDP()
        XCTAssertFalse(unbound.isConnectedToPeer)
        XCTAssertNil(unbound.remoteIdentity)
        var buffer = [UInt8](repeating: 0, count: 8)
        if case .failed(let reason) = buffer.withUnsafeMutableBytes({ unbound.receiveDatagram(into: $0) }) {
            XCTAssertTrue(reason.contains("no socket"), reason)
        } else {
            XCTFail("an unbound peer cannot receive")
        }
        if case .failed = unbound.sendDatagram(UnsafeRawBufferPointer(start: nil, count: 0)) {} else {
            XCTFail("an unbound peer cannot send")
        }

        let host = Support.boundPeer()
        let client = PacketPeerUDP()
        XCTAssertEqual(client.connectToHost("127.0.0.1", port: host.getLocalPort()), .ok)
        XCTAssertTrue(client.isConnectedToPeer)
        let identity = client.remoteIdentity
        XCTAssertEqual(identity?.host, "127.0.0.1")
        let port = host.getLocalPort()
        XCTAssertEqual(identity?.transportID, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1,
                                               UInt8(port >> 8), UInt8(port & 0xff)])
        client.sessionEnded()
        XCTAssertTrue(client.isConnectedToPeer, "a peer with its own socket keeps it")
        XCTAssertEqual(Support.boundPeer("::1").remoteIdentity == nil, true, "bound but not connected")
    }

    // MARK: - Addresses

    func testSocketAddressForms() {
        let v4 = SocketAddress.parse(literal: "192.0.2.7", port: 80)
        XCTAssertEqual(v4?.isIPv4, true)
        XCTAssertEqual(v4?.host, "192.0.2.7")
        XCTAssertEqual(v4?.description, "192.0.2.7:80")
        XCTAssertEqual(SocketAddress.parse(literal: "::ffff:192.0.2.7", port: 80), v4, "mapped equals plain IPv4")
        let v6 = SocketAddress.parse(literal: "2001:db8::1", port: 443)
        XCTAssertEqual(v6?.isIPv4, false)
        XCTAssertEqual(v6?.description, "[2001:db8::1]:443")
        XCTAssertEqual(SocketAddress.parse(literal: "224.0.0.1", port: 0)?.isMulticast, true)
        XCTAssertEqual(SocketAddress.parse(literal: "ff02::1", port: 0)?.isMulticast, true)
        XCTAssertEqual(v4?.isMulticast, false)
        XCTAssertNil(SocketAddress.parse(literal: "example.com", port: 0))
        XCTAssertNil(SocketAddress.parse(literal: "fe80::1%no-such-if0", port: 0))
        XCTAssertEqual(SocketAddress.parse(literal: "fe80::1%lo", port: 0)?.scopeID, if_nametoindex("lo"))
    }
}

/// A value shared with another thread in a test.
final class UDPTestBox<Value>: @unchecked Sendable {
    private let lock = Lock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func get() -> Value { lock.withLock { value } }
    func set(_ newValue: Value) { lock.withLock { value = newValue } }
    func update(_ change: (inout Value) -> Void) { lock.withLock { change(&value) } }
}
