// Crypto+SelfSignedCertificate.swift — Godot's generate_self_signed_certificate, with subjectAltNames.

internal import CMbedTLS

extension Crypto {
    /// A new self-signed X.509 v3 certificate for the private `key`: subject = issuer =
    /// `issuerName`, a random positive 127-bit serial, SHA-256 signature, and the validity given in
    /// Godot's "YYYYMMDDhhmmss" (UTC).
    ///
    /// Unlike Godot it is marked as an end-entity certificate (basicConstraints CA:FALSE): it is
    /// meant to be a server's own certificate, which strict verifiers refuse when it claims to be a
    /// CA. A client that trusts this very certificate still verifies it (mbedTLS and OpenSSL accept
    /// a self-signed end-entity certificate found in the trust list). `subjectAltNames` ("DNS:name",
    /// "IP:address", or plain) become a subjectAltName extension; host-name checks then use them
    /// instead of the CN.
    public static func generateSelfSignedCertificate(
        key: CryptoKey,
        issuerName: String = "CN=myserver,O=myorganisation,C=IT",
        notBefore: String = "20140101000000",
        notAfter: String = "20340101000000",
        subjectAltNames: [String] = []
    ) -> X509Certificate? {
        do {
            let material = try privateMaterial(of: key, "generate_self_signed_certificate")
            try checkValidity(notBefore: notBefore, notAfter: notAfter)
            var names: [SubjectAltName] = []
            for text in subjectAltNames { names.append(try SubjectAltName(parsing: text)) }
            let der = try selfSignedDER(material, name: issuerName, notBefore: notBefore, notAfter: notAfter,
                                        subjectAltNames: names)
            let chain = try der.withUnsafeBufferPointer { bytes throws(Failure) in
                try CertificateChain.parse(bytes, isPEM: false, source: "the generated certificate")
            }
            return X509Certificate(chain: chain)
        } catch {
            error.report()
            return nil
        }
    }

    /// Both times must be 14 digits of a plausible date, and not_before must not come after not_after
    /// (mbedTLS checks only the length and would write a certificate nobody can parse).
    private static func checkValidity(notBefore: String, notAfter: String) throws(Failure) {
        for (label, time) in [("not_before", notBefore), ("not_after", notAfter)] {
            let digits = time.utf8.map { Int($0) - 0x30 }
            guard digits.count == 14, digits.allSatisfy({ (0...9).contains($0) }) else {
                throw Failure(.invalidParameter, "\(label) '\(time)' is not YYYYMMDDhhmmss")
            }
            func field(_ at: Int) -> Int { digits[at] * 10 + digits[at + 1] }
            guard (1...12).contains(field(4)), (1...31).contains(field(6)), field(8) < 24, field(10) < 60,
                  field(12) < 60 else {
                throw Failure(.invalidParameter, "\(label) '\(time)' is not a valid date and time")
            }
        }
        guard notBefore <= notAfter else {
            throw Failure(.invalidParameter, "not_before '\(notBefore)' comes after not_after '\(notAfter)'")
        }
    }

    private static func selfSignedDER(_ material: KeyMaterial, name: String, notBefore: String, notAfter: String,
                                      subjectAltNames: [SubjectAltName]) throws(Failure) -> [UInt8] {
        let writer = UnsafeMutablePointer<mbedtls_x509write_cert>.allocate(capacity: 1)
        let serial = UnsafeMutablePointer<mbedtls_mpi>.allocate(capacity: 1)
        mbedtls_x509write_crt_init(writer)
        mbedtls_mpi_init(serial)
        defer {
            mbedtls_x509write_crt_free(writer)
            mbedtls_mpi_free(serial)
            writer.deallocate()
            serial.deallocate()
        }

        mbedtls_x509write_crt_set_version(writer, MBEDTLS_X509_CRT_VERSION_3)
        mbedtls_x509write_crt_set_md_alg(writer, MBEDTLS_MD_SHA256)
        mbedtls_x509write_crt_set_subject_key(writer, material.pk)
        mbedtls_x509write_crt_set_issuer_key(writer, material.pk)
        let nameProblem = "issuer_name '\(name)' is not a distinguished name like CN=host,O=org,C=IT"
        try check(mbedtls_x509write_crt_set_subject_name(writer, name), nameProblem, as: .invalidParameter)
        try check(mbedtls_x509write_crt_set_issuer_name(writer, name), nameProblem, as: .invalidParameter)
        // mbedTLS accepts text without any "key=value" and writes an empty name no one can parse.
        guard writer.pointee.subject != nil else { throw Failure(.invalidParameter, nameProblem) }
        try check(mbedtls_x509write_crt_set_validity(writer, notBefore, notAfter), "validity", as: .invalidParameter)

        // 16 random bytes with the top bit clear (a positive INTEGER) and the next one set (never 0).
        guard var serialBytes = generateRandomBytes(16) else { throw Failure(.failed, ErrorReport.message) }
        serialBytes[0] = (serialBytes[0] & 0x7F) | 0x40
        try check(mbedtls_mpi_read_binary(serial, serialBytes, serialBytes.count), "serial number")
        try check(mbedtls_x509write_crt_set_serial(writer, serial), "serial number")

        try check(mbedtls_x509write_crt_set_basic_constraints(writer, 0, -1), "basic constraints")
        try check(mbedtls_x509write_crt_set_subject_key_identifier(writer), "subject key identifier")
        try check(mbedtls_x509write_crt_set_authority_key_identifier(writer), "authority key identifier")
        if !subjectAltNames.isEmpty {
            let value = try SubjectAltName.extensionValue(subjectAltNames)
            try check(mbedtls_x509write_crt_set_extension(writer, SubjectAltName.oid.map { CChar(bitPattern: $0) },
                                                          SubjectAltName.oid.count, 0, value, value.count),
                      "subject alt names")
        }

        var buffer = [UInt8](repeating: 0, count: 16384 + subjectAltNames.count * 280)
        let written = mbedtls_x509write_crt_der(writer, &buffer, buffer.count,
                                                RandomSource.shared.function, RandomSource.shared.context)
        guard written > 0 else { try check(written, "signing"); return [] }
        // mbedTLS writes DER at the end of the buffer.
        return Array(buffer.suffix(Int(written)))
    }

    /// Turns an mbedTLS failure while writing the certificate into a sentence that says which step failed.
    private static func check(_ rc: Int32, _ what: String, as code: GodotError = .failed) throws(Failure) {
        if rc != 0 {
            throw Failure(code, "generate_self_signed_certificate: \(what): \(MbedTLSError.describe(rc))")
        }
    }
}
