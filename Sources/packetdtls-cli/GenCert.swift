// GenCert.swift — `packetdtls-cli gen-cert`: a private key and a self-signed certificate for it.

import ArgumentParser
import PacketDTLS
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

struct GenCert: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gen-cert",
        abstract: "Write a new private key (mode 0600) and a self-signed certificate for it.",
        discussion: """
            The key is EC P-256 unless --rsa BITS is given. The certificate names --cn as its subject \
            and, as subjectAltNames, the --san entries (DNS:name or IP:address, comma-separated or \
            repeated); without --san, the common name itself when it is a host name or address. \
            Clients verify against it with `connect --ca CERT`. Existing files are kept unless --force.
            """
    )

    @Option(help: ArgumentHelp("Where to write the private key (PEM).", valueName: "file"))
    var keyOut = "key.pem"

    @Option(help: ArgumentHelp("Where to write the certificate (PEM).", valueName: "file"))
    var certOut = "cert.pem"

    @Option(help: ArgumentHelp("Make an RSA key of this many bits (2048, 3072, 4096...) instead of EC P-256.",
                               valueName: "bits"))
    var rsa: Int?

    @Option(help: "The certificate's common name.")
    var cn = "localhost"

    @Option(help: ArgumentHelp("subjectAltName entries: DNS:name or IP:address, comma-separated or repeated.",
                               valueName: "entries"))
    var san: [String] = []

    @Option(help: "Days the certificate is valid.")
    var days = 365

    @Flag(help: "Overwrite existing files.")
    var force = false

    func validate() throws {
        guard (1...36500).contains(days) else { throw ValidationError("--days must be in 1...36500") }
        if let rsa, !Crypto.rsaSizeRange.contains(rsa) || rsa % 2 != 0 {
            throw ValidationError("--rsa must be an even number of bits in \(Crypto.rsaSizeRange)")
        }
        guard !cn.isEmpty else { throw ValidationError("--cn must not be empty") }
        guard keyOut != certOut else { throw ValidationError("--key-out and --cert-out must be different files") }
        for entry in givenSubjectAltNames where !Self.isSubjectAltName(entry) {
            throw ValidationError("--san entry '\(entry)' is not DNS:name or IP:address (a name of letters, "
                + "digits, '-', '.', '_' and '*'; an IPv4 or IPv6 address)")
        }
    }

    /// True for "DNS:name", "IP:address", or a bare name or address, as the library accepts them.
    static func isSubjectAltName(_ entry: String) -> Bool {
        let lowered = entry.lowercased()
        if lowered.hasPrefix("ip:") { return isAddress(String(entry.dropFirst(3))) }
        let name = lowered.hasPrefix("dns:") ? String(entry.dropFirst(4)) : entry
        if !lowered.hasPrefix("dns:"), isAddress(name) { return true }
        return !name.isEmpty && name.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A)
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_")
                || byte == UInt8(ascii: "*")
        }
    }

    private static func isAddress(_ text: String) -> Bool {
        var bytes = [UInt8](repeating: 0, count: 16)
        return inet_pton(AF_INET, text, &bytes) == 1 || inet_pton(AF_INET6, text, &bytes) == 1
    }

    func run() throws {
        if !force {
            for path in [keyOut, certOut] where access(path, F_OK) == 0 {
                throw CLIFailure.usage("'\(path)' exists; choose another name or give --force to overwrite it")
            }
        }
        let names = subjectAltNames
        let identity = try Identity.selfSigned(commonName: cn, subjectAltNames: names, days: days, rsaBits: rsa)
        guard identity.key.save(path: keyOut) == .ok else {
            throw CLIFailure.tls("cannot write the key to '\(keyOut)': \(ErrorReport.message)")
        }
        guard identity.certificate.save(path: certOut) == .ok else {
            throw CLIFailure.tls("cannot write the certificate to '\(certOut)': \(ErrorReport.message)")
        }
        // Read both back, as a server would, so a file that cannot be used is noticed here.
        let reloaded = try Identity.load(keyPath: keyOut, certificatePath: certOut)
        let kind = rsa.map { "RSA \($0)-bit" } ?? "EC P-256"
        Output.line("wrote \(keyOut) (\(kind) private key, mode 0600)")
        let sans = names.isEmpty ? "" : " for \(names.joined(separator: ", "))"
        Output.line("wrote \(certOut) (self-signed\(sans): \(reloaded.summary))")
    }

    /// The --san entries split at commas.
    private var givenSubjectAltNames: [String] {
        san.flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters() }
            .filter { !$0.isEmpty }
    }

    /// The --san entries, or the common name when it can serve as one (a host name or address).
    private var subjectAltNames: [String] {
        let given = givenSubjectAltNames
        if !given.isEmpty { return given }
        return Self.isSubjectAltName(cn) && !cn.lowercased().hasPrefix("dns:") && !cn.lowercased().hasPrefix("ip:")
            ? [cn] : []
    }
}

private extension Substring {
    func trimmingCharacters() -> String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
