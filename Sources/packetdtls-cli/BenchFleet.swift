// BenchFleet.swift — `packetdtls-cli bench fleet`: N clients to `serve --processes P` on one port.
//
// Starts `packetdtls-cli serve --processes P --keys FILE` (SO_REUSEPORT, one key file), connects N
// clients from this process (full handshakes), and reads from the servers' log how many each
// process took. Prints `fleet N S RATE processes=P spread=A/B/...`.

import ArgumentParser
import PacketDTLS
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

struct BenchFleet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fleet",
        abstract: "N clients to P server processes sharing one port (serve --processes) and one key file.")

    @Option(help: "Clients.") var count = 1000
    @Option(help: "Client handshakes in flight at once.") var concurrent = 100
    @Option(help: "Server processes.") var processes = 2
    @Option(help: "Give up after this many seconds.") var timeout: Double = 600

    func validate() throws {
        guard count > 0, concurrent > 0 else { throw ValidationError("--count and --concurrent must be positive") }
        guard (2...ServeProcesses.maximum).contains(processes) else {
            throw ValidationError("--processes must be in 2...\(ServeProcesses.maximum)")
        }
    }

    func run() throws {
        var template = Array("/tmp/packetdtls-fleet-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw CLIFailure.network("cannot make a temporary folder") }
        let folder = String(cString: made)
        let keys = folder + "/server.keys", log = folder + "/serve.log"
        defer {
            for path in [keys, log] { unlink(path) }
            rmdir(folder)
        }
        guard DTLSServer().saveKeys(path: keys) == .ok else {
            throw CLIFailure.tls("cannot write the key file: \(ErrorReport.message)")
        }
        let probe = UDPServer()
        guard probe.listen(port: 0, bindAddress: "127.0.0.1") == .ok else {
            throw CLIFailure.network("no free port: \(ErrorReport.message)")
        }
        let port = probe.getLocalPort()
        probe.stop()
        let server = try BenchRestartStorm.spawn(
            ["packetdtls-cli", "serve", "--bind", "127.0.0.1", "--port", "\(port)", "--processes", "\(processes)",
             "--keys", keys, "--max-pending", "\(max(concurrent, 16))"], logPath: log)
        defer { BenchRestartStorm.stop(server) }
        let timeoutMs = Clock.milliseconds(timeout)
        try BenchRestartStorm.waitUntilServing(port: port, timeoutMs: timeoutMs)
        let phase = try BenchRestartStorm.connect(count: count, concurrent: concurrent, port: port, sessions: nil,
                                                  timeoutMs: timeoutMs)
        // The log names each handshake's process as [k/P]; the probe's handshake is one of them.
        let text = try readLog(log)
        var taken = [Int](repeating: 0, count: processes)
        for line in text.split(separator: "\n") where line.contains("handshake ok") {
            for index in 0..<processes where line.contains("[\(index + 1)/\(processes)]") { taken[index] += 1 }
        }
        BenchLine.print("fleet", count, phase.seconds,
                        "processes=\(processes) spread=\(taken.map(String.init).joined(separator: "/"))")
    }

    private func readLog(_ path: String) throws(CLIFailure) -> String {
        guard let file = fopen(path, "r") else { throw .network("cannot read the servers' log") }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let got = fread(&chunk, 1, chunk.count, file)
            if got <= 0 { break }
            bytes += chunk[0..<got]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
