// DTLSConfiguration+CCMSuites.swift — the AES-CCM suites constrained devices speak, opt-in only.
//
// CoAP (RFC 7252 section 9.1.3) makes TLS_PSK_WITH_AES_128_CCM_8 and
// TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 mandatory, and small devices often have an AES engine and
// nothing else. CCM is AEAD, like every default suite, but these suites never enter the default
// lists: CCM_8's tag is 64 bits (the default suites' are 128), and a peer that can do better
// should. A caller names them with TLSOptions.setCipherSuites.

internal import CMbedTLS

extension DTLSConfiguration {
    /// ECDHE-ECDSA with AES-CCM: forward secret, an ECDSA certificate on the server.
    static let ccmCertificateSuiteIDs: [Int32] = [
        MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8,
        MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_CCM,
        MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8,
        MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_CCM,
    ]

    /// Plain PSK with AES-CCM (mbedTLS 2.28 has no ECDHE-PSK CCM suite, and DHE is left out as
    /// everywhere in PacketDTLS).
    static let ccmPSKSuiteIDs: [Int32] = [
        MBEDTLS_TLS_PSK_WITH_AES_128_CCM_8,
        MBEDTLS_TLS_PSK_WITH_AES_128_CCM,
        MBEDTLS_TLS_PSK_WITH_AES_256_CCM_8,
        MBEDTLS_TLS_PSK_WITH_AES_256_CCM,
    ]

    /// Every suite that needs a certificate (the server's), default or opt-in.
    static let anyCertificateSuiteIDs = certificateSuiteIDs + ccmCertificateSuiteIDs

    /// Every suite that needs a pre-shared key, default or opt-in.
    static let anyPSKSuiteIDs = pskSuiteIDs + ccmPSKSuiteIDs
}
