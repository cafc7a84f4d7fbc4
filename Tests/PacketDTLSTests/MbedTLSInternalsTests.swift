// MbedTLSInternalsTests.swift — the non-public mbedTLS 2.28 fields PacketDTLS relies on
// (Sources/PacketDTLS/DTLS/MbedTLSInternals.swift), checked against what the public API says about
// the same session. A failure here means the mbedTLS in use lays its structs out differently from
// the headers PacketDTLS was built with, or has changed what the fields mean: do not ship.

import CMbedTLS
import XCTest
@testable import PacketDTLS

final class MbedTLSInternalsTests: XCTestCase {
    func testHeadersAndLibraryAreBoth228() {
        XCTAssertEqual(MBEDTLS_VERSION_MAJOR, 2)
        XCTAssertEqual(MBEDTLS_VERSION_MINOR, 28)
        let linked = mbedtls_version_get_number()
        XCTAssertEqual(linked >> 16, UInt32(MBEDTLS_VERSION_NUMBER) >> 16,
                       "the linked mbedTLS (0x\(String(linked, radix: 16))) is not the one of the headers")
    }

    func testHandshakeStateAgreesWithPublicAPI() throws {
        let pair = MemoryPair(server: MemoryPair.server(for: try TestIdentity.make()))
        // Client side, mid-handshake: no session yet (mbedtls_ssl_get_session refuses).
        pair.client.withSession { session in
            guard let session = failIfNil(session) else { return }
            XCTAssertFalse(session.internals.isHandshakeOver, "ssl->state")
            XCTAssertNil(session.savedSession())
            XCTAssertNotNil(session.internals.handshakeResumes, "ssl->handshake while handshaking")
            XCTAssertEqual(session.internals.handshakeResumes, false, "handshake->resume on a first handshake")
        }
        let server = try pair.handshake()
        XCTAssertEqual(pair.client.getStatus(), .connected, pair.client.getErrorMessage())
        pair.client.withSession { session in
            guard let session = failIfNil(session) else { return }
            XCTAssertTrue(session.internals.isHandshakeOver, "ssl->state")
            XCTAssertNotNil(session.savedSession(), "mbedtls_ssl_get_session works once the handshake is over")
            XCTAssertNil(session.internals.handshakeResumes, "mbedTLS frees ssl->handshake when it is over")
            XCTAssertFalse(session.internals.willResendOnRetransmissionTimeout)
            XCTAssertFalse(session.internals.hasQueuedOutput, "ssl->out_left")
            XCTAssertEqual(session.internals.badMACRecords, 0, "ssl->badmac_seen")
        }
        server.withSession { session in
            guard let session = failIfNil(session) else { return }
            XCTAssertTrue(session.internals.isHandshakeOver)
            XCTAssertFalse(session.internals.isAtOrBeforeClientHello)
        }
    }

    func testHeldRecordAgreesWithPublicAPI() throws {
        let pair = MemoryPair(server: MemoryPair.server(for: try TestIdentity.make()))
        let server = try pair.handshake()
        XCTAssertEqual(pair.client.getStatus(), .connected, pair.client.getErrorMessage())
        // Two records in one datagram: the second stays in mbedTLS's input buffer behind the first.
        var captured: [[UInt8]] = []
        pair.link.server.outboundFilter = { captured.append($0); return nil }
        XCTAssertEqual(server.putPacket(Array("first".utf8)), .ok)
        XCTAssertEqual(server.putPacket(Array("second!".utf8)), .ok)
        XCTAssertEqual(captured.count, 2)
        pair.link.client.inject(captured.flatMap { $0 })

        pair.client.withSession { session in
            guard let session = failIfNil(session) else { return }
            let ssl = session.ssl
            let internals = session.internals
            XCTAssertEqual(mbedtls_ssl_get_bytes_avail(ssl), 0)
            XCTAssertEqual(mbedtls_ssl_check_pending(ssl), 0)
            XCTAssertFalse(internals.hasBufferedInputBesidesHeldRecord)

            session.expectInput()
            XCTAssertEqual(try? session.decryptNext(), .packet(5))
            XCTAssertEqual(mbedtls_ssl_get_bytes_avail(ssl), 5)
            XCTAssertTrue(internals.hasBufferedInputBesidesHeldRecord, "in_left > next_record_offset")
            XCTAssertEqual(mbedtls_ssl_check_pending(ssl), 1)

            var buffer = [UInt8](repeating: 0, count: 64)
            let first = buffer.withUnsafeMutableBytes { internals.takeHeldRecord(into: $0) }
            XCTAssertEqual(String(decoding: buffer.prefix(first), as: UTF8.self), "first", "in_offt, in_msglen")
            XCTAssertEqual(mbedtls_ssl_get_bytes_avail(ssl), 0, "taking the record cleared in_offt")

            XCTAssertEqual(try? session.decryptNext(), .packet(7))
            XCTAssertFalse(internals.hasBufferedInputBesidesHeldRecord, "the datagram is used up")
            XCTAssertEqual(mbedtls_ssl_check_pending(ssl), 1, "only the held record is pending")
            let second = buffer.withUnsafeMutableBytes { internals.takeHeldRecord(into: $0) }
            XCTAssertEqual(String(decoding: buffer.prefix(second), as: UTF8.self), "second!")
            XCTAssertEqual(mbedtls_ssl_get_bytes_avail(ssl), 0)
            XCTAssertEqual(mbedtls_ssl_check_pending(ssl), 0, "nothing left: keep_current_message is clear")
            XCTAssertEqual(try? session.decryptNext(), .nothing)
        }
    }

