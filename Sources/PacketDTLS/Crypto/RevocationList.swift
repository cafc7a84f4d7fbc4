// RevocationList.swift — certificate revocation lists, parsed once, immutable.

internal import CMbedTLS

/// One or more CRLs (PEM or DER) in an mbedTLS list at a fixed heap address. Options hold it and
/// configurations keep it alive while mbedTLS points at it.
public final class RevocationList: @unchecked Sendable {
    let crl: UnsafeMutablePointer<mbedtls_x509_crl>

    private init(takingOwnershipOf crl: UnsafeMutablePointer<mbedtls_x509_crl>) {
        self.crl = crl
    }

    deinit {
        mbedtls_x509_crl_free(crl)
        crl.deallocate()
    }

    /// Parses CRLs from PEM text or DER bytes; nil (with the reason recorded) when nothing parses.
    public static func parse(_ bytes: [UInt8], source: String) -> RevocationList? {
        let crl = UnsafeMutablePointer<mbedtls_x509_crl>.allocate(capacity: 1)
        mbedtls_x509_crl_init(crl)
        // mbedTLS takes PEM with its terminating NUL counted.
        var input = bytes
        if input.last != 0, input.starts(with: Array("-----BEGIN".utf8)) { input.append(0) }
        let rc = input.withUnsafeBufferPointer { mbedtls_x509_crl_parse(crl, $0.baseAddress, $0.count) }
        if rc != 0 {
            ErrorReport.set("\(source): not a certificate revocation list: \(MbedTLSError.describe(rc))")
            mbedtls_x509_crl_free(crl)
            crl.deallocate()
            return nil
        }
        return RevocationList(takingOwnershipOf: crl)
    }
}
