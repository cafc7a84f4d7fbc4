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

    /// A fresh cookie for the client at `clientID` (its transport id: address and port bytes).
    func makeCookie(for clientID: [UInt8]) -> [UInt8] {
        var cookie = [UInt8](repeating: 0, count: Self.maxCookieLength)
        let written = cookie.withUnsafeMutableBufferPointer { space -> Int in
            guard let start = space.baseAddress else { return 0 }
            var cursor: UnsafeMutablePointer<UInt8>? = start
            let rc = clientID.withUnsafeBufferPointer {
                mbedtls_ssl_cookie_write(UnsafeMutableRawPointer(context), &cursor, start + space.count,
                                         $0.baseAddress, $0.count)
            }
            guard rc == 0, let cursor else { return 0 }
            return cursor - start
        }
        return Array(cookie.prefix(written))
    }

    /// True when `cookie` was made by this secret for `clientID` and has not expired.
    func isValid(cookie: UnsafeRawBufferPointer, for clientID: [UInt8]) -> Bool {
        guard !cookie.isEmpty, let bytes = cookie.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return false }
        return clientID.withUnsafeBufferPointer {
            mbedtls_ssl_cookie_check(UnsafeMutableRawPointer(context), bytes, cookie.count, $0.baseAddress, $0.count)
        } == 0
    }

    /// Room enough for any cookie mbedTLS writes (a time stamp and a truncated HMAC).
    static let maxCookieLength = 64

    deinit {
        mbedtls_ssl_cookie_free(context)
        context.deallocate()
    }
}
