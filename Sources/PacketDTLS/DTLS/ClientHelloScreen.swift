// ClientHelloScreen.swift — the stateless front door of a DTLS server (RFC 6347 section 4.2.1).
//
// Judges an epoch-0 ClientHello datagram by its cookie alone: one without a valid cookie for its
// source gets a HelloVerifyRequest written here, from the ClientHello's own bytes and the cookie
// secret, with no mbedTLS context and nothing kept; only one with a valid cookie (proof that the
// source receives what is sent to it) may cost the server state. The reply is laid out as mbedTLS's
// server writes it (ssl_write_hello_verify_request): DTLS 1.2 versions, the ClientHello's record
// sequence number and message sequence, the whole message in one fragment.

/// The parts of an epoch-0 ClientHello the screen needs, as byte ranges of its datagram.
struct ClientHelloFields {
    /// The record's 6-byte sequence number.
    var recordSequence: Range<Int>
    var messageSequence: UInt16
    /// The 32-byte client random: the same in a retransmission, new in every new handshake.
    var random: Range<Int>
    var cookie: Range<Int>

    static let recordHeaderLength = 13
    static let handshakeHeaderLength = 12
    static let randomLength = 32
    static let contentTypeHandshake: UInt8 = 22
    static let clientHelloType: UInt8 = 1
    static let helloVerifyRequestType: UInt8 = 3
    /// DTLS 1.2 on the wire.
    static let dtls12: (UInt8, UInt8) = (0xFE, 0xFD)

    /// True when the first record of `datagram` claims to be an epoch-0 ClientHello: the only
    /// datagrams the screen looks at further. Cheap enough for every datagram a server reads.
    static func looksLikeInitialClientHello(_ datagram: UnsafeRawBufferPointer) -> Bool {
        datagram.count > recordHeaderLength && datagram[0] == contentTypeHandshake
            && datagram[3] == 0 && datagram[4] == 0 && datagram[recordHeaderLength] == clientHelloType
    }

    /// True when the ClientHello in `datagram` (one that looksLikeInitialClientHello) has an empty
    /// cookie, or is too short to tell: the first hello of a handshake, the kind a flood sends. Reads
    /// the session id's length and the cookie's length only.
    static func hasNoCookie(_ datagram: UnsafeRawBufferPointer) -> Bool {
        let sessionIDLength = recordHeaderLength + handshakeHeaderLength + 2 + randomLength
        guard sessionIDLength < datagram.count else { return true }
        let cookieLength = sessionIDLength + 1 + Int(datagram[sessionIDLength])
        return cookieLength >= datagram.count || datagram[cookieLength] == 0
    }

    /// The fields of the ClientHello in the first record, nil when it is not one or is cut short
    /// before its cookie. Later records of the datagram are not looked at.
    static func parse(_ datagram: UnsafeRawBufferPointer) -> ClientHelloFields? {
        guard looksLikeInitialClientHello(datagram) else { return nil }
        let recordLength = Int(datagram[11]) << 8 | Int(datagram[12])
        let recordEnd = recordHeaderLength + recordLength
        let handshake = recordHeaderLength
        guard recordEnd <= datagram.count, recordLength >= handshakeHeaderLength else { return nil }
        let fragmentOffset = Int(datagram[handshake + 6]) << 16 | Int(datagram[handshake + 7]) << 8
            | Int(datagram[handshake + 8])
        let fragmentLength = Int(datagram[handshake + 9]) << 16 | Int(datagram[handshake + 10]) << 8
            | Int(datagram[handshake + 11])
        let body = handshake + handshakeHeaderLength
        // The fields wanted all lie in the first fragment; a ClientHello split before its cookie
        // is not one a real client sends.
        guard fragmentOffset == 0, body + fragmentLength <= recordEnd else { return nil }
        let end = body + fragmentLength
        var cursor = body + 2  // client_version
        let random = cursor..<(cursor + randomLength)
        cursor += randomLength
        guard cursor < end else { return nil }
        cursor += 1 + Int(datagram[cursor])  // session_id
        guard cursor < end else { return nil }
        let cookieLength = Int(datagram[cursor])
        cursor += 1
        guard cursor + cookieLength <= end else { return nil }
        return ClientHelloFields(recordSequence: 5..<11,
                                 messageSequence: UInt16(datagram[handshake + 4]) << 8 | UInt16(datagram[handshake + 5]),
                                 random: random, cookie: cursor..<(cursor + cookieLength))
    }
}

/// A server's cookie check and HelloVerifyRequest writer, shared by its UDPServer front door and
/// its sessions. Holds no per-client state.
final class ClientHelloScreen: @unchecked Sendable {
    /// What to do with a datagram.
    enum Verdict: Equatable {
        /// Not an epoch-0 ClientHello: route it as any other datagram.
        case notClientHello
        /// An epoch-0 ClientHello too malformed to judge: drop it.
        case malformed
        /// No valid cookie for this source: send `reply` (a HelloVerifyRequest) to the source, keep
        /// nothing. nil when the reply would be larger than the hello (no amplification): drop it.
        case unverified(reply: [UInt8]?)
        /// A valid cookie: the source has proved it receives. `random` tells a retransmission
        /// (same) from a new handshake (different).
        case verified(random: [UInt8])
    }

    let cookies: CookieSecret

    init(cookies: CookieSecret) {
        self.cookies = cookies
    }

