// CookieSecret.swift — HelloVerifyRequest cookies from the server's key ring.
//
// Our own version of mbedTLS's ssl_cookie.c, so the key can be shared by a fleet, saved,
// loaded and rotated: a cookie is the time it was made and an HMAC-SHA-256 over that time and
// the client's transport id (its address and port), checked against the current and the
// previous cookie key.

internal import CMbedTLS
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Makes and checks the cookies a ClientHello must echo before the server keeps any state for
/// it, so spoofed sources cost the server nothing.
final class CookieSecret: @unchecked Sendable {
    /// 4 bytes of time, then the MAC truncated to 28 bytes (the layout of mbedTLS's cookies).
    static let timeLength = 4
    static let macLength = 28
    static let cookieLength = timeLength + macLength
    /// A cookie older than this many seconds is refused (mbedTLS's default).
    static let lifetimeSeconds: Int64 = 60
    /// A cookie from up to this far in the future is accepted: fleet machines' clocks differ a little.
    static let clockSkewSeconds: Int64 = 5

    let ring: ServerKeyRing

    init(ring: ServerKeyRing) {
        self.ring = ring
    }

    /// A cookie secret of its own fresh random keys; nil (with the reason recorded) if there
    /// were no random bytes.
    convenience init?() {
        do throws(Failure) {
            self.init(ring: try ServerKeyRing())
        } catch {
            error.report()
            return nil
        }
    }

    /// The cookie for `clientID` (the client's transport id) made now with the current key.
    func makeCookie(for clientID: [UInt8]) -> [UInt8] {
        makeCookie(for: clientID, at: Self.now())
    }

    /// True when `cookie` was made for `clientID` with the current or previous key within the
    /// last lifetimeSeconds.
    func isValid(cookie: UnsafeRawBufferPointer, for clientID: [UInt8]) -> Bool {
        guard cookie.count == Self.cookieLength else { return false }
        var stamp: UInt32 = 0
        for index in 0..<Self.timeLength { stamp = stamp << 8 | UInt32(cookie[index]) }
        let age = Self.ageSeconds(of: stamp, now: Self.now())
        guard age >= -Self.clockSkewSeconds, age <= Self.lifetimeSeconds else { return false }
        let given = UnsafeRawBufferPointer(rebasing: cookie[Self.timeLength...])
        return ring.withGenerations { current, previous in
            // Both keys are always tried so the time taken does not tell which one matched.
            var matched = Self.mac(key: current.cookieKey, stamp: stamp, clientID: clientID, equals: given)
            if let previous {
                matched = Self.mac(key: previous.cookieKey, stamp: stamp, clientID: clientID, equals: given) || matched
            }
            return matched
        }
    }

    func makeCookie(for clientID: [UInt8], at stamp: UInt32) -> [UInt8] {
        var cookie = [UInt8](repeating: 0, count: Self.cookieLength)
        for index in 0..<Self.timeLength { cookie[index] = UInt8(truncatingIfNeeded: stamp >> (8 * (3 - index))) }
        let mac = ring.withGenerations { current, _ in Self.mac(key: current.cookieKey, stamp: stamp, clientID: clientID) }
        cookie.replaceSubrange(Self.timeLength..., with: mac.prefix(Self.macLength))
        return cookie
    }

    /// The wall clock in seconds, truncated to 32 bits: fleet machines agree on it, unlike a
    /// monotonic clock.
    static func now() -> UInt32 { UInt32(truncatingIfNeeded: time(nil)) }

    /// now - stamp in seconds, read across the 32-bit wrap (negative for a cookie from the future).
    static func ageSeconds(of stamp: UInt32, now: UInt32) -> Int64 {
        Int64(Int32(bitPattern: now &- stamp))
    }

    /// HMAC-SHA-256(key, stamp || clientID); 32 bytes (zeros only if mbedTLS refused, which a
    /// valid key and SHA-256 cannot make it do).
    private static func mac(key: SensitiveBytes, stamp: UInt32, clientID: [UInt8]) -> [UInt8] {
        var input = [UInt8](repeating: 0, count: timeLength)
        for index in 0..<timeLength { input[index] = UInt8(truncatingIfNeeded: stamp >> (8 * (3 - index))) }
        input += clientID
        var output = [UInt8](repeating: 0, count: 32)
        let rc = mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), key.base, key.count,
                                 input, input.count, &output)
        if rc != 0 { return [] }
        return output
    }

    /// True when the first macLength bytes of the MAC equal `given`, compared in constant time.
    private static func mac(key: SensitiveBytes, stamp: UInt32, clientID: [UInt8],
                            equals given: UnsafeRawBufferPointer) -> Bool {
        let expected = mac(key: key, stamp: stamp, clientID: clientID)
        guard expected.count >= macLength, given.count == macLength else { return false }
        var difference: UInt8 = 0
        for index in 0..<macLength { difference |= expected[index] ^ given[index] }
        return difference == 0
    }

    // MARK: mbedTLS callbacks (mbedtls_ssl_conf_dtls_cookies)

    /// The context pointer mbedTLS hands back to the callbacks; valid while `self` lives (the
    /// configuration that registers them holds it).
    var callbackContext: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }

    static let writeCallback: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?,
                                              UnsafeMutablePointer<UInt8>?, UnsafePointer<UInt8>?, Int) -> Int32 = {
        context, position, end, info, infoLength in
        guard let context, let position, let start = position.pointee, let end, let info else {
            return MBEDTLS_ERR_SSL_BAD_INPUT_DATA
        }
        guard end - start >= cookieLength else { return MBEDTLS_ERR_SSL_BUFFER_TOO_SMALL }
        let secret = Unmanaged<CookieSecret>.fromOpaque(context).takeUnretainedValue()
        let cookie = secret.makeCookie(for: Array(UnsafeBufferPointer(start: info, count: infoLength)))
        start.update(from: cookie, count: cookieLength)
        position.pointee = start + cookieLength
        return 0
    }

    static let checkCallback: @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<UInt8>?, Int,
                                              UnsafePointer<UInt8>?, Int) -> Int32 = {
        context, cookie, cookieLength, info, infoLength in
        guard let context, let info else { return MBEDTLS_ERR_SSL_BAD_INPUT_DATA }
        guard let cookie else { return -1 }
        let secret = Unmanaged<CookieSecret>.fromOpaque(context).takeUnretainedValue()
        let valid = secret.isValid(cookie: UnsafeRawBufferPointer(start: cookie, count: cookieLength),
                                   for: Array(UnsafeBufferPointer(start: info, count: infoLength)))
        return valid ? 0 : -1
    }
}
