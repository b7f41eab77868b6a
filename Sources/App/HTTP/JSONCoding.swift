import Foundation
import Hummingbird
import JSONWriting
import NIOCore

/// The API's JSON settings, in one place: camelCase keys as declared, unescaped slashes,
/// timestamps through `Timestamp` (ISO-8601 UTC).
public enum JSONCoding {
    public static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        return encoder
    }()

    /// For files people read (data exports).
    public static let prettyEncoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys, .prettyPrinted]
        return encoder
    }()

    public static let decoder = JSONDecoder()
}

/// Encodes response bodies with `JSONCoding.encoder`.
public struct AgoraJSONEncoder: ResponseEncoder {
    public init() {}

    public func encode(_ value: some Encodable, from request: Request, context: some RequestContext) throws -> Response {
        if let writable = value as? any JSONWritable {
            var json = JSONWriter()
            writable.write(to: &json)
            return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: json.buffer))
        }
        let data = try JSONCoding.encoder.encode(value)
        return Response(
            status: .ok,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: data))
        )
    }
}

/// Decodes JSON request bodies, turning every way a body can be wrong into the API's error shape:
/// 415 for another content type, 413 past the size limit, 400 for malformed JSON or a wrong type.
public struct AgoraJSONDecoder: RequestDecoder {
    public init() {}

    public func decode<T: Decodable>(_ type: T.Type, from request: Request, context: some RequestContext) async throws -> T {
        guard let contentType = request.headers[.contentType],
              let mediaType = MediaType(from: contentType), mediaType.isType(.applicationJson) else {
            throw APIError(.unsupportedMediaType, code: "unsupported_media_type",
                           message: "Send the body as application/json.")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: context.maxUploadSize)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw APIError(.contentTooLarge, code: "body_too_large",
                           message: "The body is larger than \(context.maxUploadSize) bytes.")
        } catch is NIOTooManyBytesError {
            throw APIError(.contentTooLarge, code: "body_too_large",
                           message: "The body is larger than \(context.maxUploadSize) bytes.")
        }
        do {
            return try JSONCoding.decoder.decode(T.self, from: buffer)
        } catch let error as DecodingError {
            throw Self.apiError(for: error)
        }
    }

    static func apiError(for error: DecodingError) -> APIError {
        func path(_ codingPath: [any CodingKey]) -> String {
            codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .typeMismatch(let type, let context):
            let field = path(context.codingPath)
            return APIError(.badRequest, code: "invalid_body",
                            message: "The field \(field.isEmpty ? "body" : field) has the wrong type.",
                            details: [FieldProblem(field: field.isEmpty ? "body" : field, problem: "must be \(Self.describe(type))")])
        case .valueNotFound(let type, let context):
            let field = path(context.codingPath)
            return APIError(.badRequest, code: "invalid_body",
                            message: "The field \(field) must not be null.",
                            details: [FieldProblem(field: field, problem: "must be \(Self.describe(type))")])
        case .keyNotFound(let key, let context):
            let field = path(context.codingPath + [key])
            return APIError.validation([FieldProblem(field: field, problem: "is required")])
        case .dataCorrupted(let context) where !context.codingPath.isEmpty:
            let field = path(context.codingPath)
            return APIError(.badRequest, code: "invalid_body", message: "The field \(field) is invalid.",
                            details: [FieldProblem(field: field, problem: "is invalid")])
        default:
            return APIError(.badRequest, code: "malformed_json", message: "The body is not valid JSON.")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "a boolean"
        case is Int.Type, is Int64.Type: "an integer"
        case is Double.Type: "a number"
        case is [String].Type: "an array of strings"
        default: type is any Collection.Type ? "an array" : "an object"
        }
    }
}
