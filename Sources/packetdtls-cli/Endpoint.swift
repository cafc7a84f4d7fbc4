// Endpoint.swift — "HOST:PORT" on the command line, and "ip:port" labels for peers in the log.

import ArgumentParser

/// A host (name, IPv4 address, or IPv6 address in brackets) and a UDP port.
struct Endpoint: ExpressibleByArgument, CustomStringConvertible {
    let host: String
    let port: Int

    /// Accepts "host:port", "192.0.2.1:port" and "[2001:db8::1]:port".
    init?(argument: String) {
        let host: Substring
        let portText: Substring
        if argument.hasPrefix("[") {
            guard let close = argument.firstIndex(of: "]"),
                  argument[argument.index(after: close)...].hasPrefix(":") else { return nil }
            host = argument[argument.index(after: argument.startIndex)..<close]
            portText = argument[argument.index(close, offsetBy: 2)...]
        } else {
            guard let colon = argument.lastIndex(of: ":") else { return nil }
            host = argument[..<colon]
            portText = argument[argument.index(after: colon)...]
            if host.contains(":") { return nil }  // a bare IPv6 address needs brackets
        }
        guard !host.isEmpty, let port = Int(portText), (1...65535).contains(port) else { return nil }
        self.host = String(host)
        self.port = port
    }

    static var defaultCompletionKind: CompletionKind { .default }

    var description: String { Self.label(host: host, port: port) }

    /// "host:port", with brackets around an IPv6 address.
    static func label(host: String, port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}
