// ResumableSession.swift — a client's saved DTLS session, for an abbreviated handshake later.

internal import CMbedTLS

/// What a client keeps after a full handshake (the master secret and the server's session
/// ticket) so that its next connection to the same server skips certificates and key exchange.
/// Take it from a connected peer with `PacketPeerDTLS.getSession()`, hand it to the next peer
/// with `setSession(_:)` before `connectToPeer`. The secret is zeroized when it is freed.
/// It is offered only by a connection whose options and hostname authenticate the server exactly
/// as the original one did (SessionAuthentication); otherwise a full handshake runs.
public final class ResumableSession: @unchecked Sendable {
    let session: UnsafeMutablePointer<mbedtls_ssl_session>
    /// Under what the full handshake admitted the server; nil for a session made empty (never offered).
    var authentication: SessionAuthentication?

    public init() {
        session = .allocate(capacity: 1)
        mbedtls_ssl_session_init(session)
    }

    deinit {
        mbedtls_ssl_session_free(session)
        session.deallocate()
    }
}
