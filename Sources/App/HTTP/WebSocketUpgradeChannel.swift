import Foundation
import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import NIOWebSocket
import Synchronization

/// Agora's HTTP/1.1 server channel: every request goes to the router, except a WebSocket
/// upgrade, which `authorize` accepts or refuses before the handshake completes.
///
/// Hummingbird's own upgrade channel (hummingbird-websocket) answers every refused upgrade with
/// the same empty status; Agora's protocol refuses a bad token with 401 and the API's error
/// body, and an unknown path with 404. So this channel sets up the same NIO pipeline (SwiftNIO's
/// upgrader and WebSocket codec) with that answer, and hands an accepted socket to `serve`.
struct WebSocketUpgradeChannel<Accepted: Sendable>: ServerChildChannel, HTTPChannelHandler {
    typealias Authorize = @Sendable (_ path: String, _ query: String?, _ headers: HTTPHeaders) async -> Result<Accepted, APIError>
    typealias Serve = @Sendable (NIOAsyncChannel<WebSocketFrame, WebSocketFrame>, Accepted, Logger) async -> Void

    enum Upgrade: Sendable {
        case websocket(NIOAsyncChannel<WebSocketFrame, WebSocketFrame>, Accepted)
        case http(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
        case refused(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, APIError)
    }

    struct Value: ServerChildChannelValue {
        let upgrade: EventLoopFuture<Upgrade>
        let channel: any Channel
    }

    /// The decision of `authorize` for one connection, read when the pipeline is set up after it.
    private final class Decision: Sendable {
        let value = Mutex<Result<Accepted, APIError>?>(nil)
    }

    let responder: HTTPChannelHandler.Responder
    /// The largest WebSocket frame, and fragmented message, a client may send.
    let maxFrameSize: Int
    let authorize: Authorize
    let serve: Serve

    init(responder: @escaping HTTPChannelHandler.Responder, maxFrameSize: Int, authorize: @escaping Authorize,
         serve: @escaping Serve) {
        self.responder = Self.redirectingLateUpgrades(to: responder)
        self.maxFrameSize = maxFrameSize
        self.authorize = authorize
        self.serve = serve
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let decision = Decision()
            let authorize = self.authorize, maxFrameSize = self.maxFrameSize
            let upgrader = NIOTypedWebSocketServerUpgrader<Upgrade>(
                maxFrameSize: maxFrameSize,
                shouldUpgrade: { channel, head in
                    channel.eventLoop.makeFutureWithTask {
                        let (path, query) = Self.split(head.uri)
                        let result = await authorize(path, query, head.headers)
                        decision.value.withLock { $0 = result }
                        if case .success = result { return HTTPHeaders() }
                        return nil
                    }
                },
                upgradePipelineHandler: { channel, _ in
                    channel.eventLoop.makeCompletedFuture {
                        guard case .success(let accepted) = decision.value.withLock({ $0 }) else {
                            throw ChannelError.inappropriateOperationForState
                        }
                        try channel.pipeline.syncOperations.addHandler(
                            NIOWebSocketFrameAggregator(minNonFinalFragmentSize: 0, maxAccumulatedFrameCount: 1024,
                                                        maxAccumulatedFrameSize: maxFrameSize))
                        let socket = try NIOAsyncChannel<WebSocketFrame, WebSocketFrame>(
                            wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
                        return Upgrade.websocket(socket, accepted)
                    }
                }
            )
            let upgrades = NIOTypedHTTPServerUpgradeConfiguration<Upgrade>(
                upgraders: [upgrader],
                notUpgradingCompletionHandler: { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(HTTP1ToHTTPServerCodec(secure: false))
                        try channel.pipeline.syncOperations.addHandler(HTTPConnectionStateHandler(logger: logger))
                        let http = try NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>(
                            wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
                        if case .failure(let refusal) = decision.value.withLock({ $0 }) {
                            return Upgrade.refused(http, refusal)
                        }
                        return Upgrade.http(http)
                    }
                }
            )
            var configuration = NIOUpgradableHTTPServerPipelineConfiguration<Upgrade>(upgradeConfiguration: upgrades)
            configuration.enablePipelining = false  // NIOAsyncChannel reads one request at a time
            configuration.enableErrorHandling = false  // Hummingbird's handler answers bad requests
            configuration.enableResponseHeaderValidation = false  // HTTPTypes validates them already
            let upgrade = try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(configuration: configuration)
            return Value(upgrade: upgrade, channel: channel)
        }
    }

    func handle(value: Value, logger: Logger) async {
        do {
            switch try await value.upgrade.get() {
            case .http(let http):
                await handleHTTP(asyncChannel: http, logger: logger)
            case .refused(let http, let refusal):
                await Self.refuse(http, with: refusal, logger: logger)
            case .websocket(let socket, let accepted):
                await serve(socket, accepted, logger)
            }
        } catch let error as ChannelError where error == .inputClosed {
            logger.trace("connection closed before its first request")
        } catch {
            logger.debug("connection setup failed", metadata: ["error": "\(error)"])
        }
    }

    /// Answers a refused upgrade with the API's error shape, then closes the connection.
    private static func refuse(_ http: NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, with refusal: APIError,
                               logger: Logger) async {
        let body = (try? JSONCoding.encoder.encode(ErrorBody(error: .init(code: refusal.code, message: refusal.message)))) ?? Data()
        var fields: HTTPFields = [.contentType: "application/json; charset=utf-8", .connection: "close",
                                  .contentLength: String(body.count)]
        for (name, value) in refusal.headers {
            if let name = HTTPField.Name(name) { fields[name] = value }
        }
        do {
            try await http.executeThenClose { _, outbound in
                try await outbound.write(contentsOf: [
                    .head(HTTPResponse(status: refusal.status, headerFields: fields)),
                    .body(ByteBuffer(bytes: body)),
                    .end(nil),
                ])
            }
        } catch {
            logger.trace("could not answer a refused upgrade", metadata: ["error": "\(error)"])
        }
    }

    /// NIO looks for an upgrade only in a connection's first request. A later one on a kept-alive
    /// connection is redirected to the same address with the connection closed, so that the
    /// client asks again on a new connection (as Hummingbird's own upgrade channel does).
    private static func redirectingLateUpgrades(to responder: @escaping HTTPChannelHandler.Responder) -> HTTPChannelHandler.Responder {
        { request, writer, channel in
            guard request.headers[.upgrade]?.lowercased() == "websocket" else {
                return try await responder(request, writer, channel)
            }
            var location = request.uri.path
            if let query = request.uri.query { location += "?" + query }
            try await writer.writeResponse(HTTPResponse(status: .temporaryRedirect, headerFields: [.connection: "close", .location: location]))
            throw ChannelError.outputClosed
        }
    }

    private static func split(_ uri: String) -> (path: String, query: String?) {
        guard let mark = uri.firstIndex(of: "?") else { return (uri, nil) }
        return (String(uri[..<mark]), String(uri[uri.index(after: mark)...]))
    }
}
