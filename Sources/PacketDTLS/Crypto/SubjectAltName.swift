// SubjectAltName.swift — subjectAltName entries, parsed from text and encoded as the X.509 extension.
//
// mbedTLS 2.28's certificate writer has no helper for this extension, so the DER is built here
// with mbedtls_asn1_write_* and handed to mbedtls_x509write_crt_set_extension.

internal import CMbedTLS
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One GeneralName of a subjectAltName extension.
enum SubjectAltName: Equatable {
    /// dNSName [2] IA5String.
    case dns(String)
    /// iPAddress [7] OCTET STRING: 4 bytes for IPv4, 16 for IPv6.
    case ip([UInt8])

    /// The DER encoding of id-ce-subjectAltName, 2.5.29.17.
    static let oid: [UInt8] = [0x55, 0x1D, 0x11]

    /// Parses "DNS:name", "IP:192.0.2.1", "IP:2001:db8::1", or a plain name or address (an address
    /// when it parses as one).
    init(parsing text: String) throws(Failure) {
        let lowered = text.lowercased()
        if lowered.hasPrefix("ip:") {
            guard let address = Self.address(String(text.dropFirst(3))) else {
                throw Failure(.invalidParameter, "subject alt name '\(text)' is not an IPv4 or IPv6 address")
            }
            self = .ip(address)
        } else if lowered.hasPrefix("dns:") {
            self = .dns(try Self.checkedName(String(text.dropFirst(4)), original: text))
        } else if let address = Self.address(text) {
            self = .ip(address)
        } else {
            self = .dns(try Self.checkedName(text, original: text))
        }
    }

    private static func address(_ text: String) -> [UInt8]? {
        var v4 = [UInt8](repeating: 0, count: 4)
        if inet_pton(AF_INET, text, &v4) == 1 { return v4 }
        var v6 = [UInt8](repeating: 0, count: 16)
        if inet_pton(AF_INET6, text, &v6) == 1 { return v6 }
        return nil
    }

    /// Host names are ASCII (IDNs go in as punycode): letters, digits, '-', '.', '_' and a '*' label.
    private static func checkedName(_ name: String, original: String) throws(Failure) -> String {
        let allowed = name.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A)
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_")
                || byte == UInt8(ascii: "*")
        }
        guard !name.isEmpty, name.utf8.count <= 253, allowed else {
            throw Failure(.invalidParameter, "subject alt name '\(original)' is not a DNS name or an IP address")
        }
        return name
    }

    private var tagAndContents: (tag: Int32, contents: [UInt8]) {
        switch self {
        case .dns(let name): return (Int32(MBEDTLS_ASN1_CONTEXT_SPECIFIC) | 2, Array(name.utf8))
        case .ip(let address): return (Int32(MBEDTLS_ASN1_CONTEXT_SPECIFIC) | 7, address)
        }
    }

    /// GeneralNames ::= SEQUENCE OF GeneralName, in DER, the value of the extension.
    static func extensionValue(_ names: [SubjectAltName]) throws(Failure) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: names.reduce(16) { $0 + $1.tagAndContents.contents.count + 8 })
        let written: Int32 = buffer.withUnsafeMutableBufferPointer { buffer in
            let start = buffer.baseAddress!
            // mbedtls_asn1_write_* write backwards from the end, so the last name goes first.
            var cursor: UnsafeMutablePointer<UInt8>? = start + buffer.count
            var total: Int32 = 0
            for name in names.reversed() {
                let (tag, contents) = name.tagAndContents
                let rc = contents.withUnsafeBytes { raw in
                    mbedtls_asn1_write_tagged_string(&cursor, start, tag, raw.bindMemory(to: CChar.self).baseAddress,
                                                     raw.count)
                }
                guard rc >= 0 else { return rc }
                total += rc
            }
            let lengthRC = mbedtls_asn1_write_len(&cursor, start, Int(total))
            guard lengthRC >= 0 else { return lengthRC }
            let tagRC = mbedtls_asn1_write_tag(&cursor, start, UInt8(MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE))
            guard tagRC >= 0 else { return tagRC }
            return total + lengthRC + tagRC
        }
        guard written > 0 else {
            throw Failure(.failed, "can't encode the subject alt names: \(MbedTLSError.describe(written))")
        }
        return Array(buffer.suffix(Int(written)))
    }
}
