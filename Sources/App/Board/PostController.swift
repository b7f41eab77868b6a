import Hummingbird

/// `/api/posts/*`: posts, likes and related posts.
struct PostController {
    let posts: PostService
    let codes: AccountCodeService

    struct PostBody: Decodable {
        var title: String?
        var body: String?
        var category: String?
        var tags: [String]?
        var attachments: [Int64]?
    }

    func addRoutes(to routes: RouteTable) {
        let group = routes.group("/api/posts")
        group.get(use: list)
        group.post(use: create)
        group.get("{id}", use: show)
        group.patch("{id}", use: update)
        group.delete("{id}", use: delete)
        group.put("{id}/like", use: like)
        group.delete("{id}/like", use: unlike)
        group.get("{id}/related", use: related)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Page<PostDTO> {
        let page = try PageRequest(query: request)
        let filter = try Self.filter(from: request)
        let rows = try await posts.list(filter, page: page, viewerID: context.identity?.userID)
        return page.page(from: rows, key: \.id, map: PostDTO.init)
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<PostDTO> {
        let identity = try await context.requireWriter(codes)
        let body = try await request.decode(as: PostBody.self, context: context)
        let post = try await posts.create(body.draft, by: identity.userID)
        return EditedResponse(status: .created, response: PostDTO(post))
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> PostDTO {
        PostDTO(try await posts.view(try context.id(of: "The post"), viewerID: context.identity?.userID))
    }

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> PostDTO {
        let identity = try await context.requireWriter(codes)
        let id = try context.id(of: "The post")
        let body = try await request.decode(as: PostBody.self, context: context)
        return PostDTO(try await posts.update(id, with: body.draft, by: identity))
    }

    @Sendable func delete(_ request: Request, context: AppRequestContext) async throws -> HTTPResponse.Status {
        let identity = try context.requireIdentity()
        try await posts.delete(try context.id(of: "The post"), by: identity)
        return .noContent
    }

    @Sendable func like(_ request: Request, context: AppRequestContext) async throws -> LikeStateDTO {
        try await setLike(true, context: context)
    }

    @Sendable func unlike(_ request: Request, context: AppRequestContext) async throws -> LikeStateDTO {
        try await setLike(false, context: context)
    }

    @Sendable func related(_ request: Request, context: AppRequestContext) async throws -> ItemsDTO<PostDTO> {
        let rows = try await posts.related(to: try context.id(of: "The post"), viewerID: context.identity?.userID)
        return ItemsDTO(items: rows.map(PostDTO.init))
    }

    private func setLike(_ liked: Bool, context: AppRequestContext) async throws -> LikeStateDTO {
        let identity = try await context.requireWriter(codes)
        let state = try await posts.setLike(liked, post: try context.id(of: "The post"), by: identity.userID)
        return LikeStateDTO(liked: state.liked, likeCount: state.likeCount)
    }

    /// `category`, `tag`, `author` and `q` from the query string; empty values are ignored.
    static func filter(from request: Request) throws -> PostFilter {
        let query = request.uri.queryParameters
        func value(_ name: String) -> String? {
            query[name[...]].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
        }
        var filter = PostFilter(category: value("category"), tag: value("tag").map(BoardRules.normalizedTag))
        if let author = value("author") {
            guard let id = Int64(author), id > 0 else {
                throw ServiceError.invalid("author", "must be a user id")
            }
            filter.authorID = id
        }
        if let text = value("q") {
            guard text.count <= 200 else { throw ServiceError.invalid("q", "must be at most 200 characters") }
            filter.text = text
        }
        return filter
    }
}

extension PostController.PostBody {
    var draft: PostService.Draft { PostService.Draft(title: title, body: body, category: category, tags: tags, attachments: attachments) }
}
