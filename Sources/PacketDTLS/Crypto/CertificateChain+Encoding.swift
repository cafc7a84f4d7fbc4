// CertificateChain+Encoding.swift — parsing certificate chains from PEM/DER and writing them as PEM.

internal import CMbedTLS

extension CertificateChain {
    /// Parses every certificate in `input`: PEM (NUL-terminated, any number of CERTIFICATE blocks)
    /// or DER (one certificate, or several concatenated). All must parse: a chain with one bad
    /// member is refused whole rather than silently shortened.
    static func parse(_ input: UnsafeBufferPointer<UInt8>, isPEM: Bool, source: String) throws(Failure)
        -> CertificateChain {
        let crt = UnsafeMutablePointer<mbedtls_x509_crt>.allocate(capacity: 1)
        mbedtls_x509_crt_init(crt)
        let rc = isPEM ? mbedtls_x509_crt_parse(crt, input.baseAddress, input.count)
                       : parseConcatenatedDER(input, into: crt)
        guard rc == 0, crt.pointee.raw.len > 0 else {
            mbedtls_x509_crt_free(crt)
            crt.deallocate()
            let reason = rc > 0 ? "\(rc) of its certificates do not parse"
                       : rc < 0 ? MbedTLSError.describe(rc) : "it holds no certificate"
            throw Failure(.parseError, "\(source) is not a certificate (chain): \(reason)")
        }
        return CertificateChain(takingOwnershipOf: crt)
    }

    /// mbedtls_x509_crt_parse takes one DER certificate; this walks a concatenation of them,
    /// using each parsed certificate's own length to find the next.
    private static func parseConcatenatedDER(_ input: UnsafeBufferPointer<UInt8>,
                                             into crt: UnsafeMutablePointer<mbedtls_x509_crt>) -> Int32 {
        guard let base = input.baseAddress, !input.isEmpty else { return MBEDTLS_ERR_X509_INVALID_FORMAT }
        var offset = 0
        while offset < input.count {
            let rc = mbedtls_x509_crt_parse_der(crt, base + offset, input.count - offset)
            guard rc == 0 else { return rc }
            var last = crt
            while let next = last.pointee.next { last = next }
            offset += last.pointee.raw.len
        }
        return 0
    }

    /// Every certificate of the chain, in order, as PEM blocks.
    func pem() throws(Failure) -> String {
        var text = ""
        for der in derCertificates {
            // Base64 grows 4/3, plus a line break per 64 characters and the two armour lines.
            var output = [UInt8](repeating: 0, count: der.count * 2 + 128)
            var length = 0
            let rc = mbedtls_pem_write_buffer("-----BEGIN CERTIFICATE-----\n", "-----END CERTIFICATE-----\n",
                                              der, der.count, &output, output.count, &length)
            guard rc == 0 else {
                throw Failure(.failed, "can't encode a certificate as PEM: \(MbedTLSError.describe(rc))")
            }
            // `length` counts the NUL mbedTLS appends.
            text += String(decoding: output.prefix(max(length - 1, 0)), as: UTF8.self)
        }
        return text
    }

    /// The certificates as parsed mbedTLS nodes, leaf first.
    var nodes: [UnsafeMutablePointer<mbedtls_x509_crt>] {
        var result: [UnsafeMutablePointer<mbedtls_x509_crt>] = []
        var node: UnsafeMutablePointer<mbedtls_x509_crt>? = crt
        while let current = node, current.pointee.raw.len > 0 {
            result.append(current)
            node = current.pointee.next
        }
        return result
    }
}
