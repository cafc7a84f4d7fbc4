// HandshakePolicy.swift — what this library insists on in a handshake that mbedTLS 2.28 can only
// offer, checked between handshake steps (DTLSSession.handshake()).
//
// mbedTLS 2.28 sends and accepts the extended master secret extension (RFC 7627) but completes a
// handshake without it: its "enforced" setting went away in 2.x. Without EMS the master secret is
// not bound to the handshake, and a man in the middle can synchronise two sessions (the triple
// handshake attack, which also defeats resumption). So once the peer's hello has been read we look
// at what was agreed and end the handshake before anything depends on it.

internal import CMbedTLS

enum HandshakePolicy {
    /// Why the handshake in `ssl` must not go on, or nil. Looked at only in the states that follow
    /// the peer's hello (client: after ServerHello, full or abbreviated; server: after a ClientHello
    /// with a valid cookie), so a cookieless ClientHello is still answered statelessly.
    static func violation(in ssl: UnsafeMutablePointer<mbedtls_ssl_context>, role: DTLSConfiguration.Role,
                          tuning: TLSOptions.Tuning) -> String? {
        guard tuning.requiresExtendedMasterSecret, let handshake = ssl.pointee.handshake else { return nil }
        let state = ssl.pointee.state
        let firstStateAfterHello = role == .client ? MBEDTLS_SSL_SERVER_CERTIFICATE : MBEDTLS_SSL_SERVER_HELLO
        guard state >= Int32(firstStateAfterHello.rawValue), state <= Int32(MBEDTLS_SSL_HANDSHAKE_WRAPUP.rawValue)
        else { return nil }
        guard handshake.pointee.extended_ms == UInt8(MBEDTLS_SSL_EXTENDED_MS_ENABLED) else {
            let peer = role == .client ? "server" : "client"
            return "the \(peer) does not support the extended master secret (RFC 7627), which these options "
                + "require; set_extended_master_secret_required(false) admits such old peers"
        }
        return nil
    }

    /// The error code a violation ends the handshake with (mbedTLS has none of its own for it).
    static func errorCode(role: DTLSConfiguration.Role) -> Int32 {
        role == .client ? MBEDTLS_ERR_SSL_BAD_HS_SERVER_HELLO : MBEDTLS_ERR_SSL_BAD_HS_CLIENT_HELLO
    }
}
