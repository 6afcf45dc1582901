// Activation buffers of a forward pass, allocated once and grown only for a larger batch.
import TernFormats
import TernOps

final class Workspace {
    private let hidden, qDim, kvDim, ffDim, headDim: Int
    private(set) var tokenCapacity = 0

    var x = FloatPointer.allocate(capacity: 1)            // [tokens x hidden] residual stream
    var normed = FloatPointer.allocate(capacity: 1)       // [tokens x hidden] normalised input of a block
    var q = FloatPointer.allocate(capacity: 1)            // [tokens x heads*headDim]
    var k = FloatPointer.allocate(capacity: 1)            // [tokens x kvHeads*headDim]
    var v = FloatPointer.allocate(capacity: 1)            // [tokens x kvHeads*headDim]
    var attention = FloatPointer.allocate(capacity: 1)    // [tokens x heads*headDim] attention output per head
    var attentionOut = FloatPointer.allocate(capacity: 1) // [tokens x hidden] o_proj or down_proj output
    var gate = FloatPointer.allocate(capacity: 1)         // [tokens x intermediate]
    var up = FloatPointer.allocate(capacity: 1)           // [tokens x intermediate]
    let cos: FloatPointer                                 // [headDim/2] rotary cos for one position
    let sin: FloatPointer                                 // [headDim/2] rotary sin for one position

    init(config: ModelConfig) {
        hidden = config.hiddenSize
        headDim = config.headDim
        qDim = config.numAttentionHeads * config.headDim
        kvDim = config.numKeyValueHeads * config.headDim
        ffDim = config.intermediateSize
        cos = FloatPointer.allocate(capacity: headDim / 2)
        sin = FloatPointer.allocate(capacity: headDim / 2)
    }

    deinit {
        for buffer in [x, normed, q, k, v, attention, attentionOut, gate, up, cos, sin] {
            buffer.deallocate()
        }
    }

    func reserve(tokens: Int) {
        if tokens > tokenCapacity {
            tokenCapacity = tokens
            func grow(_ buffer: inout FloatPointer, _ width: Int) {
                buffer.deallocate()
                buffer = FloatPointer.allocate(capacity: tokens * width)
            }
            grow(&x, hidden); grow(&normed, hidden); grow(&q, qDim); grow(&k, kvDim); grow(&v, kvDim)
            grow(&attention, qDim); grow(&attentionOut, hidden); grow(&gate, ffDim); grow(&up, ffDim)
        }
    }
}
