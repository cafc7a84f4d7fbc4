// Identity.swift — a server's key and certificate: loaded from files, or made on the spot.

import PacketDTLS
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A private key and the certificate (chain) that goes with it.
struct Identity {
    let key: CryptoKey
    let certificate: X509Certificate

    /// Loads `keyPath` and `certificatePath` and checks that the key belongs to the certificate,
    /// so a wrong pair is reported now, by file name, rather than as a handshake failure later.
    static func load(keyPath: String, certificatePath: String) throws(CLIFailure) -> Identity {
        let key = CryptoKey()
        guard key.load(path: keyPath) == .ok else {
            throw .tls("cannot load the private key from '\(keyPath)': \(ErrorReport.message)")
        }
        guard !key.isPublicOnly() else {
            throw .tls("'\(keyPath)' holds only a public key; the server needs the private key")
        }
        let certificate = X509Certificate()
        guard certificate.load(path: certificatePath) == .ok else {
            throw .tls("cannot load the certificate from '\(certificatePath)': \(ErrorReport.message)")
        }
        guard TLSOptions.checkServerIdentity(key: key, certificate: certificate) == .ok else {
            throw .tls("the key '\(keyPath)' does not match the certificate '\(certificatePath)': "
                + ErrorReport.message)
        }
        return Identity(key: key, certificate: certificate)
    }

    /// A new key (EC P-256, or RSA of `rsaBits`) and a self-signed certificate for it, valid from an
    /// hour ago (some clock skew) for `days` days.
    static func selfSigned(commonName: String, subjectAltNames: [String], days: Int,
                           rsaBits: Int? = nil) throws(CLIFailure) -> Identity {
        let made: CryptoKey?
        if let rsaBits {
            made = Crypto.generateRSA(sizeBits: rsaBits)
        } else {
            made = Crypto.generateECP256()
        }
        guard let key = made else {
            throw .tls("cannot generate the key: \(ErrorReport.message)")
        }
        let now = time(nil)
        let notBefore = godotTime(now - 3600)
        let notAfter = godotTime(now + days * 86400)
        guard let certificate = Crypto.generateSelfSignedCertificate(
            key: key, issuerName: "CN=\(escapedName(commonName))", notBefore: notBefore, notAfter: notAfter,
            subjectAltNames: subjectAltNames)
        else {
            throw .tls("cannot make the certificate: \(ErrorReport.message)")
        }
        return Identity(key: key, certificate: certificate)
    }

    /// A one-line description for the log: subject, names, validity, public key fingerprint.
    var summary: String {
        guard let leaf = certificate.certificates.first else { return "(empty certificate)" }
        let names = leaf.dnsNames.isEmpty ? "" : ", \(leaf.dnsNames.joined(separator: " "))"
        let fingerprint = leaf.publicKeySHA256.prefix(8).map { byte in
            (byte < 16 ? "0" : "") + String(byte, radix: 16)
        }.joined(separator: ":")
        return "\(leaf.subject)\(names), valid until \(Self.iso8601(leaf.notAfter)), public key SHA-256 \(fingerprint)..."
    }

    /// Godot's "YYYYMMDDhhmmss" (UTC) as ISO 8601, "YYYY-MM-DDThh:mm:ssZ"; other text as it is.
    static func iso8601(_ godot: String) -> String {
        let digits = Array(godot.utf8)
        guard digits.count == 14, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return godot }
        func part(_ from: Int, _ to: Int) -> String { String(decoding: digits[from..<to], as: UTF8.self) }
        return "\(part(0, 4))-\(part(4, 6))-\(part(6, 8))T\(part(8, 10)):\(part(10, 12)):\(part(12, 14))Z"
    }

    /// Seconds since the epoch as Godot's "YYYYMMDDhhmmss" in UTC.
    static func godotTime(_ seconds: time_t) -> String {
        var value = seconds
        var parts = tm()
        gmtime_r(&value, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        let count = strftime(&buffer, buffer.count, "%Y%m%d%H%M%S", &parts)
        return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Escapes the commas of a common name (the only escape mbedTLS 2.28's name parser knows), so
    /// "Example, Inc" stays one attribute.
    static func escapedName(_ name: String) -> String {
        name.split(separator: ",", omittingEmptySubsequences: false).joined(separator: "\\,")
    }
}
