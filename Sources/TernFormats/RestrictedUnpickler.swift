// A pickle reader that only builds data: it understands the opcodes a PyTorch state dict uses and
// the few globals that rebuild tensors, and refuses every other global, so nothing in a file is
// ever run (a .bin checkpoint is a program for Python's unpickler; here it is only data).

/// What the restricted pickle machine can hold.
indirect enum PickleValue {
    case none, mark
    case bool(Bool), int(Int), float(Double), string(String), bytes([UInt8])
    case tuple([PickleValue]), list([PickleValue]), dict([(PickleValue, PickleValue)])
    /// A global the whitelist allows, by "module.name".
    case global(String)
    /// torch's persistent storage reference: element type (the storage class), archive key, elements.
    case storage(type: String, key: String, elements: Int)
    case tensor(PickledTensor)
}

struct PickledTensor {
    let storageType: String
    let storageKey: String
    let storageElements: Int
    let offset: Int
    let shape: [Int]
    let strides: [Int]
}

struct RestrictedUnpickler {
    /// The only globals a state dict needs: the tensor rebuild calls, the storage classes and OrderedDict.
    static let allowedGlobals: Set<String> = [
        "collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_parameter",
        "torch._tensor._rebuild_from_type_v2", "torch.nn.parameter.Parameter",
        "torch.FloatStorage", "torch.HalfStorage", "torch.BFloat16Storage", "torch.IntStorage", "torch.LongStorage",
        "torch.ByteStorage", "torch.CharStorage", "torch.ShortStorage", "torch.DoubleStorage", "torch.BoolStorage",
    ]

    let bytes: UnsafeRawBufferPointer
    let source: String
    private var at = 0
    private var stack: [PickleValue] = []
    private var marks: [Int] = []
    private var memo: [Int: PickleValue] = [:]

    init(bytes: UnsafeRawBufferPointer, source: String) {
        self.bytes = bytes
        self.source = source
    }

    private func fail(_ reason: String) -> FormatError { FormatError("\(source): \(reason)") }

    private mutating func take(_ count: Int) throws -> UnsafeRawBufferPointer {
        guard count >= 0, at + count <= bytes.count else { throw fail("pickle ends early") }
        defer { at += count }
        return UnsafeRawBufferPointer(rebasing: bytes[at..<(at + count)])
    }

    private mutating func uint(_ count: Int) throws -> Int {
        let raw = try take(count)
        return raw.reversed().reduce(0) { $0 << 8 | Int($1) }
    }

