import Foundation
import HTTPTypes
import Hummingbird

/// One problem with one field of a request, as listed in an error's `details`.
public struct FieldProblem: Codable, Sendable, Equatable {
    public var field: String
    public var problem: String

    public init(field: String, problem: String) {
        self.field = field
        self.problem = problem
    }
}

/// The one error shape of the API: `{"error": {"code", "message", "details"?}}` with its status.
///
/// Services throw these (or domain errors mapped to them in `ErrorMiddleware`); the middleware
/// turns anything else into a 500 without leaking its description.
public struct APIError: Error, Sendable, Equatable {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    public var details: [FieldProblem]?
    /// Extra response headers, such as `Retry-After` or `Allow`.
    public var headers: [String: String] = [:]

    public init(_ status: HTTPResponse.Status, code: String, message: String, details: [FieldProblem]? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.details = details
    }

    public static func validation(_ details: [FieldProblem]) -> APIError {
        APIError(.unprocessableContent, code: "validation_failed",
                 message: "Some fields are invalid: " + details.map(\.field).joined(separator: ", ") + ".", details: details)
    }

    public static func notFound(_ what: String) -> APIError {
        APIError(.notFound, code: "not_found", message: "\(what) was not found.")
    }

    public static let unauthorized = APIError(.unauthorized, code: "unauthorized", message: "Sign in to do this.")
    public static let forbidden = APIError(.forbidden, code: "forbidden", message: "You are not allowed to do this.")

    public static func tooManyRequests(retryAfterSeconds: Int) -> APIError {
        var error = APIError(.tooManyRequests, code: "rate_limited",
                             message: "Too many attempts; try again in \(retryAfterSeconds) seconds.")
        error.headers["Retry-After"] = String(retryAfterSeconds)
        return error
    }
}

/// The JSON body of every error response.
struct ErrorBody: Codable {
    struct Content: Codable {
        var code: String
        var message: String
        var details: [FieldProblem]?
    }
    var error: Content
}

extension APIError: HTTPResponseError {
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = ErrorBody(error: .init(code: code, message: message, details: details))
        let data = try JSONCoding.encoder.encode(body)
        var fields = HTTPFields()
        fields[.contentType] = "application/json; charset=utf-8"
        for (name, value) in headers {
            if let name = HTTPField.Name(name) { fields[name] = value }
        }
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

extension APIError {
    /// The status and code of each domain error.
    init(_ error: ServiceError) {
        switch error {
        case .validation(let problems):
            self = .validation(problems)
        case .notFound(let what):
            self = .notFound(what)
        case .unauthorized(let message):
            self = APIError(.unauthorized, code: "unauthorized", message: message)
        case .forbidden:
            self = .forbidden
        case .denied(let code, let message):
            self = APIError(.forbidden, code: code, message: message)
        case .conflict(let code, let message):
            self = APIError(.conflict, code: code, message: message)
        case .rateLimited(let seconds):
            self = .tooManyRequests(retryAfterSeconds: seconds)
        case .rejected(let code, let message):
            self = APIError(.unprocessableContent, code: code, message: message)
        case .emailNotVerified:
            self = APIError(.forbidden, code: "email_not_verified",
                            message: "Verify your email address first: enter the code we mailed you.")
        case .tooLarge(let limit):
            self = APIError(.contentTooLarge, code: "body_too_large", message: "The body is larger than \(limit) bytes.")
        }
    }
}
