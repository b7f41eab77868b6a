import Hummingbird

/// Reads `Authorization: Bearer <access token>` and sets `context.identity`.
///
/// A missing header leaves the caller anonymous (routes that need a user then answer 401); a
/// header with an invalid or expired token is a 401 at once, so a client learns its token is bad
/// even on public routes.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let accessTokens: AccessTokens

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization] else {
            return try await next(request, context)
        }
        guard let token = Self.bearerToken(header), let identity = await accessTokens.verify(token) else {
            throw APIError(.unauthorized, code: "invalid_token", message: "The access token is invalid or expired.")
        }
        var context = context
        context.identity = identity
        return try await next(request, context)
    }

    /// The token of an `Authorization: Bearer <token>` header; nil for another scheme.
    static func bearerToken(_ header: String) -> String? {
        guard header.count > 7, header.prefix(7).lowercased() == "bearer " else { return nil }
        return String(header.dropFirst(7).drop(while: { $0 == " " }))
    }
}
