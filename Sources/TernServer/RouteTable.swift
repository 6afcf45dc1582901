// The server's routes, registered through one place so the method middleware knows them:
// HEAD is answered wherever GET is (headers only), and a known path with the wrong method
// is 405 with `Allow` instead of 404.
import Foundation
import Hummingbird

final class RouteTable: @unchecked Sendable {
    private var routes: [(method: HTTPRequest.Method, segments: [Substring])] = []
    let router: Router<TernRequestContext>

    init(router: Router<TernRequestContext>) {
        self.router = router
    }

    /// A GET route, and HEAD on the same path (NIO's encoder sends the head without the body).
    func get(_ path: String, _ handler: @escaping @Sendable (Request, TernRequestContext) async throws -> Response) {
        router.get(RouterPath(path), use: handler)
        router.head(RouterPath(path), use: handler)
        routes.append((.get, Self.segments(path)))
    }

    func post(_ path: String, _ handler: @escaping @Sendable (Request, TernRequestContext) async throws -> Response) {
        router.post(RouterPath(path), use: handler)
        routes.append((.post, Self.segments(path)))
    }

    /// The methods some route answers for `path`, HEAD included wherever GET is.
    func methods(for path: String) -> [HTTPRequest.Method] {
        let parts = Self.segments(path)
        var found: [HTTPRequest.Method] = []
        for route in routes where Self.matches(route.segments, parts) && !found.contains(route.method) {
            found.append(route.method)
            if route.method == .get { found.append(.head) }
        }
        return found
    }

    private static func segments(_ path: String) -> [Substring] {
        path.split(separator: "/", omittingEmptySubsequences: true)
    }

    private static func matches(_ pattern: [Substring], _ parts: [Substring]) -> Bool {
        if pattern.last == "**" { return parts.count >= pattern.count && zip(pattern.dropLast(), parts).allSatisfy(segmentMatches) }
        return pattern.count == parts.count && zip(pattern, parts).allSatisfy(segmentMatches)
    }

    private static func segmentMatches(_ pattern: Substring, _ part: Substring) -> Bool {
        pattern == part || (pattern.hasPrefix("{") && pattern.hasSuffix("}"))
    }
}

/// A path served only under other methods is 405 with the methods that are served.
struct MethodMiddleware: RouterMiddleware {
    let routes: RouteTable

    func handle(_ request: Request, context: TernRequestContext, next: (Request, TernRequestContext) async throws -> Response) async throws -> Response {
        let allowed = routes.methods(for: request.uri.path)
        guard allowed.isEmpty || allowed.contains(request.method) else {
            let names = allowed.map(\.rawValue).joined(separator: ", ")
            var error = APIError(.methodNotAllowed, "\(request.method) is not allowed on \(request.uri.path); use \(names)")
            error.headers[.allow] = names
            throw error
        }
        return try await next(request, context)
    }
}
