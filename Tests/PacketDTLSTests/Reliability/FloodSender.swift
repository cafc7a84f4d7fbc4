// FloodSender.swift — a thread that sends one datagram from many UDP sockets on 127.0.0.1, round
// robin, as fast as it can (or at a given rate), and reads what comes back to them, counting both ways.
//
// Plain POSIX sockets (not PacketPeerUDP): the flood should cost the sender as little as possible,
// so that what one core can send reaches the server, and it allocates nothing while it runs (the
// test measures the resident memory of the process it shares with the server).

import Foundation
#if canImport(Glibc)
import Glibc
#endif

final class FloodSender: @unchecked Sendable {
    struct Counts {
        var datagramsSent = 0
        var bytesSent = 0
        var datagramsReceived = 0
        var bytesReceived = 0
    }

    private let datagram: [UInt8]
    /// Datagrams a second, or 0: as fast as the thread can send.
    private let rate: Int
    private let sockets: [Int32]
    private let destination: sockaddr_in
    private let lock = NSLock()
    private var stopping = false
    private var countsStorage = Counts()
    private var thread: Thread?
    private let finished = DispatchSemaphore(value: 0)

    /// `portCount` sockets bound to 127.0.0.1 on free ports, aimed at 127.0.0.1:`port`.
    init?(datagram: [UInt8], portCount: Int, port: Int, rate: Int = 0) {
        var made: [Int32] = []
        for _ in 0..<portCount {
            let descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            guard descriptor >= 0 else { made.forEach { close($0) }; return nil }
            made.append(descriptor)
            var local = FloodSender.loopback(port: 0)
            let bound = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0 else { made.forEach { close($0) }; return nil }
        }
        self.datagram = datagram
        self.rate = max(0, rate)
        sockets = made
        destination = FloodSender.loopback(port: port)
    }

    deinit { sockets.forEach { close($0) } }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = in_addr_t(UInt32(0x7f00_0001).bigEndian)
        return address
    }

    var counts: Counts { lock.withLock { countsStorage } }

    func start() {
        let thread = Thread { [self] in run(); finished.signal() }
        thread.name = "flood sender"
        self.thread = thread
        thread.start()
    }

    /// Stops the thread and waits for it (bounded: the loop checks the flag every sweep).
    func stop() {
        guard thread != nil else { return }
        lock.withLock { stopping = true }
        _ = finished.wait(timeout: .now() + 10)
        thread = nil
    }

    private func run() {
        var target = destination
        var reply = [UInt8](repeating: 0, count: 2048)
        var sweep = 0, paced = 0
        let start = DispatchTime.now().uptimeNanoseconds
        // A paced flood goes out in small bursts, so that a burst alone never fills a socket buffer.
        let burst = 32
        while !lock.withLock({ stopping }) {
            var local = Counts()
            datagram.withUnsafeBytes { bytes in
                withUnsafePointer(to: &target) { address in
                    address.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                        for (index, descriptor) in sockets.enumerated() {
                            if rate > 0, index % burst == 0 {
                                let due = start + UInt64(paced) * 1_000_000_000 / UInt64(rate)
                                let now = DispatchTime.now().uptimeNanoseconds
                                if due > now { usleep(UInt32(min(100_000, (due - now) / 1000))) }
                                paced += burst
                            }
                            let sent = sendto(descriptor, bytes.baseAddress, bytes.count, Int32(MSG_DONTWAIT), address,
                                              socklen_t(MemoryLayout<sockaddr_in>.size))
                            if sent > 0 { local.datagramsSent += 1; local.bytesSent += sent }
                        }
                    }
                }
            }
            // Read the answers now and then, as a sender would, so that few are lost to a full buffer.
            sweep += 1
            if sweep % 8 == 0 || rate > 0 {
                reply.withUnsafeMutableBytes { buffer in
                    for descriptor in sockets {
                        while true {
                            let got = recv(descriptor, buffer.baseAddress, buffer.count, Int32(MSG_DONTWAIT))
                            guard got > 0 else { break }
                            local.datagramsReceived += 1
                            local.bytesReceived += got
                        }
                    }
                }
            }
            lock.withLock {
                countsStorage.datagramsSent += local.datagramsSent
                countsStorage.bytesSent += local.bytesSent
                countsStorage.datagramsReceived += local.datagramsReceived
                countsStorage.bytesReceived += local.bytesReceived
            }
        }
    }
}
