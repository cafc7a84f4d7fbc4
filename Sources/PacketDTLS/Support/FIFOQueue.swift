// FIFOQueue.swift — a first-in first-out queue over a ring of slots.

/// Elements in arrival order, in a ring whose size is a power of two: taking the first moves a head
/// index, adding writes the slot after the last, and nothing shifts or is copied until the ring is
/// full (then it doubles, in order). A taken slot is cleared at once, so a taken element's storage is
/// freed when the caller lets go of it. An empty queue that grew large gives its storage back; a small
/// one keeps it, so a steady trickle allocates nothing. (The ring replaced an array with a moving head
/// whose emptying cost an Array.removeAll on every datagram of a server's peer: docs/PERFORMANCE.md.)
struct FIFOQueue<Element> {
    /// nil slots are free; `slots.count` is 0 or a power of two.
    private var slots: [Element?] = []
    private var head = 0
    private(set) var count = 0
    /// The most slots an emptied queue keeps allocated.
    private static var keptCapacity: Int { 64 }

    init() {}

    var isEmpty: Bool { count == 0 }

    /// The oldest element, left in place.
    var first: Element? { isEmpty ? nil : slots[head] }

    private var mask: Int { slots.count &- 1 }

    /// Consuming: the element moves into its slot (a borrowed one was copied there, a retain and a
    /// release per datagram of a server's peer).
    mutating func append(_ element: consuming Element) {
        if count == slots.count { grow() }
        slots[(head &+ count) & mask] = consume element
        count &+= 1
    }

    /// Puts an element back in front of the others.
    mutating func prepend(_ element: Element) {
        if count == slots.count { grow() }
        head = (head &- 1) & mask
        slots[head] = element
        count &+= 1
    }

    /// Takes the oldest element out; nil when empty.
    mutating func removeFirst() -> Element? {
        guard count > 0 else { return nil }
        let element = slots[head].take()
        head = (head &+ 1) & mask
        count &-= 1
        if count == 0 { emptied() }
        return element
    }

    /// Takes the newest element out; nil when empty.
    mutating func removeLast() -> Element? {
        guard count > 0 else { return nil }
        let element = slots[(head &+ count &- 1) & mask].take()
        count &-= 1
        if count == 0 { emptied() }
        return element
    }

    mutating func removeAll() {
        slots = []
        head = 0
        count = 0
    }

    /// Calls `body` on every element, oldest first.
    func forEach(_ body: (Element) -> Void) {
        for index in 0..<count {
            if let element = slots[(head &+ index) & mask] { body(element) }
        }
    }

    /// Doubles the ring (at least 4 slots), the elements in order from slot 0.
    private mutating func grow() {
        var grown = [Element?](repeating: nil, count: Swift.max(4, slots.count * 2))
        for index in 0..<count { grown[index] = slots[(head &+ index) & mask].take() }
        slots = grown
        head = 0
    }

    private mutating func emptied() {
        head = 0
        if slots.count > Self.keptCapacity { slots = [] }
    }
}
