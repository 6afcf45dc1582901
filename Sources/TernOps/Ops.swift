// The operations models are written against; each forwards to a C kernel.
import CTernKernels

public typealias FloatPointer = UnsafeMutablePointer<Float>

public enum Ops {
    /// out[n x rows] = x[n x columns] * W^T (+ bias), on the pool's threads.
    public static func linear(_ x: UnsafePointer<Float>, tokens n: Int, weight: WeightMatrix, bias: [Float]?,
                              out: FloatPointer, compute: Compute) {
        linear(x, tokens: n, [(weight, bias, out)], compute: compute)
    }

    /// Several products of the same input (q/k/v, gate/up) in one dispatch per input order:
    /// matrices whose columns follow an input order (act-order checkpoints) read x gathered into it.
    public static func linear(_ x: UnsafePointer<Float>, tokens n: Int, _ products: [(weight: WeightMatrix, bias: [Float]?, out: FloatPointer)],
                              compute: Compute) {
        let columns = products[0].weight.columns
        precondition(products.count <= Int(TERN_MAX_MATRICES) && products.allSatisfy { $0.weight.columns == columns })
        let matmulBytes = tern_matmul_scratch_bytes(columns, n, Int32(compute.threads))
        let hasOrder = products.contains { $0.weight.inputOrder != nil }
        let scratch = compute.scratch(bytes: matmulBytes + (hasOrder ? n * columns * MemoryLayout<Float>.size : 0))
        var remaining = products
        while let order = remaining.first.map({ $0.weight.inputOrder }) {
            let group = remaining.filter { $0.weight.inputOrder == order }
            remaining.removeAll { $0.weight.inputOrder == order }
            var input = x
            if let order {
                let gathered = (scratch + matmulBytes).assumingMemoryBound(to: Float.self)
                for t in 0..<n {
                    for (j, source) in order.enumerated() { gathered[t * columns + j] = x[t * columns + Int(source)] }
                }
                input = UnsafePointer(gathered)
            }
            let matrices = group.map { tern_matrix(type: $0.weight.type.rawValue, weights: $0.weight.data, rows: $0.weight.rows, out: $0.out) }
            tern_matmul_many(compute.pool, input, n, columns, matrices, matrices.count, scratch)
        }
        for (weight, bias, out) in products {
            guard let bias else { continue }
            for t in 0..<n { addInPlace(out + t * weight.rows, bias, count: weight.rows) }
        }
    }

    public static func rmsNorm(_ x: UnsafePointer<Float>, weight: [Float], eps: Float, rows: Int, out: FloatPointer, compute: Compute) {
        tern_rmsnorm(compute.pool, x, weight, out, rows, weight.count, eps)
    }

    public static func rope(_ vec: FloatPointer, heads: Int, headDim: Int, rotaryDimensions: Int, cos: UnsafePointer<Float>, sin: UnsafePointer<Float>) {
        tern_rope(vec, heads, headDim, rotaryDimensions, cos, sin)
    }

    public static func siluMul(gate: FloatPointer, up: UnsafePointer<Float>, count: Int, compute: Compute) {
        tern_silu_mul(compute.pool, gate, up, count)
    }

    /// A token drawn from softmax(scores / temperature) with `unit` uniform in [0, 1), on the
    /// threads of `compute` if given.
    public static func sampleSoftmax(_ scores: [Float], temperature: Float, unit: Double, compute: Compute? = nil) -> Int {
        Int(tern_sample_softmax(compute?.pool, scores, scores.count, temperature, unit))
    }

    public static func scale(_ x: FloatPointer, count: Int, by factor: Float) {
        for i in 0..<count { x[i] *= factor }
    }

    public static func addInPlace(_ into: FloatPointer, _ other: UnsafePointer<Float>, count: Int) {
        for i in 0..<count { into[i] += other[i] }
    }
}
