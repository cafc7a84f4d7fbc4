// PeerNameCheck.swift — does a certificate name the host we meant to reach?
//
// mbedTLS 2.28 compares names against dNSName entries and the CN only; it ignores iPAddress
// entries, so a certificate for 127.0.0.1 could never match. We check names ourselves, the way
// RFC 6125 asks: subjectAltName DNS and IP entries when the extension is present, else the CN
// (for DNS names only: an IP address must be in an iPAddress entry). DNS names compare with ASCII
// case folding only, so no Unicode rule can make two different names equal (the Kelvin sign K
// lowercases to "k"); internationalised names must be given and certified as A-labels ("xn--").

internal import CMbedTLS
#if canImport(Glibc)
import Glibc
#endif

struct PeerNameCheck {
    /// The name as the caller gave it (a DNS name or an IP literal).
    let expectedName: String

    /// True when `certificate` (the peer's leaf) is issued for `expectedName`.
    func matches(_ certificate: UnsafePointer<mbedtls_x509_crt>) -> Bool {
        let names = SubjectNames(certificate)
        if let address = Self.ipAddressBytes(expectedName) {
            return names.ipAddresses.contains(address)
        }
        guard let host = Self.normalized(expectedName) else { return false }
        let candidates = names.hasAltNameExtension ? names.dnsNames : names.commonNames
        return candidates.contains { candidate in
            guard let pattern = Self.normalized(candidate) else { return false }
            return Self.dnsName(pattern: pattern, matches: host)
        }
    }

    /// Why `name` can't be checked against a certificate, or nil when it can: an IP literal, or a
    /// DNS name in ASCII (an internationalised name as its A-labels, "xn--...").
    static func refusal(of name: String) -> String? {
        if ipAddressBytes(name) != nil { return nil }
        guard name.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            return "the hostname '\(name)' is not plain ASCII: give an internationalised name as its A-labels "
                + "(xn--...), as certificates carry it"
        }
        return nil
    }

    /// The 4 or 16 address bytes of an IP literal, nil for a name.
    static func ipAddressBytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }

    /// The name with ASCII letters lowercased and one trailing dot dropped; nil when it holds
    /// anything but printable ASCII, which no DNS name in a certificate may (RFC 5280 IA5String,
    /// RFC 6125 A-labels).
    static func normalized(_ name: String) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(name.utf8.count)
        for byte in name.utf8 {
            guard byte > 0x20, byte < 0x7F else { return nil }
            bytes.append(byte >= 0x41 && byte <= 0x5A ? byte + 0x20 : byte)
        }
        if bytes.last == 0x2E { bytes.removeLast() }
        guard !bytes.isEmpty else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Exact match, or a wildcard "*.example.com" standing for exactly one leftmost label.
    private static func dnsName(pattern: String, matches host: String) -> Bool {
        if pattern == host { return true }
        guard pattern.hasPrefix("*."), let dot = host.firstIndex(of: ".") else { return false }
        let suffix = pattern.dropFirst(2)
        // A wildcard never stands for a public suffix alone ("*.com"): require a dot in what follows.
        return host[host.startIndex..<dot].isEmpty == false && host[host.index(after: dot)...] == suffix
            && suffix.contains(".")
    }
}

/// The names a certificate carries, read from its DER with bounds checks throughout.
private struct SubjectNames {
    var hasAltNameExtension = false
    var dnsNames: [String] = []
    var ipAddresses: [[UInt8]] = []
    var commonNames: [String] = []

    init(_ certificate: UnsafePointer<mbedtls_x509_crt>) {
        // The first subject entry is stored inside the certificate, the rest hang off `next`.
        var name: UnsafePointer<mbedtls_x509_name>? = certificate.pointer(to: \.subject)
        while let entry = name {
            let oid = entry.pointee.oid
            if oid.len == 3, let p = oid.p, p[0] == 0x55, p[1] == 0x04, p[2] == 0x03, let value = entry.pointee.val.p {
                commonNames.append(String(decoding: UnsafeBufferPointer(start: value, count: entry.pointee.val.len),
                                          as: UTF8.self))
            }
            name = UnsafePointer(entry.pointee.next)
        }
        let extensions = certificate.pointee.v3_ext
        guard let start = extensions.p, extensions.len > 0 else { return }
        readExtensions(DERReader(UnsafeRawBufferPointer(start: start, count: extensions.len)))
    }

    /// Extensions ::= SEQUENCE OF Extension { extnID OID, critical BOOLEAN OPTIONAL, extnValue OCTET STRING }
    private mutating func readExtensions(_ input: DERReader) {
        var outer = input
        guard var list = outer.read(tag: 0x30) else { return }
        while var ext = list.read(tag: 0x30) {
            guard let oid = ext.read(tag: 0x06), oid.bytes.elementsEqual([0x55, 0x1D, 0x11]) else { continue }
            _ = ext.read(tag: 0x01)
            guard let value = ext.read(tag: 0x04) else { continue }
            hasAltNameExtension = true
            var holder = value
            guard var generalNames = holder.read(tag: 0x30) else { continue }
            while let (tag, entry) = generalNames.readAny() {
                switch tag {
                case 0x82: dnsNames.append(String(decoding: entry.bytes, as: UTF8.self))
                case 0x87: ipAddresses.append(Array(entry.bytes))
                default: break
                }
            }
        }
    }
}

/// A minimal DER TLV reader: definite lengths only, every read checked against the end.
private struct DERReader {
    let bytes: UnsafeRawBufferPointer
    private var offset = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    /// The next element's contents if its tag is `tag`; nil (without moving) otherwise.
    mutating func read(tag: UInt8) -> DERReader? {
        guard offset < bytes.count, bytes[offset] == tag else { return nil }
        return readAny()?.1
    }

    /// The next element's tag and contents.
    mutating func readAny() -> (UInt8, DERReader)? {
        var cursor = offset
        guard cursor + 2 <= bytes.count else { return nil }
        let tag = bytes[cursor]
        var length = Int(bytes[cursor + 1])
        cursor += 2
        if length & 0x80 != 0 {
            let count = length & 0x7F
            guard (1...4).contains(count), cursor + count <= bytes.count else { return nil }
            length = 0
            for _ in 0..<count {
                length = length << 8 | Int(bytes[cursor])
                cursor += 1
            }
        }
        guard length <= bytes.count - cursor else { return nil }
        let contents = UnsafeRawBufferPointer(rebasing: bytes[cursor..<cursor + length])
        offset = cursor + length
        return (tag, DERReader(contents))
    }
}
