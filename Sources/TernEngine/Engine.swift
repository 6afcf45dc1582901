// The engine: one dedicated thread owns the model and runs step after step. Each step admits
// waiting requests, runs one forward pass over every running sequence (prefills and decodes
// together) and hands each sequence its token. Callers talk to it only through submit/abort.
import Foundation
import TernModels
import TernOps

public final class Engine: @unchecked Sendable {
    public let loaded: LoadedModel
    public let configuration: EngineConfiguration
    private let pool: BlockPool
    private let cache: PagedKVCache
    private let condition = NSCondition()
    // Guarded by `condition`:
    private var inbox: [(EngineRequest, AsyncStream<EngineEvent>.Continuation)] = []
    private var aborted: Set<String> = []
    private var admission: Admission
    private var published = EngineStats()
    private var running = true
    private var loopAlive = false
    // Owned by the engine thread:
    private var waiting: [ActiveSequence] = []
    private var active: [ActiveSequence] = []
    private var prefixQueries = 0
    private var prefixHits = 0
    private var preemptions = 0
    private var stepSeconds = 0.0
    private var forwardSeconds = 0.0

    public init(loaded: LoadedModel, configuration: EngineConfiguration) {
        self.loaded = loaded
        self.configuration = configuration
        admission = Admission(capacity: configuration.maxNumSeqs + configuration.maxNumQueuedRequests)
        let perSequence = (configuration.maxModelLength + configuration.blockSize - 1) / configuration.blockSize
        let blocks = configuration.blockCount ?? perSequence * configuration.maxNumSeqs
        pool = BlockPool(blockSize: configuration.blockSize, blockCount: blocks)
        cache = loaded.model.makeKVCache(blockSize: configuration.blockSize, blockCount: blocks)
        published.totalBlocks = blocks
        let thread = Thread { [self] in runLoop() }
        thread.name = "tern-engine"
        thread.stackSize = 8 << 20
        loopAlive = true
        thread.start()
    }

    /// Queues a request; its events arrive on the returned stream. Dropping or cancelling the
    /// consumer of the stream aborts the request.
    public func submit(_ request: EngineRequest) throws -> AsyncStream<EngineEvent> {
        try submit([request])[0]
    }

    /// Queues requests that belong together (the choices of one API request): all or none.
    /// Running slots and queue places together are the capacity; a group larger than that can
    /// never be taken and is invalid, a group that does not fit now is told when to retry.
    public func submit(_ requests: [EngineRequest]) throws -> [AsyncStream<EngineEvent>] {
        for request in requests { try validate(request) }
        guard requests.count <= admission.capacity else {
            throw SubmitError.invalid("the request needs \(requests.count) sequences at once, but this server holds at most \(admission.capacity) "
                                      + "(--max-num-seqs \(configuration.maxNumSeqs) + --max-num-queued-reqs \(configuration.maxNumQueuedRequests))")
        }
        condition.lock()
        defer { condition.unlock() }
        guard running, loopAlive else { throw SubmitError.stopped }
        guard admission.take(requests.count) else {
            throw SubmitError.queueFull(limit: admission.capacity, retryAfter: admission.secondsUntilRoom(for: requests.count))
        }
        var streams: [AsyncStream<EngineEvent>] = []
        for request in requests {
            let (stream, continuation) = AsyncStream<EngineEvent>.makeStream()
            inbox.append((request, continuation))
            continuation.onTermination = { [weak self] termination in
                if case .cancelled = termination { self?.abort(request.id) }
            }
            streams.append(stream)
        }
        condition.signal()
        return streams
    }

    private func validate(_ request: EngineRequest) throws {
        do {
            try RequestValidation.check(prompt: request.promptTokens, parameters: request.parameters,
                                        vocabularySize: loaded.model.config.vocabSize, maxModelLength: configuration.maxModelLength)
        } catch let error as EngineError {
            throw SubmitError.invalid(error.message)
        }
        let needed = pool.blocksNeeded(forTokens: min(request.promptTokens.count + request.parameters.maxTokens, configuration.maxModelLength))
        guard needed <= pool.blockCount else {
            throw SubmitError.invalid("the request needs \(needed) KV cache blocks but the cache has only \(pool.blockCount)")
        }
    }

    /// Stops a request at once and frees its KV blocks (a client that went away).
    public func abort(_ id: String) {
        condition.lock()
        aborted.insert(id)
        condition.signal()
        condition.unlock()
    }

    public var stats: EngineStats {
        condition.lock()
        defer { condition.unlock() }
        return published
    }

    /// True while the step loop runs.
    public var isAlive: Bool {
        condition.lock()
        defer { condition.unlock() }
        return loopAlive && running
    }

    /// Finishes the step loop; requests still queued get a failure event.
    public func shutdown() {
        condition.lock()
        running = false
        condition.signal()
        condition.unlock()
    }

    // MARK: The step loop (engine thread only)

