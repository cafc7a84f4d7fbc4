// Failure.swift — how a failure travels up to the public API: Godot's number and a sentence.

/// Godot's error number with the sentence for dtls_last_error_message(). Internal helpers throw it;
/// the public methods catch it once, record the sentence, and return the number (or nil).
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
}
