// SharedTransportTests.swift — one UDP peer carries one DTLS session: a second DTLS peer over the
// same PacketPeerUDP is refused, and only the DTLS peer that attached can detach.

import XCTest
@testable import PacketDTLS

final class SharedTransportTests: XCTestCase {
    private final class Observer: DatagramArrivalObserver, @unchecked Sendable {
        func datagramArrived() {}
    }

    /// A UDP peer connected to a bound socket on 127.0.0.1 (which only swallows the ClientHellos).
    private func connectedUDPPeer() -> (udp: PacketPeerUDP, sink: PacketPeerUDP) {
        let sink = PacketPeerUDP()
        XCTAssertEqual(sink.bind(port: 0, bindAddress: "127.0.0.1"), .ok, ErrorReport.message)
        let udp = PacketPeerUDP()
        XCTAssertEqual(udp.connectToHost("127.0.0.1", port: sink.getLocalPort()), .ok, ErrorReport.message)
        return (udp, sink)
    }

    func testSecondDTLSPeerOverOneUDPPeerIsRefused() {
        let (udp, sink) = connectedUDPPeer()
        let first = PacketPeerDTLS()
        XCTAssertEqual(first.connectToPeer(udp, hostname: "localhost", clientOptions: .clientUnsafe()), .ok)
        XCTAssertEqual(first.getStatus(), .handshaking)

        let second = PacketPeerDTLS()
        XCTAssertEqual(second.connectToPeer(udp, hostname: "localhost", clientOptions: .clientUnsafe()), .alreadyInUse)
        XCTAssertTrue(ErrorReport.message.contains("another DTLS peer uses this UDP peer"), ErrorReport.message)
        XCTAssertEqual(second.getStatus(), .disconnected)
        // The refusal took nothing from the first peer.
        XCTAssertEqual(first.getStatus(), .handshaking)
        XCTAssertEqual(sink.wait(timeoutMs: 5000), .ok, "the first peer's ClientHello went out")

        // Once the first peer lets go, the UDP peer serves another.
        first.disconnectFromPeer()
        XCTAssertEqual(second.connectToPeer(udp, hostname: "localhost", clientOptions: .clientUnsafe()), .ok,
                       ErrorReport.message)
        XCTAssertEqual(second.getStatus(), .handshaking)
    }

    func testOnlyTheAttachedPeerDetaches() {
        let (udp, _) = connectedUDPPeer()
        let attached = Observer(), other = Observer()
        XCTAssertEqual(udp.attachDTLSPeer(attached), .silent, "an own socket reads on demand")
        XCTAssertEqual(udp.attachDTLSPeer(other), .inUse)
        udp.detachDTLSPeer(other)
        XCTAssertEqual(udp.attachDTLSPeer(other), .inUse, "a detach from another peer must not free the slot")
        XCTAssertEqual(udp.attachDTLSPeer(attached), .silent, "attaching again is harmless")
        udp.detachDTLSPeer(attached)
        XCTAssertEqual(udp.attachDTLSPeer(other), .silent)
        udp.detachDTLSPeer(other)
    }
}
