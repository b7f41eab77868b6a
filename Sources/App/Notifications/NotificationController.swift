import Hummingbird
import Storage

/// `/api/notifications`: the caller's notifications and marking them read.
struct NotificationController {
    let notifications: NotificationService

    struct ReadBody: Decodable { var ids: [Int64]?; var all: Bool? }

    func addRoutes(to routes: RouteTable) {
        routes.get("/api/notifications", use: list)
        routes.post("/api/notifications/read", use: markRead)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Page<NotificationDTO> {
        let identity = try context.requireIdentity()
        let page = try PageRequest(query: request)
        let unreadOnly: Bool
        switch request.uri.queryParameters["unread"].map(String.init) {
        case nil, "", "false": unreadOnly = false
        case "true": unreadOnly = true
        default: throw ServiceError.invalid("unread", "must be true or false")
        }
        let rows = try await notifications.list(for: identity.userID, unreadOnly: unreadOnly, page: page)
        return page.page(from: rows, key: \.id, map: NotificationDTO.init)
    }

    @Sendable func markRead(_ request: Request, context: AppRequestContext) async throws -> UnreadCountDTO {
        let identity = try context.requireIdentity()
        let body = try await request.decode(as: ReadBody.self, context: context)
        return UnreadCountDTO(unreadCount: try await notifications.markRead(for: identity.userID, ids: body.ids, all: body.all ?? false))
    }
}

/// A notification as sent to its user.
struct NotificationDTO: Encodable, Sendable {
    struct PostSummary: Encodable, Sendable { var id: Int64; var title: String }
    var id: Int64
    var kind: NotificationKind
    var actor: UserSummaryDTO
    var post: PostSummary?
    var commentId: Int64?
    var read: Bool
    var createdAt: Timestamp

    init(_ record: NotificationRecord) {
        id = record.id
        kind = record.kind
        actor = UserSummaryDTO(id: record.actorID, nickname: record.actorNickname)
        post = record.postID.flatMap { id in record.postTitle.map { PostSummary(id: id, title: $0) } }
        commentId = record.commentID
        read = record.readAt != nil
        createdAt = record.createdAt
    }
}

/// `{unreadCount}`: the caller's unread notifications after marking some read.
struct UnreadCountDTO: Encodable, Sendable, ResponseEncodable {
    var unreadCount: Int
}
