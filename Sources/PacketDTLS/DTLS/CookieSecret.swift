// CookieSecret.swift — the server's HelloVerifyRequest cookie key.

internal import CMbedTLS

/// mbedTLS's stateless cookie context: an HMAC key drawn at random when the server is set up.
/// A ClientHello must echo a cookie made from its own address and this key before the server
/// keeps any state for it, so spoofed sources cost the server nothing.
final class CookieSecret: @unchecked Sendable {
    let context: UnsafeMutablePointer<mbedtls_ssl_cookie_ctx>

    init?() {
        context = .allocate(capacity: 1)
        mbedtls_ssl_cookie_init(context)
        let random = RandomSource.shared
        let rc = mbedtls_ssl_cookie_setup(context, random.function, random.context)
        if rc != 0 {
            ErrorReport.set("cookie secret setup failed: \(MbedTLSError.describe(rc))")
            mbedtls_ssl_cookie_free(context)
            context.deallocate()
            return nil
        }
    }

    deinit {
        mbedtls_ssl_cookie_free(context)
        context.deallocate()
    }
}
