// Runs a compiled grammar over bytes, built lazily and remembered. A parse position is a stack of
// grammar positions, stored as an interned linked list (one integer per stack); a state is the
// sorted set of stacks still alive. States and their byte transitions are interned too, so a
// grammar's automaton is built once, as far as generation explores it, and shared by every
// request with the same constraint. Not thread-safe: TokenConstraint serialises access.

final class GrammarAutomaton {
    typealias StateID = Int32
    static let dead: StateID = -1
    /// The empty stack: the root rule has been matched completely.
    private static let finished: Int32 = -1

    private let grammar: CompiledGrammar
    /// Stack nodes: a grammar position and the node below it.
    private var nodes: [(position: Int32, below: Int32)] = []
    private var nodeIDs: [Int64: Int32] = [:]
    /// Each node with its rule references and rule ends resolved: nodes whose top is a byte set,
    /// or `finished`.
    private var closures: [Int32: [Int32]] = [:]
    private var states: [[Int32]] = []
    private var stateIDs: [[Int32]: StateID] = [:]
    /// Per state, its 256 byte transitions once any was asked for (`unknown` until computed): a
    /// token mask walks hundreds of thousands of bytes, so this lookup must be an array read.
    private var transitions: [[StateID]?] = []
    private static let unknown: StateID = -2
    private(set) var start: StateID = 0

    init(_ grammar: CompiledGrammar) {
        self.grammar = grammar
        var roots: [Int32] = []
        for position in grammar.alternatives(ofRule: grammar.root) {
            roots += closure(node(position, below: Self.finished))
        }
        start = state(roots)
    }

    var stateCount: Int { states.count }

    /// The root rule can end here.
    func isAccepting(_ state: StateID) -> Bool { states[Int(state)].first == Self.finished }

    /// Nothing can follow: the only stack left is the finished one.
    func isComplete(_ state: StateID) -> Bool { states[Int(state)] == [Self.finished] }

    func next(_ state: StateID, _ byte: UInt8) -> StateID {
        if let known = transitions[Int(state)]?[Int(byte)], known != Self.unknown { return known }
        var reached: [Int32] = []
        for stack in states[Int(state)] where stack != Self.finished {
            let (position, below) = nodes[Int(stack)]
            guard case .bytes(let set) = grammar.element(position), set.contains(byte) else { continue }
            reached += closure(node(position + 1, below: below))
        }
        let result = reached.isEmpty ? Self.dead : self.state(reached)
        if transitions[Int(state)] == nil { transitions[Int(state)] = [StateID](repeating: Self.unknown, count: 256) }
        transitions[Int(state)]![Int(byte)] = result
        return result
    }

    private func node(_ position: Int32, below: Int32) -> Int32 {
        let key = Int64(position) << 32 | Int64(UInt32(bitPattern: below))
        if let id = nodeIDs[key] { return id }
        let id = Int32(nodes.count)
        nodes.append((position, below))
        nodeIDs[key] = id
        return id
    }

    private func closure(_ stack: Int32) -> [Int32] {
        if stack == Self.finished { return [Self.finished] }
        if let known = closures[stack] { return known }
        let (position, below) = nodes[Int(stack)]
        let result: [Int32]
        switch grammar.element(position) {
        case .bytes:
            result = [stack]
        case .end:
            result = closure(below)
        case .rule(let rule):
            let continuation = node(position + 1, below: below)
            result = grammar.alternatives(ofRule: rule).flatMap { closure(node($0, below: continuation)) }
        }
        closures[stack] = result
        return result
    }

    private func state(_ stacks: [Int32]) -> StateID {
        let key = Array(Set(stacks)).sorted()
        if let id = stateIDs[key] { return id }
        let id = StateID(states.count)
        states.append(key)
        stateIDs[key] = id
        transitions.append(nil)
        return id
    }
}
