// dtls_client.swift — hostile datagrams into the client side of DTLS.
//
// Modes (the first input byte, modulo 4): the datagrams play the server's flights
// (HelloVerifyRequest, ServerHello, Certificate, ServerKeyExchange, ...) to a client that has sent
// its ClientHello and
//   0  verifies nothing (clientUnsafe);
//   1  verifies the certificate against a trusted chain and the hostname "localhost";
//   2  authenticates with a pre-shared key;
// or (3) they go to a client connected to a real server.
// See Support/FuzzInput.swift for how the rest of the input becomes datagrams.

import PacketDTLS

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDTLSClient(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = FuzzInput(data, size)
    let links = FuzzLink.pair()
    let kinds: [Handshake.ClientKind] = [.unsafe, .verifying, .psk]
    switch Int(input.mode % 4) {
    case let mode where mode < kinds.count:
        let client = Handshake.startClient(links.client, kinds[mode])
        deliver(input.datagrams, to: client, over: links.client)
        _ = client.getPeerCertificate()?.certificates
        _ = client.getVerifyText()
    default:
        let (client, _) = Handshake.connected(links)
        deliver(input.datagrams, to: client, over: links.client)
    }
    return 0
}
