import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import Storage

/// Turns every error a handler throws into the API's one error shape.
///
/// `APIError` passes through; Hummingbird's own errors keep their status with a stable code;
/// storage outages become 503; anything else is logged and answered with a bare 500 that leaks
/// nothing of the error.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            return try Self.apiError(for: error, request: request, logger: context.logger)
                .response(from: request, context: context)
        }
    }

    static func apiError(for error: any Error, request: Request, logger: Logger) -> APIError {
        switch error {
        case let error as APIError:
            return error
        case let error as ServiceError:
            return APIError(error)
        case let error as HTTPError:
            return apiError(for: error)
        case is NIOTooManyBytesError:
            return APIError(.contentTooLarge, code: "body_too_large", message: "The body is too large.")
        case is HTTPParserError:
            // The client broke off or garbled the body it was streaming (an upload cut short).
            return APIError(.badRequest, code: "bad_request", message: "The request is malformed or ended early.")
        case let error as DecodingError:
            return AgoraJSONDecoder.apiError(for: error)
        case let error as DatabaseUnavailable:
            logger.error("database unavailable", metadata: ["error": "\(error)"])
            return APIError(.serviceUnavailable, code: "unavailable", message: "The service is unavailable; try again shortly.")
        case is MissingReference:
            // Every foreign key a client's write can break points at the caller's own account:
            // posts and comments are checked inside the same transaction. So the account is gone.
            return APIError(.unauthorized, code: "unauthorized", message: "The account no longer exists.")
        default:
            logger.error("unhandled error", metadata: ["error": "\(String(reflecting: error))", "path": "\(request.uri.path)"])
            return APIError(.internalServerError, code: "internal_error", message: "Something went wrong on our side.")
        }
    }

    private static func apiError(for error: HTTPError) -> APIError {
        // Hummingbird's own errors: unknown routes, bodies past the limit, and the like.
        switch error.status {
        case .notFound:
            return APIError(.notFound, code: "not_found", message: "No such resource.")
        case .contentTooLarge:
            return APIError(.contentTooLarge, code: "body_too_large", message: "The body is too large.")
        case .badRequest:
            return APIError(.badRequest, code: "bad_request", message: "The request is malformed.")
        case .unauthorized:
            return .unauthorized
        case .forbidden:
            return .forbidden
        default:
            return APIError(error.status, code: error.status.reasonPhrase.lowercased().replacingOccurrences(of: " ", with: "_"),
                            message: error.status.reasonPhrase + ".")
        }
    }
}