    private mutating func line() throws -> String {
        guard let end = bytes[at...].firstIndex(of: 0x0A) else { throw fail("pickle ends early") }
        defer { at = end + 1 }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[at..<end]), as: UTF8.self)
    }

    private mutating func pop() throws -> PickleValue {
        guard let value = stack.popLast() else { throw fail("pickle stack underflow") }
        return value
    }

    /// The values pushed since the last MARK, which is removed.
    private mutating func popToMark() throws -> [PickleValue] {
        guard let mark = marks.popLast(), mark <= stack.count else { throw fail("pickle MARK missing") }
        defer { stack.removeSubrange(mark...) }
        return Array(stack[mark...])
    }

    private func global(_ module: String, _ name: String) throws -> PickleValue {
        let qualified = "\(module).\(name)"
        guard Self.allowedGlobals.contains(qualified) else {
            throw fail("refusing to load: the pickle names the global '\(qualified)', which a weights file has no use for (it could run code); convert the checkpoint to safetensors with a tool you trust")
        }
        return .global(qualified)
    }

    /// Runs the pickle to its STOP and returns what it built.
    mutating func load() throws -> PickleValue {
        while true {
            let opcode = try uint(1)
            switch opcode {
            case 0x80: _ = try uint(1)                                  // PROTO
            case 0x95: _ = try uint(8)                                  // FRAME
            case 0x2E: return try pop()                                 // STOP
            case 0x28: marks.append(stack.count)                        // MARK
            case 0x4E: stack.append(.none)                              // NONE
            case 0x88: stack.append(.bool(true))                        // NEWTRUE
            case 0x89: stack.append(.bool(false))                       // NEWFALSE
            case 0x4B: stack.append(.int(try uint(1)))                  // BININT1
            case 0x4D: stack.append(.int(try uint(2)))                  // BININT2
            case 0x4A: stack.append(.int(Int(Int32(truncatingIfNeeded: try uint(4)))))  // BININT
            case 0x8A:                                                  // LONG1
                let count = try uint(1)
                guard count <= 8 else { throw fail("integer too large in pickle") }
                let raw = try take(count)
                var value = raw.reversed().reduce(0) { $0 << 8 | Int($1) }
                if count > 0, count < 8, raw[count - 1] & 0x80 != 0 { value -= 1 << (8 * count) }
                stack.append(.int(value))
            case 0x47:                                                  // BINFLOAT (big-endian)
                stack.append(.float(Double(bitPattern: UInt64(try take(8).reduce(0) { $0 << 8 | Int($1) }))))
            case 0x58: stack.append(.string(try text(try uint(4))))     // BINUNICODE
            case 0x8C: stack.append(.string(try text(try uint(1))))     // SHORT_BINUNICODE
            case 0x8D: stack.append(.string(try text(try uint(8))))     // BINUNICODE8
            case 0x43: stack.append(.bytes(Array(try take(try uint(1)))))  // SHORT_BINBYTES
            case 0x42: stack.append(.bytes(Array(try take(try uint(4)))))  // BINBYTES
            case 0x29: stack.append(.tuple([]))                         // EMPTY_TUPLE
            case 0x85: stack.append(.tuple([try pop()]))                // TUPLE1
            case 0x86: let b = try pop(), a = try pop(); stack.append(.tuple([a, b]))  // TUPLE2
            case 0x87: let c = try pop(), b = try pop(), a = try pop(); stack.append(.tuple([a, b, c]))  // TUPLE3
            case 0x74: stack.append(.tuple(try popToMark()))            // TUPLE
            case 0x5D: stack.append(.list([]))                          // EMPTY_LIST
            case 0x6C: stack.append(.list(try popToMark()))             // LIST
            case 0x7D: stack.append(.dict([]))                          // EMPTY_DICT
            case 0x64: stack.append(.dict(try pairs(try popToMark())))  // DICT
            case 0x61: let item = try pop(); try extend(with: [item])   // APPEND
            case 0x65: try extend(with: try popToMark())                // APPENDS
            case 0x73: let value = try pop(), key = try pop(); try insert([(key, value)])  // SETITEM
            case 0x75: try insert(try pairs(try popToMark()))           // SETITEMS
            case 0x71: memo[try uint(1)] = stack.last                   // BINPUT
            case 0x72: memo[try uint(4)] = stack.last                   // LONG_BINPUT
            case 0x94: memo[memo.count] = stack.last                    // MEMOIZE
            case 0x68: stack.append(try remembered(try uint(1)))        // BINGET
            case 0x6A: stack.append(try remembered(try uint(4)))        // LONG_BINGET
            case 0x30: _ = try pop()                                    // POP
            case 0x31: _ = try popToMark()                              // POP_MARK
            case 0x32: guard let top = stack.last else { throw fail("pickle stack underflow") }; stack.append(top)  // DUP
            case 0x63: let module = try line(); stack.append(try global(module, try line()))  // GLOBAL
            case 0x93:                                                  // STACK_GLOBAL
                guard case .string(let name) = try pop(), case .string(let module) = try pop() else { throw fail("bad STACK_GLOBAL") }
                stack.append(try global(module, name))
            case 0x51: stack.append(try persistent(try pop()))          // BINPERSID
            case 0x52: let arguments = try pop(); stack.append(try call(try pop(), arguments))  // REDUCE
            case 0x62: _ = try pop()                                    // BUILD: state of an OrderedDict or Parameter, unused
            default:
                throw fail(String(format: "pickle opcode 0x%02x is not one a weights file uses; refusing to load", opcode))
            }
        }
    }

    private mutating func text(_ count: Int) throws -> String { String(decoding: try take(count), as: UTF8.self) }

    private func remembered(_ index: Int) throws -> PickleValue {
        guard let value = memo[index] else { throw fail("pickle refers to memo \(index), never stored") }
        return value
    }

    private func pairs(_ items: [PickleValue]) throws -> [(PickleValue, PickleValue)] {
        guard items.count % 2 == 0 else { throw fail("odd number of dict items in pickle") }
        return stride(from: 0, to: items.count, by: 2).map { (items[$0], items[$0 + 1]) }
    }

    private mutating func extend(with items: [PickleValue]) throws {
        guard case .list(let list) = try pop() else { throw fail("APPEND to something not a list") }
        stack.append(.list(list + items))
    }

    private mutating func insert(_ items: [(PickleValue, PickleValue)]) throws {
        guard case .dict(let dict) = try pop() else { throw fail("SETITEM on something not a dict") }
        stack.append(.dict(dict + items))
    }

    /// torch's ('storage', StorageClass, key, location, elements) reference to a file in the archive.
    private func persistent(_ id: PickleValue) throws -> PickleValue {
        guard case .tuple(let parts) = id, parts.count >= 5, case .string("storage") = parts[0], case .global(let type) = parts[1],
              case .string(let key) = parts[2], case .int(let elements) = parts[4] else {
            throw fail("unknown persistent reference in pickle")
        }
        return .storage(type: type, key: key, elements: elements)
    }

    /// The allowed calls, evaluated here on data; no Python is involved.
    private func call(_ callable: PickleValue, _ arguments: PickleValue) throws -> PickleValue {
        guard case .global(let name) = callable, case .tuple(let args) = arguments else { throw fail("REDUCE of something not callable") }
        switch name {
        case "collections.OrderedDict":
            return .dict([])
        case "torch._utils._rebuild_tensor_v2":
            guard args.count >= 4, case .storage(let type, let key, let elements) = args[0], case .int(let offset) = args[1],
                  case .tuple(let size) = args[2], case .tuple(let stride) = args[3] else { throw fail("bad _rebuild_tensor_v2 arguments") }
            let shape = try size.map { value -> Int in guard case .int(let n) = value, n >= 0 else { throw fail("bad tensor size") }; return n }
            let strides = try stride.map { value -> Int in guard case .int(let n) = value else { throw fail("bad tensor stride") }; return n }
            return .tensor(PickledTensor(storageType: type, storageKey: key, storageElements: elements, offset: offset, shape: shape, strides: strides))
        case "torch._utils._rebuild_parameter":
            guard let data = args.first, case .tensor = data else { throw fail("bad _rebuild_parameter arguments") }
            return data
        case "torch._tensor._rebuild_from_type_v2":
            guard args.count >= 3 else { throw fail("bad _rebuild_from_type_v2 arguments") }
            return try call(args[0], args[2])
        default:
            throw fail("refusing to call '\(name)' from a pickle")
        }
    }
}
