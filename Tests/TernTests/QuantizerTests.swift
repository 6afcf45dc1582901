// The quantizers of llama-quantize's mix types: rows of normally distributed weights (with a few
// outliers, as trained layers have) come back within each type's error, which is near what
// llama.cpp's own quantizers reach on the same rows (measured with scripts/quantizer_errors.py).
import Foundation
import Testing
@testable import TernOps
import CTernKernels

@Suite struct QuantizerTests {
    /// Normal values from the kernel tests' generator (Box-Muller), every 97th one five times larger.
    static func weights(_ count: Int, seed: UInt64) -> [Float] {
        let uniform = KernelTests.random(2 * count, seed: seed).map { ($0 + 1) / 2 }
        return (0..<count).map { i in
            let u1 = max(uniform[2 * i], 1e-7), u2 = uniform[2 * i + 1]
            let normal = (-2 * log(u1)).squareRoot() * cos(2 * Float.pi * u2)
            return normal * (i % 97 == 0 ? 5 : 1) * 0.02
        }
    }

    /// Relative RMS error bound per type: llama.cpp's quantizers reach 0.326 (Q2_K), 0.180 (Q3_K),
    /// 0.0817 (Q4_K), 0.0415 (Q5_K), 0.0221 (Q6_K), 0.0576 (Q5_0) and 0.0429 (Q5_1) on these rows;
    /// Tern's measured 0.285, 0.174, 0.0814, 0.0414, 0.0221, 0.0576, 0.0429.
    static let bounds: [(WeightType, Float)] = [
        (.q2_k, 0.30), (.q3_k, 0.18), (.q4_k, 0.085), (.q5_k, 0.043), (.q6_k, 0.023), (.q5_0, 0.06), (.q5_1, 0.045),
    ]

    @Test func rowsComeBackWithinEachTypesError() {
        let (rows, columns) = (64, 512)
        let x = Self.weights(rows * columns, seed: 3)
        let compute = Compute(threads: 2)
        for (type, bound) in Self.bounds {
            var bytes = [UInt8](repeating: 0, count: rows * tern_quant_row_bytes(type.rawValue, columns))
            tern_quantize_matrix(compute.pool, WeightType.f32.rawValue, x, type.rawValue, &bytes, rows, columns)
            var y = [Float](repeating: 0, count: rows * columns)
            bytes.withUnsafeBytes { tern_dequantize_row(type.rawValue, $0.baseAddress, &y, rows * columns) }
            let error = zip(x, y).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot() / x.map { $0 * $0 }.reduce(0, +).squareRoot()
            print("quantizer \(type.name): relative RMS error \(error)")
            #expect(error < bound, "\(type.name): relative RMS error \(error)")
        }
    }
}
