import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOWebSocket
import Realtime

/// The `/ws` endpoint: one WebSocket per client, for every room it joins (docs/CHAT.md).
/// It checks the access token before the upgrade, and serves each accepted socket with
/// `ChatSocket`, acting as the token's user through `RoomChatAccess`.
struct ChatGateway: Sendable {
    static let path = "/ws"
    static let route: RouterPath = "/ws"

    /// A signed-in caller whose upgrade was accepted.
    struct Caller: Sendable {
        let identity: Identity
        let user: ChatUser
    }

    let accessTokens: AccessTokens
    let rooms: RoomService
    let hub: ChatHub
    let configuration: ChatSocket.Configuration

    /// The server channel: HTTP/1.1 through `responder`, and the upgrade of `/ws`.
    func channel(responder: @escaping HTTPChannelHandler.Responder) -> WebSocketUpgradeChannel<Caller> {
        WebSocketUpgradeChannel(
            responder: responder, maxFrameSize: configuration.maxFrameSize,
            authorize: { path, query, headers in await authorize(path: path, query: query, headers: headers) },
            serve: { socket, caller, logger in
                await ChatSocket.run(socket, user: caller.user, hub: hub,
                                     access: RoomChatAccess(rooms: rooms, identity: caller.identity),
                                     configuration: configuration, logger: logger)
            })
    }

    /// Accepts an upgrade of `/ws` carrying a valid access token (`?token=` or `Authorization: Bearer`).
    func authorize(path: String, query: String?, headers: HTTPHeaders) async -> Result<Caller, APIError> {
        guard path == Self.path else { return .failure(.notFound("The WebSocket endpoint")) }
        guard let token = Self.token(query: query, authorization: headers.first(name: "authorization")) else {
            return .failure(APIError(.unauthorized, code: "unauthorized",
                                     message: "Connect with an access token: ?token= or an Authorization header."))
        }
        guard let identity = await accessTokens.verify(token) else { return .failure(Self.invalidToken) }
        do {
            guard let user = try await rooms.chatUser(identity.userID) else { return .failure(Self.invalidToken) }
            return .success(Caller(identity: identity, user: user))
        } catch {
            return .failure(APIError(.serviceUnavailable, code: "unavailable", message: "Try again shortly."))
        }
    }

    static let invalidToken = APIError(.unauthorized, code: "invalid_token", message: "The access token is invalid or expired.")

    /// The token of `?token=`, or else of `Authorization: Bearer`.
    static func token(query: String?, authorization: String?) -> String? {
        if let query {
            for pair in query.split(separator: "&") where pair.hasPrefix("token=") {
                let value = pair.dropFirst("token=".count)
                if let token = String(value).replacingOccurrences(of: "+", with: " ").removingPercentEncoding, !token.isEmpty {
                    return token
                }
            }
        }
        return authorization.flatMap(AuthMiddleware.bearerToken)
    }
}

/// A WebSocket session's rights: always the token's user, whatever a frame says.
struct RoomChatAccess: ChatRoomAccess {
    let rooms: RoomService
    let identity: Identity

    func join(room: Int64) async throws -> (lastSeq: Int64, members: [ChatUser]) {
        do {
            return try await rooms.enter(room, as: identity.userID)
        } catch let error as ServiceError {
            throw ChatRefusal(error)
        }
    }

    func send(_ body: String, clientMsgId: String?, to room: Int64) async throws -> (message: ChatMessage, duplicate: Bool) {
        do {
            return try await rooms.send(body, clientMsgId: clientMsgId, to: room, by: identity)
        } catch let error as ServiceError {
            throw ChatRefusal(error)
        }
    }
}

extension ChatRefusal {
    /// The refusal with the code and message the REST API gives the same error.
    init(_ error: ServiceError) {
        let api = APIError(error)
        self.init(code: api.code, message: api.message)
    }
}

/// `GET /ws` without an upgrade: 401 without a valid token, else 426 (it is a WebSocket).
struct ChatSocketController {
    func addRoutes(to routes: RouteTable) {
        routes.get(ChatGateway.route) { _, context -> Response in
            _ = try context.requireIdentity()
            throw APIError(.init(code: 426, reasonPhrase: "Upgrade Required"), code: "upgrade_required",
                           message: "Open a WebSocket here: GET /ws with Upgrade: websocket.")
        }
    }
}
