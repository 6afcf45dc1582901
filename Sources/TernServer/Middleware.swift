// Request context and middleware: one log line per request, OpenAI-shaped errors, API keys.
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1

public struct TernRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Token counts (and, with --log-requests, texts) the handler fills in for the request log.
    let usage = UsageBox()
    /// The connection the request came on, to notice a client that hangs up.
    let channel: any Channel
    /// The client's `X-Request-Id`, or one made for it; in the response, its log lines and error bodies.
    var requestId = ""

    public init(source: Source) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

/// Gives every request an id: the client's X-Request-Id when it is a sensible token, else a new one.
struct RequestIdMiddleware: RouterMiddleware {
    static let header = HTTPField.Name("X-Request-Id")!

    func handle(_ request: Request, context: TernRequestContext, next: (Request, TernRequestContext) async throws -> Response) async throws -> Response {
        var context = context
        let given = request.headers[Self.header] ?? ""
        let acceptable = !given.isEmpty && given.count <= 128 && given.unicodeScalars.allSatisfy { (0x21...0x7E).contains($0.value) }
        context.requestId = acceptable ? given : UUID().uuidString.lowercased()
        context.logger[metadataKey: "request_id"] = .string(context.requestId)
        var response = try await next(request, context)
        response.headers[Self.header] = context.requestId
        return response
    }
}

/// One log line per request: method, path, status, latency, token counts and the client's
/// address in the line's metadata, and the response counted by status. Prompts and completions
/// only with --log-requests.
struct RequestLogMiddleware: RouterMiddleware {
    let logger: Logger
    let logRequests: Bool
    let clientAddress: ClientAddressResolver
    let responses: HTTPResponseCounter

    func handle(_ request: Request, context: TernRequestContext, next: (Request, TernRequestContext) async throws -> Response) async throws -> Response {
        let start = Date()
        let client = clientAddress.address(of: request, channel: context.channel)
        @Sendable func log(_ status: Int) {
            responses.count(status)
            let milliseconds = Int(Date().timeIntervalSince(start) * 1000)
            var metadata: Logger.Metadata = ["method": "\(request.method)", "path": .string(request.uri.path), "status": "\(status)",
                                             "latency_ms": "\(milliseconds)", "client": .string(client ?? "-"),
                                             "request_id": .string(context.requestId)]
            let usage = context.usage.snapshot
            if let counts = usage.counts {
                metadata["prompt_tokens"] = "\(counts.prompt)"
                metadata["completion_tokens"] = "\(counts.completion)"
            }
            // OpenAI's end-user identifiers exist for abuse monitoring: they go in the access log.
            if let user = usage.user { metadata["user"] = .string(user) }
            if let identifier = usage.safetyIdentifier { metadata["safety_identifier"] = .string(identifier) }
            if logRequests {
                if let prompt = usage.prompt { metadata["prompt"] = .string(prompt) }
                if !usage.completions.isEmpty { metadata["completion"] = .array(usage.completions.map { .string($0) }) }
            }
            logger.info("\(request.method) \(request.uri.path) \(status) \(milliseconds)ms", metadata: metadata)
        }
        do {
            var response = try await next(request, context)
            guard response.headers[.contentType] == "text/event-stream" else {
                log(response.status.code)
                return response
            }
            // A stream's latency and token counts are known only once its body is written.
            let status = response.status.code
            let body = response.body
            response.body = ResponseBody { writer in
                do {
                    try await body.write(writer)
                    log(status)
                } catch {
                    log(499)  // the client closed the connection
                    throw error
                }
            }
            return response
        } catch {
            log((error as? APIError)?.status.code ?? (error as? HTTPResponseError)?.status.code ?? 500)
            throw error
        }
    }
}

/// Every error leaves as OpenAI's error object; nothing escapes as a bare 500.
struct OpenAIErrorMiddleware: RouterMiddleware {
    func handle(_ request: Request, context: TernRequestContext, next: (Request, TernRequestContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            var shaped = Self.apiError(error, request: request)
            shaped.requestId = context.requestId
            return shaped.response
        }
    }

    private static func apiError(_ error: Error, request: Request) -> APIError {
        switch error {
        case let error as APIError:
            return error
        case let error as HTTPResponseError:
            switch error.status {
            case .notFound: return APIError(.notFound, "no route for \(request.method) \(request.uri.path)")
            case .contentTooLarge: return APIError(.contentTooLarge, "the request body is larger than the server accepts")
            default: return APIError(error.status, "\(error)")
            }
        case let error as HTTPParserError:
            // The parser fails a request only while its body is read, e.g. a connection that ends early.
            let message = error == .invalidEOFState
                ? "the request body ended before the bytes its Content-Length announced arrived"
                : "malformed HTTP request: \(error)"
            return APIError(.badRequest, message)
        case let error as RequestBodyTimeout:
            return APIError(.requestTimeout, "\(error)")
        case is CancellationError, is ClientGone:
            return APIError(.badRequest, "the request was cancelled")
        default:
            return APIError(.internalServerError, "\(error)")
        }
    }
}

/// Bearer API keys, compared in constant time; open paths pass without one.
struct APIKeyMiddleware: RouterMiddleware {
    let apiKeys: APIKeys
    let openPaths: Set<String>

    func handle(_ request: Request, context: TernRequestContext, next: (Request, TernRequestContext) async throws -> Response) async throws -> Response {
        let keys = apiKeys.all
        guard !keys.isEmpty, !openPaths.contains(request.uri.path) else { return try await next(request, context) }
        let header = request.headers[.authorization] ?? ""
        let given = Self.bearerToken(header)
        // Check every key without stopping early, so timing does not reveal which one was close.
        var matched = false
        for key in keys where Self.constantTimeEqual(given, key) { matched = true }
        guard matched else {
            throw APIError(.unauthorized, header.isEmpty ? "missing API key: send 'Authorization: Bearer <key>'" : "invalid API key",
                           code: "invalid_api_key")
        }
        return try await next(request, context)
    }

    /// The token of `Bearer <token>`; the scheme is case-insensitive (RFC 7235).
    static func bearerToken(_ header: String) -> String {
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return "" }
        return parts[1].trimmingCharacters(in: .whitespaces)
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var difference = UInt8(x.count == y.count ? 0 : 1)
        for i in 0..<max(x.count, y.count) {
            difference |= (i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0)
        }
        return difference == 0
    }
}
