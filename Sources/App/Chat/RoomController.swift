import Hummingbird
import Realtime

/// `/api/rooms/*`: chat rooms, their members and their message history. Every route needs a
/// signed-in caller; creating and joining need a verified email address.
struct RoomController {
    let rooms: RoomService
    let codes: AccountCodeService

    struct RoomBody: Decodable {
        var name: String?
        var topic: String?
        var visibility: String?
    }

    func addRoutes(to routes: RouteTable) {
        let group = routes.group("/api/rooms")
        group.get(use: list)
        group.post(use: create)
        group.get("{id}", use: show)
        group.put("{id}/members/{userId}", use: addMember)
        group.delete("{id}/members/{userId}", use: removeMember)
        group.get("{id}/messages", use: messages)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Page<RoomDTO> {
        let identity = try context.requireIdentity()
        let page = try PageRequest(query: request)
        let rows = try await rooms.list(for: identity.userID, page: page)
        return page.page(from: rows, key: \.id, map: RoomDTO.init)
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<RoomDTO> {
        let identity = try await context.requireWriter(codes)
        let body = try await request.decode(as: RoomBody.self, context: context)
        let room = try await rooms.create(RoomService.Draft(name: body.name, topic: body.topic, visibility: body.visibility),
                                          by: identity.userID)
        return EditedResponse(status: .created, response: RoomDTO(room))
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> RoomDTO {
        let identity = try context.requireIdentity()
        return RoomDTO(try await rooms.get(try context.id(of: "The room"), for: identity.userID))
    }

    /// Joins (the caller's own id) or adds a member; 200 with the room, also when they already were one.
    @Sendable func addMember(_ request: Request, context: AppRequestContext) async throws -> RoomDTO {
        let identity = try await context.requireWriter(codes)
        let room = try context.id(of: "The room")
        let userID = try context.id("userId", of: "The user")
        return RoomDTO(try await rooms.addMember(userID, to: room, by: identity.userID))
    }

    /// Leaves (the caller's own id) or removes a member; 204, also when they were not one.
    @Sendable func removeMember(_ request: Request, context: AppRequestContext) async throws -> HTTPResponse.Status {
        let identity = try context.requireIdentity()
        let room = try context.id(of: "The room")
        let userID = try context.id("userId", of: "The user")
        try await rooms.removeMember(userID, from: room, by: identity.userID)
        return .noContent
    }

    @Sendable func messages(_ request: Request, context: AppRequestContext) async throws -> ItemsDTO<ChatMessage> {
        let identity = try context.requireIdentity()
        let room = try context.id(of: "The room")
        let query = request.uri.queryParameters
        var problems: [FieldProblem] = []
        func integer(_ name: String) -> Int64? {
            guard let text = query[name[...]].map(String.init), !text.isEmpty else { return nil }
            guard let value = Int64(text) else {
                problems.append(FieldProblem(field: name, problem: "must be an integer"))
                return nil
            }
            return value
        }
        let before = integer("before"), after = integer("after"), limit = integer("limit")
        if !problems.isEmpty { throw ServiceError.validation(problems) }
        // Past Int's range the service's 1–200 check refuses it anyway.
        let messages = try await rooms.history(of: room, for: identity.userID, before: before, after: after,
                                               limit: limit.map { Int(clamping: $0) })
        return ItemsDTO(items: messages)
    }
}
