// HandshakeThreadsOption.swift — --handshake-threads of `serve` and `bench server`.

import PacketDTLS

enum HandshakeThreadsOption {
    static func apply(_ threads: Int, to server: DTLSServer) throws(CLIFailure) {
        guard threads == 0 else {
            throw .tls("handshake threads are not available in this build")
        }
    }
}
