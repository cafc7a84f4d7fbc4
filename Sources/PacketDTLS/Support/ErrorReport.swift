// ErrorReport.swift — the thread-local sentence behind every failure.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Each thread keeps the sentence describing its last failure (dtls_last_error_message()).
/// The text is kept as a NUL-terminated C string so the C ABI can hand out a pointer to it.
public enum ErrorReport {
    private final class Slot {
        var cString: UnsafeMutablePointer<CChar>?
        deinit { free(cString) }
    }

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { raw in
            if let raw { Unmanaged<AnyObject>.fromOpaque(raw).release() }
        }
        return key
    }()

    private static var slot: Slot {
        if let raw = pthread_getspecific(key) {
            return Unmanaged<Slot>.fromOpaque(raw).takeUnretainedValue()
        }
        let slot = Slot()
        pthread_setspecific(key, Unmanaged.passRetained(slot).toOpaque())
        return slot
    }

    /// Records `message` as this thread's last failure.
    public static func set(_ message: String) {
        let slot = self.slot
        free(slot.cString)
        slot.cString = strdup(message)
    }

    /// Records `message` and hands `error` back, so a failure reads `return ErrorReport.fail(.busy, "...")`.
    @discardableResult
    public static func fail(_ error: GodotError, _ message: String) -> GodotError {
        set(message)
        return error
    }

    /// This thread's last failure, "" when there was none.
    public static var message: String {
        guard let text = slot.cString else { return "" }
        return String(cString: text)
    }

    /// The C string behind `message`; valid until this thread records the next failure.
    public static var messagePointer: UnsafePointer<CChar> {
        let slot = self.slot
        if slot.cString == nil { slot.cString = strdup("") }
        return UnsafePointer(slot.cString!)
    }
}
