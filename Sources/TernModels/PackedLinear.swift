// A GPTQ or AWQ linear layer (qweight, qzeros, scales, g_idx) rewritten at load into a block type
// the kernels run, with the same bits: 4-bit into Q4_0 (every zero point 8) or Q4_1, 8-bit into
// Q8_0 (every zero 128) or Q8_0M. Act-order layers keep each group's inputs together through an
// input order. Every tensor's shape is checked against the layer and the config first.
import CTernKernels
import TernFormats
import TernOps

struct PackedLinear {
    let packing: PackedQuantization
    let checkpoint: WeightSource
    let compute: Compute

    /// Whether `prefix` (e.g. "model.layers.0.mlp.up_proj") is stored packed.
    func isPacked(_ prefix: String) -> Bool { checkpoint.contains("\(prefix).qweight") }

    func load(_ prefix: String, outputs: Int, inputs: Int) throws -> WeightMatrix {
        func fail(_ reason: String) -> FormatError { FormatError("\(prefix) (\(packing)): \(reason)") }
        guard inputs % Int(TERN_QK) == 0 else { throw fail("\(inputs) inputs are not a multiple of 32") }
        let bits = packing.bits, perWord = 32 / bits
        let groups = packing.groupSize.map { (inputs + $0 - 1) / $0 } ?? 1
        let awq = packing.method == .awq
        guard outputs % perWord == 0, !awq || outputs % 8 == 0 else { throw fail("\(outputs) outputs do not fill whole packed words") }
        let qweight = try integers("\(prefix).qweight", shape: awq ? [inputs, outputs / 8] : [inputs / perWord, outputs], fail)
        let qzeros = try integers("\(prefix).qzeros", shape: [groups, awq ? outputs / 8 : outputs / perWord], fail)
        let scales = try halves("\(prefix).scales", shape: [groups, outputs], fail)
        let groupIndex = checkpoint.contains("\(prefix).g_idx") && !awq
            ? Array(UnsafeBufferPointer(start: try integers("\(prefix).g_idx", shape: [inputs], fail), count: inputs)) : nil
        if packing.actOrder && groupIndex == nil { throw fail("act-order (desc_act) needs the g_idx tensor, which is missing") }
        let inputOrder = try groupIndex.flatMap { try Self.inputOrder(groupIndex: $0, groups: groups, fail) }

        return try scales.withUnsafeBufferPointer { scalesPointer in
            try (groupIndex ?? []).withUnsafeBufferPointer { groupPointer in
                try (inputOrder ?? []).withUnsafeBufferPointer { orderPointer in
                    var matrix = tern_packed_ints(
                        scheme: Int32(awq ? TERN_PACKING_AWQ.rawValue : TERN_PACKING_GPTQ.rawValue), bits: Int32(bits),
                        zero_offset: Int32(packing.zeroOffset), qweight: qweight, qzeros: qzeros, scales: scalesPointer.baseAddress,
                        group_of_input: groupIndex == nil ? nil : groupPointer.baseAddress, group_size: packing.groupSize ?? inputs,
                        input_order: inputOrder == nil ? nil : orderPointer.baseAddress, inputs: inputs, outputs: outputs)
                    let target = try Self.target(&matrix, groups: groups, fail)
                    return WeightMatrix.unpacking(&matrix, into: target, inputOrder: inputOrder, compute: compute)
                }
            }
        }
    }

    /// The block type that holds the layer exactly: zero points all in the middle of the range
    /// need no offset. Zero points outside the range are corrupt.
    private static func target(_ matrix: inout tern_packed_ints, groups: Int, _ fail: (String) -> FormatError) throws -> WeightType {
        let middle = 1 << (matrix.bits - 1), limit = 1 << matrix.bits
        var allMiddle = true
        for group in 0..<groups {
            for output in 0..<matrix.outputs {
                let zero = Int(tern_packed_zero(&matrix, group, output))
                guard zero <= limit else { throw fail("zero point \(zero) of output \(output) in group \(group) is outside 0...\(limit)") }
                allMiddle = allMiddle && zero == middle
            }
        }
        if matrix.bits == 4 { return allMiddle ? .q4_0 : .q4_1 }
        return allMiddle ? .q8_0 : .q8_0m
    }

    /// Inputs sorted by group (stable), or nil when they already are; every 32 consecutive inputs
    /// of the order must then share a group.
    private static func inputOrder(groupIndex: [Int32], groups: Int, _ fail: (String) -> FormatError) throws -> [Int32]? {
        if let bad = groupIndex.firstIndex(where: { $0 < 0 || Int($0) >= groups }) {
            throw fail("g_idx[\(bad)] = \(groupIndex[bad]) is not a group (0..<\(groups))")
        }
        let block = Int(TERN_QK)
        let order = groupIndex.indices.sorted { (groupIndex[$0], $0) < (groupIndex[$1], $1) }
        for start in stride(from: 0, to: order.count, by: block) where Set(order[start..<start + block].map { groupIndex[$0] }).count > 1 {
            throw fail("g_idx puts inputs \(start)..<\(start + block) of the sorted order in different groups (groups must be multiples of 32)")
        }
        return order.enumerated().allSatisfy { $0.offset == $0.element } ? nil : order.map { Int32($0) }
    }

    /// An I32 tensor's words where the checkpoint maps them (alive as long as the checkpoint).
    private func integers(_ name: String, shape: [Int], _ fail: (String) -> FormatError) throws -> UnsafePointer<Int32> {
        let view = try checkpoint.tensor(name)
        guard view.dtype == .i32 else { throw fail("\(name) is \(view.dtype.rawValue), expected I32") }
        guard view.shape == shape else { throw fail("\(name) has shape \(view.shape), expected \(shape)") }
        return view.data.assumingMemoryBound(to: Int32.self)
    }

    /// The scales as f16 (the type GPTQ and AWQ write; f32 or bf16 ones are converted).
    private func halves(_ name: String, shape: [Int], _ fail: (String) -> FormatError) throws -> [UInt16] {
        let view = try checkpoint.tensor(name)
        guard view.shape == shape else { throw fail("\(name) has shape \(view.shape), expected \(shape)") }
        if view.dtype == .f16 { return Array(UnsafeBufferPointer(start: view.data.assumingMemoryBound(to: UInt16.self), count: view.elementCount)) }
        let values = try loadVector(TensorView(name: name, dtype: view.dtype, shape: [view.elementCount], data: view.data,
                                               byteCount: view.byteCount, owner: view.owner), length: view.elementCount)
        return values.map { tern_f32_to_f16($0) }
    }
}
