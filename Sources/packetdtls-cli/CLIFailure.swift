// CLIFailure.swift — why a command stopped, and the exit status that says so.

/// The exit statuses every subcommand uses.
enum ExitStatus: Int32 {
    case success = 0
    /// The handshake failed, the certificate did not verify, or a key or certificate is unusable.
    case tlsFailure = 1
    /// Bad arguments (ArgumentParser's validation errors are mapped here too).
    case usage = 2
    /// Cannot resolve, cannot bind (port in use), no answer within the time-out, transport errors.
    case network = 3
    /// SIGINT or SIGTERM ended a client before it was done (128 + SIGINT, as shells report it).
    case interrupted = 130
}

/// A failure to report in one sentence on stderr, then exit with `status`.
struct CLIFailure: Error {
    let status: ExitStatus
    let message: String

    static func tls(_ message: String) -> CLIFailure { CLIFailure(status: .tlsFailure, message: message) }
    static func network(_ message: String) -> CLIFailure { CLIFailure(status: .network, message: message) }
    static func usage(_ message: String) -> CLIFailure { CLIFailure(status: .usage, message: message) }
}
