import Foundation
import HTTPTypes
import Hummingbird

/// `/api/auth/*`: sign-up, login, token refresh and logout, email verification and password reset.
struct AuthController {
    let accounts: AccountService
    let codes: AccountCodeService
    let trustForwardedFor: Bool

    struct SignupBody: Decodable { var email: String?; var password: String?; var nickname: String? }
    struct LoginBody: Decodable { var email: String?; var password: String? }
    struct RefreshBody: Decodable { var refreshToken: String? }
    struct EmailBody: Decodable { var email: String? }
    struct VerifyBody: Decodable { var email: String?; var code: String? }
    struct ResetBody: Decodable { var email: String?; var code: String?; var newPassword: String? }

    func addRoutes(to routes: RouteTable) {
        let auth = routes.group("/api/auth")
        auth.post("signup", use: signup)
        auth.post("login", use: login)
        auth.post("refresh", use: refresh)
        auth.post("logout", use: logout)
        auth.post("verify", use: verify)
        auth.post("verify/resend", use: resendVerification)
        auth.post("password/forgot", use: forgotPassword)
        auth.post("password/reset", use: resetPassword)
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

extension AuthController {
    @Sendable func verify(_ request: Request, context: AppRequestContext) async throws -> VerifiedDTO {
        let body = try await request.decode(as: VerifyBody.self, context: context)
        try await codes.verifyEmail(email: body.email, code: body.code)
        return VerifiedDTO(emailVerified: true)
    }

    @Sendable func resendVerification(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<AcceptedDTO> {
        let body = try await request.decode(as: EmailBody.self, context: context)
        try await codes.requestCode(.verifyEmail, email: body.email)
        return EditedResponse(status: .accepted, response: AcceptedDTO())
    }

    /// Always 202 for a well-formed address: whether an account exists is never revealed.
    @Sendable func forgotPassword(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<AcceptedDTO> {
        let body = try await request.decode(as: EmailBody.self, context: context)
        try await codes.requestCode(.resetPassword, email: body.email)
        return EditedResponse(status: .accepted, response: AcceptedDTO())
    }

    @Sendable func resetPassword(_ request: Request, context: AppRequestContext) async throws -> HTTPResponse.Status {
        let body = try await request.decode(as: ResetBody.self, context: context)
        try await codes.resetPassword(email: body.email, code: body.code, newPassword: body.newPassword)
        return .noContent
    }
}

/// `{emailVerified: true}`: the answer to a verified code.
struct VerifiedDTO: Encodable, Sendable, ResponseEncodable {
    var emailVerified: Bool
}

/// `{status: "accepted"}`: the request is queued.
struct AcceptedDTO: Encodable, Sendable, ResponseEncodable {
    var status = "accepted"
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
