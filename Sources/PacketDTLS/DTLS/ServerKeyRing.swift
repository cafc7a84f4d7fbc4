// ServerKeyRing.swift — the secrets one DTLS server (or a fleet sharing a key file) answers with.

internal import CMbedTLS
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One generation of server secrets: the key HelloVerifyRequest cookies' MAC key is derived from and the
/// AES-256-GCM key that seals session tickets, named by a 32-bit id that every ticket carries.
final class ServerKeyGeneration: @unchecked Sendable {
    static let keyLength = 32

    let id: UInt32
    let cookieKey: SensitiveBytes
    let ticketKey: SensitiveBytes
    /// When this generation became current (wall clock, for rotating keys nobody shares).
    let createdAt: time_t
    /// The ticket key expanded for AES-256-GCM; used under the key ring's lock only.
    let ticketCipher: UnsafeMutablePointer<mbedtls_cipher_context_t>
    /// The cookie MAC's AES key, derived from the cookie key and expanded once (see CookieMAC).
    let cookieMAC: CookieMAC

    /// A generation from given key bytes (exactly keyLength each).
    init(id: UInt32, cookieKey: UnsafeBufferPointer<UInt8>, ticketKey: UnsafeBufferPointer<UInt8>) throws(Failure) {
        precondition(cookieKey.count == Self.keyLength && ticketKey.count == Self.keyLength)
        self.id = id
        self.cookieKey = SensitiveBytes(copying: cookieKey)
        self.ticketKey = SensitiveBytes(copying: ticketKey)
        createdAt = time(nil)
        cookieMAC = try CookieMAC(key: self.cookieKey)
        ticketCipher = .allocate(capacity: 1)
        mbedtls_cipher_init(ticketCipher)
        var rc = mbedtls_cipher_setup(ticketCipher, mbedtls_cipher_info_from_type(MBEDTLS_CIPHER_AES_256_GCM))
        if rc == 0 {
            // GCM runs the block cipher forwards both ways, so one encrypting key also decrypts.
            rc = mbedtls_cipher_setkey(ticketCipher, self.ticketKey.base, Int32(Self.keyLength * 8), MBEDTLS_ENCRYPT)
        }
        guard rc == 0 else {
            throw Failure(.failed, "the session ticket cipher could not be set up: \(MbedTLSError.describe(rc))")
        }
    }

    /// A generation of fresh random keys, with an id other than `avoiding`'s.
    static func random(avoiding other: UInt32? = nil) throws(Failure) -> ServerKeyGeneration {
        let material = SensitiveBytes(capacity: 2 * keyLength + 4)
        material.count = material.capacity
        var id: UInt32 = 0
        repeat {
            guard RandomSource.shared.fill(UnsafeMutableRawBufferPointer(start: material.base, count: material.count))
            else { throw Failure(.failed, "no random bytes for new server keys: \(ErrorReport.message)") }
            id = UInt32(material.base[64]) << 24 | UInt32(material.base[65]) << 16
                | UInt32(material.base[66]) << 8 | UInt32(material.base[67])
        } while id == other
        return try ServerKeyGeneration(id: id,
                                       cookieKey: UnsafeBufferPointer(start: material.base, count: keyLength),
                                       ticketKey: UnsafeBufferPointer(start: material.base + keyLength, count: keyLength))
    }

    deinit {
        mbedtls_cipher_free(ticketCipher)  // zeroizes the expanded key
        ticketCipher.deallocate()
    }
}

/// The current generation, which makes cookies and seals tickets, and the previous one, which
/// is still accepted: a rotation never turns away a cookie or ticket issued just before it.
///
/// A ring that was loaded from or saved to a key file is shared with other processes, so it
/// changes only when asked (rotate, load). A ring nobody else knows rotates its ticket key by
/// itself once a ticket lifetime has passed, as mbedTLS's own ticket context did.
final class ServerKeyRing: @unchecked Sendable {
    private let lock = Lock()
    private var current: ServerKeyGeneration
    private var previous: ServerKeyGeneration?
    private var shared = false

    init() throws(Failure) {
        current = try ServerKeyGeneration.random()
    }

    /// Runs `body` with the generations under the ring's lock (the ticket cipher is not reentrant).
    func withGenerations<T>(_ body: (_ current: ServerKeyGeneration, _ previous: ServerKeyGeneration?) -> T) -> T {
        lock.withLock { body(current, previous) }
    }

    /// Like withGenerations, for sealing: first rotates a ring nobody shares whose current
    /// generation has outlived `lifetime` seconds.
    func withGenerationsForSealing<T>(lifetime: UInt32,
                                      _ body: (_ current: ServerKeyGeneration) -> T) -> T {
        lock.withLock {
            if !shared, time(nil) - current.createdAt >= time_t(lifetime),
               let fresh = try? ServerKeyGeneration.random(avoiding: current.id) {
                previous = current
                current = fresh
            }
            return body(current)
        }
    }

    /// New random keys become current; the current ones stay accepted as the previous.
    func rotate() throws(Failure) {
        let fresh = try ServerKeyGeneration.random(avoiding: lock.withLock { current.id })
        lock.withLock {
            previous = current
            current = fresh
        }
    }

    /// Replaces both generations (from a key file); the ring is shared from now on.
    func replace(current newCurrent: ServerKeyGeneration, previous newPrevious: ServerKeyGeneration?) {
        lock.withLock {
            current = newCurrent
            previous = newPrevious
            shared = true
        }
    }

    /// Both generations, for writing a key file; the ring is shared from now on.
    func exportForSharing() -> (current: ServerKeyGeneration, previous: ServerKeyGeneration?) {
        lock.withLock {
            shared = true
            return (current, previous)
        }
    }
}

extension SensitiveBytes {
    /// A wiped-on-free copy of `source`.
    convenience init(copying source: UnsafeBufferPointer<UInt8>) {
        self.init(capacity: source.count)
        if let from = source.baseAddress { base.update(from: from, count: source.count) }
        count = source.count
    }
}
