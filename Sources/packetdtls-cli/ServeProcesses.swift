// ServeProcesses.swift — `serve --processes N`: N echo server processes on one port.
//
// The parent picks the port (when --port 0), makes what the processes must share when the user
// gave none (a throwaway certificate, a throwaway key file, in a private temporary folder), starts
// N copies of itself as `serve --reuse-port --keys FILE ...`, passes SIGINT/SIGTERM/SIGHUP on to them,
// and exits when they have. If one process fails, the others are stopped and its status is ours.

import PacketDTLS
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

struct ServeProcesses {
    static let maximum = 64

    let serve: Serve

    func run() throws(CLIFailure) {
        let log = Log(quiet: serve.quiet)
        var template = Array("/tmp/packetdtls-serve-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw .network("cannot make a private temporary folder: \(String(cString: strerror(errno)))")
        }
        let folder = String(cString: made)
        defer { removeFolder(folder) }

        var keyFile = serve.keys
        // Checked once here, so a bad file is one message rather than one per process.
        if let given = keyFile, DTLSServer().loadKeys(path: given) != .ok {
            throw .tls("cannot use the key file: \(ErrorReport.message)")
        }
        if keyFile == nil {
            let path = folder + "/server.keys"
            guard DTLSServer().saveKeys(path: path) == .ok else {
                throw .tls("cannot make a key file: \(ErrorReport.message)")
            }
            keyFile = path
        }
        var identity: (cert: String, key: String)
        if let cert = serve.cert, let key = serve.key {
            identity = (cert, key)
        } else {
            let made = try Identity.selfSigned(commonName: "localhost",
                                               subjectAltNames: ["DNS:localhost", "IP:127.0.0.1", "IP:::1"], days: 1)
            identity = (folder + "/cert.pem", folder + "/key.pem")
            guard made.key.save(path: identity.key) == .ok, made.certificate.save(path: identity.cert) == .ok else {
                throw .tls("cannot write the throwaway certificate: \(ErrorReport.message)")
            }
            log.info("throwaway self-signed certificate for all processes: \(made.summary)")
        }
        let port = try chosenPort()

        StopSignal.install()
        ReloadSignal.install()
        var children: [pid_t] = []
        for index in 1...serve.processes {
            var arguments = ["packetdtls-cli", "serve", "--port", "\(port)", "--bind", serve.bind,
                             "--cert", identity.cert, "--key", identity.key, "--keys", keyFile!, "--reuse-port",
                             "--max-pending", "\(serve.maxPending)", "--idle-timeout", "\(serve.idleTimeout)",
                             "--process-label", "[\(index)/\(serve.processes)]"]
            if let keylog = serve.keylog { arguments += ["--keylog", keylog] }
            if let ciphers = serve.ciphers { arguments += ["--ciphers", ciphers] }
            if serve.quiet { arguments.append("--quiet") }
            do throws(CLIFailure) {
                children.append(try spawn(arguments))
            } catch {
                stop(children)
                throw error
            }
        }
        log.always("\(serve.processes) processes on port \(port), sharing the keys in \(keyFile!)")
        let status = supervise(children)
        guard status == 0 else {
            throw CLIFailure(status: ExitStatus(rawValue: status) ?? .network,
                             message: "a server process failed (exit status \(status)); stopped the others")
        }
    }

    /// The port to share: --port, or for 0 one the kernel picks now (bound with SO_REUSEPORT and
    /// let go at once, so the processes can take it).
    private func chosenPort() throws(CLIFailure) -> Int {
        guard serve.port == 0 else { return serve.port }
        let probe = UDPServer()
        guard probe.setReusePort(true) == .ok, probe.listen(port: 0, bindAddress: serve.bind) == .ok else {
            throw .network("cannot find a free port on \(serve.bind): \(ErrorReport.message)")
        }
        defer { probe.stop() }
        return probe.getLocalPort()
    }

    private func spawn(_ arguments: [String]) throws(CLIFailure) -> pid_t {
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, "/proc/self/exe", nil, nil, &argv, environ)
        guard status == 0 else {
            throw .network("cannot start a server process: \(String(cString: strerror(status)))")
        }
        return pid
    }

    /// Waits for every child; a signal to us is passed on to them, and the first child that ends
    /// with a failure ends the others. Returns 0, or the failed child's exit status.
    private func supervise(_ children: [pid_t]) -> Int32 {
        var running = Set(children)
        var failure: Int32 = 0
        var forwarded = false
        while !running.isEmpty {
            if StopSignal.isRequested && !forwarded {
                for pid in running { kill(pid, SIGTERM) }
                forwarded = true
            }
            if ReloadSignal.take() {
                for pid in running { kill(pid, SIGHUP) }
            }
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            if pid > 0, running.remove(pid) != nil {
                let exitStatus = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
                if exitStatus != 0 && !forwarded {
                    failure = exitStatus
                    for other in running { kill(other, SIGTERM) }
                    forwarded = true
                }
                continue
            }
            if pid < 0 && errno == ECHILD { break }
            Clock.sleep(ms: 20)
        }
        return failure
    }

    private func stop(_ children: [pid_t]) {
        for pid in children { kill(pid, SIGTERM) }
        for pid in children {
            var status: Int32 = 0
            _ = waitpid(pid, &status, 0)
        }
    }

    private func removeFolder(_ folder: String) {
        for name in ["server.keys", "cert.pem", "key.pem"] { unlink(folder + "/" + name) }
        rmdir(folder)
    }
}
