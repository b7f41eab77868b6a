/// The rules a room's fields and a chat message must follow.
enum ChatRules {
    static let nameLength = 1...80
    static let maxTopicLength = 300
    /// A message body, in bytes of UTF-8.
    static let bodyBytes = 1...16_384
    static let clientMsgIdLength = 1...100
    static let defaultHistoryLimit = 50
    static let maxHistoryLimit = 200

    /// The name, trimmed: 1–80 characters, no control characters.
    static func name(_ raw: String?, problems: inout [FieldProblem]) -> String? {
        guard let raw else {
            problems.append(FieldProblem(field: "name", problem: "is required"))
            return nil
        }
        let name = trimmed(raw)
        if name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            problems.append(FieldProblem(field: "name", problem: "must not contain control characters"))
            return nil
        }
        guard nameLength.contains(name.count) else {
            problems.append(FieldProblem(field: "name", problem: "must be 1 to 80 characters, not counting surrounding spaces"))
            return nil
        }
        return name
    }

    /// The topic, trimmed: at most 300 characters, empty when absent.
    static func topic(_ raw: String?, problems: inout [FieldProblem]) -> String {
        guard let raw else { return "" }
        let topic = trimmed(raw)
        if topic.unicodeScalars.contains("\u{0}") {
            problems.append(FieldProblem(field: "topic", problem: "must not contain NUL characters"))
        } else if topic.count > maxTopicLength {
            problems.append(FieldProblem(field: "topic", problem: "must be at most \(maxTopicLength) characters"))
        }
        return topic
    }

    static func visibility(_ raw: String?, problems: inout [FieldProblem]) -> RoomVisibility? {
        guard let raw else {
            problems.append(FieldProblem(field: "visibility", problem: "is required"))
            return nil
        }
        guard let visibility = RoomVisibility(rawValue: raw) else {
            problems.append(FieldProblem(field: "visibility", problem: "must be public or private"))
            return nil
        }
        return visibility
    }

    /// A message body: not only white space, no NUL, 1–16,384 bytes of UTF-8; stored exactly as sent.
    static func body(_ raw: String, problems: inout [FieldProblem]) -> String? {
        if raw.allSatisfy(\.isWhitespace) {
            problems.append(FieldProblem(field: "body", problem: "must not be blank"))
        } else if raw.utf8.count > bodyBytes.upperBound {
            problems.append(FieldProblem(field: "body", problem: "must be at most \(bodyBytes.upperBound) bytes of UTF-8"))
        } else if raw.unicodeScalars.contains("\u{0}") {
            problems.append(FieldProblem(field: "body", problem: "must not contain NUL characters"))
        } else {
            return raw
        }
        return nil
    }

    /// The sender's id for a message: 1–100 characters, no NUL; nil stays nil.
    static func clientMsgId(_ raw: String?, problems: inout [FieldProblem]) -> String? {
        guard let raw else { return nil }
        if !clientMsgIdLength.contains(raw.count) {
            problems.append(FieldProblem(field: "clientMsgId", problem: "must be 1 to 100 characters"))
        } else if raw.unicodeScalars.contains("\u{0}") {
            problems.append(FieldProblem(field: "clientMsgId", problem: "must not contain NUL characters"))
        } else {
            return raw
        }
        return nil
    }

    /// `raw` without the white space around it. (`Character.isWhitespace`, as the board's blank
    /// check, rather than Foundation's trimming, which bridges through NSString.)
    static func trimmed(_ raw: String) -> String {
        guard let first = raw.firstIndex(where: { !$0.isWhitespace }),
              let last = raw.lastIndex(where: { !$0.isWhitespace }) else { return "" }
        return String(raw[first...last])
    }
}
