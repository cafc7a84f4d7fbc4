// CipherSuiteOption.swift — `--ciphers`, shared by serve and connect.

import PacketDTLS

enum CipherSuiteOption {
    static let help = "Only these cipher suites, in this order (comma-separated IANA names, e.g. "
        + "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256); default: ChaCha20-Poly1305, then AES-GCM. "
        + "AES-CCM (e.g. TLS_PSK_WITH_AES_128_CCM_8, for CoAP devices) only when named here."

    /// Narrows `options` to the comma-separated suites in `list`; nil leaves the defaults.
    static func apply(_ list: String?, to options: TLSOptions) throws(CLIFailure) {
        guard let list else { return }
        let names = list.split(separator: ",").map { String($0).trimmingSpaces }.filter { !$0.isEmpty }
        guard options.setCipherSuites(names) == .ok else { throw .usage("--ciphers: \(ErrorReport.message)") }
    }
}

private extension String {
    var trimmingSpaces: String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
