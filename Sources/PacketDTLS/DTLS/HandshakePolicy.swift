// HandshakePolicy.swift — what this library insists on in a handshake that mbedTLS 2.28 can only
// offer, checked between handshake steps (DTLSSession.handshake()).
//
// mbedTLS 2.28 sends and accepts the extended master secret extension (RFC 7627) but completes a
// handshake without it: its "enforced" setting went away in 2.x. Without EMS the master secret is
// not bound to the handshake, and a man in the middle can synchronise two sessions (the triple
// handshake attack, which also defeats resumption). So once the peer's hello has been read we look
// at what was agreed and end the handshake before anything depends on it.
//
// Two more gaps of 2.28's server: it answers a ClientHello that offers no null compression with
// null compression anyway (RFC 5246 7.4.1.2: the client must offer null; such a hello is refused
// here), and it drops a client whose CertificateVerify signature fails without an alert, leaving
// that client to retransmit until its handshake timeout (omittedAlert sends decrypt_error).

internal import CMbedTLS

enum HandshakePolicy {
    /// Why the handshake in `ssl` must not go on, or nil. Looked at only in the states that follow
    /// the peer's hello (client: after ServerHello, full or abbreviated; server: after a ClientHello
    /// with a valid cookie), so a cookieless ClientHello is still answered statelessly.
    static func violation(in ssl: MbedTLSInternals, role: DTLSConfiguration.Role,
                          tuning: TLSOptions.Tuning) -> String? {
        guard let awaitsCookie = ssl.awaitsCookie, let resumes = ssl.handshakeResumes else { return nil }
        // A server's hello without a valid cookie is answered statelessly (HelloVerifyRequest), never
        // with an alert to an address that has not shown it receives.
        if role == .server, awaitsCookie { return nil }
        let state = ssl.handshakeState
        // The step that read the ClientHello just ended: the record is still in the input buffer.
        if role == .server, state == Int32(MBEDTLS_SSL_SERVER_HELLO.rawValue),
           clientHelloOffersNullCompression(ssl) == false {
            return "the client's hello offers no null compression; compressed DTLS is not supported (RFC 5246 "
                + "requires every client to offer null)"
        }
        // A ticket restores the session it was issued for, verification verdict included; REQUIRE
        // admits it only if that session holds a verified client certificate (a ticket issued by
        // options that merely requested one must not stand in for it).
        if role == .server, tuning.clientCertificateMode == .require, resumes,
           state == Int32(MBEDTLS_SSL_SERVER_HELLO.rawValue), !ssl.negotiatedSessionHasVerifiedPeerCertificate {
            return "the client resumes a session in which it presented no verified certificate, and these "
                + "options REQUIRE one: connect again without the saved session"
        }
        guard tuning.requiresExtendedMasterSecret else { return nil }
        let firstStateAfterHello = role == .client ? MBEDTLS_SSL_SERVER_CERTIFICATE : MBEDTLS_SSL_SERVER_HELLO
        guard state >= Int32(firstStateAfterHello.rawValue), state <= Int32(MBEDTLS_SSL_HANDSHAKE_WRAPUP.rawValue)
        else { return nil }
        guard ssl.negotiatesExtendedMasterSecret == true else {
            let peer = role == .client ? "server" : "client"
            return "the \(peer) does not support the extended master secret (RFC 7627), which these options "
                + "require; set_extended_master_secret_required(false) admits such old peers"
        }
        return nil
    }

    /// An alert mbedTLS 2.28 leaves unsent after failing with `code`, and the reason to give; nil when
    /// mbedTLS sent its own (or none is due). Call after a failed step, before anything else.
    static func omittedAlert(after code: Int32, in ssl: UnsafeMutablePointer<mbedtls_ssl_context>,
                             role: DTLSConfiguration.Role) -> (alert: Int32, reason: String)? {
        let signatureFailures = [MBEDTLS_ERR_ECP_VERIFY_FAILED, MBEDTLS_ERR_RSA_VERIFY_FAILED,
                                 MBEDTLS_ERR_PK_SIG_LEN_MISMATCH]
        // The one signature a DTLS 1.2 server verifies is the client's CertificateVerify (a chain's
        // signatures fail as X509 errors).
        guard role == .server, signatureFailures.contains(code) else { return nil }
        return (MBEDTLS_SSL_ALERT_MSG_DECRYPT_ERROR,
                "the client's CertificateVerify signature does not verify with its certificate's key "
                    + "(\(MbedTLSError.describe(code)))")
    }

    /// Whether the ClientHello record in the input buffer lists null (0) among its compression
    /// methods; nil when it can't be read (mbedTLS parsed it already, so that is not expected).
    /// mbedTLS 2.28's server takes only unfragmented ClientHellos, so the record holds it whole.
    private static func clientHelloOffersNullCompression(_ ssl: MbedTLSInternals) -> Bool? {
        guard let hello = ssl.currentInputMessage else { return nil }
        // handshake header 12, version 2, random 32, then session id, cookie, suites, compression.
        var at = 12 + 2 + 32
        guard hello.count > at, hello[0] == 1 else { return nil }
        at += 1 + Int(hello[at])
        guard hello.count > at else { return nil }
        at += 1 + Int(hello[at])
        guard hello.count > at + 1 else { return nil }
        at += 2 + (Int(hello[at]) << 8 | Int(hello[at + 1]))
        guard hello.count > at else { return nil }
        let count = Int(hello[at])
        guard hello.count > at + count else { return nil }
        return hello[(at + 1)...(at + count)].contains(0)
    }

    /// The error code a violation ends the handshake with (mbedTLS has none of its own for it).
    static func errorCode(role: DTLSConfiguration.Role) -> Int32 {
        role == .client ? MBEDTLS_ERR_SSL_BAD_HS_SERVER_HELLO : MBEDTLS_ERR_SSL_BAD_HS_CLIENT_HELLO
    }
}