    private func runLoop() {
        while takeInbox() {
            let start = DispatchTime.now().uptimeNanoseconds
            admit()
            if !active.isEmpty { step() }
            stepSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            publish()
        }
        condition.lock()
        let queued = inbox.map(\.1)
        inbox.removeAll()
        admission.release(queued.count + waiting.count + active.count)
        condition.unlock()
        for continuation in (waiting + active).map(\.continuation) + queued {
            continuation.yield(.failed("the server is shutting down"))
            continuation.finish()
        }
        condition.lock()
        loopAlive = false
        condition.unlock()
    }

    /// Moves new requests and aborts in; sleeps while there is nothing to do. False when stopping.
    private func takeInbox() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while running && inbox.isEmpty && aborted.isEmpty && active.isEmpty && waiting.isEmpty {
            condition.wait()
        }
        guard running else { return false }
        for (request, continuation) in inbox {
            waiting.append(ActiveSequence(request: request, continuation: continuation, loaded: loaded,
                                          maxLength: configuration.maxModelLength))
        }
        inbox.removeAll()
        if !aborted.isEmpty {
            for sequence in (waiting + active) where aborted.contains(sequence.request.id) {
                pool.release(&sequence.blockTable)
                sequence.finish(.abort)
            }
            let before = waiting.count + active.count
            waiting.removeAll { aborted.contains($0.request.id) }
            active.removeAll { aborted.contains($0.request.id) }
            admission.release(before - waiting.count - active.count)
            aborted.removeAll()
        }
        return true
    }

    /// First come, first served: a waiting request starts when a sequence slot is free and the
    /// pool has blocks for the tokens it must compute first. Leading blocks cached from earlier
    /// requests are reused, all but the last token to compute (which must run for logits).
    private func admit() {
        while let next = waiting.first, active.count < configuration.maxNumSeqs {
            let known = next.knownTokens
            var table: [Int32] = []
            var hashes: [UInt64] = []
            if configuration.enablePrefixCaching {
                hashes = pool.blockHashes(known, seed: next.hashSeed)
                table = pool.reuse(hashes)
                if table.count * pool.blockSize >= known.count {
                    var last = [table.removeLast()]
                    pool.release(&last)
                }
            }
            guard pool.blocksNeeded(forTokens: known.count) - table.count <= pool.availableBlockCount else {
                pool.release(&table)
                break
            }
            next.blockTable = table
            next.computedTokens = table.count * pool.blockSize
            next.hashedBlocks = table.count
            next.lastHash = table.isEmpty ? next.hashSeed : hashes[table.count - 1]
            if next.state.outputTokens.isEmpty {
                prefixQueries += configuration.enablePrefixCaching ? known.count : 0
                prefixHits += next.computedTokens
            }
            active.append(waiting.removeFirst())
        }
    }

    /// Blocks for `tokens` positions of `sequence`; when the pool is out, the most recently admitted
    /// other sequence is preempted: its blocks are freed and it waits to be recomputed later (its
    /// client notices nothing but a pause). False if even that cannot make room.
    private func reserve(_ sequence: ActiveSequence, tokens: Int) -> Bool {
        while !pool.reserve(&sequence.blockTable, forTokens: tokens) {
            guard let victim = active.last(where: { $0 !== sequence }) else { return false }
            preempt(victim)
        }
        return true
    }

    private func preempt(_ sequence: ActiveSequence) {
        pool.release(&sequence.blockTable)
        sequence.computedTokens = 0
        sequence.hashedBlocks = 0
        sequence.lastHash = sequence.hashSeed
        active.removeAll { $0 === sequence }
        waiting.insert(sequence, at: 0)
        preemptions += 1
    }

    /// One forward pass: a token for every decoding sequence, then chunks of the tokens others must
    /// compute first (a new prompt, or a preempted sequence's text), within the token budget.
    private func step() {
        var budget = max(configuration.maxNumBatchedTokens, active.count)
        var scheduled: [(sequence: ActiveSequence, chunk: SequenceChunk)] = []
        for sequence in active where sequence.isDecoding {
            guard active.contains(where: { $0 === sequence }), reserve(sequence, tokens: sequence.state.length) else { continue }
            scheduled.append((sequence, SequenceChunk(tokens: [sequence.state.outputTokens.last!], startPosition: sequence.state.length - 1,
                                                      blockTable: sequence.blockTable, promptLength: sequence.request.promptTokens.count)))
            budget -= 1
        }
        for sequence in active where !sequence.isDecoding && budget > 0 {
            let known = sequence.knownTokens
            let count = min(known.count - sequence.computedTokens, budget)
            let end = sequence.computedTokens + count
            // Earlier sequences come first: making room may preempt later ones, never earlier ones.
            guard active.contains(where: { $0 === sequence }), reserve(sequence, tokens: end) else { break }
            // Only a new prompt's last chunk yields logits; a resumed sequence already knows its next token.
            let wantsLogits = end == known.count && sequence.state.outputTokens.isEmpty
            scheduled.append((sequence, SequenceChunk(tokens: Array(known[sequence.computedTokens..<end]), startPosition: sequence.computedTokens,
                                                      blockTable: sequence.blockTable, logitRows: wantsLogits ? .lastToken : .none,
                                                      promptLength: sequence.request.promptTokens.count)))
            budget -= count
        }
        // A decode scheduled before a later one preempted it must not run.
        scheduled.removeAll { entry in !active.contains { $0 === entry.sequence } }
        guard !scheduled.isEmpty else { return }
        let forwardStart = DispatchTime.now().uptimeNanoseconds
        let logits = loaded.model.forward(ForwardBatch(scheduled.map(\.chunk)), cache: cache)
        forwardSeconds += Double(DispatchTime.now().uptimeNanoseconds - forwardStart) / 1e9
        var finished: [(ActiveSequence, FinishReason)] = []
        for (index, (sequence, chunk)) in scheduled.enumerated() {
            sequence.computedTokens = chunk.startPosition + chunk.tokens.count
            if configuration.enablePrefixCaching { registerFullBlocks(sequence, written: sequence.computedTokens) }
            guard let row = logits.rows(ofSequence: index).first else { continue }
            let step = sequence.state.accept(logits: row, compute: loaded.model.compute)
            sequence.continuation.yield(.token(step))
            if let reason = step.finishReason {
                pool.release(&sequence.blockTable)
                finished.append((sequence, reason))
            }
        }
        active.removeAll { sequence in finished.contains { $0.0 === sequence } }
        // Stats first, so whoever sees a request finish also sees it gone from the running count.
        publish(finishing: finished.count)
        for (sequence, reason) in finished { sequence.finish(reason) }
    }

    /// Registers every block the sequence has filled completely, so later requests can reuse it.
    private func registerFullBlocks(_ sequence: ActiveSequence, written: Int) {
        let size = pool.blockSize
        while (sequence.hashedBlocks + 1) * size <= written {
            let start = sequence.hashedBlocks * size
            let tokens = sequence.tokens(start..<(start + size))
            sequence.lastHash = BlockPool.hash(parent: sequence.lastHash, tokens: tokens[...])
            pool.register(sequence.blockTable[sequence.hashedBlocks], hash: sequence.lastHash)
            sequence.hashedBlocks += 1
        }
    }

    private func publish(finishing finished: Int = 0) {
        condition.lock()
        admission.release(finished)
        published.running = active.count
        published.waiting = waiting.count + inbox.count
        published.usedBlocks = pool.usedBlockCount
        published.prefixCacheQueries = prefixQueries
        published.prefixCacheHits = prefixHits
        published.preemptions = preemptions
        published.stepSeconds = stepSeconds
        published.forwardSeconds = forwardSeconds
        condition.unlock()
    }
}

