// CookieSecret.swift — HelloVerifyRequest cookies from the server's key ring.
//
// Our own version of mbedTLS's ssl_cookie.c, so the key can be shared by a fleet, saved,
// loaded and rotated: a cookie is the time it was made and a MAC (AES CBC-MAC, see CookieMAC) over
// that time and the client's transport id (its address and port), checked against the current and
// the previous cookie key.

internal import CMbedTLS
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Makes and checks the cookies a ClientHello must echo before the server keeps any state for
/// it, so spoofed sources cost the server nothing.
final class CookieSecret: @unchecked Sendable {
    /// 4 bytes of time, then the 16-byte MAC (mbedTLS's own cookies carry 28 bytes of HMAC).
    static let timeLength = 4
    static let macLength = CookieMAC.digestLength
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
        var mac = CookieMAC.Digest(0, 0)
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

/// The cookie MAC: AES-256 in CBC-MAC over a block string that encodes stamp and client id
/// unambiguously, with a key derived once per key generation from the generation's cookie key.
///
/// Why CBC-MAC is a sound MAC here: CBC-MAC with a block cipher is a secure PRF (so a secure MAC) on
/// any prefix-free set of messages, fixed-length ones being the usual case (Bellare, Kilian, Rogaway).
/// The block string is stamp (4 bytes, big-endian) || the id's length (4 bytes, big-endian) || the id,
/// zero-padded to whole 16-byte blocks. The length in the first block makes the set prefix-free: two
/// strings of ids of different lengths differ in the first block, and those of equal length have the
/// same number of blocks. The transport ids of a UDPServer and a PacketPeerUDP are always 18 bytes,
/// so the strings they MAC are all 32 bytes, two blocks. The zero padding is unambiguous for the
/// same reason (the length says where the id ends). A MAC is the whole last block, 16 bytes.
///
/// Why not the HMAC-SHA-256 of before: it cost two SHA-256 blocks a cookie (about 8,000 instructions;
/// mbedTLS 2.28 has no SHA-NI code), most of a cookie-less ClientHello's answer under a flood. Two AES
/// blocks with AES-NI (mbedTLS's MBEDTLS_AESNI_C, which mbedtls_aes_crypt_ecb takes when the CPU has
/// it) cost a few hundred. mbedTLS's CMAC would do too, but costs a context setup and sub-key
/// derivation per message; for these fixed-form strings plain CBC-MAC is as strong.
///
/// The AES key is HMAC-SHA-256(cookie key, "PacketDTLS cookie CBC-MAC AES-256 key"), derived
/// once when the generation is made: processes that share a key file derive the same one and accept
/// each other's cookies, and the key file keeps its format. The expanded key lives in memory of its
/// own, wiped (mbedtls_aes_free) when the key generation goes.
final class CookieMAC: @unchecked Sendable {
    /// 16 bytes of MAC: one AES block.
    typealias Digest = (UInt64, UInt64)
    static let digestLength = 16
    /// The label the AES key is derived with (and nothing else).
    static let keyLabel = Array("PacketDTLS cookie CBC-MAC AES-256 key".utf8)

    private let aes: UnsafeMutablePointer<mbedtls_aes_context>

    init(key: SensitiveBytes) throws(Failure) {
        aes = .allocate(capacity: 1)
        mbedtls_aes_init(aes)
        let derived = SensitiveBytes(capacity: 32)
        derived.count = 32
        var rc = Self.keyLabel.withUnsafeBufferPointer { label in
            mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), key.base, key.count,
                            label.baseAddress, label.count, derived.base)
        }
        if rc == 0 { rc = mbedtls_aes_setkey_enc(aes, derived.base, 256) }
        guard rc == 0 else {
            mbedtls_aes_free(aes)
            aes.deallocate()
            throw Failure(.failed, "the cookie key could not be set up: \(MbedTLSError.describe(rc))")
        }
    }

    deinit {
        mbedtls_aes_free(aes)  // zeroizes the expanded key
        aes.deallocate()
    }

    /// The CBC-MAC of stamp || clientID's length || clientID (see the type's comment) into `digest`.
    func compute(stamp: UInt32, clientID: UnsafeRawBufferPointer, into digest: inout Digest) {
        // The first 8 bytes of the string, in memory order.
        var header = UInt64(stamp.bigEndian) | UInt64(UInt32(truncatingIfNeeded: clientID.count).bigEndian) << 32
        let total = 8 + clientID.count
        digest = (0, 0)
        var block = Digest(0, 0)
        withUnsafeBytes(of: &header) { header in
            withUnsafeMutableBytes(of: &block) { block in
                withUnsafeMutableBytes(of: &digest) { state in
                    var offset = 0
                    while offset < total {
                        // The next 16 bytes of the string (zeros past its end), XORed into the chaining
                        // state, which is then encrypted in place.
                        block.storeBytes(of: 0, toByteOffset: 0, as: UInt64.self)
                        block.storeBytes(of: 0, toByteOffset: 8, as: UInt64.self)
                        let end = min(offset + 16, total)
                        if offset < 8 {
                            block.baseAddress!.copyMemory(from: header.baseAddress! + offset, byteCount: 8 - offset)
                        }
                        let idStart = max(offset, 8)
                        if idStart < end {
                            (block.baseAddress! + (idStart - offset)).copyMemory(
                                from: clientID.baseAddress! + (idStart - 8), byteCount: end - idStart)
                        }
                        let words = state.baseAddress!.assumingMemoryBound(to: UInt64.self)
                        words[0] ^= block.load(fromByteOffset: 0, as: UInt64.self)
                        words[1] ^= block.load(fromByteOffset: 8, as: UInt64.self)
                        let bytes = state.baseAddress!.assumingMemoryBound(to: UInt8.self)
                        _ = mbedtls_aes_crypt_ecb(aes, MBEDTLS_AES_ENCRYPT, bytes, bytes)
                        offset += 16
                    }
                }
            }
        }
        Self.wipe(&block)
    }

    /// True when `given` (CookieSecret.macLength bytes) is the MAC of stamp and clientID, compared
    /// in constant time.
    func matches(_ given: UnsafeRawBufferPointer, stamp: UInt32, clientID: UnsafeRawBufferPointer) -> Bool {
        guard given.count == CookieSecret.macLength else { return false }
        var digest = Digest(0, 0)
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
