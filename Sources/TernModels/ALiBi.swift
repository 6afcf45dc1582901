// ALiBi slopes as Baichuan's modeling code makes them: for a power of two n, the geometric
// series 2^(-8/n · (h+1)); otherwise those of the largest power of two below n, then every other
// slope of twice that many heads (so 40 heads get 32 + 8).
import Foundation

enum ALiBi {
    static func slopes(heads: Int) -> [Float] {
        func powerOfTwo(_ n: Int) -> [Double] {
            let start = pow(2, -pow(2, -(log2(Double(n)) - 3)))
            return (0..<n).map { start * pow(start, Double($0)) }
        }
        let lower = 1 << Int(log2(Double(heads)).rounded(.down))
        if lower == heads { return powerOfTwo(heads).map { Float($0) } }
        let doubled = slopes(heads: 2 * lower)
        return powerOfTwo(lower).map { Float($0) } + stride(from: 0, to: 2 * lower, by: 2).prefix(heads - lower).map { doubled[$0] }
    }
}
