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

    /// Issues a new handle holding a strong reference to `object`; nil when the table is full.
    func issue(_ object: AnyObject, as kind: HandleKind) -> OpaquePointer? {
        precondition(type(of: object) == kind.objectType, "a \(type(of: object)) issued as a \(kind) handle")
        return lock.withLock {
            let index: Int
            if let reused = freeIndices.popLast() {
                index = reused
            } else {
                guard slots.count <= Self.maxIndex else { return nil }
                slots.append(Slot())
                index = slots.count - 1
            }
            slots[index].kind = kind
            slots[index].object = object
            let bits = UInt(slots[index].generation) << 32 | UInt(index) << 8 | UInt(kind.rawValue)
            return OpaquePointer(bitPattern: bits)
        }
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

    /// The object behind a live dtls_udp handle as a DatagramTransport (what a PacketPeerUDP is to DTLS).
    func transport(_ handle: OpaquePointer?) -> DatagramTransport? {
        object(handle, .udp, as: PacketPeerUDP.self)
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

    /// The one lookup every use shares: whether slot `index` holds a live object issued as
    /// `generation` and `kind`. Called under `lock`.
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

/// Reports a handle that is NULL, freed, never issued, or of another class.
func invalidHandle(_ function: StaticString, _ kind: String) -> GodotError {
    ErrorReport.fail(.invalidParameter, "\(function): the \(kind) handle is NULL, freed, or not a \(kind)")
}
