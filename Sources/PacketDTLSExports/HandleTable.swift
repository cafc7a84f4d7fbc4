// HandleTable.swift — C handles as keys into a table of live objects, never as addresses.
//
// A handle packs (generation << 32) | (index << 8) | kind into the pointer-sized value the C
// header calls `dtls_X *`. The library never dereferences it: a lookup checks that the slot at
// `index` is live, holds the same generation, and is of the expected kind. A freed handle's
// slot gets a new generation, so a stale or forged handle finds nothing, and a handle of one
// class can never reach an object of another.

import PacketDTLS

/// The class a handle was issued for; the low byte of every handle.
enum HandleKind: UInt8 {
    case udp = 1, udpServer, peer, server, key, cert, options
    case session, variant

    /// The one class a handle of this kind holds; issue() checks it, so a lookup that found the
    /// right kind can cast without asking the runtime again.
    var objectType: AnyObject.Type {
        switch self {
        case .udp: PacketPeerUDP.self
        case .udpServer: UDPServer.self
        case .peer: PacketPeerDTLS.self
        case .server: DTLSServer.self
        case .key: CryptoKey.self
        case .cert: X509Certificate.self
        case .options: TLSOptions.self
        case .session: ResumableSession.self
        case .variant: VariantBox.self
        }
    }
}

final class HandleTable: @unchecked Sendable {
    private struct Slot {
        var generation: UInt32 = 1
        var kind: HandleKind? = nil
        var object: AnyObject? = nil
    }

    private let lock = Lock()
    // The two stored `var`s below are read and written under `lock` only, so Swift's dynamic
    // exclusivity checks would guard nothing; @exclusivity(unchecked) drops them (their cost per
    // round trip is in docs/PERFORMANCE.md).
    /// Index 0 is never used, so no handle is NULL.
    @exclusivity(unchecked) private var slots: [Slot] = [Slot()]
    @exclusivity(unchecked) private var freeIndices: [Int] = []
    private static let maxIndex = (1 << 24) - 1

    static let shared = HandleTable()

    /// Issues a new handle holding a strong reference to `object`; nil (with the reason recorded) when
    /// the table is full.
    func issue(_ object: AnyObject, as kind: HandleKind) -> OpaquePointer? {
        precondition(type(of: object) == kind.objectType, "a \(type(of: object)) issued as a \(kind) handle")
        return lock.withLock {
            let index: Int
            if let reused = freeIndices.popLast() {
                index = reused
            } else {
                guard slots.count <= Self.maxIndex else {
                    ErrorReport.set("the handle table is full: \(Self.maxIndex) objects are live")
                    return nil
                }
                slots.append(Slot())
                index = slots.count - 1
            }
            slots[index].kind = kind
            slots[index].object = object
            let bits = UInt(slots[index].generation) << 32 | UInt(index) << 8 | UInt(kind.rawValue)
            return OpaquePointer(bitPattern: bits)
        }
    }

    /// A new handle for what a getter returned, or NULL when it returned nothing ("NULL when none").
    func issue(ifAny object: AnyObject?, as kind: HandleKind) -> OpaquePointer? {
        object.flatMap { issue($0, as: kind) }
    }

    /// The object behind a live handle of `kind`, or nil for NULL, freed, forged or other-class handles.
    func object<T: AnyObject>(_ handle: OpaquePointer?, _ kind: HandleKind, as type: T.Type = T.self) -> T? {
        assert(T.self == kind.objectType, "\(kind) handles hold \(kind.objectType), not \(T.self)")
        guard let (index, generation) = decode(handle, kind) else { return nil }
        let found: AnyObject? = lock.withLock {
            isLive(index, generation, kind) ? slots[index].object : nil
        }
        // issue() let only a T in under this kind.
        return found.map { unsafeDowncast($0, to: T.self) }
    }

    /// Drops the table's reference behind `handle`; false when the handle was not live.
    @discardableResult
    func release(_ handle: OpaquePointer?, _ kind: HandleKind) -> Bool {
        guard let (index, generation) = decode(handle, kind) else { return false }
        let released: AnyObject? = lock.withLock {
            guard isLive(index, generation, kind) else { return nil }
            let object = slots[index].object
            slots[index] = Slot(generation: generation == UInt32.max ? 1 : generation + 1)
            freeIndices.append(index)
            return object
        }
        // `released` is dropped here, outside the lock: its deinit may call back into the table.
        return released != nil
    }

