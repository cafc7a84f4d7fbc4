// ReliabilitySupport.swift — sizes from the environment, figures, resident memory, and a server
// that reclaims the sessions that ended.
//
// Every reliability test runs small by default (so `swift test` stays quick); scripts/test.d/
// reliability (CI) and scripts/reliability (the long runs) set the PACKETDTLS_REL_* variables.
// Each figure is printed as one line `FIGURE <name>: <value>` that those scripts collect.

import XCTest
@testable import PacketDTLS
#if canImport(Glibc)
import Glibc
#endif

enum Reliability {
    /// An integer knob: PACKETDTLS_REL_<name>, or `fallback`.
    static func knob(_ name: String, _ fallback: Int) -> Int {
        guard let text = ProcessInfo.processInfo.environment["PACKETDTLS_REL_\(name)"], let value = Int(text) else {
            return fallback
        }
        return value
    }

    static func knobList(_ name: String, _ fallback: [Double]) -> [Double] {
        guard let text = ProcessInfo.processInfo.environment["PACKETDTLS_REL_\(name)"] else { return fallback }
        let values = text.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        return values.isEmpty ? fallback : values
    }

    /// Prints one figure for the scripts to collect.
    static func figure(_ name: String, _ value: String) {
        print("FIGURE \(name): \(value)")
        fflush(nil)
    }

    /// The resident set of this process in bytes (/proc/self/statm, second field).
    static func residentBytes() -> Int {
        guard let file = fopen("/proc/self/statm", "r") else { return 0 }
        defer { fclose(file) }
        var size = 0, resident = 0
        guard withUnsafeMutablePointer(to: &size, { sizePointer in
            withUnsafeMutablePointer(to: &resident) { residentPointer in
                withVaList([sizePointer, residentPointer]) { vfscanf(file, "%ld %ld", $0) }
            }
        }) == 2 else { return 0 }
        return resident * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// glibc's malloc_trim(0): hands free heap pages back to the kernel, so resident memory shows
    /// what is live rather than what malloc keeps cached. (Not in Swift's Glibc module: looked up.)
    static func mallocTrim() {
        typealias Trim = @convention(c) (Int) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return }
        _ = unsafeBitCast(symbol, to: Trim.self)(0)
    }

    /// True in a build with AddressSanitizer or ThreadSanitizer, whose shadow memory and
    /// quarantine of freed blocks make resident-memory figures meaningless: they are still
    /// reported, but not asserted.
    static let underSanitizer: Bool = {
        let markers: [String] = ["__asan_init", "__tsan_init"]
        return markers.contains { dlsym(UnsafeMutableRawPointer(bitPattern: 0), $0) != nil }
    }()

    /// Asserts `bytes` <= `limit`, except under a sanitizer.
    static func assertMemory(_ bytes: Double, atMost limit: Double, _ message: String,
                             file: StaticString = #filePath, line: UInt = #line) {
        guard !underSanitizer else { return }
        XCTAssertLessThanOrEqual(bytes, limit, message, file: file, line: line)
    }

    static func kib(_ bytes: Int) -> String { "\(bytes / 1024) KiB" }

    /// Polls `step` until `done` or `seconds` pass, yielding 200 µs between rounds.
    @discardableResult
    static func run(within seconds: Double, _ step: () -> Void, until done: () -> Bool) -> Bool {
        let deadline = MonotonicClock.milliseconds() + UInt64(seconds * 1000)
        while MonotonicClock.milliseconds() < deadline {
            step()
            if done() { return true }
            usleep(200)
        }
        return done()
    }

    static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    /// One key and certificate for every reliability test: generating them is the slow part.
    nonisolated(unsafe) static var sharedIdentity: (key: CryptoKey, certificate: X509Certificate)?
    static func identity() throws -> (key: CryptoKey, certificate: X509Certificate) {
        if let sharedIdentity { return sharedIdentity }
        let made = try TestIdentity.make()
        sharedIdentity = made
        return made
    }

    /// Client options with the shortened handshake timers of these tests.
    static func clientOptions(minMs: UInt32 = 20, maxMs: UInt32 = 5120) -> TLSOptions {
        let options = TLSOptions.clientUnsafe()
        options.setHandshakeTimeout(minMs: minMs, maxMs: maxMs)
        return options
    }
}

