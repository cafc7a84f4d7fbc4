// Failure.swift — the one way a failure travels up to the public API: Godot's number and a sentence.

/// Godot's error number with the sentence for dtls_last_error_message(): the library's Swift Error.
/// Internal helpers throw it (typed: `throws(Failure)`); the public methods catch it once, record
/// the sentence for the calling thread, and return the number (or nil). mbedTLS's own codes travel
/// as MbedTLSError until a caller decides which Godot error and sentence they mean.
struct Failure: Error {
    let code: GodotError
    let message: String

    init(_ code: GodotError, _ message: String) {
        self.code = code
        self.message = message
    }

    /// Records the sentence for the calling thread and hands back the number.
    @discardableResult
    func report() -> GodotError {
        ErrorReport.fail(code, message)
    }

    /// Runs `body`; a Failure it throws is recorded (report()) and its number returned.
    static func reported(_ body: () throws(Failure) -> GodotError) -> GodotError {
        do {
            return try body()
        } catch {
            return error.report()
        }
    }
}
