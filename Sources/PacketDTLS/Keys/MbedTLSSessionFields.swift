// MbedTLSSessionFields.swift — the one field of mbedtls_ssl_session the ticket code reads.

internal import CMbedTLS
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

enum MbedTLSSessionFields {
    /// When the session's full handshake happened (mbedtls_ssl_session_load restores it from a
    /// ticket); mbedTLS 2.28 has no accessor for it.
    static func start(of session: UnsafePointer<mbedtls_ssl_session>) -> time_t {
        time_t(session.pointee.start)
    }
}
