// HandshakeThreadsOption.swift — --handshake-threads of `serve` and `bench server`.

import PacketDTLS

enum HandshakeThreadsOption {
    static let help = "Threads for the servers' handshakes (DTLSServer.set_handshake_threads): 0 runs them in the "
        + "server loop (Godot's way), -1 one per core."

    static func apply(_ threads: Int, to server: DTLSServer) throws(CLIFailure) {
        guard server.setHandshakeThreads(threads) == .ok else {
            throw .tls("set_handshake_threads(\(threads)): \(ErrorReport.message)")
        }
    }
}