    /// The one check object() and release() share: whether slot `index` holds a live object issued
    /// as `generation` and `kind`. Called under `lock`.
    private func isLive(_ index: Int, _ generation: UInt32, _ kind: HandleKind) -> Bool {
        index < slots.count && slots[index].generation == generation && slots[index].kind == kind
    }

    private func decode(_ handle: OpaquePointer?, _ kind: HandleKind) -> (Int, UInt32)? {
        guard let handle else { return nil }
        let bits = UInt(bitPattern: handle)
        guard UInt8(truncatingIfNeeded: bits) == kind.rawValue else { return nil }
        return (Int((bits >> 8) & 0xFF_FFFF), UInt32(truncatingIfNeeded: bits >> 32))
    }
}

/// The handle table every export uses.
let handles = HandleTable.shared

extension HandleKind {
    /// The C type the header gives handles of this kind.
    var cTypeName: String {
        switch self {
        case .udp: "dtls_udp"
        case .udpServer: "dtls_udp_server"
        case .peer: "dtls_peer"
        case .server: "dtls_server"
        case .key: "dtls_key"
        case .cert: "dtls_cert"
        case .options: "dtls_options"
        case .session: "dtls_session"
        case .variant: "dtls_var"
        }
    }
}

extension HandleTable {
    /// The object behind a live handle of `kind`, or nil with the bad handle reported for `function`.
    /// Every export looks its handle arguments up here, so a bad handle reads the same everywhere,
    /// whether the function returns a dtls_error or a neutral value.
    func lookUp<T: AnyObject>(_ handle: OpaquePointer?, _ kind: HandleKind, as type: T.Type = T.self,
                              for function: StaticString) -> T? {
        guard let found = object(handle, kind, as: type) else {
            ErrorReport.set("\(function): the \(kind.cTypeName) handle is NULL, freed, or not a \(kind.cTypeName)")
            return nil
        }
        return found
    }

    /// For a handle argument the header lets be NULL ("NULL = none"): `.some(nil)` for NULL,
    /// `.some(object)` for a live handle, and nil, with the bad handle reported, for anything else,
    /// so a bad handle never quietly reads as "none". After `guard let x = lookUpNullable(...)`,
    /// x is the Optional to pass on.
    func lookUpNullable<T: AnyObject>(_ handle: OpaquePointer?, _ kind: HandleKind, as type: T.Type = T.self,
                                      for function: StaticString) -> T?? {
        guard handle != nil else { return .some(nil) }
        return lookUp(handle, kind, as: type, for: function).map { .some($0) }
    }
}

// lookUp for each class, named after what it finds: what the exports call.
func lookUpUDP(_ handle: OpaquePointer?, _ function: StaticString) -> PacketPeerUDP? {
    handles.lookUp(handle, .udp, for: function)
}
func lookUpUDPServer(_ handle: OpaquePointer?, _ function: StaticString) -> UDPServer? {
    handles.lookUp(handle, .udpServer, for: function)
}
func lookUpPeer(_ handle: OpaquePointer?, _ function: StaticString) -> PacketPeerDTLS? {
    handles.lookUp(handle, .peer, for: function)
}
func lookUpServer(_ handle: OpaquePointer?, _ function: StaticString) -> DTLSServer? {
    handles.lookUp(handle, .server, for: function)
}
func lookUpKey(_ handle: OpaquePointer?, _ function: StaticString) -> CryptoKey? {
    handles.lookUp(handle, .key, for: function)
}
func lookUpCert(_ handle: OpaquePointer?, _ function: StaticString) -> X509Certificate? {
    handles.lookUp(handle, .cert, for: function)
}
func lookUpOptions(_ handle: OpaquePointer?, _ function: StaticString) -> TLSOptions? {
    handles.lookUp(handle, .options, for: function)
}
func lookUpVariant(_ handle: OpaquePointer?, _ function: StaticString) -> VariantBox? {
    handles.lookUp(handle, .variant, for: function)
}
/// A dtls_udp handle as the transport a DTLS peer runs over.
func lookUpTransport(_ handle: OpaquePointer?, _ function: StaticString) -> DatagramTransport? {
    lookUpUDP(handle, function)
}
