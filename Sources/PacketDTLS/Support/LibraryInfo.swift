// LibraryInfo.swift — the library's version, and the mbedTLS it runs on.

internal import CMbedTLS
#if canImport(Glibc)
import Glibc
#endif

public enum LibraryInfo {
    public static let major = Int(DTLS_VERSION_MAJOR)
    public static let minor = Int(DTLS_VERSION_MINOR)
    public static let patch = Int(DTLS_VERSION_PATCH)

    /// The mbedTLS version found at run time, e.g. "2.28.3".
    public static var mbedTLSVersion: String {
        var buffer = [CChar](repeating: 0, count: 18)
        mbedtls_version_get_string(&buffer)
        return String(cBuffer: buffer)
    }

    /// "PacketDTLS 0.1.0 (mbedTLS 2.28.3)".
    public static let version = "PacketDTLS \(major).\(minor).\(patch) (mbedTLS \(mbedTLSVersion))"

    /// `version` as a C string that lives as long as the process.
    nonisolated(unsafe) public static let versionCString: UnsafePointer<CChar> = UnsafePointer(strdup(version)!)
}
