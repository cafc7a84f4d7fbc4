// HandshakeBudget.swift — how many handshakes a DTLSServer carries at once, in all and per address.
//
// A client that passed the cookie exchange and then stalls holds a handshake's memory and timers
// until its deadline; without a cap, an attacker who can receive at many addresses (or one with a
// whole subnet) could pile them up. A handshake holds a slot from the moment its ClientHello with a
// valid cookie is accepted (pending in a UDPServer, or taken) until it completes, fails, reaches its
// deadline or its peer is freed. Slots are counted per source address (not port): one host, or
// everyone behind one NAT, shares the per-address cap.

/// The limits, beyond Godot (which has none).
public struct HandshakeLimits: Sendable, Equatable {
    /// Handshakes in flight on one server at once; 0 = no limit.
    public var maxInFlight: Int
    /// Handshakes in flight from one source address (any port) at once; 0 = no limit.
    public var maxPerAddress: Int
    /// A server-side handshake not complete this many ms after it was taken ends in ERROR; 0 = none
    /// (then only mbedTLS's retransmission timeout ends it).
    public var deadlineMs: Int

    public static let defaultMaxInFlight = 512
    public static let defaultMaxPerAddress = 128
    public static let defaultDeadlineMs = 20_000

    public init(maxInFlight: Int = HandshakeLimits.defaultMaxInFlight,
                maxPerAddress: Int = HandshakeLimits.defaultMaxPerAddress,
                deadlineMs: Int = HandshakeLimits.defaultDeadlineMs) {
        self.maxInFlight = maxInFlight
        self.maxPerAddress = maxPerAddress
        self.deadlineMs = deadlineMs
    }
}

/// The server's count of handshakes in flight. Its lock is a leaf: nothing else is locked under it,
/// so a slot may be given back from under any other lock.
final class HandshakeBudget: @unchecked Sendable {
    private let lock = Lock()
    private var limits = HandshakeLimits()
    private var inFlight = 0
    private var byAddress: [[UInt8]: Int] = [:]

    var currentLimits: HandshakeLimits {
        get { lock.withLock { limits } }
        set { lock.withLock { limits = newValue } }
    }

    /// Handshakes holding a slot now.
    var count: Int { lock.withLock { inFlight } }

    /// A slot for a handshake from `address` (address bytes, no port), nil when a cap is reached.
    func acquire(address: [UInt8]) -> HandshakeSlot? {
        let granted: Bool = lock.withLock {
            let fromAddress = byAddress[address, default: 0]
            if limits.maxInFlight > 0 && inFlight >= limits.maxInFlight { return false }
            if limits.maxPerAddress > 0 && fromAddress >= limits.maxPerAddress { return false }
            inFlight += 1
            byAddress[address] = fromAddress + 1
            return true
        }
        return granted ? HandshakeSlot(budget: self, address: address) : nil
    }

    /// Why acquire() refused, for a message.
    func refusalText(address: String) -> String {
        let (limits, inFlight): (HandshakeLimits, Int) = lock.withLock { (self.limits, self.inFlight) }
        if limits.maxInFlight > 0 && inFlight >= limits.maxInFlight {
            return "\(inFlight) handshakes are in flight, the server's limit (set_handshake_limits)"
        }
        return "\(limits.maxPerAddress) handshakes from \(address) are in flight, the per-address limit "
            + "(set_handshake_limits)"
    }

    fileprivate func release(address: [UInt8]) {
        lock.withLock {
            inFlight -= 1
            let left = byAddress[address, default: 1] - 1
            byAddress[address] = left > 0 ? left : nil
        }
    }
}

/// One handshake's place in the budget, given back when the slot is freed.
final class HandshakeSlot: @unchecked Sendable {
    private let budget: HandshakeBudget
    private let address: [UInt8]

    fileprivate init(budget: HandshakeBudget, address: [UInt8]) {
        self.budget = budget
        self.address = address
    }

    deinit {
        budget.release(address: address)
    }
}
