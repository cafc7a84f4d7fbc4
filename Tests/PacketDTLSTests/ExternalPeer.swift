// ExternalPeer.swift — a command-line DTLS tool (openssl, gnutls) run as the other end of a test,
// and the few ways the interop tests talk with one.

import XCTest
@testable import PacketDTLS

/// A command-line peer whose stdout is collected as it arrives and whose stdin stays open.
final class ExternalPeer: @unchecked Sendable {
    let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private let lock = NSLock()
    private var collected = ""
    private var reachedEnd = false

    init(_ tool: String, _ arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        output.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self else { return }
            self.lock.lock(); defer { self.lock.unlock() }
            // An empty read is the end of the output: the tool exited and everything it printed is in.
            if data.isEmpty { self.reachedEnd = true }
            self.collected += String(decoding: data, as: UTF8.self)
        }
        try process.run()
    }

    var text: String { lock.lock(); defer { lock.unlock() }; return collected }

    /// True once the tool has exited and its whole output has been collected.
    var hasFinished: Bool {
        lock.lock(); defer { lock.unlock() }
        return reachedEnd && !process.isRunning
    }

    func send(_ line: String) { input.fileHandleForWriting.write(Data((line + "\n").utf8)) }

    func stop() {
        output.fileHandleForReading.readabilityHandler = nil
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }
}

extension ExternalPeer {
    /// This tool as a server that prints what it gets: sends `line` from our client and waits until
    /// the tool has printed it. False when time ran out.
    func hears(_ line: String, from client: PacketPeerDTLS) -> Bool {
        XCTAssertEqual(client.putPacket(Array((line + "\n").utf8)), .ok)
        return DTLSLoopbackTests.run({ client.poll() }, until: { text.contains(line) })
    }

    /// This tool sends `line` (typed on its stdin) to our client; returns all the client read until
    /// the line was among it, or time ran out.
    func says(_ line: String, to client: PacketPeerDTLS) -> String {
        send(line)
        var heard = ""
        _ = DTLSLoopbackTests.run({
            client.poll()
            if client.getAvailablePacketCount() > 0 { heard += String(decoding: client.getPacket(), as: UTF8.self) }
        }, until: { heard.contains(line) })
        return heard
    }

    /// This tool as a client of our echo server (which prefixes "echo:"): sends "ping" once a
    /// session is connected, and returns when "echo:ping" came back, the tool ended, or time ran out.
    func pingEcho(_ server: EchoServer, within seconds: Double = 10) {
        var sent = false
        _ = DTLSLoopbackTests.run(within: seconds, {
            server.step()
            if !sent, server.peers.contains(where: { $0.getStatus() == .connected }) {
                send("ping")
                sent = true
            }
        }, until: { text.contains("echo:ping") || !process.isRunning })
    }
}
