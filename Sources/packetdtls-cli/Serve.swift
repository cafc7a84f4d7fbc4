// Serve.swift — `packetdtls-cli serve`: a DTLS echo server on one UDP socket.

import ArgumentParser
import PacketDTLS

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a DTLS echo server: every packet a client sends comes back to it.",
        discussion: """
            Without --cert and --key the server makes a throwaway self-signed EC P-256 certificate in \
            memory (CN=localhost, names localhost, 127.0.0.1 and ::1); clients then need --insecure. \
            Each client's connect, handshake result (with the cipher suite), disconnect and error is \
            logged on stderr with its address. SIGINT or SIGTERM ends every session with close_notify \
            and exits 0.
            """
    )

    @Option(help: "UDP port to listen on; 0 picks a free one (the 'listening on' line names it).")
    var port: Int = 4433

    @Option(help: "Address to bind: an IPv4 or IPv6 address, or * for every address.")
    var bind: String = "*"

    @Option(help: ArgumentHelp("Certificate (PEM or DER; may hold a chain, leaf first).", valueName: "file"))
    var cert: String?

    @Option(help: ArgumentHelp("Private key of the certificate (PEM or DER).", valueName: "file"))
    var key: String?

    @Option(help: "Clients that may wait for their handshake to start (UDPServer.max_pending_connections).")
    var maxPending: Int = UDPServer.defaultMaxPendingConnections

    @Option(help: ArgumentHelp("Close a session after this many seconds without a datagram (0 = never).",
                               valueName: "seconds"))
    var idleTimeout: Double = 120

    @Option(help: ArgumentHelp("Append every session's secrets to this file (NSS key log format, as SSLKEYLOGFILE) "
                               + "so Wireshark or tshark can decrypt a capture. Keep it secret.", valueName: "file"))
    var keylog: String?

    @Option(help: ArgumentHelp(CipherSuiteOption.help, valueName: "list"))
    var ciphers: String?

    @Flag(help: "Log only errors and where the server listens.")
    var quiet = false

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be in 0...65535") }
        guard (cert == nil) == (key == nil) else {
            throw ValidationError("--cert and --key go together (give both, or neither for a throwaway certificate)")
        }
        guard maxPending >= 0 else { throw ValidationError("--max-pending must be 0 or more") }
        guard idleTimeout >= 0, idleTimeout <= 86400 else {
            throw ValidationError("--idle-timeout must be in 0...86400 seconds")
        }
        if let keylog, keylog.isEmpty { throw ValidationError("--keylog must not be empty") }
    }

    func run() throws {
        let log = Log(quiet: quiet)
        let identity: Identity
        if let cert, let key {
            identity = try Identity.load(keyPath: key, certificatePath: cert)
            log.info("certificate \(cert): \(identity.summary)")
        } else {
            identity = try Identity.selfSigned(commonName: "localhost",
                                               subjectAltNames: ["DNS:localhost", "IP:127.0.0.1", "IP:::1"], days: 1)
            log.info("throwaway self-signed certificate: \(identity.summary)")
        }
        let options = TLSOptions.server(key: identity.key, certificate: identity.certificate)
        options.setIdleTimeout(ms: idleTimeout > 0 ? UInt32(Clock.milliseconds(idleTimeout)) : 0)
        if let keylog, options.setKeyLogPath(keylog) != .ok { throw CLIFailure.usage("--keylog: \(ErrorReport.message)") }
        try CipherSuiteOption.apply(ciphers, to: options)
        let server = EchoServer(options: options, log: log)
        try server.listen(port: port, bindAddress: bind, maxPending: maxPending)
        StopSignal.install()
        server.run()
    }
}
