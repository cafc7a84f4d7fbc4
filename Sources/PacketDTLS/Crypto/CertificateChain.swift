// CertificateChain.swift — one parsed certificate chain, immutable once made.

internal import CMbedTLS

/// An mbedTLS certificate list at a fixed heap address. An X509Certificate points at one
/// CertificateChain and swaps it whole when loaded again; configurations that hold the old one
/// keep it alive.
final class CertificateChain: @unchecked Sendable {
    let crt: UnsafeMutablePointer<mbedtls_x509_crt>
    /// How many certificates the list holds (>= 1).
    let count: Int

    /// Takes ownership of an initialised list holding at least one certificate.
    init(takingOwnershipOf crt: UnsafeMutablePointer<mbedtls_x509_crt>) {
        self.crt = crt
        var count = 0
        var node: UnsafeMutablePointer<mbedtls_x509_crt>? = crt
        while let current = node, current.pointee.raw.len > 0 {
            count += 1
            node = current.pointee.next
        }
        self.count = count
    }

    deinit {
        mbedtls_x509_crt_free(crt)
        crt.deallocate()
    }

    /// The DER bytes of each certificate, in order.
    var derCertificates: [[UInt8]] {
        var result: [[UInt8]] = []
        var node: UnsafeMutablePointer<mbedtls_x509_crt>? = crt
        while let current = node, current.pointee.raw.len > 0 {
            result.append(Array(UnsafeBufferPointer(start: current.pointee.raw.p, count: current.pointee.raw.len)))
            node = current.pointee.next
        }
        return result
    }
}
