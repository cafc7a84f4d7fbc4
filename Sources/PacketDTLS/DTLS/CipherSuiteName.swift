// CipherSuiteName.swift — cipher-suite names between mbedTLS's spelling and IANA's.

internal import CMbedTLS

/// mbedTLS spells suites with dashes ("TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256"); Godot, IANA and
/// PacketDTLS's API with underscores. Every conversion goes through here.
enum CipherSuiteName {
    /// The IANA form of an mbedTLS suite name.
    static func iana(_ mbedTLSName: UnsafePointer<CChar>) -> String {
        String(String(cString: mbedTLSName).map { $0 == "-" ? "_" : $0 })
    }

    /// The IANA name of suite `id`; nil when mbedTLS does not know it.
    static func iana(id: Int32) -> String? {
        mbedtls_ssl_get_ciphersuite_name(id).map(iana)
    }

    /// The suite an IANA name (or mbedTLS's dashed one) stands for; 0 when mbedTLS knows none.
    static func id(_ name: String) -> Int32 {
        mbedtls_ssl_get_ciphersuite_id(String(name.map { $0 == "_" ? "-" : $0 }))
    }
}
