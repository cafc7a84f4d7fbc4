// Exports.swift — what every Swift user of PacketDTLS sees from the C header: Godot's numbers.
//
// GodotError (Godot's Error), DTLSStatus (PacketPeerDTLS.Status) and HashType are defined once,
// in include/packetdtls.h, and imported here as native Swift enums. The header's functions are
// implemented by the PacketDTLSExports module, not this one: Swift code uses the classes.

@_exported public import CPacketDTLS
