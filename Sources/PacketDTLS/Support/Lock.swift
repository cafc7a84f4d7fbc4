// Lock.swift — the mutex that serializes calls on one object.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A non-recursive pthread mutex at a fixed heap address (a pthread_mutex_t must never move).
///
/// The mutex lives in the tail of one heap object (a ManagedBuffer), not in a second allocation
/// behind a pointer: an idle poll of many peers is bound by cache misses, and this saves one per
/// lock taken (docs/PERFORMANCE.md).
///
/// Lock order, to keep clear of deadlocks: a DTLS peer locks before its UDP peer; a UDP server
/// locks before the UDP peers it routes to. Nothing locks "upwards".
///
/// The mutex's address is kept beside the storage: a heap object never moves, and going through the
/// ManagedBuffer on every call retained and released it each time (docs/PERFORMANCE.md).
///
/// A class whose stored state is touched only while its Lock is held marks that state
/// `@exclusivity(unchecked)`: the lock already excludes overlapping access, so Swift's dynamic
/// exclusivity checks would guard nothing and cost time on every packet (docs/PERFORMANCE.md).
public struct Lock: @unchecked Sendable {
    /// Owns the mutex; `mutex` points into it and is valid as long as this Lock is.
    private let storage: LockStorage
    /// Visible to inlined code: withLock is inlined into the C exports (another module), where a call
    /// to the generic function costs time on every call.
    @usableFromInline let mutex: UnsafeMutablePointer<pthread_mutex_t>

    public init() {
        storage = LockStorage.make()
        mutex = storage.withUnsafeMutablePointerToElements { $0 }
    }

    @inlinable @inline(__always)
    public func withLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
}

/// One object: a header and the mutex right after it.
private final class LockStorage: ManagedBuffer<Void, pthread_mutex_t> {
    static func make() -> LockStorage {
        let buffer = create(minimumCapacity: 1) { _ in () }
        // create() returns an instance of the class it is called on; the cast cannot fail.
        let storage = unsafeDowncast(buffer, to: LockStorage.self)
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
