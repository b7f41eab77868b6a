import Foundation
import HTTPTypes
import Hummingbird

/// `/api/auth/*`: sign-up, login, token refresh and logout.
struct AuthController {
    let accounts: AccountService
    let trustForwardedFor: Bool

    struct SignupBody: Decodable { var email: String?; var password: String?; var nickname: String? }
    struct LoginBody: Decodable { var email: String?; var password: String? }
    struct RefreshBody: Decodable { var refreshToken: String? }

    func addRoutes(to routes: RouteTable) {
        let auth = routes.group("/api/auth")
        auth.post("signup", use: signup)
        auth.post("login", use: login)
        auth.post("refresh", use: refresh)
        auth.post("logout", use: logout)
    }

    @Sendable func signup(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<UserEnvelope> {
        let body = try await request.decode(as: SignupBody.self, context: context)
        let user = try await accounts.signup(email: body.email, password: body.password, nickname: body.nickname)
        return EditedResponse(status: .created, response: UserEnvelope(user: AccountDTO(user)))
    }

    @Sendable func login(_ request: Request, context: AppRequestContext) async throws -> SessionDTO {
        let body = try await request.decode(as: LoginBody.self, context: context)
        let session = try await accounts.login(email: body.email, password: body.password,
                                               clientAddress: context.clientAddress(of: request, trustForwardedFor: trustForwardedFor))
        return SessionDTO(session)
    }

    @Sendable func refresh(_ request: Request, context: AppRequestContext) async throws -> SessionDTO {
        let body = try await request.decode(as: RefreshBody.self, context: context)
        return SessionDTO(try await accounts.refresh(token: body.refreshToken))
    }

    @Sendable func logout(_ request: Request, context: AppRequestContext) async throws -> HTTPResponse.Status {
        let body = try await request.decode(as: RefreshBody.self, context: context)
        try await accounts.logout(token: body.refreshToken)
        return .noContent
    }
}

extension AppRequestContext {
    /// The client's address: the socket peer, or the first `X-Forwarded-For` hop behind a trusted proxy.
    func clientAddress(of request: Request, trustForwardedFor: Bool) -> String? {
        if trustForwardedFor, let forwarded = request.headers[HTTPField.Name("X-Forwarded-For")!],
           let first = forwarded.split(separator: ",").first {
            return first.trimmingCharacters(in: .whitespaces)
        }
        return remoteAddress?.ipAddress
    }
}
