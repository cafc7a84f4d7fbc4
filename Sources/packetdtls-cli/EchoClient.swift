// EchoClient.swift — the client side of `connect`: handshake, then packets out and replies in.
//
// Every wait is bounded: the handshake and a --message exchange by the time-out, the replies
// still due after stdin ends by --linger. Between polls the client blocks on its own UDP socket
// (PacketPeerUDP.wait) for at most 10 ms, so it neither spins nor lags.

import PacketDTLS
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

final class EchoClient {
    private let server: Endpoint
    private let timeoutMs: UInt64
    private let udp = PacketPeerUDP()
    private let peer = PacketPeerDTLS()
    private var sent = 0
    private var received = 0

    /// How long one wait on the socket may block between polls.
    private static let pollIntervalMs = 10

    init(server: Endpoint, timeoutMs: UInt64) {
        self.server = server
        self.timeoutMs = timeoutMs
    }

    // MARK: Handshake

    func connect(options: TLSOptions, hostname: String) throws(CLIFailure) {
        switch udp.connectToHost(server.host, port: server.port) {
        case .ok:
            break
        case .cantResolve:
            throw .network("cannot resolve '\(server.host)': \(ErrorReport.message)")
        default:
            throw .network("cannot reach \(server): \(ErrorReport.message)")
        }
        guard peer.connectToPeer(udp, hostname: hostname, clientOptions: options) == .ok else {
            throw .tls("cannot start the handshake with \(server): \(ErrorReport.message)")
        }
        let deadline = Clock.nowMs() + timeoutMs
        while true {
            peer.poll()
            switch peer.getStatus() {
            case .connected:
                Output.error("connected to \(server) (\(peer.getCipherSuite()))")
                return
            case .handshaking:
                if Clock.nowMs() >= deadline {
                    throw .network("no answer from \(server) within \(seconds(timeoutMs)): the DTLS handshake "
                        + "timed out (is a DTLS server listening there?)")
                }
            case .disconnected:
                throw .tls("handshake with \(server) failed: the server closed the session "
                    + "(\(peer.getErrorMessage()))")
            default:
                throw failure("handshake with \(server) failed")
            }
            try checkInterrupted()
            waitForDatagram()
        }
    }

    // MARK: Scripted: --message TEXT --count N

    /// Sends `message` `times` times, each after the previous reply, printing every reply.
    func exchange(_ message: [UInt8], times: Int) throws(CLIFailure) {
        let deadline = Clock.nowMs() + timeoutMs
        for _ in 0..<times {
            try send(message)
            let wanted = sent
            while received < wanted {
                try pollReplies(endedIsFailure: true)
                if received >= wanted { break }
                if Clock.nowMs() >= deadline {
                    throw .network("timed out after \(seconds(timeoutMs)): \(received) of \(times) replies "
                        + "arrived from \(server)")
                }
                try checkInterrupted()
                waitForDatagram()
            }
        }
    }

    // MARK: Interactive: stdin lines

    /// Sends each stdin line as one packet and prints replies as they come, until stdin ends (then
    /// waits up to `lingerMs` for the replies still due) or the server closes the session.
    func relayStandardInput(lingerMs: UInt64) throws(CLIFailure) {
        if isatty(0) == 1 {
            Output.error("type a line to send it; Ctrl-D ends")
        }
        var lines = LineReader(fd: 0)
        while !lines.isFinished {
            for line in lines.readAvailable() where !line.isEmpty {
                try send(line)
            }
            if try !pollReplies(endedIsFailure: false) { return }
            try checkInterrupted()
            if !lines.isFinished { waitForDatagram() }
        }
        let deadline = Clock.nowMs() + lingerMs
        while received < sent && Clock.nowMs() < deadline {
            if try !pollReplies(endedIsFailure: false) { return }
            try checkInterrupted()
            waitForDatagram()
        }
    }

    // MARK: Ending

    /// Sends close_notify.
    func close() {
        peer.disconnectFromPeer()
        udp.close()
    }