    /// saveState (a refusal's report) against mbedtls_ssl_context_save's own verdict.
    func testSaveStateAgreesWithContextSave() throws {
        let pair = MemoryPair(server: MemoryPair.server(for: try TestIdentity.make()))
        let server = try pair.handshake()
        XCTAssertEqual(pair.client.getStatus(), .connected, pair.client.getErrorMessage())
        var needed = 0
        // The server sent the last flight and keeps it (and the handshake state): saving is refused.
        server.withSession { session in
            guard let session = failIfNil(session) else { return }
            let state = session.internals.saveState
            XCTAssertEqual(state.state, Int32(MBEDTLS_SSL_HANDSHAKE_OVER.rawValue))
            XCTAssertTrue(state.hasHandshake, "ssl->handshake")
            XCTAssertTrue(state.keepsFlight, "handshake->flight")
            XCTAssertEqual(mbedtls_ssl_context_save(session.ssl, nil, 0, &needed), MBEDTLS_ERR_SSL_BAD_INPUT_DATA)
        }
        var captured: [[UInt8]] = []
        pair.link.server.outboundFilter = { captured.append($0); return nil }
        XCTAssertEqual(server.putPacket(Array("first".utf8)), .ok)
        XCTAssertEqual(server.putPacket(Array("second!".utf8)), .ok)
        pair.link.client.inject(captured.flatMap { $0 })
        pair.client.withSession { session in
            guard let session = failIfNil(session) else { return }
            let idle = session.internals.saveState
            XCTAssertFalse(idle.hasHandshake)
            XCTAssertFalse(idle.holdsRecord)
            XCTAssertEqual(idle.outLeft, 0)
            XCTAssertEqual(mbedtls_ssl_context_save(session.ssl, nil, 0, &needed), MBEDTLS_ERR_SSL_BUFFER_TOO_SMALL,
                           "nothing pending: only the buffer is missing")
            session.expectInput()
            XCTAssertEqual(try? session.decryptNext(), .packet(5))
            let holding = session.internals.saveState
            XCTAssertTrue(holding.holdsRecord, "in_offt")
            XCTAssertEqual(holding.inMessageLength, 5, "in_msglen")
            XCTAssertGreaterThan(holding.inLeft, holding.nextRecordOffset, "the second record waits in the datagram")
            XCTAssertFalse(holding.keepsCurrentMessage)
            XCTAssertEqual(mbedtls_ssl_context_save(session.ssl, nil, 0, &needed), MBEDTLS_ERR_SSL_BAD_INPUT_DATA)
        }
    }

    func testBadMACCountAndAlertAreRead() throws {
        let pair = MemoryPair(server: MemoryPair.server(for: try TestIdentity.make()))
        let server = try pair.handshake()
        XCTAssertEqual(pair.client.getStatus(), .connected, pair.client.getErrorMessage())
        pair.link.server.outboundFilter = { datagram in
            var altered = datagram
            altered[altered.count - 1] ^= 0x01
            return altered
        }
        XCTAssertEqual(server.putPacket(Array("forged".utf8)), .ok)
        pair.client.poll()
        XCTAssertEqual(pair.client.getAvailablePacketCount(), 0)
        XCTAssertEqual(pair.client.withSession { $0?.internals.badMACRecords }, 1, "ssl->badmac_seen")

        // A fatal alert: its description byte is read from ssl->in_msg.
        pair.link.server.outboundFilter = nil
        server.withSession { $0?.sendFatalAlert(MBEDTLS_SSL_ALERT_MSG_ACCESS_DENIED) }
        pair.client.poll()
        XCTAssertEqual(pair.client.getStatus(), .error)
        XCTAssertEqual(pair.client.getLastAlertReceived(), UInt8(MBEDTLS_SSL_ALERT_MSG_ACCESS_DENIED),
                       pair.client.getErrorMessage())
    }

