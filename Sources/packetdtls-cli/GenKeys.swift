// GenKeys.swift — `packetdtls-cli gen-keys PATH`: a key file for servers that share their keys.

import ArgumentParser
import PacketDTLS
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

struct GenKeys: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gen-keys",
        abstract: "Write a new server key file (cookie and session-ticket keys, mode 0600).",
        discussion: """
            Servers that load one key file (`serve --keys PATH`, DTLSServer.load_keys) accept each \
            other's HelloVerifyRequest cookies and resume each other's sessions, and a restarted server \
            resumes the sessions it made before. The file is secret: whoever reads it can decrypt session \
            tickets. The format is in docs/BEYOND_GODOT.md. An existing file is kept unless --force; \
            with --force it is replaced whole (a new file renamed over it). --rotate keeps the file's \
            current keys as the previous and adds new current ones: copy the file to every server and \
            send them SIGHUP (serve) or call load_keys; tickets of the previous keys still resume, those \
            of the keys before them get a full handshake.
            """
    )

    @Argument(help: ArgumentHelp("Where to write the key file.", valueName: "path"))
    var path: String

    @Flag(help: "Overwrite an existing file.")
    var force = false

    @Flag(help: "Rotate the keys of an existing file: new current keys, the current ones kept as the previous.")
    var rotate = false

    func validate() throws {
        guard !path.isEmpty else { throw ValidationError("the path must not be empty") }
        guard !(force && rotate) else { throw ValidationError("--force and --rotate exclude each other") }
    }

    func run() throws {
        if !force, !rotate, access(path, F_OK) == 0 {
            throw CLIFailure.usage("'\(path)' exists; choose another name, give --force to replace it "
                                   + "or --rotate to rotate its keys")
        }
        let server = DTLSServer()
        if rotate {
            guard server.loadKeys(path: path) == .ok, server.rotateKeys() == .ok else {
                throw CLIFailure.tls("cannot rotate the key file: \(ErrorReport.message)")
            }
        }
        guard server.saveKeys(path: path) == .ok else {
            throw CLIFailure.tls("cannot write the key file: \(ErrorReport.message)")
        }
        // Read it back, as a server would, so a file that cannot be used is noticed here.
        guard DTLSServer().loadKeys(path: path) == .ok else {
            throw CLIFailure.tls("the key file just written does not load: \(ErrorReport.message)")
        }
        let what = rotate ? "rotated: new current keys, the old ones kept as the previous" : "cookie and session-ticket keys"
        Output.line("wrote \(path) (PacketDTLS server keys: \(what), mode 0600)")
    }
}
