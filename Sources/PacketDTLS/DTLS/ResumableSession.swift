// ResumableSession.swift — a client's saved DTLS session, for an abbreviated handshake later.

internal import CMbedTLS

/// What a client keeps after a full handshake (the master secret and the server's session
/// ticket) so that its next connection to the same server skips certificates and key exchange.
/// Take it from a connected peer with `PacketPeerDTLS.getSession()`, hand it to the next peer
/// with `setSession(_:)` before `connectToPeer`. The secret is zeroized when it is freed.
public final class ResumableSession: @unchecked Sendable {
    let session: UnsafeMutablePointer<mbedtls_ssl_session>

    public init() {
        session = .allocate(capacity: 1)
        mbedtls_ssl_session_init(session)
    }

    deinit {
        mbedtls_ssl_session_free(session)
        session.deallocate()
    }
}
