// Every kernel on every dispatch path this CPU has, against the scalar reference, on odd sizes;
// the block formats against llama.cpp's reference implementation (the `gguf` package).
import CTernKernels
import Foundation
import Testing
import TernFormats
@testable import TernOps

/// Kernel paths are process-wide, so tests that switch them run one at a time.
@Suite(.serialized) struct KernelTests {
    static let paths = String(cString: tern_available_kernel_paths()).split(separator: " ").map(String.init)

    static func random(_ count: Int, seed: UInt64) -> [Float] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: state >> 11) % 2_000_001) / 1_000_000 - 1
        }
    }

    /// Weight bytes of a [rows x columns] matrix in `type`, from random values.
    static func matrix(_ type: WeightType, rows: Int, columns: Int, seed: UInt64) -> [UInt8] {
        let values = random(rows * columns, seed: seed)
        var bytes = [UInt8](repeating: 0, count: rows * tern_quant_row_bytes(type.rawValue, columns))
        let compute = Compute(threads: 1)
        values.withUnsafeBytes { source in
            bytes.withUnsafeMutableBytes { target in
                if let base = [WeightType.q4_0x4: WeightType.q4_0, .q8_0x4: .q8_0, .q8_0x16: .q8_0, .q4_0x16: .q4_0, .q4_kx16: .q4_k, .f16x16: .f16, .bf16x16: .bf16,
                                 .q4_1x16: .q4_1, .q5_kx16: .q5_k, .q6_kx16: .q6_k, .q5_0x16: .q5_0, .q5_1x16: .q5_1, .iq4_nlx16: .iq4_nl,
                                 .iq4_xsx16: .iq4_xs, .q3_kx16: .q3_k, .q2_kx16: .q2_k][type] {
                    let plain = Self.matrix(base, rows: rows, columns: columns, seed: seed)
                    tern_interleave_rows(compute.pool, base.rawValue, type.rawValue, plain, target.baseAddress, rows, columns)
                } else if type == .iq4_nl || type == .iq4_xs {
                    // No quantizer: random blocks, each starting with a small f16 scale.
                    let blockBytes = tern_quant_row_bytes(type.rawValue, type.blockSize)
                    for (i, v) in Self.random(target.count, seed: seed).enumerated() {
                        target.storeBytes(of: UInt8(truncatingIfNeeded: Int((v + 1) * 1000)), toByteOffset: i, as: UInt8.self)
                    }
                    for (block, v) in Self.random(target.count / blockBytes, seed: seed + 1).enumerated() {
                        target.storeBytes(of: tern_f32_to_f16(abs(v) / 20 + 0.001), toByteOffset: block * blockBytes, as: UInt16.self)
                    }
                } else if type.isQuantized {
                    tern_quantize_matrix(compute.pool, WeightType.f32.rawValue, source.baseAddress, type.rawValue, target.baseAddress, rows, columns)
                } else {
                    for (i, v) in values.enumerated() {
                        switch type {
                        case .f32: target.storeBytes(of: v, toByteOffset: 4 * i, as: Float.self)
                        case .f16: target.storeBytes(of: tern_f32_to_f16(v), toByteOffset: 2 * i, as: UInt16.self)
                        default: target.storeBytes(of: UInt16(v.bitPattern >> 16), toByteOffset: 2 * i, as: UInt16.self)
                        }
                    }
                }
            }
        }
        return bytes
    }

    static func matmul(_ type: WeightType, _ weights: [UInt8], rows: Int, columns: Int, x: [Float], tokens: Int, threads: Int) -> [Float] {
        let compute = Compute(threads: threads)
        var y = [Float](repeating: .nan, count: tokens * rows)
        var scratch = [UInt8](repeating: 0, count: tern_matmul_scratch_bytes(columns, tokens, Int32(threads)) + 1)
        weights.withUnsafeBytes { w in
            tern_matmul(compute.pool, x, tokens, columns, type.rawValue, w.baseAddress, rows, &y, &scratch)
        }
        return y
    }

    @Test func everyPathMatchesTheScalarReference() throws {
        defer { tern_set_kernel_path("auto") }
        let shapes: [(WeightType, rows: Int, columns: Int)] = [
            (.f32, 1, 1), (.f32, 3, 37), (.f16, 17, 45), (.bf16, 5, 33), (.f16, 1, 8), (.bf16, 7, 7),
            (.q8_0, 1, 32), (.q8_0, 17, 96), (.q4_0, 3, 32), (.q4_0, 19, 160), (.q4_k, 1, 256), (.q4_k, 5, 512),
            (.q4_0x4, 4, 32), (.q4_0x4, 12, 96), (.q8_0x4, 4, 64), (.q8_0x4, 20, 160), (.q8_0x16, 16, 32), (.q8_0x16, 48, 160), (.q4_0x16, 16, 64), (.q4_0x16, 32, 96), (.q4_kx16, 16, 256), (.q4_kx16, 32, 512), (.f16x16, 16, 37), (.bf16x16, 32, 45),
            (.q4_1, 5, 64), (.q5_k, 3, 512), (.q6_k, 7, 256), (.q4_1x16, 16, 64), (.q4_1x16, 32, 96), (.q5_kx16, 16, 256), (.q5_kx16, 32, 512),
            (.q6_kx16, 16, 256), (.q6_kx16, 48, 512), (.q5_0x16, 16, 64), (.q5_1x16, 32, 96), (.q3_kx16, 16, 256), (.q2_kx16, 32, 512),
            (.iq4_nlx16, 16, 64), (.iq4_xsx16, 32, 512), (.iq4_xs, 3, 256), (.q2_k, 5, 256), (.q3_k, 4, 512),
        ]
        for (type, rows, columns) in shapes {
            let weights = Self.matrix(type, rows: rows, columns: columns, seed: UInt64(rows * 1000 + columns))
            // 19 tokens: a full group of sixteen for the sixteen-row kernel, then a partial one.
            for tokens in [1, 3, 6, 19] {
                let x = Self.random(tokens * columns, seed: UInt64(tokens))
                #expect(tern_set_kernel_path("scalar") == 0)
                let reference = Self.matmul(type, weights, rows: rows, columns: columns, x: x, tokens: tokens, threads: 1)
                for path in Self.paths {
                    #expect(tern_set_kernel_path(path) == 0)
                    for threads in [1, 2] {
                        let y = Self.matmul(type, weights, rows: rows, columns: columns, x: x, tokens: tokens, threads: threads)
                        let scale = reference.map(abs).max()! + 1e-6
                        let worst = zip(y, reference).map { abs($0 - $1) }.max()!
                        #expect(worst <= 1e-4 * max(1, scale), "\(type) \(rows)x\(columns) tokens \(tokens) \(path) \(threads) threads: \(worst)")
                    }
                }
            }
        }
    }

    /// Every quantized sixteen-row layout with a width of whole blocks of its type.
    static let sixteenRowLayouts: [(WeightType, columns: Int)] = [
        (.q8_0x16, 320), (.q4_0x16, 320), (.q4_1x16, 96), (.q5_0x16, 96), (.q5_1x16, 96), (.iq4_nlx16, 96), (.iq4_xsx16, 512),
        (.q4_kx16, 512), (.q5_kx16, 512), (.q6_kx16, 512), (.q3_kx16, 256), (.q2_kx16, 512),
    ]

    /// A 48-row random matrix in `layout` times `tokens` random rows on the AVX-512 path, with AMX
    /// switched on and then off.
    static func withAndWithoutAMX(_ layout: WeightType, columns: Int, tokens: Int, seed: UInt64) -> (amx: [Float], vnni: [Float]) {
        let rows = 48
        let weights = matrix(layout, rows: rows, columns: columns, seed: seed)
        let x = random(tokens * columns, seed: seed + 1)
        tern_amx_switch(1)
        let amx = matmul(layout, weights, rows: rows, columns: columns, x: x, tokens: tokens, threads: 2)
        tern_amx_switch(0)
        return (amx, matmul(layout, weights, rows: rows, columns: columns, x: x, tokens: tokens, threads: 2))
    }

    /// Where AMX tiles exist, sixteen tokens against every sixteen-row layout run on them and give
    /// exactly the VNNI kernel's floats (same integer sums, same scaling order).
    @Test func amxTilesGiveTheVNNIKernelsFloats() throws {
        guard tern_amx_ready() != 0 else { return }  // no AMX on this CPU: the VNNI path is tested above
        defer { tern_amx_switch(1); tern_set_kernel_path("auto") }
        #expect(tern_set_kernel_path("avx512") == 0)
        for (layout, columns) in Self.sixteenRowLayouts {
            let (amx, vnni) = Self.withAndWithoutAMX(layout, columns: columns, tokens: 35, seed: 77)
            #expect(amx == vnni, "\(layout)")
            let finite = amx.allSatisfy { $0.isFinite }
            #expect(finite, "\(layout)")
        }
    }

    /// Where AMX BF16 exists, prompts of 64 tokens or more run every quantized sixteen-row layout on
    /// bf16 panels: within bf16's rounding of the VNNI path (which quantizes activations to int8),
    /// tokens beyond the last whole tile of 32 included.
    @Test func amxBF16PrefillAgreesWithTheVNNIPath() throws {
        guard tern_amx_bf16_ready() != 0 else { return }  // no AMX BF16 on this CPU
        defer { tern_amx_switch(1); tern_set_kernel_path("auto") }
        #expect(tern_set_kernel_path("avx512") == 0)
        for (layout, columns) in Self.sixteenRowLayouts {
            let (bf16, vnni) = Self.withAndWithoutAMX(layout, columns: columns, tokens: 83, seed: 91)
            let scale = vnni.map(abs).max()!
            let worst = zip(bf16, vnni).map { abs($0 - $1) }.max()!
            #expect(worst <= 1e-2 * scale, "\(layout): \(worst) of \(scale)")
            #expect(bf16 != vnni, "\(layout): the BF16 path did not run")
        }
    }

    @Test func quantizedProductsApproximateTheFloatProduct() throws {
        // The formats themselves: error relative to the exact f32 product stays small.
        let (rows, columns) = (8, 512)
        let exact = Self.matmul(.f32, Self.matrix(.f32, rows: rows, columns: columns, seed: 9), rows: rows, columns: columns,
                                x: Self.random(columns, seed: 4), tokens: 1, threads: 1)
        let norm = exact.map { $0 * $0 }.reduce(0, +).squareRoot()
        for (type, tolerance) in [(WeightType.q8_0, Float(0.02)), (.q4_0, 0.15), (.q4_k, 0.15)] {
            let y = Self.matmul(type, Self.matrix(type, rows: rows, columns: columns, seed: 9), rows: rows, columns: columns,
                                x: Self.random(columns, seed: 4), tokens: 1, threads: 1)
            let error = zip(y, exact).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
            #expect(error / norm < tolerance, "\(type): relative error \(error / norm)")
        }
    }

    @Test func blockLayoutsMatchLlamaCppReference() throws {
        let reference = try JSONParser.parse(contentsOf: Fixtures.root.appendingPathComponent("quant/reference.json"))
        for testCase in reference["cases"]!.arrayValue! {
            let name = testCase["type"]!.stringValue!
            let type = WeightType.allCases.first { $0.name == name }!
            let hex = testCase["bytes"]!.stringValue!
            let bytes = stride(from: 0, to: hex.count, by: 2).map { i -> UInt8 in
                let start = hex.index(hex.startIndex, offsetBy: i)
                return UInt8(hex[start..<hex.index(start, offsetBy: 2)], radix: 16)!
            }
            let expected = testCase["dequantized"]!.arrayValue!.map { Float($0.doubleValue!) }
            var dequantized = [Float](repeating: 0, count: expected.count)
            tern_dequantize_row(type.rawValue, bytes, &dequantized, expected.count)
            #expect(dequantized == expected, "\(name) dequantization")
            if let input = testCase["input"]?.arrayValue?.map({ Float($0.doubleValue!) }) {
                var ours = [UInt8](repeating: 0, count: bytes.count)
                let compute = Compute(threads: 1)
                tern_quantize_matrix(compute.pool, WeightType.f32.rawValue, input, type.rawValue, &ours, 1, input.count)
                #expect(ours == bytes, "\(name) quantization is byte-identical")
            }
        }
    }

    /// Each unpacked-path type's reference blocks (2 rows x 256 columns): every path agrees with the
    /// scalar kernel for 1 to 40 tokens, and the scalar kernel with the f32 product of the
    /// dequantized weights up to the 8-bit activations' rounding.
    /// Q8_0M blocks (Tern's own type, weight = d * q + m) of random quants with their weights.
    static func q8_0mBlocks(count: Int) -> (bytes: [UInt8], weights: [Float]) {
        var bytes: [UInt8] = [], weights: [Float] = []
        let values = random(count * 34, seed: 5)
        for block in 0..<count {
            let field = values[block * 34..<block * 34 + 34].map { $0 }
            let d = tern_f32_to_f16(abs(field[0]) / 40 + 0.001), m = tern_f32_to_f16(field[1] / 5)
            let quants = field[2...].map { Int8(($0 * 127.99).rounded(.down)) }
            bytes += [UInt8(d & 0xFF), UInt8(d >> 8), UInt8(m & 0xFF), UInt8(m >> 8)] + quants.map { UInt8(bitPattern: $0) }
            weights += quants.map { tern_f16_to_f32(d) * Float($0) + tern_f16_to_f32(m) }
        }
        return (bytes, weights)
    }

    @Test func unpackedTypesAgreeOnEveryPath() throws {
        defer { tern_set_kernel_path("auto") }
        let reference = try JSONParser.parse(contentsOf: Fixtures.root.appendingPathComponent("quant/reference.json"))
        let unpacked: [WeightType] = [.q4_1, .q5_0, .q5_1, .q2_k, .q3_k, .q5_k, .q6_k, .iq4_nl, .iq4_xs, .q8_0m]
        for type in unpacked {
            var (weights, dequantized) = Self.q8_0mBlocks(count: 16)
            if type != .q8_0m {
                let testCase = try #require(reference["cases"]!.arrayValue!.first { $0["type"]?.stringValue == type.name })
                let hex = testCase["bytes"]!.stringValue!
                weights = stride(from: 0, to: hex.count, by: 2).map { i -> UInt8 in
                    let start = hex.index(hex.startIndex, offsetBy: i)
                    return UInt8(hex[start..<hex.index(start, offsetBy: 2)], radix: 16)!
                }
                dequantized = testCase["dequantized"]!.arrayValue!.map { Float($0.doubleValue!) }
            }
            let (rows, columns) = (2, 256)
            for tokens in [1, 3, 33, 40] {
                let x = Self.random(tokens * columns, seed: UInt64(tokens) + 7)
                #expect(tern_set_kernel_path("scalar") == 0)
                let scalar = Self.matmul(type, weights, rows: rows, columns: columns, x: x, tokens: tokens, threads: 1)
                let exact = (0..<tokens).flatMap { t in
                    (0..<rows).map { r in (0..<columns).reduce(Float(0)) { $0 + dequantized[r * columns + $1] * x[t * columns + $1] } }
                }
                let norm = exact.map { $0 * $0 }.reduce(0, +).squareRoot()
                let error = zip(scalar, exact).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
                #expect(error / norm < 0.02, "\(type) tokens \(tokens): relative error \(error / norm) against the f32 product")
                for path in Self.paths {
                    #expect(tern_set_kernel_path(path) == 0)
                    for threads in [1, 2] {
                        let y = Self.matmul(type, weights, rows: rows, columns: columns, x: x, tokens: tokens, threads: threads)
                        let worst = zip(y, scalar).map { abs($0 - $1) }.max()!
                        #expect(worst <= 1e-4 * max(1, scalar.map(abs).max()!), "\(type) tokens \(tokens) \(path) \(threads) threads: \(worst)")
                    }
                }
            }
        }
    }

    @Test func interleavedRowsReadBackAsThePlainRows() {
        for (plain, interleaved) in [(WeightType.q4_0, WeightType.q4_0x4), (.q8_0, .q8_0x4), (.q8_0, .q8_0x16), (.q4_0, .q4_0x16), (.q4_k, .q4_kx16), (.f16, .f16x16), (.bf16, .bf16x16),
                                     (.q4_1, .q4_1x16), (.q5_k, .q5_kx16), (.q6_k, .q6_kx16), (.q5_0, .q5_0x16), (.q5_1, .q5_1x16), (.iq4_nl, .iq4_nlx16),
                                     (.iq4_xs, .iq4_xsx16), (.q3_k, .q3_kx16), (.q2_k, .q2_kx16)] {
            let a = Self.matrix(plain, rows: 16, columns: 256, seed: 11), b = Self.matrix(interleaved, rows: 16, columns: 256, seed: 11)
            for row in 0..<16 {
                var x = [Float](repeating: 0, count: 256), y = [Float](repeating: 1, count: 256)
                tern_matrix_row(plain.rawValue, a, row, 256, &x)
                tern_matrix_row(interleaved.rawValue, b, row, 256, &y)
                #expect(x == y, "\(interleaved) row \(row)")
            }
        }
    }

    /// Every path packs the sixteen-row layouts byte for byte as the scalar packer does (the AVX-512
    /// one transposes words of sixteen rows at once): random bytes, so every bit of every field
    /// (scales, six-bit scale packing, fifth and sixth bits) is exercised; several blocks per row
    /// and two row groups, on two threads.
    @Test func everyPathPacksSixteenRowsAsTheScalarPacker() {
        defer { tern_set_kernel_path("auto") }
        let compute = Compute(threads: 2)
        for (plain, packed) in [(WeightType.q8_0, WeightType.q8_0x16), (.q4_0, .q4_0x16), (.iq4_nl, .iq4_nlx16), (.q4_k, .q4_kx16), (.q5_k, .q5_kx16),
                                (.q6_k, .q6_kx16), (.q4_1, .q4_1x16), (.q3_k, .q3_kx16)] {
            let (rows, columns) = (32, 768)
            let source = Self.random(rows * tern_quant_row_bytes(plain.rawValue, columns), seed: 17).map { UInt8(truncatingIfNeeded: Int(($0 + 1) * 100_000)) }
            func pack(_ path: String) -> [UInt8] {
                #expect(tern_set_kernel_path(path) == 0)
                var target = [UInt8](repeating: 0xAA, count: rows * tern_quant_row_bytes(packed.rawValue, columns))
                tern_interleave_rows(compute.pool, plain.rawValue, packed.rawValue, source, &target, rows, columns)
                return target
            }
            let reference = pack("scalar")
            for path in Self.paths { #expect(pack(path) == reference, "\(packed) packed on the \(path) path") }
        }
    }

    /// Repacking a memory-mapped matrix chunk by chunk (each chunk's file pages released after it)
    /// gives the same bytes as one pass, and the file's rows still read back afterwards.
    @Test(arguments: [(WeightType.q8_0, TensorDType.q8_0, 256), (.q4_k, .q4_k, 512), (.q6_k, .q6_k, 512)])
    func repackingAMappedFileInChunksChangesNothing(type: WeightType, dtype: TensorDType, columns: Int) throws {
        let rows = 80
        let bytes = Self.matrix(type, rows: rows, columns: columns, seed: 5)
        let url = try Fixtures.temporaryDirectory().appendingPathComponent("matrix.bin")
        try Data(bytes).write(to: url)
        let file = try MappedFile(path: url.path)
        let view = TensorView(name: "w", dtype: dtype, shape: [rows, columns], data: file.base, byteCount: bytes.count, owner: file)
        let compute = Compute(threads: 2)
        let whole = try WeightMatrix(view, expectedShape: [rows, columns]).interleavedForSpeed(compute: compute, chunkBytes: Int.max / 2)
        let chunked = try WeightMatrix(view, expectedShape: [rows, columns]).interleavedForSpeed(compute: compute, chunkBytes: 1)
        #expect(whole.type != type && chunked.type == whole.type)
        #expect(memcmp(whole.data, chunked.data, whole.byteCount) == 0)
        #expect(memcmp(file.base, bytes, bytes.count) == 0)
    }

    /// The sixteen-row products (their own reference kernel included) equal the plain layout's,
    /// which another kernel computes: offsets and per-sixteen scales are applied the same way.
    @Test func sixteenRowProductsEqualThePlainLayouts() {
        defer { tern_set_kernel_path("auto") }
        for (plain, packed) in [(WeightType.q4_1, WeightType.q4_1x16), (.q4_k, .q4_kx16), (.q5_k, .q5_kx16), (.q6_k, .q6_kx16), (.q5_0, .q5_0x16),
                                (.q5_1, .q5_1x16), (.iq4_nl, .iq4_nlx16), (.iq4_xs, .iq4_xsx16), (.q3_k, .q3_kx16), (.q2_k, .q2_kx16)] {
            let (rows, columns, tokens) = (32, 512, 5)
            let a = Self.matrix(plain, rows: rows, columns: columns, seed: 13), b = Self.matrix(packed, rows: rows, columns: columns, seed: 13)
            let x = Self.random(tokens * columns, seed: 21)
            for path in Self.paths {
                #expect(tern_set_kernel_path(path) == 0)
                let want = Self.matmul(plain, a, rows: rows, columns: columns, x: x, tokens: tokens, threads: 1)
                let got = Self.matmul(packed, b, rows: rows, columns: columns, x: x, tokens: tokens, threads: 2)
                let worst = zip(want, got).map { abs($0 - $1) }.max()!
                #expect(worst <= 1e-4 * max(1, want.map(abs).max()!), "\(packed) \(path): \(worst)")
            }
        }
    }

    @Test func halfPrecisionConversionRoundTrips() {
        for bits in stride(from: UInt16(0), to: 0x7C00, by: 7) {
            #expect(tern_f32_to_f16(tern_f16_to_f32(bits)) == bits)
        }
        #expect(tern_f32_to_f16(65520) == 0x7C00, "rounds to infinity past the largest half")
        #expect(tern_f32_to_f16(1.0 + 1.0 / 2048) == 0x3C00, "ties round to even")
    }

    @Test func poolRunsEveryPartOnce() {
        let compute = Compute(threads: 2)
        #expect(compute.threads == 2)
        // A matmul of many rows on 2 threads equals one thread's result exactly (rows are independent).
        let weights = Self.matrix(.q8_0, rows: 1001, columns: 64, seed: 3)
        let x = Self.random(64, seed: 5)
        let one = Self.matmul(.q8_0, weights, rows: 1001, columns: 64, x: x, tokens: 1, threads: 1)
        for _ in 0..<50 {
            #expect(Self.matmul(.q8_0, weights, rows: 1001, columns: 64, x: x, tokens: 1, threads: 2) == one)
        }
    }
}
