// HTTP for the hubs: redirects followed by hand so the token goes only to the configured endpoint
// (never to the CDN a download redirects to), JSON requests, and ranged GETs streamed to a file.
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import TernFormats

public final class HubHTTP: Sendable {
    let client: HTTPClient
    /// Sent only to URLs on this origin.
    let endpoint: URL
    let token: String?

    public init(endpoint: URL, token: String?) {
        self.endpoint = endpoint
        self.token = token
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        configuration.timeout = .init(connect: .seconds(20), read: .seconds(60))
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    deinit { try? client.syncShutdown() }

    private func sameOrigin(_ url: URL) -> Bool {
        url.scheme == endpoint.scheme && url.host == endpoint.host && url.port == endpoint.port
    }

    /// A request's response after redirects; the body is left to the caller.
    func response(_ url: URL, method: HTTPMethod = .GET, headers: [(String, String)] = [], timeout: TimeAmount = .seconds(60))
        async throws -> (HTTPClientResponse, URL) {
        var current = url
        for _ in 0..<8 {
            var request = HTTPClientRequest(url: current.absoluteString)
            request.method = method
            request.headers.add(name: "User-Agent", value: "tern")
            for (name, value) in headers { request.headers.add(name: name, value: value) }
            if let token, sameOrigin(current) { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
            let response = try await client.execute(request, timeout: timeout)
            guard (300..<400).contains(response.status.code), let location = response.headers.first(name: "Location"),
                  let next = URL(string: location, relativeTo: current)?.absoluteURL else {
                return (response, current)
            }
            current = next
        }
        throw HubError("too many redirects fetching \(url.path)")
    }

    /// A JSON document, or an error naming the status.
    func json(_ url: URL) async throws -> JSONValue {
        let (response, _) = try await self.response(url)
        let body = try await response.body.collect(upTo: 64 << 20)
        guard response.status == .ok else {
            throw Self.statusError(response.status.code, url: url)
        }
        return try JSONParser.parse(Array(buffer: body))
    }

    static func statusError(_ code: UInt, url: URL) -> HubError {
        switch code {
        case 401, 403: return HubError("\(url.host ?? "the hub") refused access (HTTP \(code)): the repository is private or gated; give a token (--token or HF_TOKEN)")
        case 404: return HubError("\(url.host ?? "the hub") has no such repository, revision or file (HTTP 404)")
        default: return HubError("\(url.host ?? "the hub") answered HTTP \(code)")
        }
    }

}

/// A failure worth another try: the server's trouble (5xx, 429) or a cut transfer.
struct TransientFailure: Error, CustomStringConvertible {
    let description: String
}
