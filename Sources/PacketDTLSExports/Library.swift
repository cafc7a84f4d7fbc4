// Library.swift — the library-wide exports: versions, error names, the last error message.

import PacketDTLS

@c @implementation
public func dtls_version_number() -> UInt32 {
    UInt32(DTLS_VERSION_MAJOR * 10000 + DTLS_VERSION_MINOR * 100 + DTLS_VERSION_PATCH)
}

@c @implementation
public func dtls_version_string() -> UnsafePointer<CChar>! {
    LibraryInfo.versionCString
}

@c @implementation
public func dtls_error_string(_ error: GodotError) -> UnsafePointer<CChar>! {
    GodotError.godotName(forRawValue: error.rawValue).cStringPointer
}

@c @implementation
public func dtls_status_string(_ status: DTLSStatus) -> UnsafePointer<CChar>! {
    DTLSStatus.godotName(forRawValue: status.rawValue).cStringPointer
}

@c @implementation
public func dtls_last_error_message() -> UnsafePointer<CChar>! {
    ErrorReport.messagePointer
}

extension StaticString {
    /// The literal's bytes, which live in static storage and end in NUL.
    var cStringPointer: UnsafePointer<CChar> {
        UnsafeRawPointer(utf8Start).assumingMemoryBound(to: CChar.self)
    }
}
