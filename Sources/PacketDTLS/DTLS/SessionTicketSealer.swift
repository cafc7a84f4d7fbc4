// SessionTicketSealer.swift — session tickets sealed with the server's key ring.
//
// Our own version of mbedTLS's ssl_ticket.c, so the ticket keys can be shared by a fleet, saved,
// loaded and rotated. A ticket is
//     key id (4) | IV (12) | sealed length (2) | AES-256-GCM(mbedtls_ssl_session_save) | tag (16)
// with the first 18 bytes authenticated too. The key id picks the current or previous generation;
// a ticket of any other key, a forged one, or one whose session began more than a lifetime ago
// is refused, and the client gets a full handshake instead.

internal import CMbedTLS
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

final class SessionTicketSealer: @unchecked Sendable {
    static let idLength = 4
    static let ivLength = 12
    static let lengthLength = 2
    static let headerLength = idLength + ivLength + lengthLength
    static let tagLength = 16
    /// Sessions are serialized into this much wiped-on-free space; a client certificate chain kept
    /// in the session is the only large part.
    static let maximumSessionLength = 0xFFFF

    let ring: ServerKeyRing
    /// Tickets (and the sessions in them) live this many seconds from the session's full handshake.
    let lifetimeSeconds: UInt32

    init(ring: ServerKeyRing, lifetimeSeconds: UInt32) {
        self.ring = ring
        self.lifetimeSeconds = lifetimeSeconds
    }

    /// Seals `session` into [start, end); the ticket's length, or an mbedTLS error (negative).
    func seal(_ session: UnsafePointer<mbedtls_ssl_session>, into start: UnsafeMutablePointer<UInt8>,
              capacity: Int) -> Int {
        let room = capacity - Self.headerLength - Self.tagLength
        guard room > 0 else { return Int(MBEDTLS_ERR_SSL_BUFFER_TOO_SMALL) }
        let plain = SensitiveBytes(capacity: min(room, Self.maximumSessionLength))
        var saved = 0
        var rc = mbedtls_ssl_session_save(session, plain.base, plain.capacity, &saved)
        guard rc == 0 else { return Int(rc) }
        plain.count = saved
        let iv = start + Self.idLength
        guard RandomSource.shared.fill(UnsafeMutableRawBufferPointer(start: iv, count: Self.ivLength)) else {
            return Int(MBEDTLS_ERR_SSL_INTERNAL_ERROR)
        }
        start[Self.idLength + Self.ivLength] = UInt8(saved >> 8)
        start[Self.idLength + Self.ivLength + 1] = UInt8(saved & 0xFF)
        var sealedLength = 0
        rc = ring.withGenerationsForSealing(lifetime: lifetimeSeconds) { current in
            for index in 0..<Self.idLength { start[index] = UInt8(truncatingIfNeeded: current.id >> (8 * (3 - index))) }
            return mbedtls_cipher_auth_encrypt_ext(current.ticketCipher, iv, Self.ivLength, start, Self.headerLength,
                                                   plain.base, plain.count, start + Self.headerLength,
                                                   capacity - Self.headerLength, &sealedLength, Self.tagLength)
        }
        guard rc == 0 else { return Int(rc) }
        return Self.headerLength + sealedLength
    }

    /// Opens the ticket in `ticket` into `session`: 0, or the mbedTLS error that makes the server
    /// fall back to a full handshake.
    func open(_ ticket: UnsafeBufferPointer<UInt8>, into session: UnsafeMutablePointer<mbedtls_ssl_session>) -> Int32 {
        guard let start = ticket.baseAddress, ticket.count >= Self.headerLength + Self.tagLength else {
            return MBEDTLS_ERR_SSL_BAD_INPUT_DATA
        }
        let sealedLength = Int(start[Self.idLength + Self.ivLength]) << 8 | Int(start[Self.idLength + Self.ivLength + 1])
        guard ticket.count == Self.headerLength + sealedLength + Self.tagLength else {
            return MBEDTLS_ERR_SSL_BAD_INPUT_DATA
        }
        var id: UInt32 = 0
        for index in 0..<Self.idLength { id = id << 8 | UInt32(start[index]) }
        let plain = SensitiveBytes(capacity: sealedLength)
        var opened = 0
        let rc: Int32 = ring.withGenerations { current, previous in
            let generation = current.id == id ? current : (previous?.id == id ? previous : nil)
            guard let generation else { return MBEDTLS_ERR_SSL_INVALID_MAC }
            let rc = mbedtls_cipher_auth_decrypt_ext(generation.ticketCipher, start + Self.idLength, Self.ivLength,
                                                     start, Self.headerLength, start + Self.headerLength,
                                                     sealedLength + Self.tagLength, plain.base, plain.capacity,
                                                     &opened, Self.tagLength)
            return rc == MBEDTLS_ERR_CIPHER_AUTH_FAILED ? MBEDTLS_ERR_SSL_INVALID_MAC : rc
        }
        guard rc == 0 else { return rc }
        plain.count = opened
        let loaded = mbedtls_ssl_session_load(session, plain.base, plain.count)
        guard loaded == 0 else { return loaded }
        guard isWithinLifetime(sessionStart: time_t(MbedTLSSessionInternals.start(of: session))) else {
            return MBEDTLS_ERR_SSL_SESSION_TICKET_EXPIRED
        }
        return 0
    }

    private func isWithinLifetime(sessionStart: time_t) -> Bool {
        let now = time(nil)
        return now >= sessionStart && now - sessionStart <= time_t(lifetimeSeconds)
    }

    // MARK: mbedTLS callbacks (mbedtls_ssl_conf_session_tickets_cb)

    /// The context pointer mbedTLS hands back to the callbacks; valid while `self` lives (the
    /// configuration that registers them holds it).
    var callbackContext: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }

    static let writeCallback: @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<mbedtls_ssl_session>?,
                                              UnsafeMutablePointer<UInt8>?, UnsafePointer<UInt8>?,
                                              UnsafeMutablePointer<Int>?, UnsafeMutablePointer<UInt32>?) -> Int32 = {
        context, session, start, end, length, lifetime in
        guard let context, let session, let start, let end, let length, let lifetime else {
            return MBEDTLS_ERR_SSL_BAD_INPUT_DATA
        }
        let sealer = Unmanaged<SessionTicketSealer>.fromOpaque(context).takeUnretainedValue()
        let written = sealer.seal(session, into: start, capacity: UnsafePointer(start).distance(to: end))
        guard written >= 0 else { return Int32(written) }
        length.pointee = written
        lifetime.pointee = sealer.lifetimeSeconds
        return 0
    }

    static let parseCallback: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<mbedtls_ssl_session>?,
                                              UnsafeMutablePointer<UInt8>?, Int) -> Int32 = {
        context, session, ticket, length in
        guard let context, let session, let ticket else { return MBEDTLS_ERR_SSL_BAD_INPUT_DATA }
        let sealer = Unmanaged<SessionTicketSealer>.fromOpaque(context).takeUnretainedValue()
        return sealer.open(UnsafeBufferPointer(start: ticket, count: length), into: session)
    }
}
