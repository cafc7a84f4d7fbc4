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
        clientID.withUnsafeBytes { isValid(cookie: cookie, for: $0) }
    }

    /// isValid without allocating (the front door's path).
    func isValid(cookie: UnsafeRawBufferPointer, for clientID: UnsafeRawBufferPointer) -> Bool {
        guard cookie.count == Self.cookieLength else { return false }
        var stamp: UInt32 = 0
        for index in 0..<Self.timeLength { stamp = stamp << 8 | UInt32(cookie[index]) }
        let age = Self.ageSeconds(of: stamp, now: Self.now())
        guard age >= -Self.clockSkewSeconds, age <= Self.lifetimeSeconds else { return false }
        let given = UnsafeRawBufferPointer(rebasing: cookie[Self.timeLength...])
        return ring.withGenerations { current, previous in
            // Both keys are always tried so the time taken does not tell which one matched.
            var matched = current.cookieMAC.matches(given, stamp: stamp, clientID: clientID)
            if let previous {
                matched = previous.cookieMAC.matches(given, stamp: stamp, clientID: clientID) || matched
            }
            return matched
        }
    }

    func makeCookie(for clientID: [UInt8], at stamp: UInt32) -> [UInt8] {
        var cookie = [UInt8](repeating: 0, count: Self.cookieLength)
        cookie.withUnsafeMutableBytes { target in
            clientID.withUnsafeBytes { writeCookie(for: $0, at: stamp, into: target) }
        }
        return cookie
    }

    /// Writes the cookieLength bytes of the cookie for `clientID` made at `stamp` with the current
    /// key into the start of `target` (at least cookieLength bytes), without allocating.
    func writeCookie(for clientID: UnsafeRawBufferPointer, at stamp: UInt32 = now(),
                     into target: UnsafeMutableRawBufferPointer) {
        precondition(target.count >= Self.cookieLength)
        for index in 0..<Self.timeLength { target[index] = UInt8(truncatingIfNeeded: stamp >> (8 * (3 - index))) }
        var mac = CookieMAC.Digest(0, 0, 0, 0)
        ring.withGenerations { current, _ in current.cookieMAC.compute(stamp: stamp, clientID: clientID, into: &mac) }
        withUnsafeBytes(of: &mac) { digest in
            (target.baseAddress! + Self.timeLength).copyMemory(from: digest.baseAddress!, byteCount: Self.macLength)
        }
        CookieMAC.wipe(&mac)
    }

    /// The wall clock in seconds, truncated to 32 bits: fleet machines agree on it, unlike a
    /// monotonic clock.
    static func now() -> UInt32 { UInt32(truncatingIfNeeded: time(nil)) }

    /// now - stamp in seconds, read across the 32-bit wrap (negative for a cookie from the future).
    static func ageSeconds(of stamp: UInt32, now: UInt32) -> Int64 {
        Int64(Int32(bitPattern: now &- stamp))
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
        secret.writeCookie(for: UnsafeRawBufferPointer(start: info, count: infoLength),
                           into: UnsafeMutableRawBufferPointer(start: start, count: cookieLength))
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
                                   for: UnsafeRawBufferPointer(start: info, count: infoLength))
        return valid ? 0 : -1
    }
}

/// HMAC-SHA-256 with one key, its two pads hashed once: a MAC then costs two SHA-256 blocks (the
/// message, the inner digest) instead of four, and nothing is allocated. The hashed pads are as
/// secret as the key: they live in memory of their own, wiped when the key generation goes.
final class CookieMAC: @unchecked Sendable {
    /// 32 bytes of MAC.
    typealias Digest = (UInt64, UInt64, UInt64, UInt64)

    private let inner: UnsafeMutablePointer<mbedtls_sha256_context>
    private let outer: UnsafeMutablePointer<mbedtls_sha256_context>

    init(key: SensitiveBytes) {
        precondition(key.count <= 64, "a cookie key longer than SHA-256's block is not used")
        inner = .allocate(capacity: 1)
        outer = .allocate(capacity: 1)
        var pad = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        withUnsafeMutableBytes(of: &pad) { block in
            for (context, byte) in [(inner, UInt8(0x36)), (outer, UInt8(0x5C))] {
                for index in 0..<64 { block[index] = byte ^ (index < key.count ? key.base[index] : 0) }
                mbedtls_sha256_init(context)
                _ = mbedtls_sha256_starts_ret(context, 0)
                _ = mbedtls_sha256_update_ret(context, block.baseAddress!.assumingMemoryBound(to: UInt8.self), 64)
            }
            mbedtls_platform_zeroize(block.baseAddress, 64)
        }
    }

    deinit {
        mbedtls_sha256_free(inner)  // zeroizes
        mbedtls_sha256_free(outer)
        inner.deallocate()
        outer.deallocate()
    }

    /// HMAC-SHA-256(key, stamp (big-endian) || clientID) into `digest`.
    func compute(stamp: UInt32, clientID: UnsafeRawBufferPointer, into digest: inout Digest) {
        var context = mbedtls_sha256_context()
        var stampBytes = stamp.bigEndian
        withUnsafeMutableBytes(of: &digest) { output in
            let out = output.baseAddress!.assumingMemoryBound(to: UInt8.self)
            mbedtls_sha256_clone(&context, inner)
            withUnsafeBytes(of: &stampBytes) {
                _ = mbedtls_sha256_update_ret(&context, $0.baseAddress!.assumingMemoryBound(to: UInt8.self), 4)
            }
            if let id = clientID.baseAddress {
                _ = mbedtls_sha256_update_ret(&context, id.assumingMemoryBound(to: UInt8.self), clientID.count)
            }
            _ = mbedtls_sha256_finish_ret(&context, out)
            mbedtls_sha256_clone(&context, outer)
            _ = mbedtls_sha256_update_ret(&context, out, 32)
            _ = mbedtls_sha256_finish_ret(&context, out)
        }
        mbedtls_sha256_free(&context)  // zeroizes the copy of the pad's state
    }

    /// True when `given` (CookieSecret.macLength bytes) is the start of the MAC of stamp || clientID,
    /// compared in constant time.
    func matches(_ given: UnsafeRawBufferPointer, stamp: UInt32, clientID: UnsafeRawBufferPointer) -> Bool {
        guard given.count == CookieSecret.macLength else { return false }
        var digest = Digest(0, 0, 0, 0)
        compute(stamp: stamp, clientID: clientID, into: &digest)
        var difference: UInt8 = 0
        withUnsafeBytes(of: &digest) { expected in
            for index in 0..<CookieSecret.macLength { difference |= expected[index] ^ given[index] }
        }
        Self.wipe(&digest)
        return difference == 0
    }

    static func wipe(_ digest: inout Digest) {
        withUnsafeMutableBytes(of: &digest) { mbedtls_platform_zeroize($0.baseAddress, $0.count) }
    }
}