    // MARK: Helpers

    /// Sends one packet; a full socket buffer is retried for up to 100 ms.
    private func send(_ packet: [UInt8]) throws(CLIFailure) {
        let limit = peer.getMaxPacketSize()
        guard packet.count <= limit else {
            Output.error("not sent: \(packet.count) bytes exceed the largest packet (\(limit) bytes)")
            return
        }
        let giveUp = Clock.nowMs() + 100
        while true {
            switch peer.putPacket(packet) {
            case .ok:
                sent += 1
                return
            case .busy where Clock.nowMs() < giveUp:
                peer.poll()
                Clock.sleep(ms: 1)
            case .busy:
                Output.error("not sent: \(ErrorReport.message)")
                return
            default:
                throw failure("sending to \(server) failed")
            }
        }
    }

    /// Polls the session and prints every reply. False when the server closed the session and
    /// that is not a failure; throws when the session failed.
    @discardableResult
    private func pollReplies(endedIsFailure: Bool) throws(CLIFailure) -> Bool {
        peer.poll()
        while peer.getAvailablePacketCount() > 0 {
            let packet = peer.getPacket()
            guard peer.getPacketError() == .ok else { break }
            received += 1
            Output.packet(packet)
        }
        switch peer.getStatus() {
        case .connected:
            return true
        case .disconnected:
            let reason = peer.getErrorMessage()
            if endedIsFailure {
                throw .network("\(server) closed the session after \(received) of \(sent) replies (\(reason))")
            }
            Output.error("\(server) closed the session\(reason.isEmpty ? "" : ": \(reason)")")
            return false
        default:
            throw failure("session with \(server) failed")
        }
    }

    /// The peer's error as a failure: no answer and transport errors are network failures, the
    /// rest (alerts, verification) TLS failures.
    private func failure(_ what: String) -> CLIFailure {
        let reason = peer.getErrorMessage()
        let text = "\(what): \(reason.isEmpty ? ErrorReport.message : reason)"
        let networkWords = ["timeout", "UDP transport failed", "refused", "unreachable"]
        if networkWords.contains(where: { reason.contains($0) }) {
            return .network(text)
        }
        return .tls(text)
    }

    private func checkInterrupted() throws(CLIFailure) {
        guard StopSignal.isRequested else { return }
        close()
        throw CLIFailure(status: .interrupted, message: "interrupted by \(StopSignal.name); session closed")
    }

    private func waitForDatagram() {
        _ = udp.wait(timeoutMs: Self.pollIntervalMs)
    }

    private func seconds(_ ms: UInt64) -> String {
        ms % 1000 == 0 ? "\(ms / 1000) s" : "\(Double(ms) / 1000) s"
    }
}

/// Lines from a file descriptor without blocking: whatever complete lines have arrived.
struct LineReader {
    let fd: Int32
    private var partial: [UInt8] = []
    private(set) var isFinished = false

    init(fd: Int32) {
        self.fd = fd
    }

    /// The complete lines readable now (without their "\n" or "\r\n"); at end of input, also the
    /// last unterminated line, and isFinished becomes true.
    mutating func readAvailable() -> [[UInt8]] {
        var lines: [[UInt8]] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !isFinished {
            var request = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&request, 1, 0) > 0 else { break }
            let count = read(fd, &buffer, buffer.count)
            if count < 0 && (errno == EINTR || errno == EAGAIN) { break }
            guard count > 0 else {
                isFinished = true
                if !partial.isEmpty { lines.append(Self.trimmed(partial)) }
                partial = []
                break
            }
            partial.append(contentsOf: buffer[0..<count])
            while let newline = partial.firstIndex(of: 0x0A) {
                lines.append(Self.trimmed(Array(partial[..<newline])))
                partial.removeFirst(newline + 1)
            }
        }
        return lines
    }

    private static func trimmed(_ line: [UInt8]) -> [UInt8] {
        line.last == 0x0D ? Array(line.dropLast()) : line
    }
}
