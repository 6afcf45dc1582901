// Errors in OpenAI's shape, {"error": {"message", "type", "param", "code"}}, with their HTTP status.
import Foundation
import Hummingbird

public struct APIError: Error, Sendable {
    public let status: HTTPResponse.Status
    public let message: String
    public let type: String
    public let param: String?
    public let code: String?
    /// Extra headers, such as Retry-After on 429.
    public var headers: HTTPFields = [:]
    /// The request's id, repeated in the error body.
    var requestId: String?

    public init(_ status: HTTPResponse.Status, _ message: String, type: String? = nil, param: String? = nil, code: String? = nil) {
        self.status = status
        self.message = message
        self.type = type ?? Self.defaultType(status)
        self.param = param
        self.code = code
    }

    static func defaultType(_ status: HTTPResponse.Status) -> String {
        switch status.code {
        case 401: return "authentication_error"
        case 404: return "not_found_error"
        case 429: return "rate_limit_error"
        case 400..<500: return "invalid_request_error"
        default: return "server_error"
        }
    }

    static func badRequest(_ message: String, param: String? = nil) -> APIError {
        APIError(.badRequest, message, param: param)
    }

    var bodyText: String { String(decoding: body.readableBytesView, as: UTF8.self) }

    var body: ByteBuffer {
        struct Envelope: Encodable {
            struct Body: Encodable {
                let message: String, type: String, param: String?, code: String?, requestId: String?
                func encode(to encoder: Encoder) throws {
                    var c = encoder.container(keyedBy: CodingKeys.self)
                    try c.encode(message, forKey: .message)
                    try c.encode(type, forKey: .type)
                    try c.encode(param, forKey: .param)
                    try c.encode(code, forKey: .code)
                    try c.encodeIfPresent(requestId, forKey: .requestId)
                }
                enum CodingKeys: String, CodingKey { case message, type, param, code, requestId = "request_id" }
            }
            let error: Body
        }
        let data = (try? JSONEncoder().encode(Envelope(error: .init(message: message, type: type, param: param, code: code, requestId: requestId)))) ?? Data()
        return ByteBuffer(bytes: data)
    }

    public var response: Response {
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: status, headers: fields, body: .init(byteBuffer: body))
    }
}
