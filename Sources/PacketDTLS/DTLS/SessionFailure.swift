// SessionFailure.swift — why a DTLS session failed, in words: the status it ends in and the sentence.

internal import CMbedTLS

/// Turns what mbedTLS reported into the status a failed peer settles on (ERROR, or
/// ERROR_HOSTNAME_MISMATCH) and the sentence getErrorMessage() gives.
struct SessionFailure {
    let status: DTLSStatus
    let reason: String

    /// `verifyFlags`: the flags for the peer's certificate where this end verified it, else 0.
    /// `expectedName`: the name the certificate had to carry (client side).
    init(_ error: MbedTLSError, of session: DTLSSession, verifyFlags flags: UInt32, expectedName: String) {
        let code = error.code
        if code == MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE {
            self.init(.error, "the client sent no certificate, and these options require one")
            return
        }
        if session.pinRejected {
            self.init(.error, "the peer's public key matches none of the pinned keys")
            return
        }
        let mismatch = UInt32(MBEDTLS_X509_BADCERT_CN_MISMATCH)
        if code == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED || (flags != 0 && flags != UInt32.max) {
            let reasons = Self.verificationText(flags)
            if flags == mismatch {
                self.init(.errorHostnameMismatch, "certificate verification failed: the certificate does not name "
                    + "'\(expectedName)' (\(reasons))")
            } else {
                self.init(.error, "certificate verification failed: \(reasons)")
            }
            return
        }
        switch code {
        case MBEDTLS_ERR_SSL_TIMEOUT:
            let limit = session.configuration.tuning.handshakeTimeoutMax
            self.init(.error, "handshake timeout: the peer did not answer within \(limit) ms")
        case MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE:
            let alert = session.lastAlertReceived.map { "\(AlertNames.name($0)) (\($0))" } ?? "unknown"
            self.init(.error, "the peer sent a fatal alert: \(alert)")
        case MBEDTLS_ERR_NET_SEND_FAILED, MBEDTLS_ERR_NET_RECV_FAILED:
            self.init(.error, "the UDP transport failed: \(session.transportFailure ?? error.description)")
        default:
            self.init(.error, "DTLS failed: \(error)")
        }
    }

    private init(_ status: DTLSStatus, _ reason: String) {
        self.status = status
        self.reason = reason
    }

    /// mbedTLS's verification flags as sentences joined by "; ".
    static func verificationText(_ flags: UInt32) -> String {
        var buffer = [CChar](repeating: 0, count: 512)
        let written = mbedtls_x509_crt_verify_info(&buffer, buffer.count, "", flags)
        guard written > 0 else { return "flags 0x\(String(flags, radix: 16))" }
        let text = String(cBuffer: buffer)
        return text.split(separator: "\n").map { String($0) }.joined(separator: "; ")
    }
}
