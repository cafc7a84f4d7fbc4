// SystemTrustStore.swift — the system's CA bundle, parsed once and shared.

internal import CMbedTLS
#if canImport(Glibc)
import Glibc
#endif

/// Clients that verify without a chain of their own trust the system bundle, as Godot does.
/// Parsing it takes milliseconds, so it is done on first use and kept for the process.
enum SystemTrustStore {
    /// Where Debian, Ubuntu and Alpine keep the bundle, then Fedora/RHEL, then SUSE.
    static let candidatePaths = [
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/pki/tls/certs/ca-bundle.crt",
        "/etc/ssl/ca-bundle.pem",
    ]

    private static let lock = Lock()
    nonisolated(unsafe) private static var cached: CertificateChain?

    /// The parsed bundle, or nil (with the reason recorded) when no bundle can be read.
    static func chain() -> CertificateChain? {
        lock.withLock {
            if let cached { return cached }
            for path in candidatePaths where access(path, R_OK) == 0 {
                let crt = UnsafeMutablePointer<mbedtls_x509_crt>.allocate(capacity: 1)
                mbedtls_x509_crt_init(crt)
                // A positive result counts certificates that failed to parse; the rest are usable.
                let rc = mbedtls_x509_crt_parse_file(crt, path)
                if rc >= 0, crt.pointee.raw.len > 0 {
                    cached = CertificateChain(takingOwnershipOf: crt)
                    return cached
                }
                mbedtls_x509_crt_free(crt)
                crt.deallocate()
            }
            ErrorReport.set("no system CA bundle could be read (tried \(candidatePaths.joined(separator: ", "))); "
                + "pass a trusted chain, or install the ca-certificates package")
            return nil
        }
    }
}
