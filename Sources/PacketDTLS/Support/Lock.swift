// Lock.swift — the mutex that serializes calls on one object.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Synchronization

/// A non-recursive lock at a fixed heap address: the Synchronization module's futex-based mutex
/// handle (on Linux one compare-and-swap to take it and one to give it back when nobody waits; a
/// waiter sleeps in the kernel, FUTEX_LOCK_PI). About a third of pthread_mutex_lock + unlock's
/// instructions per uncontended lock (docs/PERFORMANCE.md, "The per-packet cost"). ThreadSanitizer
/// sees its acquire and release as the atomics they are.
///
/// The lock word lives in the one heap object the Lock holds, right after its header: an idle poll
/// of many peers is bound by cache misses, and a second allocation behind a pointer would cost one
/// more per lock taken (docs/PERFORMANCE.md).
///
/// Lock order, to keep clear of deadlocks: a DTLS peer locks before its UDP peer; a UDP server
/// locks before the UDP peers it routes to. Nothing waits "upwards" (one place tries: tryLock()).
///
/// A class whose stored state is touched only while its Lock is held marks that state
/// `@exclusivity(unchecked)`: the lock already excludes overlapping access, so Swift's dynamic
/// exclusivity checks would guard nothing and cost time on every packet (docs/PERFORMANCE.md).
///
/// Lock and unlock must happen on the same thread (the handle records its owner). A lock that a
/// condition variable waits on is a MutexLock (below).
public struct Lock: @unchecked Sendable {
    /// Visible to inlined code: withLock is inlined into the C exports (another module), where a call
    /// to the generic function costs time on every call.
    @usableFromInline let storage: LockStorage

    public init() {
        storage = LockStorage()
    }

    @inlinable @inline(__always)
    public func withLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        storage.handle.unsafeLock()
        if let hooks = storage.sanitizer { hooks.pointee.acquire(storage.address) }
        defer {
            if let hooks = storage.sanitizer { hooks.pointee.release(storage.address) }
            storage.handle.unsafeUnlock()
        }
        return try body()
    }

    /// Takes the lock only if it is free at once; true when taken (then call unlock()). For the one
    /// place that must reach "upwards" against the lock order (a stopping UDPServer ending the DTLS
    /// sessions over its peers), which backs off instead of waiting.
    public func tryLock() -> Bool {
        guard storage.handle.unsafeTryLock() else { return false }
        if let hooks = storage.sanitizer { hooks.pointee.acquire(storage.address) }
        return true
    }

    /// Releases a lock taken with tryLock(), on the thread that took it.
    public func unlock() {
        if let hooks = storage.sanitizer { hooks.pointee.release(storage.address) }
        storage.handle.unsafeUnlock()
    }
}

/// One object: a header, the lock word and the sanitizer hooks (32 bytes, one malloc chunk as with
/// the lock word alone).
@usableFromInline
final class LockStorage {
    @usableFromInline let handle = _MutexHandle()
    /// ThreadSanitizer's hooks when the process runs under it, else nil. A waiter that sleeps takes
    /// the lock inside the kernel (FUTEX_LOCK_PI), where ThreadSanitizer cannot see an acquire: told
    /// explicitly, it orders what the lock orders.
    @usableFromInline let sanitizer: UnsafePointer<SanitizerHooks>? = SanitizerHooks.present

    init() {}

    /// The address the sanitizer knows this lock by.
    @usableFromInline var address: UnsafeRawPointer {
        UnsafeRawPointer(Unmanaged.passUnretained(self).toOpaque())
    }
}

/// ThreadSanitizer's annotations (sanitizer/tsan_interface.h), found at run time: a build without
/// the sanitizer has none and pays one nil check per lock and unlock.
@usableFromInline
struct SanitizerHooks {
    @usableFromInline let acquire: @convention(c) (UnsafeRawPointer?) -> Void
    @usableFromInline let release: @convention(c) (UnsafeRawPointer?) -> Void

    /// Looked up once per process (RTLD_DEFAULT: the executable and every library loaded); never
    /// written after, so shared freely.
    nonisolated(unsafe) static let present: UnsafePointer<SanitizerHooks>? = {
        guard let acquire = dlsym(nil, "__tsan_acquire"), let release = dlsym(nil, "__tsan_release") else { return nil }
        typealias Hook = @convention(c) (UnsafeRawPointer?) -> Void
        let hooks = UnsafeMutablePointer<SanitizerHooks>.allocate(capacity: 1)
        hooks.initialize(to: SanitizerHooks(acquire: unsafeBitCast(acquire, to: Hook.self),
                                            release: unsafeBitCast(release, to: Hook.self)))
        return UnsafePointer(hooks)
    }()
}

/// A non-recursive pthread mutex at a fixed heap address (a pthread_mutex_t must never move), for
/// the one lock a condition variable waits on (HandshakeWorkers: pthread_cond_wait needs the mutex).
struct MutexLock: @unchecked Sendable {
    /// Owns the mutex; `mutex` points into it and is valid as long as this MutexLock is.
    private let storage: MutexStorage
    /// The mutex's address, kept beside the storage: going through the ManagedBuffer on every call
    /// retained and released it each time (docs/PERFORMANCE.md).
    let mutex: UnsafeMutablePointer<pthread_mutex_t>

    init() {
        storage = MutexStorage.make()
        mutex = storage.withUnsafeMutablePointerToElements { $0 }
    }

    @inline(__always)
    func withLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
}

/// One object: a header and the mutex right after it.
private final class MutexStorage: ManagedBuffer<Void, pthread_mutex_t> {
    static func make() -> MutexStorage {
        let buffer = create(minimumCapacity: 1) { _ in () }
        // create() returns an instance of the class it is called on; the cast cannot fail.
        let storage = unsafeDowncast(buffer, to: MutexStorage.self)
        storage.withUnsafeMutablePointerToElements { mutex in
            mutex.initialize(to: pthread_mutex_t())
            pthread_mutex_init(mutex, nil)
        }
        return storage
    }

    deinit {
        withUnsafeMutablePointerToElements { mutex in
            pthread_mutex_destroy(mutex)
            _ = mutex.deinitialize(count: 1)
        }
    }
}
