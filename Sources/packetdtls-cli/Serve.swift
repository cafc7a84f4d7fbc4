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

            Fleets: --keys FILE (from `gen-keys`) loads the cookie and session-ticket keys, so servers \
            sharing the file resume each other's sessions, and a restarted server resumes its own. \
            --reuse-port lets several servers listen on one port (SO_REUSEPORT: the kernel spreads \
            clients over them). --processes N does both for you: N server processes on one port \
            sharing one key file (--keys, or a throwaway one) and one certificate; each log line \
            names its process as [k/N]. SIGHUP loads the --keys file again (`gen-keys --rotate FILE` \
            rotates it; sessions of the previous keys still resume), in every process.
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
    var idleTimeout: Double = 300

    @Option(help: ArgumentHelp("Append every session's secrets to this file (NSS key log format, as SSLKEYLOGFILE) "
                               + "so Wireshark or tshark can decrypt a capture. Keep it secret.", valueName: "file"))
    var keylog: String?

    @Option(help: ArgumentHelp(CipherSuiteOption.help, valueName: "list"))
    var ciphers: String?

    @Option(parsing: .unconditional,
            help: ArgumentHelp(HandshakeThreadsOption.help + " The public-key work of a join then never holds up "
                               + "the clients already connected; the threads run at the loop's own priority "
                               + "(set_handshake_threads_nice 0).", valueName: "n"))
    var handshakeThreads: Int = -1

    @Option(help: ArgumentHelp("Send each client a keepalive (the Finished record again) after this long with nothing sent "
                               + "(0 = never).", valueName: "seconds"))
    var keepalive: Double = 0

    @Flag(help: "Log only errors and where the server listens.")
    var quiet = false

    @Option(help: ArgumentHelp("Load the cookie and session-ticket keys from this key file (see gen-keys).",
                               valueName: "file"))
    var keys: String?

    @Flag(help: "Listen with SO_REUSEPORT, so other servers of this user may share the port.")
    var reusePort = false

    @Option(help: ArgumentHelp("Run this many server processes on one port, sharing keys and certificate.",
                               valueName: "n"))
    var processes = 1

    @Option(help: .hidden)
    var processLabel = ""

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be in 0...65535") }
        guard (cert == nil) == (key == nil) else {
            throw ValidationError("--cert and --key go together (give both, or neither for a throwaway certificate)")
        }
        guard (-1...DTLSServer.maxHandshakeThreads).contains(handshakeThreads) else {
            throw ValidationError("--handshake-threads must be in -1...\(DTLSServer.maxHandshakeThreads)")
        }
        guard maxPending >= 0 else { throw ValidationError("--max-pending must be 0 or more") }
        guard idleTimeout >= 0, idleTimeout <= 86400 else {
            throw ValidationError("--idle-timeout must be in 0...86400 seconds")
        }
        if let keylog, keylog.isEmpty { throw ValidationError("--keylog must not be empty") }
        guard keepalive >= 0, keepalive <= 86400 else { throw ValidationError("--keepalive must be in 0...86400 seconds") }
        guard (1...ServeProcesses.maximum).contains(processes) else {
            throw ValidationError("--processes must be in 1...\(ServeProcesses.maximum)")
        }
        if let keys, keys.isEmpty { throw ValidationError("--keys must not be empty") }
    }

    func run() throws {
        if processes > 1 {
            try ServeProcesses(serve: self).run()
            return
        }
        let log = Log(quiet: quiet, label: processLabel)
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
        options.setKeepalive(ms: keepalive > 0 ? UInt32(Clock.milliseconds(keepalive)) : 0)
        try CipherSuiteOption.apply(ciphers, to: options)
        let server = EchoServer(options: options, log: log)
        try server.listen(port: port, bindAddress: bind, maxPending: maxPending, keyFile: keys, reusePort: reusePort,
                          handshakeThreads: handshakeThreads)
        StopSignal.install()
        server.run(keyFile: keys)
    }
}
