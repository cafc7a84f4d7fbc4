// ServerIdentity.swift — the certificate list a DTLS server presents: leaf, then intermediates.

internal import CMbedTLS

extension CertificateChain {
    /// One list holding `leaf`'s certificates followed by `intermediates`' — what a server sends.
    /// Godot 3 stored the `chain` argument of setup() and never sent it; we send it.
    static func joining(_ leaf: CertificateChain, _ intermediates: CertificateChain?) -> CertificateChain? {
        guard let intermediates else { return leaf }
        let crt = UnsafeMutablePointer<mbedtls_x509_crt>.allocate(capacity: 1)
        mbedtls_x509_crt_init(crt)
        for der in leaf.derCertificates + intermediates.derCertificates {
            let rc = der.withUnsafeBufferPointer { mbedtls_x509_crt_parse_der(crt, $0.baseAddress, $0.count) }
            if rc != 0 {
                ErrorReport.set("the certificate chain could not be joined: \(MbedTLSError.describe(rc))")
                mbedtls_x509_crt_free(crt)
                crt.deallocate()
                return nil
            }
        }
        return CertificateChain(takingOwnershipOf: crt)
    }
}

extension CertificateChain {
    /// A copy of the certificates from `first` on, e.g. a peer's chain that mbedTLS owns.
    static func copying(_ first: UnsafePointer<mbedtls_x509_crt>) -> CertificateChain? {
        let crt = UnsafeMutablePointer<mbedtls_x509_crt>.allocate(capacity: 1)
        mbedtls_x509_crt_init(crt)
        var node: UnsafePointer<mbedtls_x509_crt>? = first
        while let current = node, current.pointee.raw.len > 0 {
            if mbedtls_x509_crt_parse_der(crt, current.pointee.raw.p, current.pointee.raw.len) != 0 { break }
            node = UnsafePointer(current.pointee.next)
        }
        guard crt.pointee.raw.len > 0 else {
            mbedtls_x509_crt_free(crt)
            crt.deallocate()
            return nil
        }
        return CertificateChain(takingOwnershipOf: crt)
    }
}
