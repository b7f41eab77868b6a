import Hummingbird

/// `/api/posts/{id}/comments` and `/api/comments/{id}`.
struct CommentController {
    let comments: CommentService
    let codes: AccountCodeService

    struct CommentBody: Decodable { var body: String? }

    func addRoutes(to routes: RouteTable) {
        routes.get("/api/posts/{id}/comments", use: list)
        routes.post("/api/posts/{id}/comments", use: create)
        routes.patch("/api/comments/{id}", use: update)
        routes.delete("/api/comments/{id}", use: delete)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Page<CommentDTO> {
        let page = try PageRequest(query: request)
        let rows = try await comments.list(on: try context.id(of: "The post"), page: page)
        return page.page(from: rows, key: \.id, map: CommentDTO.init)
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<CommentDTO> {
        let identity = try await context.requireWriter(codes)
        let postID = try context.id(of: "The post")
        let body = try await request.decode(as: CommentBody.self, context: context)
        let comment = try await comments.create(on: postID, body: body.body, by: identity.userID)
        return EditedResponse(status: .created, response: CommentDTO(comment))
    }

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> CommentDTO {
        let identity = try await context.requireWriter(codes)
        let id = try context.id(of: "The comment")
        let body = try await request.decode(as: CommentBody.self, context: context)
        return CommentDTO(try await comments.update(id, body: body.body, by: identity))
    }

    @Sendable func delete(_ request: Request, context: AppRequestContext) async throws -> HTTPResponse.Status {
        let identity = try context.requireIdentity()
        try await comments.delete(try context.id(of: "The comment"), by: identity)
        return .noContent
    }
}
