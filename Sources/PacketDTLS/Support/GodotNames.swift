// GodotNames.swift — Godot's names for its Error and Status numbers, as static C strings.
//
// The numbers themselves live in include/packetdtls.h; these tables give each its Godot name,
// in static storage so the C ABI can return the pointer as it is.

extension GodotError: @retroactive CustomStringConvertible {
    private static let names: [StaticString] = [
        "OK",
        "FAILED",
        "ERR_UNAVAILABLE",
        "ERR_UNCONFIGURED",
        "ERR_UNAUTHORIZED",
        "ERR_PARAMETER_RANGE_ERROR",
        "ERR_OUT_OF_MEMORY",
        "ERR_FILE_NOT_FOUND",
        "ERR_FILE_BAD_DRIVE",
        "ERR_FILE_BAD_PATH",
        "ERR_FILE_NO_PERMISSION",
        "ERR_FILE_ALREADY_IN_USE",
        "ERR_FILE_CANT_OPEN",
        "ERR_FILE_CANT_WRITE",
        "ERR_FILE_CANT_READ",
        "ERR_FILE_UNRECOGNIZED",
        "ERR_FILE_CORRUPT",
        "ERR_FILE_MISSING_DEPENDENCIES",
        "ERR_FILE_EOF",
        "ERR_CANT_OPEN",
        "ERR_CANT_CREATE",
        "ERR_QUERY_FAILED",
        "ERR_ALREADY_IN_USE",
        "ERR_LOCKED",
        "ERR_TIMEOUT",
        "ERR_CANT_CONNECT",
        "ERR_CANT_RESOLVE",
        "ERR_CONNECTION_ERROR",
        "ERR_CANT_ACQUIRE_RESOURCE",
        "ERR_CANT_FORK",
        "ERR_INVALID_DATA",
        "ERR_INVALID_PARAMETER",
        "ERR_ALREADY_EXISTS",
        "ERR_DOES_NOT_EXIST",
        "ERR_DATABASE_CANT_READ",
        "ERR_DATABASE_CANT_WRITE",
        "ERR_COMPILATION_FAILED",
        "ERR_METHOD_NOT_FOUND",
        "ERR_LINK_FAILED",
        "ERR_SCRIPT_FAILED",
        "ERR_CYCLIC_LINK",
        "ERR_INVALID_DECLARATION",
        "ERR_DUPLICATE_SYMBOL",
        "ERR_PARSE_ERROR",
        "ERR_BUSY",
        "ERR_SKIP",
        "ERR_HELP",
        "ERR_BUG",
        "ERR_PRINTER_ON_FIRE",
    ]

    /// Godot's name, e.g. "ERR_INVALID_PARAMETER".
    public var description: String { godotName.description }

    /// Godot's name as a static string ("ERR_UNKNOWN" cannot happen for a valid case).
    public var godotName: StaticString {
        let index = Int(rawValue)
        return index < Self.names.count ? Self.names[index] : "ERR_UNKNOWN"
    }

    /// Godot's name for a raw number that may lie outside the enum.
    public static func godotName(forRawValue raw: UInt32) -> StaticString {
        guard let error = GodotError(rawValue: raw) else { return "ERR_UNKNOWN" }
        return error.godotName
    }
}

extension DTLSStatus: @retroactive CustomStringConvertible {
    private static let names: [StaticString] = [
        "STATUS_DISCONNECTED",
        "STATUS_HANDSHAKING",
        "STATUS_CONNECTED",
        "STATUS_ERROR",
        "STATUS_ERROR_HOSTNAME_MISMATCH",
    ]

    /// Godot's name, e.g. "STATUS_CONNECTED".
    public var description: String { godotName.description }

    public var godotName: StaticString {
        let index = Int(rawValue)
        return index < Self.names.count ? Self.names[index] : "STATUS_UNKNOWN"
    }

    public static func godotName(forRawValue raw: UInt32) -> StaticString {
        guard let status = DTLSStatus(rawValue: raw) else { return "STATUS_UNKNOWN" }
        return status.godotName
    }
}
