// FuzzIdentity.swift — the state every DTLS fuzz input shares, made once per process.

import PacketDTLS

enum FuzzIdentity {
    /// An EC P-256 key and a self-signed certificate for "localhost", made by the library itself.
    static let shared: (key: CryptoKey, certificate: X509Certificate) = {
        guard let key = Crypto.generateECP256(),
              let certificate = Crypto.generateSelfSignedCertificate(
                  key: key, issuerName: "CN=localhost,O=PacketDTLS fuzz",
                  notBefore: "20240101000000", notAfter: "20440101000000", subjectAltNames: ["DNS:localhost"])
        else { fatalError("fuzz set-up: can't make a key and certificate") }
        return (key, certificate)
    }()

    /// The pre-shared key the server accepts beside its certificate. A plain-PSK handshake needs no
    /// public-key operation, so the targets that fuzz a connected peer set one up 10x faster.
    static let pskIdentity = "fuzz", pskKey = [UInt8](repeating: 0x42, count: 16)

    /// One server for every input: its cookie secret stays, as on a long-running server.
    static let server: DTLSServer = {
        let options = TLSOptions.server(key: shared.key, certificate: shared.certificate)
        let server = DTLSServer()
        guard options.addPSK(identity: pskIdentity, key: pskKey) == .ok,
              server.setup(serverOptions: options) == .ok else {
            fatalError("fuzz set-up: DTLSServer.setup failed")
        }
        return server
    }()
}

/// The status must be one of the five the C ABI documents.
func checkStatus(_ peer: PacketPeerDTLS) {
    let raw = peer.getStatus().rawValue
    guard raw <= 4 else { fatalError("status out of range: \(raw)") }
    _ = peer.getErrorMessage()
}
