import Foundation
import Hummingbird

/// One page of a list: `{items, nextCursor}`; `nextCursor` is absent on the last page.
public struct Page<Item: Encodable & Sendable>: Encodable, Sendable, ResponseEncodable {
    public var items: [Item]
    public var nextCursor: String?

    public init(items: [Item], nextCursor: String?) {
        self.items = items
        self.nextCursor = nextCursor
    }
}

/// Keyset pagination parameters: how many items, and the opaque position after which to continue.
///
/// A cursor encodes the sort key of the last item returned (an id), so an insert while a client
/// pages neither repeats nor skips an item.
public struct PageRequest: Sendable, Equatable {
    public static let defaultLimit = 20
    public static let maxLimit = 100

    public var limit: Int
    /// The id of the last item already seen, or nil for the first page.
    public var after: Int64?

    public init(limit: Int = PageRequest.defaultLimit, after: Int64? = nil) {
        self.limit = limit
        self.after = after
    }

    /// Reads `limit` (1–100, default 20) and `cursor` from the query string.
    public init(query request: Request) throws {
        let parameters = request.uri.queryParameters
        var problems: [FieldProblem] = []
        limit = Self.defaultLimit
        if let text = parameters["limit"].map(String.init) {
            if let value = Int(text), (1...Self.maxLimit).contains(value) {
                limit = value
            } else {
                problems.append(FieldProblem(field: "limit", problem: "must be an integer from 1 to \(Self.maxLimit)"))
            }
        }
        after = nil
        if let text = parameters["cursor"].map(String.init), !text.isEmpty {
            if let id = Self.decodeCursor(text) {
                after = id
            } else {
                problems.append(FieldProblem(field: "cursor", problem: "is not a cursor this API returned"))
            }
        }
        if !problems.isEmpty { throw APIError.validation(problems) }
    }

    /// Builds a page from up to `limit + 1` fetched rows: the extra row only tells that more exist.
    public func page<Row, Item>(from rows: [Row], key: (Row) -> Int64, map: (Row) -> Item) -> Page<Item> {
        let items = rows.prefix(limit)
        let next = rows.count > limit ? items.last.map { Self.encodeCursor(key($0)) } : nil
        return Page(items: items.map(map), nextCursor: next)
    }

    static func encodeCursor(_ id: Int64) -> String {
        Data("v1:\(id)".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decodeCursor(_ text: String) -> Int64? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64), let plain = String(data: data, encoding: .utf8),
              plain.hasPrefix("v1:"), let id = Int64(plain.dropFirst(3)), id > 0 else { return nil }
        return id
    }
}