    func testEmptyRecordCountAndTheRecordBehindACloseNotify() throws {
        let pair = MemoryPair(server: MemoryPair.server(for: try TestIdentity.make()))
        let server = try pair.handshake()
        XCTAssertEqual(pair.client.getStatus(), .connected, pair.client.getErrorMessage())
        var captured: [[UInt8]] = []
        pair.link.server.outboundFilter = { captured.append($0); return nil }
        // Two empty records (an older PacketDTLS's keepalives) in one datagram: mbedTLS reads both in
        // one mbedtls_ssl_read and counts them (nb_zero).
        let none = UnsafeRawBufferPointer(start: nil, count: 0)
        XCTAssertEqual(server.withSession { try? $0?.write(none) }, .written)
        XCTAssertEqual(server.withSession { try? $0?.write(none) }, .written)
        XCTAssertEqual(captured.count, 2)
        pair.link.client.inject(captured.flatMap { $0 })
        pair.client.withSession { session in
            guard let session = failIfNil(session) else { return }
            session.expectInput()
            XCTAssertEqual(try? session.decryptNext(), .emptyRecord)
            XCTAssertEqual(session.keepalivesReceived, 2, "ssl->nb_zero")
            XCTAssertEqual(session.internals.takeEmptyRecordCount(), 0, "taken, and started again")
        }
        // The idle goodbye: close_notify with an application-data record behind it, in one datagram.
        captured = []
        server.withSession { $0?.sendInactivityClose() }
        XCTAssertEqual(captured.count, 1)
        pair.link.client.inject(captured[0])
        pair.client.withSession { session in
            guard let session = failIfNil(session) else { return }
            XCTAssertEqual(try? session.decryptNext(), .closedByPeer)
            XCTAssertEqual(session.internals.nextRecordTypeInDatagram, UInt8(MBEDTLS_SSL_MSG_APPLICATION_DATA),
                           "in_hdr + next_record_offset, within in_left")
        }
    }

    /// in_epoch, in_window_top and in_window, as the records the client read say they must be.
    func testReplayWindowFollowsTheRecordsRead() throws {
        let pair = MemoryPair(server: MemoryPair.server(for: try TestIdentity.make()))
        let server = try pair.handshake()
        XCTAssertEqual(pair.client.getStatus(), .connected, pair.client.getErrorMessage())
        var captured: [[UInt8]] = []
        pair.link.server.outboundFilter = { captured.append($0); return nil }
        for byte in UInt8(1)...3 { XCTAssertEqual(server.putPacket([byte]), .ok) }
        XCTAssertEqual(captured.count, 3)
        let headers = try captured.map { bytes in try XCTUnwrap(bytes.withUnsafeBytes { DTLSRecordHeader.single($0) }) }
        XCTAssertEqual(headers.map(\.epoch), [1, 1, 1])
        XCTAssertEqual(headers.map(\.type), [23, 23, 23])
        // The first and the third arrive; the second is "lost".
        pair.link.client.inject(captured[0])
        pair.link.client.inject(captured[2])
        pair.client.poll()
        XCTAssertEqual(pair.client.getAvailablePacketCount(), 2)
        pair.client.withSession { session in
            guard let window = failIfNil(session)?.internals.replayWindow else { return }
            XCTAssertEqual(window.epoch, 1, "ssl->in_epoch")
            XCTAssertEqual(window.top, headers[2].sequence, "ssl->in_window_top")
            XCTAssertEqual(window.bits & 0b111, 0b101, "ssl->in_window: the third (bit 0) and the first (bit 2)")
            XCTAssertTrue(window.hasSeen(headers[0]))
            XCTAssertFalse(window.hasSeen(headers[1]), "never accepted: not a duplicate")
            XCTAssertTrue(window.hasSeen(headers[2]))
        }
        // A duplicate is a keepalive: counted, and mbedTLS never sees it; the lost record still gets in.
        pair.link.client.inject(captured[2])
        pair.link.client.inject(captured[1])
        pair.client.poll()
        XCTAssertEqual(pair.client.getStats().keepalivesReceived, 1)
        XCTAssertEqual(pair.client.getAvailablePacketCount(), 3)
    }

    func testNoRecordBehindAPlainCloseNotify() throws {
        let pair = MemoryPair(server: MemoryPair.server(for: try TestIdentity.make()))
        let server = try pair.handshake()
        var captured: [[UInt8]] = []
        pair.link.server.outboundFilter = { captured.append($0); return nil }
        server.withSession { $0?.sendCloseNotify() }
        XCTAssertEqual(captured.count, 1)
        pair.link.client.inject(captured[0])
        pair.client.withSession { session in
            guard let session = failIfNil(session) else { return }
            session.expectInput()
            XCTAssertEqual(try? session.decryptNext(), .closedByPeer)
            XCTAssertNil(session.internals.nextRecordTypeInDatagram)
        }
    }

    private func failIfNil(_ session: DTLSSession?, file: StaticString = #filePath,
                           line: UInt = #line) -> DTLSSession? {
        if session == nil { XCTFail("the peer has no live session", file: file, line: line) }
        return session
    }
}