/// A UDPServer + DTLSServer that keeps handshaking and connected peers, echoes what they send, and
/// lets go of every peer whose session ended (error, idle timeout, close_notify), as a real server
/// loop should.
final class ReliableServer: @unchecked Sendable {
    let udp = UDPServer()
    let dtls = DTLSServer()
    let options: TLSOptions
    private let lock = NSLock()
    private var peersStorage: [PacketPeerDTLS] = []
    private(set) var cookieRounds = 0
    private(set) var ended = 0
    private(set) var idleTimeouts = 0
    private(set) var received = 0
    /// Called for every packet a server peer receives; returns what to echo (nil = nothing).
    var reply: ([UInt8]) -> [UInt8]? = { $0 }

    init(idleTimeoutMs: UInt32? = nil, handshakeMinMs: UInt32 = 20, handshakeMaxMs: UInt32 = 5120,
         maxPending: Int? = nil) throws {
        let identity = try Reliability.identity()
        options = TLSOptions.server(key: identity.key, certificate: identity.certificate)
        options.setHandshakeTimeout(minMs: handshakeMinMs, maxMs: handshakeMaxMs)
        if let idleTimeoutMs { options.setIdleTimeout(ms: idleTimeoutMs) }
        XCTAssertEqual(udp.listen(port: 0, bindAddress: "127.0.0.1"), .ok)
        if let maxPending { XCTAssertEqual(udp.setMaxPendingConnections(maxPending), .ok) }
        XCTAssertEqual(dtls.setup(serverOptions: options), .ok, ErrorReport.message)
    }

    var port: Int { udp.getLocalPort() }
    var peers: [PacketPeerDTLS] { lock.withLock { peersStorage } }
    var peerCount: Int { lock.withLock { peersStorage.count } }

    /// Routes datagrams, takes new connections, polls every peer, echoes, and drops ended peers.
    func step() {
        udp.poll()
        var taken: [PacketPeerDTLS] = []
        var rounds = 0
        while let peer = udp.takeConnection() {
            guard let dtlsPeer = dtls.takeConnection(peer) else { continue }
            if dtlsPeer.getStatus() == .handshaking { taken.append(dtlsPeer) } else { rounds += 1 }
        }
        let current: [PacketPeerDTLS] = lock.withLock {
            peersStorage += taken
            cookieRounds += rounds
            return peersStorage
        }
        var gone: [ObjectIdentifier] = []
        var idle = 0, got = 0
        for peer in current {
            peer.poll()
            switch peer.getStatus() {
            case .connected:
                while peer.getAvailablePacketCount() > 0 {
                    let packet = peer.getPacket()
                    got += 1
                    if let answer = reply(packet) { _ = peer.putPacket(answer) }
                }
            case .handshaking:
                break
            default:
                if peer.getErrorMessage().hasPrefix("idle timeout") { idle += 1 }
                gone.append(ObjectIdentifier(peer))
            }
        }
        lock.withLock {
            received += got
            guard !gone.isEmpty else { return }
            let set = Set(gone)
            let before = peersStorage.count
            peersStorage.removeAll { set.contains(ObjectIdentifier($0)) }
            ended += before - peersStorage.count
            idleTimeouts += idle
        }
    }
}

/// A client: UDP peer connected to `port`, DTLS handshake started.
func startClient(port: Int, options: TLSOptions = Reliability.clientOptions()) -> (udp: PacketPeerUDP, dtls: PacketPeerDTLS) {
    let udp = PacketPeerUDP()
    XCTAssertEqual(udp.connectToHost("127.0.0.1", port: port), .ok)
    let dtls = PacketPeerDTLS()
    XCTAssertEqual(dtls.connectToPeer(udp, hostname: "localhost", clientOptions: options), .ok)
    return (udp, dtls)
}

/// The first ClientHello a client sends (no cookie yet), caught by a plain UDP socket.
func captureClientHello() -> [UInt8] {
    let catcher = PacketPeerUDP()
    XCTAssertEqual(catcher.bind(port: 0, bindAddress: "127.0.0.1"), .ok)
    let client = startClient(port: catcher.getLocalPort())
    var hello: [UInt8] = []
    Reliability.run(within: 5, { client.dtls.poll() }, until: {
        if catcher.getAvailablePacketCount() > 0 { hello = catcher.getPacket() }
        return !hello.isEmpty
    })
    XCTAssertEqual(hello.first, 22, "a handshake record")
    return hello
}
