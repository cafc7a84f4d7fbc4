// dtls_server.swift — hostile datagrams into the server side of DTLS.
//
// Modes (the first input byte, modulo 4):
//   0  a fresh server: the datagrams go to DTLSServer.takeConnection (ClientHello and cookie check),
//      then to the peer it starts, if any;
//   1  a server-side peer past a real cookie round with a certificate client, mid-handshake (it
//      has sent ServerHello..ServerHelloDone and waits for ClientKeyExchange);
//   2  the same with a PSK client (the PSK identity lookup);
//   3  a server-side peer connected to a real client.
// See Support/FuzzInput.swift for how the rest of the input becomes datagrams.

import PacketDTLS

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDTLSServer(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = FuzzInput(data, size)
    let links = FuzzLink.pair()
    switch input.mode % 4 {
    case 0:
        var remaining = input.datagrams[...]
        while let first = remaining.first {
            remaining = remaining.dropFirst()
            links.server.inject(first)
            guard let peer = FuzzIdentity.server.takeConnection(links.server) else { continue }
            checkStatus(peer)
            if peer.getStatus() == .handshaking {
                deliver(Array(remaining), to: peer, over: links.server)
                break
            }
        }
    case 1, 2:
        let client = Handshake.startClient(links.client, input.mode % 4 == 1 ? .unsafe : .psk)
        let peer = Handshake.accept(links, client: client)
        deliver(input.datagrams, to: peer, over: links.server)
    default:
        let (_, peer) = Handshake.connected(links)
        deliver(input.datagrams, to: peer, over: links.server)
    }
    return 0
}
