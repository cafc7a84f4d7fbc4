// DTLSServer+HandshakeThreads.swift — beyond Godot: handshakes off the caller's thread.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension DTLSServer {
    /// The most handshake threads one server may have.
    public static let maxHandshakeThreads = 64

    /// Runs the public-key work of this server's handshakes on `threads` threads of its own (beyond Godot).
    /// 0, the default, keeps Godot's behaviour: every handshake step runs inside the caller's poll().
    /// N >= 1 starts N worker threads; -1 starts one per core. With workers, takeConnection still
    /// answers the cookie exchange at once; every later handshake step runs on a worker, the peer's
    /// poll() returns at once, and its status becomes CONNECTED (or an error) at the first poll() after
    /// the worker is done. Connected peers are driven by the caller alone. The workers run at a lower
    /// scheduling priority (nice) than the thread that calls this. A worker ends a handshake as the
    /// caller's poll() would: at the handshake deadline, on ICMP refusals (a peer over its own socket),
    /// and when the UDPServer below stops (DISCONNECTED at the peer's next poll). Handshakes already on
    /// workers finish there when the count changes, or this server is stopped or freed.
    @discardableResult
    public func setHandshakeThreads(_ threads: Int) -> GodotError {
        guard threads >= -1, threads <= Self.maxHandshakeThreads else {
            return ErrorReport.fail(.invalidParameter, "set_handshake_threads: \(threads) is not in -1...\(Self.maxHandshakeThreads)"
                + " (0 = none, -1 = one per core)")
        }
        let count = threads == -1 ? max(1, min(Self.maxHandshakeThreads, sysconf(Int32(_SC_NPROCESSORS_ONLN)))) : threads
        guard count > 0 else {
            handshakeWorkers = nil
            return .ok
        }
        guard let workers = HandshakeWorkers(threads: count) else {
            return ErrorReport.fail(.outOfMemory, "set_handshake_threads: no thread could be started")
        }
        handshakeWorkers = workers
        return .ok
    }

    /// The handshake threads this server runs (0 = handshakes run in the caller's poll()).
    public func getHandshakeThreads() -> Int { handshakeWorkers?.threads ?? 0 }
}
