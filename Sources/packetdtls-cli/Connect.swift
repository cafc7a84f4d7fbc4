// Connect.swift — `packetdtls-cli connect HOST:PORT`: a DTLS client that sends lines and prints replies.

import ArgumentParser
import PacketDTLS

struct Connect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Connect to a DTLS server, send each line of stdin as a packet, and print each reply.",
        discussion: """
            The server's certificate is verified against the system CA bundle, or against --ca FILE; \
            --insecure skips verification (with --ca it checks the chain but not the name). \
            "connected to HOST:PORT (SUITE)" goes to stderr once the handshake is done; replies go to \
            stdout, one per line. With --message the text is sent --count times, one reply awaited \
            for each, instead of reading stdin. Exit status: 0 done, 1 handshake or verification \
            failed, 2 usage, 3 cannot resolve, no answer, or time-out.
            """
    )

    @Argument(help: ArgumentHelp("The server, as host:port, 192.0.2.1:port or [2001:db8::1]:port.",
                                 valueName: "host:port"))
    var server: Endpoint

    @Option(help: ArgumentHelp("Trust only these CA certificates (PEM or DER) instead of the system's.",
                               valueName: "file"))
    var ca: String?

    @Option(help: "The name the certificate must carry (and the SNI sent); default: the host given.")
    var hostname: String?

    @Flag(help: "Do not verify the server's certificate name (nor its chain, unless --ca is given).")
    var insecure = false

    @Option(help: "Send this text instead of reading stdin.")
    var message: String?

    @Option(help: "With --message: how many times to send it, awaiting each reply.")
    var count: Int?

    @Option(help: ArgumentHelp("Give up on the handshake, or on the replies to --message, after this long.",
                               valueName: "seconds"))
    var timeout: Double = 10

    @Option(help: ArgumentHelp("After stdin ends, wait this long for replies still due.", valueName: "seconds"))
    var linger: Double = 2

    @Option(help: ArgumentHelp("Append the session's secrets to this file (NSS key log format, as SSLKEYLOGFILE) "
                               + "so Wireshark or tshark can decrypt a capture. Keep it secret.", valueName: "file"))
    var keylog: String?

    @Option(help: ArgumentHelp(CipherSuiteOption.help, valueName: "list"))
    var ciphers: String?

    @Option(help: ArgumentHelp("Send a keepalive (the Finished record again) after this long with nothing sent; 0 = never.",
                               valueName: "seconds"))
    var keepalive: Double = 0

    func validate() throws {
        if let count {
            guard message != nil else { throw ValidationError("--count needs --message TEXT") }
            guard count >= 1 else { throw ValidationError("--count must be 1 or more") }
        }
        guard timeout > 0, timeout <= 86400 else { throw ValidationError("--timeout must be in (0, 86400] seconds") }
        guard linger >= 0, linger <= 86400 else { throw ValidationError("--linger must be in 0...86400 seconds") }
        if let hostname, hostname.isEmpty { throw ValidationError("--hostname must not be empty") }
        if let keylog, keylog.isEmpty { throw ValidationError("--keylog must not be empty") }
        guard keepalive >= 0, keepalive <= 86400 else { throw ValidationError("--keepalive must be in 0...86400 seconds") }
    }

    func run() throws {
        StopSignal.install()
        let client = EchoClient(server: server, timeoutMs: Clock.milliseconds(timeout))
        try client.connect(options: try clientOptions(), hostname: hostname ?? server.host)
        if let message {
            try client.exchange(Array(message.utf8), times: count ?? 1)
        } else {
            try client.relayStandardInput(lingerMs: Clock.milliseconds(linger))
        }
        client.close()
    }

    /// TLSOptions.client (verify chain and name), or clientUnsafe for --insecure; --ca replaces the
    /// system bundle in both.
    private func clientOptions() throws(CLIFailure) -> TLSOptions {
        var trusted: X509Certificate?
        if let ca {
            let certificate = X509Certificate()
            guard certificate.load(path: ca) == .ok else {
                throw .tls("cannot load the CA certificates from '\(ca)': \(ErrorReport.message)")
            }
            trusted = certificate
        }
        let options = insecure
            ? TLSOptions.clientUnsafe(trustedChain: trusted)
            : TLSOptions.client(trustedChain: trusted)
        // Retransmit from 1 s, doubling, within the time-out; the client's own deadline stops it
        // exactly at --timeout. No idle time-out: an interactive user may think for a while.
        let limit = UInt32(min(Clock.milliseconds(timeout), 3_600_000))
        options.setHandshakeTimeout(minMs: min(1000, limit), maxMs: limit)
        options.setIdleTimeout(ms: 0)
        options.setKeepalive(ms: keepalive > 0 ? UInt32(Clock.milliseconds(keepalive)) : 0)
        if let keylog, options.setKeyLogPath(keylog) != .ok { throw CLIFailure.usage("--keylog: \(ErrorReport.message)") }
        try CipherSuiteOption.apply(ciphers, to: options)
        return options
    }
}
