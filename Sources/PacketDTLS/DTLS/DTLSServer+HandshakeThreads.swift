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
    /// scheduling priority (nice, setHandshakeThreadsNice) than the thread that calls this. A worker
    /// ends a handshake as the caller's poll() would: at the handshake deadline, on ICMP refusals (a
    /// peer over its own socket), and when the UDPServer below stops (DISCONNECTED at the peer's next
    /// poll). Handshakes already on workers finish there when the count changes, or this server is
    /// stopped or freed.
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
        guard let workers = HandshakeWorkers(threads: count, niceIncrement: handshakeThreadsNice) else {
            return ErrorReport.fail(.outOfMemory, "set_handshake_threads: no thread could be started")
        }
        handshakeWorkers = workers
        return .ok
    }

    /// The handshake threads this server runs (0 = handshakes run in the caller's poll()).
    public func getHandshakeThreads() -> Int { handshakeWorkers?.threads ?? 0 }

    /// The highest nice increment setHandshakeThreadsNice takes (Linux's nicest is 19).
    public static let maxHandshakeThreadsNice = 19

    /// How much nicer (Linux nice) than the thread that starts them the handshake threads run (beyond
    /// Godot): 10, the default, lets a game loop on a machine with few cores keep its ticks while a join
    /// storm's handshakes wait; 0 runs them at that thread's own priority, for a server whose loop has
    /// no tick to keep (it only reads and echoes, as `packetdtls-cli serve`): then the handshakes are
    /// not starved by other busy processes, a flood's among them. 0...19. Threads already running are
    /// restarted with it (handshakes already on them finish there).
    @discardableResult
    public func setHandshakeThreadsNice(_ increment: Int) -> GodotError {
        guard (0...Self.maxHandshakeThreadsNice).contains(increment) else {
            return ErrorReport.fail(.invalidParameter, "set_handshake_threads_nice: \(increment) is not in "
                + "0...\(Self.maxHandshakeThreadsNice)")
        }
        handshakeThreadsNice = Int32(increment)
        let running = getHandshakeThreads()
        return running > 0 ? setHandshakeThreads(running) : .ok
    }

    /// How much nicer than their maker the handshake threads run (setHandshakeThreadsNice).
    public func getHandshakeThreadsNice() -> Int { Int(handshakeThreadsNice) }
}
