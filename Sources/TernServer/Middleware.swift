// Request context and middleware: one log line per request, OpenAI-shaped errors, API keys.
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1

public struct TernRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Token counts the handler fills in for the request log.
    let usage = UsageBox()
    /// The connection the request came on, to notice a client that hangs up.
    let channel: any Channel

    public init(source: Source) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

/// Logs method, path, status, latency and token counts of every request.
struct RequestLogMiddleware: RouterMiddleware {
    let logger: Logger

    func handle(_ request: Request, context: TernRequestContext, next: (Request, TernRequestContext) async throws -> Response) async throws -> Response {
        let start = Date()
        @Sendable func log(_ status: Int) {
            let milliseconds = Int(Date().timeIntervalSince(start) * 1000)
            logger.info("\(request.method) \(request.uri.path) \(status) \(milliseconds)ms \(context.usage.summary)")
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
        } catch let error as APIError {
            return error.response
        } catch let error as HTTPResponseError {
            switch error.status {
            case .notFound: return APIError(.notFound, "no route for \(request.method) \(request.uri.path)").response
            case .contentTooLarge: return APIError(.contentTooLarge, "the request body is larger than the server accepts").response
            default: return APIError(error.status, "\(error)").response
            }
        } catch let error as HTTPParserError {
            // The parser fails a request only while its body is read, e.g. a connection that ends early.
            let message = error == .invalidEOFState
                ? "the request body ended before the bytes its Content-Length announced arrived"
                : "malformed HTTP request: \(error)"
            return APIError(.badRequest, message).response
        } catch let error as RequestBodyTimeout {
            return APIError(.requestTimeout, "\(error)").response
        } catch is CancellationError, is ClientGone {
            return APIError(.badRequest, "the request was cancelled").response
        } catch {
            return APIError(.internalServerError, "\(error)").response
        }
    }
}

/// Bearer API keys, compared in constant time; open paths pass without one.
struct APIKeyMiddleware: RouterMiddleware {
    let keys: [String]
    let openPaths: Set<String>

    func handle(_ request: Request, context: TernRequestContext, next: (Request, TernRequestContext) async throws -> Response) async throws -> Response {
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
