// Submits a request's choices to the engine and merges their events; records metrics as
// events arrive. A consumer that stops listening (client gone) aborts every choice.
import Foundation
import TernEngine

struct ChoiceEvent: Sendable {
    let index: Int
    let event: EngineEvent
}

public final class GenerationService: Sendable {
    let engine: Engine
    let metrics: ServerMetrics

    public init(engine: Engine, metrics: ServerMetrics) {
        self.engine = engine
        self.metrics = metrics
    }

    /// Starts `n` choices for each prompt (choice index = prompt index * n + i), all or none.
    func start(prompts: [[Int]], options: GenerationOptions) throws -> GenerationRun {
        var requests: [EngineRequest] = []
        for prompt in prompts {
            var fitted = options
            try fitted.fit(promptTokens: prompt.count, maxModelLength: engine.configuration.maxModelLength)
            for i in 0..<options.n {
                var parameters = fitted.parameters
                // Each choice draws its own samples; a seed still makes the whole set reproducible.
                parameters.seed = parameters.seed.map { $0 &+ UInt64(i) }
                requests.append(EngineRequest(id: UUID().uuidString, promptTokens: prompt, parameters: parameters))
            }
        }
        do {
            let streams = try engine.submit(requests)
            return merge(streams, promptLengths: prompts.flatMap { Array(repeating: $0.count, count: options.n) })
        } catch {
            throw Self.apiError(error)
        }
    }

    static func apiError(_ error: Error) -> Error {
        guard let submitError = error as? SubmitError else { return error }
        switch submitError {
        case .invalid(let message): return APIError.badRequest(message)
        case .stopped: return APIError(.serviceUnavailable, submitError.description)
        case .queueFull(_, let retryAfter):
            var apiError = APIError(.tooManyRequests, submitError.description)
            apiError.headers[.retryAfter] = String(retryAfter)
            return apiError
        }
    }

    private func merge(_ streams: [AsyncStream<EngineEvent>], promptLengths: [Int]) -> GenerationRun {
        let metrics = self.metrics
        let (events, continuation) = AsyncStream<ChoiceEvent>.makeStream()
        let task = Task {
            await withTaskGroup(of: Void.self) { group in
                for (index, stream) in streams.enumerated() {
                    group.addTask {
                        var timing = SequenceTiming(start: Date())
                        var ended = false
                        for await event in stream {
                            switch event {
                            case .token: timing.tokenArrived()
                            case .finished(let reason, let usage): metrics.record(timing, reason: reason, usage: usage); ended = true
                            case .failed: ended = true
                            }
                            continuation.yield(ChoiceEvent(index: index, event: event))
                        }
                        if !ended {
                            // The listener left (client gone): the engine aborts the sequence; count it here.
                            metrics.record(timing, reason: .abort,
                                           usage: TokenUsage(promptTokens: promptLengths[index], completionTokens: timing.tokenCount))
                        }
                    }
                }
            }
            continuation.finish()
        }
        continuation.onTermination = { termination in
            if case .cancelled = termination { task.cancel() }
        }
        return GenerationRun(events: events, task: task)
    }
}

/// The merged events of a request's choices; cancelling it aborts every choice in the engine.
struct GenerationRun: Sendable {
    let events: AsyncStream<ChoiceEvent>
    fileprivate let task: Task<Void, Never>

    func cancel() { task.cancel() }

    var isCancelled: Bool { task.isCancelled }
}
