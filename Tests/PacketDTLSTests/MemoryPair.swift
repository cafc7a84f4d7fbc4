// MemoryPair.swift — the set-up the in-memory tests share: a DTLS server, and a client that has
// started its handshake with it over a fresh MemoryLink.

import XCTest
@testable import PacketDTLS

/// A client on a fresh MemoryLink whose first ClientHello waits at `server`'s end. Tests that need
/// only a finished handshake call `handshake()`; tests that meddle in between call `accept()` and
/// `Pump.handshake` themselves.
struct MemoryPair {
    let server: DTLSServer
    let link = MemoryLink.pair()
    let client = PacketPeerDTLS()

    /// A server set up with `identity`, for one pair or several.
    static func server(for identity: (key: CryptoKey, certificate: X509Certificate),
                       file: StaticString = #filePath, line: UInt = #line) -> DTLSServer {
        let server = DTLSServer()
        XCTAssertEqual(server.setup(key: identity.key, certificate: identity.certificate), .ok, file: file, line: line)
        return server
    }

    /// Connects the client to `server` (which must be set up) with `clientOptions` and `hostname`.
    init(server: DTLSServer, hostname: String = "localhost", clientOptions: TLSOptions = .clientUnsafe(),
         file: StaticString = #filePath, line: UInt = #line) {
        self.server = server
        XCTAssertEqual(client.connectToPeer(link.client, hostname: hostname, clientOptions: clientOptions), .ok,
                       file: file, line: line)
        XCTAssertEqual(client.getStatus(), .handshaking, file: file, line: line)
    }

    /// The server-side peer past the cookie round; fails the test when the server started none.
    func accept(file: StaticString = #filePath, line: UInt = #line) throws -> PacketPeerDTLS {
        try XCTUnwrap(Pump.accept(server, link.server, client: client), "the server started no handshake",
                      file: file, line: line)
    }

    /// Accepts, then polls both ends until neither is handshaking. How they ended (connected or
    /// not) is left to the test to check.
    @discardableResult
    func handshake(file: StaticString = #filePath, line: UInt = #line) throws -> PacketPeerDTLS {
        let accepted = try accept(file: file, line: line)
        Pump.handshake(client, accepted)
        return accepted
    }
}