/// A request inside the engine, with its generation state and KV blocks.
final class ActiveSequence {
    let request: EngineRequest
    let continuation: AsyncStream<EngineEvent>.Continuation
    var state: SequenceState
    var blockTable: [Int32] = []
    /// Leading tokens whose keys and values are in the cache (from the prefix cache or computed).
    var computedTokens = 0
    /// Blocks registered in the prefix cache so far, and the hash of the last one.
    var hashedBlocks = 0
    var lastHash: UInt64
    /// Where the sequence's hash chain starts: keys that depend on more than the tokens (Qwen's
    /// NTK-scaled rotary) are only shared between sequences computed the same way.
    let hashSeed: UInt64

    init(request: EngineRequest, continuation: AsyncStream<EngineEvent>.Continuation, loaded: LoadedModel, maxLength: Int) {
        self.request = request
        self.continuation = continuation
        hashSeed = loaded.model.config.kvCacheVariant(promptLength: request.promptTokens.count)
        lastHash = hashSeed
        state = SequenceState(prompt: request.promptTokens, parameters: request.parameters, tokenizer: loaded.tokenizer,
                              modelEndTokens: loaded.endTokenIds, maxLength: maxLength)
    }

    /// Tokens whose keys and values the sequence needs before its next step: the prompt, or after
    /// it has generated, everything but the last token (which is the next step's input).
    var knownTokens: [Int] {
        state.outputTokens.isEmpty ? request.promptTokens : request.promptTokens + state.outputTokens.dropLast()
    }

    /// All its known tokens are in the cache, so each step now feeds one new token.
    var isDecoding: Bool { !state.outputTokens.isEmpty && computedTokens == state.length - 1 }

    /// Tokens of the sequence (prompt, then output) in `range`.
    func tokens(_ range: Range<Int>) -> [Int] {
        range.map { $0 < request.promptTokens.count ? request.promptTokens[$0] : state.outputTokens[$0 - request.promptTokens.count] }
    }

    func finish(_ reason: FinishReason) {
        continuation.yield(.finished(reason, TokenUsage(promptTokens: request.promptTokens.count, completionTokens: state.outputTokens.count)))
        continuation.finish()
    }
}
