// CertificateInfo.swift — what one certificate of a chain says, read-only, for logs and pinning.

internal import CMbedTLS

/// A summary of one certificate, as mbedTLS parsed it.
public struct CertificateInfo: Sendable, Equatable {
    /// The subject DN, e.g. "CN=myserver, O=myorganisation, C=IT".
    public let subject: String
    /// The issuer DN in the same form.
    public let issuer: String
    /// Validity bounds in Godot's format "YYYYMMDDhhmmss", UTC.
    public let notBefore: String
    public let notAfter: String
    /// The serial number in lower-case hex.
    public let serialNumber: String
    /// The basicConstraints CA flag.
    public let isCA: Bool
    /// The subjectAltName dNSName entries as "DNS:name" (mbedTLS 2.28 keeps no other kinds).
    public let dnsNames: [String]
    /// SHA-256 of the DER SubjectPublicKeyInfo: the value certificate pinning compares.
    public let publicKeySHA256: [UInt8]

    init(_ crt: UnsafeMutablePointer<mbedtls_x509_crt>) {
        subject = Self.distinguishedName(&crt.pointee.subject)
        issuer = Self.distinguishedName(&crt.pointee.issuer)
        notBefore = Self.godotTime(crt.pointee.valid_from)
        notAfter = Self.godotTime(crt.pointee.valid_to)
        let serial = UnsafeBufferPointer(start: crt.pointee.serial.p, count: crt.pointee.serial.len)
        serialNumber = serial.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        isCA = crt.pointee.ca_istrue != 0
        var names: [String] = []
        var entry: mbedtls_x509_sequence? = crt.pointee.subject_alt_names
        while let current = entry, current.buf.p != nil {
            if current.buf.tag == Int32(MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2) {
                let raw = UnsafeBufferPointer(start: current.buf.p, count: current.buf.len)
                names.append("DNS:" + String(decoding: raw, as: UTF8.self))
            }
            entry = current.next?.pointee
        }
        dnsNames = names
        var digest = [UInt8](repeating: 0, count: 32)
        _ = mbedtls_sha256_ret(crt.pointee.pk_raw.p, crt.pointee.pk_raw.len, &digest, 0)
        publicKeySHA256 = digest
    }

    private static func distinguishedName(_ name: UnsafePointer<mbedtls_x509_name>) -> String {
        var buffer = [CChar](repeating: 0, count: 1024)
        guard mbedtls_x509_dn_gets(&buffer, buffer.count, name) >= 0 else { return "" }
        return String(cBuffer: buffer)
    }

    private static func godotTime(_ time: mbedtls_x509_time) -> String {
        func digits(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return digits(time.year, 4) + digits(time.mon, 2) + digits(time.day, 2)
            + digits(time.hour, 2) + digits(time.min, 2) + digits(time.sec, 2)
    }
}
