// Who may talk to the server: an IP allow-list (firewall-style, after X-Forwarded-For from
// trusted proxies) and CORS for browser origins (none allowed unless listed).
import Hummingbird

public struct AccessRules: Sendable {
    /// Empty: everyone may connect.
    public var allowedIPs: [NetworkRange] = []
    public var trustedProxies: [NetworkRange] = []
    /// Browser origins allowed by CORS; "*" allows any.
    public var allowedOrigins: [String] = []

    public init() {}
}

struct AllowListMiddleware: RouterMiddleware {
    let allowed: [NetworkRange]
    let clientAddress: ClientAddressResolver

    func handle(_ request: Request, context: TernRequestContext, next: (Request, TernRequestContext) async throws -> Response) async throws -> Response {
        guard !allowed.isEmpty else { return try await next(request, context) }
        let client = clientAddress.address(of: request, channel: context.channel) ?? "unknown"
        guard allowed.contains(address: client) else {
            throw APIError(.forbidden, "requests from \(client) are not allowed", code: "ip_not_allowed")
        }
        return try await next(request, context)
    }
}

/// Answers CORS preflights for allowed origins (403 otherwise) and marks allowed responses.
struct CORSMiddleware: RouterMiddleware {
    let allowedOrigins: [String]
    let routes: RouteTable

    func handle(_ request: Request, context: TernRequestContext, next: (Request, TernRequestContext) async throws -> Response) async throws -> Response {
        guard let origin = request.headers[.origin] else { return try await next(request, context) }
        let allowed = allowedOrigins.contains("*") || allowedOrigins.contains(origin)
        let isPreflight = request.method == .options && request.headers[.accessControlRequestMethod] != nil
        if isPreflight {
            guard allowed else { throw APIError(.forbidden, "the origin \(origin) is not allowed", code: "origin_not_allowed") }
            var headers = corsHeaders(origin)
            headers[.accessControlAllowMethods] = (routes.methods(for: request.uri.path) + [.options]).map(\.rawValue).joined(separator: ", ")
            headers[.accessControlAllowHeaders] = request.headers[.accessControlRequestHeaders] ?? "Authorization, Content-Type"
            headers[.accessControlMaxAge] = "600"
            return Response(status: .noContent, headers: headers)
        }
        var response = try await next(request, context)
        if allowed {
            for field in corsHeaders(origin) { response.headers[field.name] = field.value }
        }
        return response
    }

    private func corsHeaders(_ origin: String) -> HTTPFields {
        [.accessControlAllowOrigin: allowedOrigins.contains("*") ? "*" : origin, .vary: "Origin",
         .accessControlExposeHeaders: "X-Request-Id, Retry-After"]
    }
}
