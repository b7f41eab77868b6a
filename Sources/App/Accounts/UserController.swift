import Hummingbird

/// `/api/users/*`: the caller's account, public profiles and follows.
struct UserController {
    let accounts: AccountService
    let follows: FollowService
    let codes: AccountCodeService
    let notifications: NotificationService

    struct UpdateBody: Decodable { var nickname: String?; var bio: String? }
    struct PasswordBody: Decodable { var currentPassword: String?; var newPassword: String? }

    func addRoutes(to routes: RouteTable) {
        let users = routes.group("/api/users")
        users.get("me", use: me)
        users.patch("me", use: updateMe)
        users.delete("me", use: deleteMe)
        users.put("me/password", use: changePassword)
        users.get("{id}", use: profile)
        users.put("{id}/follow", use: follow)
        users.delete("{id}/follow", use: unfollow)
        users.get("{id}/followers", use: followers)
        users.get("{id}/following", use: following)
    }

    @Sendable func me(_ request: Request, context: AppRequestContext) async throws -> AccountDTO {
        let identity = try context.requireIdentity()
        do {
            let (user, counts) = try await accounts.profile(of: identity.userID)
            var account = AccountDTO(user, counts: counts)
            account.unreadNotificationCount = try await notifications.unreadCount(for: identity.userID)
            return account
        } catch ServiceError.notFound {
            throw ServiceError.unauthorized("The account no longer exists.")
        }
    }

    @Sendable func updateMe(_ request: Request, context: AppRequestContext) async throws -> AccountDTO {
        let identity = try context.requireIdentity()
        let body = try await request.decode(as: UpdateBody.self, context: context)
        return AccountDTO(try await accounts.updateProfile(of: identity.userID, nickname: body.nickname, bio: body.bio))
    }

    @Sendable func deleteMe(_ request: Request, context: AppRequestContext) async throws -> HTTPResponse.Status {
        let identity = try context.requireIdentity()
        try await accounts.deleteAccount(identity.userID)
        return .noContent
    }

    @Sendable func changePassword(_ request: Request, context: AppRequestContext) async throws -> HTTPResponse.Status {
        let identity = try context.requireIdentity()
        let body = try await request.decode(as: PasswordBody.self, context: context)
        try await accounts.changePassword(of: identity.userID, current: body.currentPassword, new: body.newPassword)
        return .noContent
    }

    @Sendable func profile(_ request: Request, context: AppRequestContext) async throws -> ProfileDTO {
        let (user, counts) = try await accounts.profile(of: try context.id(of: "The user"))
        return ProfileDTO(user, counts: counts)
    }

    @Sendable func follow(_ request: Request, context: AppRequestContext) async throws -> FollowStateDTO {
        let identity = try await context.requireWriter(codes)
        try await follows.follow(try context.id(of: "The user"), by: identity.userID)
        return FollowStateDTO(following: true)
    }

    @Sendable func unfollow(_ request: Request, context: AppRequestContext) async throws -> FollowStateDTO {
        let identity = try await context.requireWriter(codes)
        try await follows.unfollow(try context.id(of: "The user"), by: identity.userID)
        return FollowStateDTO(following: false)
    }

    @Sendable func followers(_ request: Request, context: AppRequestContext) async throws -> Page<UserSummaryDTO> {
        let page = try PageRequest(query: request)
        let rows = try await follows.followers(of: try context.id(of: "The user"), page: page)
        return page.page(from: rows, key: \.followID) { UserSummaryDTO(id: $0.userID, nickname: $0.nickname) }
    }

    @Sendable func following(_ request: Request, context: AppRequestContext) async throws -> Page<UserSummaryDTO> {
        let page = try PageRequest(query: request)
        let rows = try await follows.following(of: try context.id(of: "The user"), page: page)
        return page.page(from: rows, key: \.followID) { UserSummaryDTO(id: $0.userID, nickname: $0.nickname) }
    }
}

/// `{following}`: the state after a follow or unfollow.
struct FollowStateDTO: Encodable, Sendable, ResponseEncodable {
    var following: Bool
}
