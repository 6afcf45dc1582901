// The HTTP/1.1 connection: NIO's parser and pipelining, then Tern's guards in front of
// Hummingbird's request loop. Built here rather than taken whole from Hummingbird so the
// guards can see what its typed request parts hide (the HTTP version, raw bytes of a head).
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import NIOSSL

/// Time and size limits of one connection.
public struct ConnectionLimits: Sendable {
    /// From a request's first byte to the end of its head (slow-header clients).
    public var headerTimeout: TimeAmount = .seconds(10)
    /// Longest pause between two parts of a request body.
    public var bodyTimeout: TimeAmount = .seconds(30)
    /// How long a keep-alive connection may wait for its next request.
    public var keepAliveTimeout: TimeAmount = .seconds(75)
    public var maxBodyBytes = 16 << 20
    public var maxHeaderBytes = 64 << 10

    public init() {}
}

struct HTTPConnectionChannel: ServerChildChannel, HTTPChannelHandler {
    typealias Value = NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>

    let responder: HTTPChannelHandler.Responder
    let limits: ConnectionLimits
    /// HTTPS when set: each connection takes the certificate current when it opens.
    let tls: TLSCertificates?

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let pipeline = channel.pipeline.syncOperations
            var decoderLimits = NIOHTTPDecoderLimitConfiguration()
            decoderLimits.maxHeaderListSize = limits.maxHeaderBytes
            if let tls { try pipeline.addHandler(NIOSSLServerHandler(context: tls.context)) }
            try pipeline.addHandler(RequestHeadDeadline(timeout: limits.headerTimeout, logger: logger))
            try pipeline.configureHTTPServerPipeline(withPipeliningAssistance: true, withErrorHandling: false,
                                                     withOutboundHeaderValidation: false, withEncoderConfiguration: .init(),
                                                     withDecoderLimitConfiguration: decoderLimits)
            try pipeline.addHandler(RequestGuard(limits: limits))
            try pipeline.addHandler(HTTP1ToHTTPServerCodec(secure: tls != nil))
            try pipeline.addHandler(HTTPConnectionStateHandler(idleTimeout: Duration(limits.keepAliveTimeout), logger: logger))
            return try NIOAsyncChannel(wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
        }
    }

    func handle(value: Value, logger: Logger) async {
        await handleHTTP(asyncChannel: value, logger: logger)
    }
}

extension Duration {
    init(_ amount: TimeAmount) {
        self = .nanoseconds(amount.nanoseconds)
    }
}

/// Told to the byte-level deadline by the request guard: a head has been parsed, or a response ended.
enum RequestProgress {
    case headReceived
    case responseEnded
}

/// Closes a connection whose request head does not arrive whole within the header timeout of its
/// first byte, so a client sending a byte at a time cannot hold a connection open.
final class RequestHeadDeadline: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let timeout: TimeAmount
    private let logger: Logger
    private var waitingForHead = true
    private var deadline: Scheduled<Void>?

    init(timeout: TimeAmount, logger: Logger) {
        self.timeout = timeout
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if waitingForHead, deadline == nil {
            let loopBound = context.loopBound
            deadline = context.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: timeout) { [logger] in
                logger.debug("closing a connection whose request head took longer than \(self.timeout)")
                loopBound.value.close(promise: nil)
            }
        }
        context.fireChannelRead(data)
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard let progress = event as? RequestProgress else {
            context.triggerUserOutboundEvent(event, promise: promise)
            return
        }
        deadline?.cancel()
        deadline = nil
        waitingForHead = progress == .responseEnded
        promise?.succeed()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
    }
}

/// What the typed request parts cannot say, handled where the HTTP version is still known:
/// HTTP/1.0 clients get 1.0 answers that end with the connection (no chunking), `Expect:
/// 100-continue` is answered (or refused at once when the body is over the limit), and a body
/// that stalls longer than the body timeout fails its request.
final class RequestGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let limits: ConnectionLimits
    private var version = HTTPVersion.http1_1
    private var bodyDeadline: Scheduled<Void>?
    /// The request's remaining parts are dropped (refused early, or its body timed out).
    private var discarding = false

    init(limits: ConnectionLimits) {
        self.limits = limits
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(var head):
            context.triggerUserOutboundEvent(RequestProgress.headReceived, promise: nil)
            version = head.version
            discarding = false
            if head.version.major == 1, head.version.minor == 0 {
                // Hummingbird ends the connection after a request that asks for it.
                head.headers.replaceOrAdd(name: "connection", value: "close")
            }
            if head.headers["expect"].contains(where: { $0.lowercased() == "100-continue" }) {
                head.headers.remove(name: "expect")
                guard answerExpectation(context: context, head: head) else { return }
            }
            if hasBody(head) { armBodyDeadline(context: context) }
            context.fireChannelRead(wrapInboundOut(.head(head)))
        case .body(let buffer):
            guard !discarding else { return }
            armBodyDeadline(context: context)
            context.fireChannelRead(wrapInboundOut(.body(buffer)))
        case .end(let trailers):
            bodyDeadline?.cancel()
            bodyDeadline = nil
            guard !discarding else { return }
            context.fireChannelRead(wrapInboundOut(.end(trailers)))
        }
    }

    /// Sends `100 Continue`, or a 413 that ends the connection when the announced body is too large.
    private func answerExpectation(context: ChannelHandlerContext, head: HTTPRequestHead) -> Bool {
        let announced = head.headers["content-length"].first.flatMap { Int($0) } ?? 0
        if announced > limits.maxBodyBytes {
            discarding = true
            let body = APIError(.contentTooLarge, "the request body (\(announced) bytes) is larger than the server accepts (\(limits.maxBodyBytes))").bodyText
            let headers = HTTPHeaders([("content-type", "application/json"), ("connection", "close"), ("content-length", "\(body.utf8.count)")])
            let response = HTTPResponseHead(version: head.version, status: .payloadTooLarge, headers: headers)
            context.write(wrapOutboundOut(.head(response)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: body)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { [loopBound = context.loopBound] _ in
                loopBound.value.close(promise: nil)
            }
            return false
        }
        if head.version != .http1_0 {
            context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .continue))), promise: nil)
        }
        return true
    }

    private func hasBody(_ head: HTTPRequestHead) -> Bool {
        head.headers["transfer-encoding"].contains { $0.lowercased().contains("chunked") }
            || (head.headers["content-length"].first.flatMap { Int($0) } ?? 0) > 0
    }

    private func armBodyDeadline(context: ChannelHandlerContext) {
        bodyDeadline?.cancel()
        let loopBound = context.loopBound
        bodyDeadline = context.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: limits.bodyTimeout) { [self] in
            bodyDeadline = nil
            discarding = true
            loopBound.value.fireErrorCaught(RequestBodyTimeout(seconds: limits.bodyTimeout.nanoseconds / 1_000_000_000))
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var head) where !(100..<200).contains(head.status.code) && version == .http1_0:
            // A 1.0 client reads an unframed body to the end of the connection, which then closes.
            head.version = .http1_0
            head.headers.remove(name: "transfer-encoding")
            head.headers.replaceOrAdd(name: "connection", value: "close")
            context.write(wrapOutboundOut(.head(head)), promise: promise)
        case .end:
            context.write(data, promise: promise)
            context.triggerUserOutboundEvent(RequestProgress.responseEnded, promise: nil)
        default:
            context.write(data, promise: promise)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        bodyDeadline?.cancel()
    }
}

/// A request body that stopped arriving.
struct RequestBodyTimeout: Error, CustomStringConvertible {
    let seconds: Int64
    var description: String { "no part of the request body arrived for \(seconds) seconds" }
}