    /// Judges `datagram` from the client whose transport id (address bytes and port) is `clientID`.
    func judge(_ datagram: UnsafeRawBufferPointer, clientID: [UInt8]) -> Verdict {
        var reply = [UInt8](repeating: 0, count: Self.replyCapacity)
        let quick = clientID.withUnsafeBytes { id in
            reply.withUnsafeMutableBytes { screen(datagram, clientID: id, replyInto: $0) }
        }
        switch quick {
        case .notClientHello: return .notClientHello
        case .malformed: return .malformed
        case .unanswerable: return .unverified(reply: nil)
        case .answered(let length): return .unverified(reply: Array(reply.prefix(length)))
        case .verified(let random): return .verified(random: Array(datagram[random]))
        }
    }

    /// What `screen` made of a datagram.
    enum QuickVerdict: Equatable {
        case notClientHello
        case malformed
        /// No valid cookie, and the HelloVerifyRequest would be larger than the hello: drop it.
        case unanswerable
        /// No valid cookie: the HelloVerifyRequest, `length` bytes, is in the reply buffer.
        case answered(length: Int)
        /// A valid cookie; the ClientHello's random lies at `random` in the datagram.
        case verified(random: Range<Int>)
    }

    /// Room a HelloVerifyRequest takes: headers, version, a cookie of up to 255 bytes.
    static let replyCapacity = ClientHelloFields.recordHeaderLength + ClientHelloFields.handshakeHeaderLength + 3 + 255

    /// judge without allocating, for the front door: the HelloVerifyRequest is written into `reply`
    /// (at least replyCapacity bytes).
    func screen(_ datagram: UnsafeRawBufferPointer, clientID: UnsafeRawBufferPointer,
                replyInto reply: UnsafeMutableRawBufferPointer) -> QuickVerdict {
        guard ClientHelloFields.looksLikeInitialClientHello(datagram) else { return .notClientHello }
        guard let hello = ClientHelloFields.parse(datagram) else { return .malformed }
        let cookie = UnsafeRawBufferPointer(rebasing: datagram[hello.cookie])
        if cookies.isValid(cookie: cookie, for: clientID) { return .verified(random: hello.random) }
        let length = writeHelloVerifyRequest(answering: hello, in: datagram, clientID: clientID, into: reply)
        return length <= datagram.count ? .answered(length: length) : .unanswerable
    }

    /// Writes the HelloVerifyRequest datagram for `hello`, carrying a fresh cookie for `clientID`,
    /// into `reply`; returns its length.
    private func writeHelloVerifyRequest(answering hello: ClientHelloFields, in datagram: UnsafeRawBufferPointer,
                                         clientID: UnsafeRawBufferPointer,
                                         into reply: UnsafeMutableRawBufferPointer) -> Int {
        let cookieLength = CookieSecret.cookieLength
        let bodyLength = 2 + 1 + cookieLength
        let recordLength = ClientHelloFields.handshakeHeaderLength + bodyLength
        precondition(reply.count >= ClientHelloFields.recordHeaderLength + recordLength)
        let version = ClientHelloFields.dtls12
        // Record header: handshake, DTLS 1.2, epoch 0, the ClientHello's sequence number, length.
        reply[0] = ClientHelloFields.contentTypeHandshake
        reply[1] = version.0
        reply[2] = version.1
        reply[3] = 0
        reply[4] = 0
        for index in 0..<6 { reply[5 + index] = datagram[hello.recordSequence.lowerBound + index] }
        reply[11] = UInt8(recordLength >> 8)
        reply[12] = UInt8(recordLength & 0xFF)
        // Handshake header: one whole fragment, numbered as the ClientHello it answers.
        var at = ClientHelloFields.recordHeaderLength
        reply[at] = ClientHelloFields.helloVerifyRequestType
        for offset in [1, 9] {
            reply[at + offset] = UInt8(bodyLength >> 16)
            reply[at + offset + 1] = UInt8((bodyLength >> 8) & 0xFF)
            reply[at + offset + 2] = UInt8(bodyLength & 0xFF)
        }
        reply[at + 4] = UInt8(hello.messageSequence >> 8)
        reply[at + 5] = UInt8(hello.messageSequence & 0xFF)
        reply[at + 6] = 0
        reply[at + 7] = 0
        reply[at + 8] = 0
        at += ClientHelloFields.handshakeHeaderLength
        // HelloVerifyRequest: server_version, cookie<0..255>.
        reply[at] = version.0
        reply[at + 1] = version.1
        reply[at + 2] = UInt8(cookieLength)
        at += 3
        cookies.writeCookie(for: clientID, into: UnsafeMutableRawBufferPointer(rebasing: reply[at..<(at + cookieLength)]))
        return at + cookieLength
    }
}

extension SocketAddress {
    /// The client transport id cookies are bound to: 16 address bytes (IPv4 in mapped form) and the
    /// port, big-endian, as PacketPeerUDP.remoteIdentity gives it to mbedTLS.
    var transportID: [UInt8] {
        addressBytes + [UInt8(port >> 8), UInt8(port & 0xFF)]
    }

    /// Runs `body` with the transport id on the stack (no allocation).
    func withTransportID<T>(_ body: (UnsafeRawBufferPointer) -> T) -> T {
        var id = TransportID(self)
        return withUnsafeBytes(of: &id) { body(UnsafeRawBufferPointer(rebasing: $0[0..<18])) }
    }
}

/// 18 bytes of transport id laid out in memory: the address words, then the port big-endian.
private struct TransportID {
    var address: (UInt64, UInt64)
    var port: UInt16

    init(_ source: SocketAddress) {
        address = source.addressWords
        port = source.port.bigEndian
    }
}
