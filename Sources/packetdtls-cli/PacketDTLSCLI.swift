// PacketDTLSCLI.swift — the `packetdtls-cli` command: DTLS echo server, client and certificate maker.
//
// Named packetdtls-cli because SwiftPM cannot have a library product and an executable product
// both called packetdtls. It uses only the public Swift API of the PacketDTLS module.

import ArgumentParser
import PacketDTLS
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

@main
struct PacketDTLSCLI: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "packetdtls-cli",
        abstract: "DTLS 1.2 echo server, client, certificate maker and benchmark, built on PacketDTLS.",
        discussion: """
            Exit status: 0 success, 1 TLS failure (handshake, certificate verification, unusable key \
            or certificate), 2 usage error, 3 network failure (cannot resolve, cannot bind, no answer, \
            time-out), 130 interrupted.
            """,
        version: LibraryInfo.version,
        subcommands: [Serve.self, Connect.self, GenCert.self, GenKeys.self, Bench.self]
    )

    /// Parses and runs the subcommand, mapping failures to the documented exit statuses: a usage
    /// error exits 2 (ArgumentParser's own default would be 64), a CLIFailure exits with its status.
    static func main() {
        var command: ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            exitForParseError(error)
        }
        do {
            try command.run()
        } catch let failure as CLIFailure {
            Output.error("packetdtls-cli: \(failure.message)")
            Glibc.exit(failure.status.rawValue)
        } catch {
            exitForParseError(error)
        }
    }

    private static func exitForParseError(_ error: Error) -> Never {
        if exitCode(for: error) == .validationFailure {
            Output.error(fullMessage(for: error))
            Glibc.exit(ExitStatus.usage.rawValue)
        }
        exit(withError: error)
    }
}
