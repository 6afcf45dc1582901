// Rotary position embedding frequencies, with the linear and LLaMA-3 scaling rules and GGUF's per-frequency factors.
import Foundation
import TernFormats
import TernOps

public struct RotaryEmbedding: Sendable {
    /// One inverse frequency per pair of a head's dimensions (headDim / 2 values).
    public let inverseFrequencies: [Float]

    public init(headDim: Int, theta: Double, scaling: RopeScaling) {
        // Computed in f32 like the reference implementation, so angles round the same way.
        var frequencies = (0..<headDim / 2).map { i -> Float in
            1 / Float(pow(Double(theta), Double(Float(2 * i) / Float(headDim))))
        }
        switch scaling.kind {
        case .none:
            break
        case .linear:
            frequencies = frequencies.map { $0 / Float(scaling.factor) }
        case .frequencyFactors:
            frequencies = zip(frequencies, scaling.factors).map { $0 / $1 }
        case .llama3:
            let factor = Float(scaling.factor)
            let oldContext = Float(scaling.originalMaxPositionEmbeddings)
            let lowWavelength = oldContext / Float(scaling.lowFreqFactor)
            let highWavelength = oldContext / Float(scaling.highFreqFactor)
            frequencies = frequencies.map { f in
                let wavelength = 2 * Float.pi / f
                if wavelength < highWavelength { return f }
                if wavelength > lowWavelength { return f / factor }
                let smooth = (oldContext / wavelength - Float(scaling.lowFreqFactor))
                    / Float(scaling.highFreqFactor - scaling.lowFreqFactor)
                return (1 - smooth) * f / factor + smooth * f
            }
        }
        inverseFrequencies = frequencies
    }

    /// Fills cos and sin (headDim / 2 each) for one position.
    public func angles(position: Int, cos cosOut: FloatPointer, sin sinOut: FloatPointer) {
        for (i, f) in inverseFrequencies.enumerated() {
            let angle = Float(position) * f
            cosOut[i] = Foundation.cos(angle)
            sinOut[i] = Foundation.sin(angle)
        }
    }
}
