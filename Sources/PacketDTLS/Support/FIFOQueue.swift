// FIFOQueue.swift — a first-in first-out queue over an array with a moving head.

/// Elements in arrival order. Taking the first moves a head index instead of shifting the array;
/// the dead prefix is dropped when the queue empties, or once it is at least `compactAfter` long
/// and half the array. A taken slot is cleared at once, so a taken element's storage is freed
/// when the caller lets go of it, not at the next compaction. An empty queue that grew large gives
/// its storage back; a small one keeps it, so a steady trickle allocates nothing.
struct FIFOQueue<Element> {
    private var slots: [Element?] = []
    private var head = 0
    /// How long the dead prefix may grow before it is dropped (when it is half the array too).
    private static var compactAfter: Int { 32 }
    /// The most slots an emptied queue keeps allocated.
    private static var keptCapacity: Int { 64 }

    init() {}

    var count: Int { slots.count - head }
    var isEmpty: Bool { head == slots.count }

    /// The oldest element, left in place.
    var first: Element? { isEmpty ? nil : slots[head] }

    mutating func append(_ element: Element) {
        slots.append(element)
    }

    /// Takes the oldest element out; nil when empty.
    mutating func removeFirst() -> Element? {
        guard !isEmpty else { return nil }
        let element = slots[head].take()
        head += 1
        if head == slots.count {
            slots.removeAll(keepingCapacity: slots.count <= Self.keptCapacity)
            head = 0
        } else if head >= Self.compactAfter, head * 2 >= slots.count {
            slots.removeFirst(head)
            head = 0
        }
        return element
    }

    /// Takes the newest element out; nil when empty.
    mutating func removeLast() -> Element? {
        guard !isEmpty else { return nil }
        let element = slots.removeLast()
        if head == slots.count { removeAll() }
        return element
    }

    mutating func removeAll() {
        slots = []
        head = 0
    }

    /// Calls `body` on every element, oldest first.
    func forEach(_ body: (Element) -> Void) {
        for slot in slots[head...] {
            if let element = slot { body(element) }
        }
    }
}
