import Foundation

/// The rules a post's and a comment's fields must follow.
struct BoardRules {
    static let titleLength = 1...200
    static let bodyLength = 1...100_000
    static let commentLength = 1...5_000
    static let maxTags = 10
    static let tagLength = 1...30
    static let maxAttachments = 10

    /// The categories a post may name; the first is the default.
    let categories: [String]

    /// Text of `range` characters that is not only white space; stored exactly as sent.
    static func text(_ raw: String?, field: String, length: ClosedRange<Int>, required: Bool,
                     problems: inout [FieldProblem]) -> String? {
        guard let raw else {
            if required { problems.append(FieldProblem(field: field, problem: "is required")) }
            return nil
        }
        // `allSatisfy(\.isWhitespace)` rather than Foundation's trimming, which bridges through
        // NSString and was 4 % of a post's creation.
        if raw.allSatisfy(\.isWhitespace) {
            problems.append(FieldProblem(field: field, problem: "must not be blank"))
            return nil
        }
        if raw.unicodeScalars.contains("\u{0}") {
            problems.append(FieldProblem(field: field, problem: "must not contain NUL characters"))
            return nil
        }
        if !length.contains(raw.count) {
            problems.append(FieldProblem(field: field, problem: "must be \(length.lowerBound) to \(length.upperBound) characters"))
            return nil
        }
        return raw
    }

    func category(_ raw: String?, required: Bool, problems: inout [FieldProblem]) -> String? {
        guard let raw else { return required ? categories.first : nil }
        guard categories.contains(raw) else {
            problems.append(FieldProblem(field: "category", problem: "must be one of: " + categories.joined(separator: ", ")))
            return nil
        }
        return raw
    }

    /// Lower-cased, trimmed, inner white space as `-`, duplicates dropped; at most 10 of 1–30 characters.
    static func tags(_ raw: [String]?, problems: inout [FieldProblem]) -> [String]? {
        guard let raw else { return nil }
        var tags: [String] = []
        for (index, tag) in raw.enumerated() {
            let normalized = normalizedTag(tag)
            guard tagLength.contains(normalized.count) else {
                problems.append(FieldProblem(field: "tags[\(index)]", problem: "must be 1 to 30 characters"))
                continue
            }
            if !tags.contains(normalized) { tags.append(normalized) }
        }
        if tags.count > maxTags {
            problems.append(FieldProblem(field: "tags", problem: "must have at most \(maxTags) tags"))
        }
        return tags
    }

    /// At most 10 distinct positive upload ids, in the order given. (Whether each is a ready
    /// upload of the author is checked against storage, in `UploadService.requireAttachable`.)
    static func attachments(_ raw: [Int64]?, problems: inout [FieldProblem]) -> [Int64]? {
        guard let raw else { return nil }
        if raw.count > maxAttachments {
            problems.append(FieldProblem(field: "attachments", problem: "must have at most \(maxAttachments) uploads"))
        } else if Set(raw).count != raw.count {
            problems.append(FieldProblem(field: "attachments", problem: "must not name an upload twice"))
        } else if raw.contains(where: { $0 <= 0 }) {
            problems.append(FieldProblem(field: "attachments", problem: "must be upload ids"))
        } else {
            return raw
        }
        return nil
    }

    static func normalizedTag(_ tag: String) -> String {
        tag.precomposedStringWithCanonicalMapping.lowercased()
            .split(whereSeparator: { $0.isWhitespace }).joined(separator: "-")
    }
}
