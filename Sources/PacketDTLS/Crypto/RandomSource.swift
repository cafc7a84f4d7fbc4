// RandomSource.swift — the one CTR-DRBG every part of the library draws from, reseeded in a
// child process after fork() so that parent and child never draw the same bytes.

internal import CMbedTLS
#if canImport(Glibc)
import Glibc
#endif

/// A process-wide CTR-DRBG seeded from the system entropy source. mbedTLS is built with
/// MBEDTLS_THREADING_C, so the DRBG locks itself and may be shared by every thread.
///
/// After fork() the child holds a copy of the DRBG state: unless reseeded it would repeat the
/// parent's output (ClientHello randoms, ECDHE keys, generated keys). Two guards, because either
/// alone misses a case: a pthread_atfork handler reseeds the child before it runs any code (and
/// holds the DRBG's and the entropy pool's locks across the fork, so the child never inherits
/// them locked by a thread that does not exist there), and every draw compares the process id
/// with the one the DRBG was last seeded in, for children made without fork() (a raw clone).
final class RandomSource: @unchecked Sendable {
    static let shared = RandomSource()

    let entropy: UnsafeMutablePointer<mbedtls_entropy_context>
    let drbg: UnsafeMutablePointer<mbedtls_ctr_drbg_context>
    /// The process the DRBG was last seeded in.
    private let seededProcess = UnsafeMutablePointer<pid_t>.allocate(capacity: 1)
    /// Serialises the reseed of a process that finds it was forked.
    private let reseedLock = Lock()

    private init() {
        entropy = .allocate(capacity: 1)
        drbg = .allocate(capacity: 1)
        mbedtls_entropy_init(entropy)
        mbedtls_ctr_drbg_init(drbg)
        let personalization = Array("PacketDTLS".utf8)
        let rc = mbedtls_ctr_drbg_seed(drbg, mbedtls_entropy_func, entropy, personalization, personalization.count)
        precondition(rc == 0, "the system entropy source failed: \(MbedTLSError.describe(rc))")
        seededProcess.pointee = getpid()
        pthread_atfork(randomBeforeFork, randomAfterForkInParent, randomAfterForkInChild)
    }

    /// Fills `buffer` with random bytes; false (with the reason recorded) if the DRBG failed.
    func fill(_ buffer: UnsafeMutableRawBufferPointer) -> Bool {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return true }
        var offset = 0
        while offset < buffer.count {
            let chunk = min(buffer.count - offset, Int(MBEDTLS_CTR_DRBG_MAX_REQUEST))
            let rc = draw(base.advanced(by: offset).assumingMemoryBound(to: UInt8.self), chunk)
            if rc != 0 {
                ErrorReport.set("random generator failed: \(MbedTLSError.describe(rc))")
                return false
            }
            offset += chunk
        }
        return true
    }

    /// The (f_rng, p_rng) pair mbedTLS functions take: every draw goes through the fork check.
    var function: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<UInt8>?, Int) -> Int32 {
        forkCheckedRandom
    }
    var context: UnsafeMutableRawPointer { UnsafeMutableRawPointer(drbg) }

    fileprivate func draw(_ output: UnsafeMutablePointer<UInt8>?, _ length: Int) -> Int32 {
        if getpid() != seededProcess.pointee {
            let rc = reseedLock.withLock { () -> Int32 in
                guard getpid() != seededProcess.pointee else { return 0 }
                lockDRBG()
                defer { unlockDRBG() }
                return reseedForThisProcess()
            }
            guard rc == 0 else { return rc }
        }
        return mbedtls_ctr_drbg_random(drbg, output, length)
    }

    /// Fresh entropy and this process's id mixed in; the caller holds the DRBG's lock.
    fileprivate func reseedForThisProcess() -> Int32 {
        var process = getpid()
        let rc = withUnsafeBytes(of: &process) { id in
            mbedtls_ctr_drbg_reseed(drbg, id.baseAddress?.assumingMemoryBound(to: UInt8.self), id.count)
        }
        if rc == 0 { seededProcess.pointee = process }
        return rc
    }

    // The mutexes of MBEDTLS_THREADING_PTHREAD (Debian's build), taken in mbedTLS's own order:
    // a draw that reseeds holds the DRBG's lock while it reads the entropy pool.
    private var drbgMutex: UnsafeMutablePointer<pthread_mutex_t> { drbg.pointer(to: \.mutex)!.pointer(to: \.mutex)! }
    fileprivate var entropyMutex: UnsafeMutablePointer<pthread_mutex_t> {
        entropy.pointer(to: \.mutex)!.pointer(to: \.mutex)!
    }
    fileprivate func lockDRBG() { pthread_mutex_lock(drbgMutex) }
    fileprivate func unlockDRBG() { pthread_mutex_unlock(drbgMutex) }
    fileprivate func lockAll() {
        lockDRBG()
        pthread_mutex_lock(entropyMutex)
    }
    fileprivate func unlockAll() {
        pthread_mutex_unlock(entropyMutex)
        unlockDRBG()
    }
}

private let forkCheckedRandom: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<UInt8>?, Int) -> Int32 = {
    _, output, length in
    RandomSource.shared.draw(output, length)
}

private let randomBeforeFork: @convention(c) () -> Void = { RandomSource.shared.lockAll() }
private let randomAfterForkInParent: @convention(c) () -> Void = { RandomSource.shared.unlockAll() }
private let randomAfterForkInChild: @convention(c) () -> Void = {
    let random = RandomSource.shared
    // The child has one thread, and the locks are ours: reseed under the DRBG's lock, the
    // entropy pool's released first because the reseed reads it.
    pthread_mutex_unlock(random.entropyMutex)
    _ = random.reseedForThisProcess()
    random.unlockDRBG()
}
